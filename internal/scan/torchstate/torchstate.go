// Package torchstate reads the parameter count and dtype of a PyTorch
// checkpoint from its pickle, for the ML-BOM. It is meant for pickles the
// scanner (internal/scan/pickle) has already found safe, and reads them
// with gopickle (github.com/nlpodyssey/gopickle/pickle), but never trusts
// them:
//
//   - nothing Python is imported or run: every global resolves to a Go
//     stand-in (objects.go), and storages are placeholders named by their
//     persistent ids, their bytes never read (tensors are described from
//     their dtype and shape);
//   - the pickle is pre-screened (screen.go) before gopickle reads it: at
//     most limit bytes, lengths checked before allocation, inputs that make
//     gopickle panic or work quadratically refused, and an estimate of
//     what reading costs kept under MaxCost;
//   - a panic in gopickle is recovered as an error, the context is checked
//     as gopickle reads, and the result is walked to a bounded depth.
//
// Which tensors count: the state dict's. When the top level is a dict with
// a "state_dict", "model_state_dict", "model" or "module" entry (first in
// that order) holding at least one tensor, as training checkpoints
// ({"epoch": 3, "state_dict": ..., "optimizer": ...}), Lightning's and
// DeepSpeed's do, the tensors under that entry count; otherwise every
// tensor reachable from the top does (a plain state dict, nested dicts, a
// pickled nn.Module's _parameters and _buffers). Either way, entries named
// like optimizer or scheduler state ("optimizer", "optimizer_states",
// "optimizer_state_dict", "optim", "lr_scheduler", "scheduler", ...) are
// skipped at every level: Adam's moments are as large as the model but are
// not parameters. Buffers (BatchNorm's running statistics) are in a state
// dict too, and count. A tensor is counted once however often it is named:
// tied weights are the same object, or two tensors on one storage at the
// same offset with the same shape and dtype.
package torchstate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// Info is what a checkpoint's pickle says about its model.
type Info struct {
	// Parameters is the number of elements of the counted tensors,
	// saturating at the largest int64.
	Parameters int64
	// DType is the torch dtype name ("float32", "bfloat16", "float16",
	// "int8", "qint8"...) holding most parameters; ties go to the name
	// first in alphabetical order. Empty when no tensor's dtype is known.
	DType string
	// Tensors is the number of tensors counted.
	Tensors int
}

const (
	// MaxCost bounds the pre-screen's estimate of the bytes gopickle and
	// the stand-ins allocate or touch while reading a pickle. A state
	// dict's data.pkl is estimated at about 40 times its size (a
	// 10,000-tensor one: 1 MiB, estimated 42 MiB, 46 MiB allocated), so a
	// data.pkl of up to about 12 MiB (over 100,000 tensors) fits.
	MaxCost = 512 << 20
	// MaxTensors bounds the tensors one pickle may rebuild.
	MaxTensors = 1 << 20
	// MaxDepth bounds how deeply containers may nest in the result.
	MaxDepth = 128
)

type limits struct {
	cost    int64
	tensors int
	depth   int
}

var defaultLimits = limits{cost: MaxCost, tensors: MaxTensors, depth: MaxDepth}

// Read reads the pickle of a PyTorch checkpoint (data.pkl of the zip
// format, or the main pickle of the legacy format) with gopickle, never
// loading storages' bytes, and returns the parameter count and the dtype
// holding most of them. It stops at the pickle's STOP opcode and takes at
// most limit bytes from r (it reads ahead, buffered, within that): a
// longer pickle is an error wrapping ErrLimit.
func Read(ctx context.Context, r io.Reader, limit int64) (Info, error) {
	return defaultLimits.read(ctx, newSource(r, limit))
}

// legacyMagic and legacyProtocol open a legacy (non-zip) torch.save file.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

const legacyProtocol = 1001

// legacyHeaderCost bounds each of the legacy format's three small header
// pickles.
const legacyHeaderCost = 1 << 20

// ReadLegacy is Read for a whole legacy torch.save file: it reads the three
// pickles that open it (the magic number, the protocol version, the system
// information), then the main pickle, and stops there (the storage keys and
// the storages' bytes follow, unread). limit bounds the four pickles
// together.
func ReadLegacy(ctx context.Context, r io.Reader, limit int64) (Info, error) {
	src := newSource(r, limit)
	st := newState(ctx, defaultLimits)
	for i, what := range []string{"magic number", "protocol version", "system information"} {
		prog, err := screenPickle(ctx, src, legacyHeaderCost)
		if err != nil {
			return Info{}, fmt.Errorf("reading the legacy %s: %w", what, err)
		}
		v, err := st.unpickle(prog)
		if err != nil {
			return Info{}, fmt.Errorf("reading the legacy %s: %w", what, err)
		}
		switch i {
		case 0:
			if b, ok := v.(*big.Int); !ok || b.Cmp(legacyMagic) != 0 {
				return Info{}, errors.New("not a legacy PyTorch file: the magic number is wrong")
			}
		case 1:
			if p, ok := v.(int); !ok || p != legacyProtocol {
				return Info{}, fmt.Errorf("legacy protocol version %v, not %d", modelfile.ClipText(fmt.Sprint(v)), legacyProtocol)
			}
		}
	}
	return defaultLimits.read(ctx, src)
}

func (l limits) read(ctx context.Context, src *source) (Info, error) {
	prog, err := screenPickle(ctx, src, l.cost)
	if err != nil {
		return Info{}, fmt.Errorf("screening the pickle: %w", err)
	}
	st := newState(ctx, l)
	v, err := st.unpickle(prog)
	if err != nil {
		return Info{}, fmt.Errorf("unpickling: %w", err)
	}
	return st.count(v)
}

// unpickle runs gopickle over a screened pickle.
func (st *state) unpickle(prog []byte) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("gopickle panicked: %s", modelfile.ClipText(fmt.Sprint(p)))
		}
	}()
	u := pickle.NewUnpickler(&progReader{ctx: st.ctx, b: prog})
	u.FindClass = st.findClass
	u.PersistentLoad = st.persistentLoad
	v, err = u.Load()
	if err != nil {
		if errors.Is(err, ErrLimit) || st.ctx.Err() != nil {
			return nil, err
		}
		// gopickle's messages may print whole values.
		return nil, errors.New(modelfile.ClipText(err.Error()))
	}
	return v, nil
}

// progReader feeds a screened pickle to gopickle, checking the context as
// it goes: with frames removed, gopickle reads every opcode through it.
type progReader struct {
	ctx context.Context
	b   []byte
	off int
	n   int
}

func (r *progReader) check() error {
	r.n++
	if r.n%1024 == 0 {
		return r.ctx.Err()
	}
	return nil
}

func (r *progReader) ReadByte() (byte, error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	r.off++
	return r.b[r.off-1], nil
}

func (r *progReader) Read(p []byte) (int, error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

// modelKeys are the top-level entries that hold the model's state in a
// training checkpoint, in order of preference.
var modelKeys = []string{"state_dict", "model_state_dict", "model", "module"}

// skippedKeys name optimizer and scheduler state, never counted.
var skippedKeys = map[string]bool{
	"optimizer": true, "optimizers": true, "optimizer_states": true, "optimizer_state": true,
	"optimizer_state_dict": true, "optim": true, "optim_state": true, "optim_state_dict": true,
	"lr_scheduler": true, "lr_schedulers": true, "scheduler": true, "schedulers": true,
	"scheduler_state_dict": true, "scaler": true, "grad_scaler": true,
}

// count applies the package's rule to an unpickled checkpoint.
func (st *state) count(root any) (Info, error) {
	for _, k := range modelKeys {
		v, ok := lookup(root, k)
		if !ok {
			continue
		}
		found, err := st.collect(v)
		if err != nil {
			return Info{}, err
		}
		if len(found) > 0 {
			return summarize(found), nil
		}
	}
	found, err := st.collect(root)
	if err != nil {
		return Info{}, err
	}
	return summarize(found), nil
}

// lookup finds a string key in a dict or OrderedDict.
func lookup(v any, key string) (any, bool) {
	switch d := v.(type) {
	case *types.Dict:
		for _, e := range *d {
			if e.Key == key {
				return e.Value, true
			}
		}
	case *types.OrderedDict:
		if e, ok := d.Map[key]; ok {
			return e.Value, true
		}
	}
	return nil, false
}

func skipped(key any) bool {
	k, ok := key.(string)
	return ok && skippedKeys[k]
}

// collect returns the tensors reachable from v, each container visited
// once, skipping optimizer state.
func (st *state) collect(v any) ([]*tensor, error) {
	w := &walker{ctx: st.ctx, maxDepth: st.lim.depth, seen: map[any]struct{}{}}
	if err := w.visit(v, 0); err != nil {
		return nil, err
	}
	return w.found, nil
}

type walker struct {
	ctx      context.Context
	maxDepth int
	seen     map[any]struct{}
	found    []*tensor
}

// first reports whether a container is seen for the first time.
func (w *walker) first(p any) bool {
	if _, ok := w.seen[p]; ok {
		return false
	}
	w.seen[p] = struct{}{}
	return true
}

func (w *walker) visit(v any, depth int) error {
	switch v.(type) {
	case *tensor, *types.Dict, *types.OrderedDict, *types.List, *types.Tuple, *types.Set, *types.FrozenSet, *object:
	default:
		return nil // strings, numbers, stand-ins without content
	}
	if depth > w.maxDepth {
		return fmt.Errorf("the checkpoint nests containers more than %d deep: %w", w.maxDepth, ErrLimit)
	}
	if !w.first(v) {
		return nil
	}
	if len(w.seen)%4096 == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
	switch x := v.(type) {
	case *tensor:
		w.found = append(w.found, x)
	case *types.Dict:
		for _, e := range *x {
			if err := w.entry(e.Key, e.Value, depth); err != nil {
				return err
			}
		}
	case *types.OrderedDict:
		for el := x.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			if err := w.entry(e.Key, e.Value, depth); err != nil {
				return err
			}
		}
	case *types.List:
		return w.all(*x, depth)
	case *types.Tuple:
		return w.all(*x, depth)
	case *types.Set:
		for k := range *x {
			if err := w.visit(k, depth+1); err != nil {
				return err
			}
		}
	case *types.FrozenSet:
		for k := range *x {
			if err := w.visit(k, depth+1); err != nil {
				return err
			}
		}
	case *object:
		if err := w.all(x.args, depth); err != nil {
			return err
		}
		if err := w.visit(x.state, depth+1); err != nil {
			return err
		}
		for _, e := range x.entries {
			if err := w.entry(e.Key, e.Value, depth); err != nil {
				return err
			}
		}
		return w.all(x.items, depth)
	}
	return nil
}

func (w *walker) entry(key, value any, depth int) error {
	if skipped(key) {
		return nil
	}
	return w.visit(value, depth+1)
}

func (w *walker) all(items []any, depth int) error {
	for _, it := range items {
		if err := w.visit(it, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// tensorKey identifies a tensor's data: the same storage, offset, shape and
// dtype are the same parameter.
type tensorKey struct {
	root   string
	offset int64
	shape  string
	dtype  string
}

func summarize(found []*tensor) Info {
	var info Info
	seen := map[tensorKey]bool{}
	byDType := map[string]int64{}
	for _, t := range found {
		if t.storage != nil {
			k := tensorKey{root: t.storage.root, offset: modelfile.AddSat(t.storage.offset, t.offset), shape: dimsKey(t.shape), dtype: t.dtype}
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		info.Tensors++
		info.Parameters = modelfile.AddSat(info.Parameters, t.numel)
		byDType[t.dtype] = modelfile.AddSat(byDType[t.dtype], t.numel)
	}
	var most int64 = -1
	for d, n := range byDType {
		if d != "" && (n > most || n == most && d < info.DType) {
			info.DType, most = d, n
		}
	}
	return info
}

func dimsKey(dims []int64) string {
	var b strings.Builder
	for _, d := range dims {
		b.WriteString(strconv.FormatInt(d, 10))
		b.WriteByte(',')
	}
	return b.String()
}
