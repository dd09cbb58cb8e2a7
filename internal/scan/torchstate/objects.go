package torchstate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// Stand-ins for the Python objects a state dict is made of. gopickle builds
// dicts, lists, tuples, sets and OrderedDicts itself (its own Go types);
// every global the pickle names is resolved by state.findClass to one of
// the types below, all plain Go values: nothing is imported, nothing runs.
//
//   - function: the torch._utils / torch._tensor rebuild functions and
//     torch.Size, Go code that describes a tensor from its arguments;
//   - storageType: torch.<T>Storage classes (any torch module), carrying
//     the dtype, as the persistent ids name them;
//   - dtype: torch.float16 and the other dtype globals;
//   - class and object: everything else (argparse.Namespace, a model's own
//     classes, torch.nn modules, builtins.set...): an inert class whose
//     calls make an inert object that records a few arguments, its BUILD
//     state and the items added to it, so tensors inside (a pickled
//     nn.Module's _parameters) can still be found.

// maxKeptArgs is how many call arguments an object keeps (copied, so a
// large argument tuple is not kept alive per object).
const maxKeptArgs = 8

// maxDims is the most dimensions a tensor may have.
const maxDims = 64

// maxCallDepth bounds nested _rebuild_from_type calls.
const maxCallDepth = 8

// maxKey is the longest storage key accepted (torch writes "0", "1"... or a
// decimal address).
const maxKey = 1024

type function struct {
	name string
	call func(args []any) (any, error)
	ctx  context.Context
}

func (f *function) Call(args ...any) (any, error) {
	if err := f.ctx.Err(); err != nil {
		return nil, err
	}
	return f.call(args)
}

func (f *function) GoString() string { return f.name }

type storageType struct {
	cls   *class
	dtype string
}

func (s *storageType) Call(args ...any) (any, error)  { return s.cls.make(args), nil }
func (s *storageType) PyNew(args ...any) (any, error) { return s.cls.make(args), nil }
func (s *storageType) GoString() string               { return s.cls.GoString() }

type dtype struct{ name string }

func (d *dtype) GoString() string { return "torch." + d.name }

// storage is a storage named by a persistent id: its bytes are never read.
type storage struct {
	root   string // the storage's key; a legacy view's root key
	offset int64  // a legacy view's offset into its root, in elements
	dtype  string
}

func (s *storage) GoString() string { return "storage " + modelfile.ClipText(s.root) }

// tensor describes a tensor: dtype and shape, and where its data would be.
type tensor struct {
	storage *storage // nil for meta tensors or an unknown storage
	dtype   string
	offset  int64
	shape   []int64
	numel   int64
}

func (t *tensor) GoString() string { return fmt.Sprintf("tensor %s%v", t.dtype, t.shape) }

// PySetState accepts a BUILD, as Python tensors do.
func (t *tensor) PySetState(any) error { return nil }

type class struct{ module, name string }

func (c *class) GoString() string { return modelfile.ClipText(c.module + "." + c.name) }

func (c *class) make(args []any) *object {
	kept := make([]any, min(len(args), maxKeptArgs))
	copy(kept, args)
	return &object{class: c, args: kept}
}

func (c *class) Call(args ...any) (any, error)  { return c.make(args), nil }
func (c *class) PyNew(args ...any) (any, error) { return c.make(args), nil }

type object struct {
	class   *class
	args    []any
	state   any
	entries []types.DictEntry // set as a dict subclass's items
	items   []any             // appended or added as a list or set subclass's
}

func (o *object) GoString() string              { return "instance of " + o.class.GoString() }
func (o *object) Call(args ...any) (any, error) { return o.class.make(args), nil }
func (o *object) PySetState(state any) error    { o.state = state; return nil }
func (o *object) Set(key, value any) {
	o.entries = append(o.entries, types.DictEntry{Key: key, Value: value})
}
func (o *object) Append(v any)                   { o.items = append(o.items, v) }
func (o *object) Add(v any)                      { o.items = append(o.items, v) }
func (o *object) PyDictSet(key, value any) error { o.Set(key, value); return nil }

// storageDTypes maps the storage classes persistent ids name to dtypes.
var storageDTypes = map[string]string{
	"DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16", "BFloat16Storage": "bfloat16",
	"LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16", "CharStorage": "int8",
	"ByteStorage": "uint8", "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
	"ComplexDoubleStorage": "complex128", "QInt8Storage": "qint8", "QUInt8Storage": "quint8",
	"QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
	// Untyped storages hold bytes; _rebuild_tensor_v3 names the dtype.
	"UntypedStorage": "uint8", "_UntypedStorage": "uint8",
}

// dtypes maps torch's dtype globals, aliases included, to their names.
var dtypes = map[string]string{
	"float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
	"float16": "float16", "half": "float16", "bfloat16": "bfloat16",
	"int64": "int64", "long": "int64", "int32": "int32", "int": "int32", "int16": "int16", "short": "int16",
	"int8": "int8", "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64", "bool": "bool",
	"complex32": "complex32", "chalf": "complex32", "complex64": "complex64", "cfloat": "complex64",
	"complex128": "complex128", "cdouble": "complex128",
	"qint8": "qint8", "quint8": "quint8", "qint32": "qint32", "quint4x2": "quint4x2", "quint2x4": "quint2x4",
	"float8_e4m3fn": "float8_e4m3fn", "float8_e5m2": "float8_e5m2", "float8_e4m3fnuz": "float8_e4m3fnuz",
	"float8_e5m2fnuz": "float8_e5m2fnuz", "float8_e8m0fnu": "float8_e8m0fnu", "float4_e2m1fn_x2": "float4_e2m1fn_x2",
	"bits8": "bits8", "bits16": "bits16", "bits1x8": "bits1x8", "bits2x4": "bits2x4", "bits4x2": "bits4x2",
}

// state is one Read's unpickling state.
type state struct {
	ctx        context.Context
	lim        limits
	classes    map[string]any
	storages   map[string]*storage
	tensors    int
	callDepth  int
	rebuilders map[string]func([]any) (any, error)
}

func newState(ctx context.Context, lim limits) *state {
	st := &state{ctx: ctx, lim: lim, classes: map[string]any{}, storages: map[string]*storage{}}
	st.rebuilders = map[string]func([]any) (any, error){
		"_rebuild_tensor":    func(a []any) (any, error) { return st.rebuildTensor(a, -1) },
		"_rebuild_tensor_v2": func(a []any) (any, error) { return st.rebuildTensor(a, -1) },
		// (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata]):
		// the storage is untyped, the dtype is an argument.
		"_rebuild_tensor_v3": func(a []any) (any, error) { return st.rebuildTensor(a, 6) },
		// (storage, offset, size, stride, quantizer_params, requires_grad, hooks)
		"_rebuild_qtensor": func(a []any) (any, error) { return st.rebuildTensor(a, -1) },
		// (data, requires_grad, hooks[, state]): the tensor is data.
		"_rebuild_parameter":            st.rebuildParameter,
		"_rebuild_parameter_with_state": st.rebuildParameter,
		// (dtype, size, stride, requires_grad): no storage at all.
		"_rebuild_meta_tensor_no_storage": st.rebuildMeta,
		// (func, type, args, state or dict): func(*args), as a subclass.
		"_rebuild_from_type":    st.rebuildFromType,
		"_rebuild_from_type_v2": st.rebuildFromType,
	}
	return st
}

// findClass resolves a global. Only the rebuild functions, torch.Size,
// storage classes and dtypes mean something; anything else is an inert
// class. (gopickle itself resolves collections.OrderedDict,
// __builtin__.object and copy_reg._reconstructor to its own Go types before
// asking.)
func (st *state) findClass(module, name string) (any, error) {
	if err := st.ctx.Err(); err != nil {
		return nil, err
	}
	key := module + "\n" + name
	if c, ok := st.classes[key]; ok {
		return c, nil
	}
	c := st.resolve(module, name)
	st.classes[key] = c
	return c, nil
}

func (st *state) resolve(module, name string) any {
	switch module {
	case "torch._utils", "torch._tensor":
		if f, ok := st.rebuilders[name]; ok && (module == "torch._utils" || strings.HasPrefix(name, "_rebuild_from_type")) {
			return &function{name: module + "." + name, call: f, ctx: st.ctx}
		}
	case "torch":
		if name == "Size" {
			return &function{name: "torch.Size", call: rebuildSize, ctx: st.ctx}
		}
		if d, ok := dtypes[name]; ok {
			return &dtype{name: d}
		}
	}
	cls := &class{module: module, name: name}
	if module == "torch" || strings.HasPrefix(module, "torch.") {
		if d, ok := storageDTypes[name]; ok {
			return &storageType{cls: cls, dtype: d}
		}
	}
	return cls
}

// persistentLoad resolves a persistent id. torch's are
// ('storage', storage_type, key, location, numel) in the zip format, with a
// sixth item in the legacy format: None or a view (view_key, offset, size).
// Anything else becomes an inert object.
func (st *state) persistentLoad(pid any) (any, error) {
	if err := st.ctx.Err(); err != nil {
		return nil, err
	}
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() < 5 || t.Get(0) != "storage" {
		return (&class{module: "<persistent id>", name: "?"}).make(nil), nil
	}
	root, err := storageKey(t.Get(2))
	if err != nil {
		return nil, err
	}
	var view string
	var offset int64
	if t.Len() > 5 {
		if v, ok := t.Get(5).(*types.Tuple); ok && v.Len() >= 3 {
			if view, err = storageKey(v.Get(0)); err != nil {
				return nil, err
			}
			if offset, ok = toInt(v.Get(1)); !ok || offset < 0 {
				return nil, errors.New("a storage view's offset is not a count")
			}
		}
	}
	key := root + "\x00" + view
	if s, ok := st.storages[key]; ok {
		return s, nil
	}
	s := &storage{root: root, offset: offset}
	if typ, ok := t.Get(1).(*storageType); ok {
		s.dtype = typ.dtype
	}
	st.storages[key] = s
	return s, nil
}

func storageKey(v any) (string, error) {
	switch k := v.(type) {
	case string:
		if len(k) > maxKey {
			return "", fmt.Errorf("a storage key of %d bytes, more than %d", len(k), maxKey)
		}
		return k, nil
	case int:
		return strconv.Itoa(k), nil
	}
	return "", errors.New("a storage key is not a string")
}

func toInt(v any) (int64, bool) {
	i, ok := v.(int)
	return int64(i), ok
}

// shape reads a size tuple (or torch.Size, a tuple here too) and its
// element count, saturating.
func shape(v any) ([]int64, int64, error) {
	var items []any
	switch s := v.(type) {
	case *types.Tuple:
		items = *s
	case *types.List:
		items = *s
	default:
		return nil, 0, errors.New("a tensor's size is not a tuple")
	}
	if len(items) > maxDims {
		return nil, 0, fmt.Errorf("a tensor of %d dimensions, more than %d", len(items), maxDims)
	}
	dims := make([]int64, len(items))
	numel := int64(1)
	for i, it := range items {
		d, ok := toInt(it)
		if !ok || d < 0 {
			return nil, 0, errors.New("a tensor's size is not a tuple of counts")
		}
		dims[i] = d
		numel = modelfile.MulSat(numel, d)
	}
	return dims, numel, nil
}

func (st *state) newTensor(t *tensor) (any, error) {
	st.tensors++
	if st.tensors > st.lim.tensors {
		return nil, fmt.Errorf("more than %d tensors: %w", st.lim.tensors, ErrLimit)
	}
	return t, nil
}

// rebuildTensor describes (storage, storage_offset, size, stride, ...);
// dtypeAt is the index of a dtype argument, or -1 to take the storage's.
func (st *state) rebuildTensor(args []any, dtypeAt int) (any, error) {
	if len(args) < 4 {
		return nil, errors.New("a tensor rebuilt from fewer than 4 arguments")
	}
	t := &tensor{}
	if s, ok := args[0].(*storage); ok {
		t.storage, t.dtype = s, s.dtype
	}
	off, ok := toInt(args[1])
	if !ok || off < 0 {
		return nil, errors.New("a tensor's storage offset is not a count")
	}
	t.offset = off
	var err error
	if t.shape, t.numel, err = shape(args[2]); err != nil {
		return nil, err
	}
	if dtypeAt >= 0 && len(args) > dtypeAt {
		if d, ok := args[dtypeAt].(*dtype); ok {
			t.dtype = d.name
		}
	}
	return st.newTensor(t)
}

func (st *state) rebuildParameter(args []any) (any, error) {
	if len(args) < 1 {
		return nil, errors.New("a parameter rebuilt without its data")
	}
	return args[0], nil
}

func (st *state) rebuildMeta(args []any) (any, error) {
	if len(args) < 2 {
		return nil, errors.New("a meta tensor rebuilt from fewer than 2 arguments")
	}
	t := &tensor{}
	if d, ok := args[0].(*dtype); ok {
		t.dtype = d.name
	}
	var err error
	if t.shape, t.numel, err = shape(args[1]); err != nil {
		return nil, err
	}
	return st.newTensor(t)
}

func (st *state) rebuildFromType(args []any) (any, error) {
	if len(args) < 3 {
		return nil, errors.New("_rebuild_from_type with fewer than 3 arguments")
	}
	f, ok := args[0].(types.Callable)
	if !ok {
		return nil, errors.New("_rebuild_from_type without a function")
	}
	inner, ok := args[2].(*types.Tuple)
	if !ok {
		return nil, errors.New("_rebuild_from_type without an argument tuple")
	}
	if st.callDepth >= maxCallDepth {
		return nil, fmt.Errorf("_rebuild_from_type nested more than %d deep", maxCallDepth)
	}
	st.callDepth++
	defer func() { st.callDepth-- }()
	return f.Call(*inner...)
}

func rebuildSize(args []any) (any, error) {
	if len(args) != 1 {
		return nil, errors.New("torch.Size takes one sequence")
	}
	switch s := args[0].(type) {
	case *types.Tuple:
		return s, nil
	case *types.List:
		return types.NewTupleFromSlice(*s), nil
	}
	return nil, errors.New("torch.Size takes one sequence")
}
