package pickle

import (
	"io"

	"fmt"
	"github.com/mlguard/mlguard/internal/finding"
	"math/bits"
	"strconv"
	"strings"
)

// joblib writes NumPy arrays into the pickle stream itself: after the BUILD
// of a NumpyArrayWrapper, its unpickler reads the array's raw bytes (after an
// alignment byte and padding, for joblib >= 1.2) straight from the file, or,
// for object arrays, a whole nested pickle. The decoder must skip those bytes
// to find the next opcode.

// IsJoblibWrapper reports whether a global is joblib's inline-array wrapper.
func IsJoblibWrapper(resolved string) bool { return isJoblibWrapper(resolved) }

func isJoblibWrapper(resolved string) bool {
	return resolved == "joblib.numpy_pickle.NumpyArrayWrapper" ||
		resolved == "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper"
}

// dictGet looks key up as Python would after the dict was built: the last
// occurrence wins. joblibArray has checked that every item was kept.
func dictGet(d value, key string) (value, bool) {
	if d.k != kDict || d.o == nil {
		return value{}, false
	}
	var v value
	found := false
	for i := 0; i+1 < len(d.o.items); i += 2 {
		if k := d.o.items[i]; k.k == kStr && k.s == key {
			v, found = d.o.items[i+1], true
		}
	}
	return v, found
}

// dtypeSize returns numpy's itemsize and hasobject for a numpy.dtype(...)
// value. Only the form numpy's own __reduce__ writes is accepted (numpy.dtype
// called with a type code like 'f8', '<U3', 'V16', 'M8[ns]', then BUILD with
// a version 3 or 4 state): a size that differs from numpy's by a byte would
// make the decoder skip opcodes that joblib runs.
func dtypeSize(d value) (size int64, object bool, err error) {
	if d.k != kCall || d.o.fn.k != kGlobal || d.o.fn.o.g.v.Resolved != "numpy.dtype" ||
		d.o.args == nil || d.o.args.o == nil || len(d.o.args.o.items) == 0 || d.o.args.o.items[0].k != kStr {
		return 0, false, fmt.Errorf("the array's dtype is not a numpy.dtype(...) call")
	}
	code := d.o.args.o.items[0].s
	if code != "" && strings.IndexByte("<>=|", code[0]) >= 0 {
		code = code[1:]
	}
	if code == "" || strings.IndexByte("biufcmMOSUV", code[0]) < 0 {
		return 0, false, fmt.Errorf("unsupported dtype code %q", clip(code, 40))
	}
	kind, digits := code[0], code[1:]
	if kind == 'M' || kind == 'm' {
		if i := strings.IndexByte(digits, '['); i >= 0 && strings.HasSuffix(digits, "]") {
			digits = digits[:i]
		}
	}
	n, perr := strconv.ParseInt(digits, 10, 64)
	switch {
	case kind == 'O' && digits == "":
		n = 8
	case perr != nil || n < 0 || n > 1<<20 || strings.TrimLeft(digits, "0123456789") != "":
		return 0, false, fmt.Errorf("unsupported dtype code %q", clip(code, 40))
	}
	if kind == 'U' { // 'U3' counts characters of 4 bytes
		n *= 4
	}
	object = kind == 'O'
	// numpy's __setstate__ takes the flags (hasobject is bit 0) from the state,
	// and the item size too for flexible kinds (S, U, V: structured and
	// sub-array dtypes): (version, byteorder, subarray, names, fields, elsize,
	// alignment, flags[, metadata]).
	if st := d.o.state; st != nil {
		if st.k != kTuple || st.o == nil || len(st.o.items) < 8 || st.o.count != int64(len(st.o.items)) ||
			st.o.items[7].k != kInt || st.o.items[5].k != kInt {
			return 0, false, fmt.Errorf("unsupported state for dtype %q", clip(code, 40))
		}
		object = st.o.items[7].n&1 != 0
		if strings.IndexByte("SUV", kind) >= 0 {
			if n = st.o.items[5].n; n < 0 {
				return 0, false, fmt.Errorf("negative item size for dtype %q", clip(code, 40))
			}
		}
	}
	if n == 0 && !object {
		return 0, false, fmt.Errorf("unknown item size for dtype %q", clip(code, 40))
	}
	return n, object, nil
}

// joblibArray skips the array data that follows a NumpyArrayWrapper's BUILD.
func (m *vm) joblibArray(t *value, state value) error {
	// Python's dict keeps the last value of a key: every key must be a
	// plain string and every item kept, or the lookups below could differ.
	if state.k != kDict || state.o == nil || state.o.count != int64(len(state.o.items)/2) {
		return m.fail("joblib NumpyArrayWrapper state is not a small dict")
	}
	for i := 0; i < len(state.o.items); i += 2 {
		if k := state.o.items[i]; k.k != kStr || k.trunc {
			return m.fail("joblib NumpyArrayWrapper state has a key that is not a plain string")
		}
	}
	shape, ok := dictGet(state, "shape")
	dt, ok2 := dictGet(state, "dtype")
	if !ok || !ok2 {
		return m.fail("joblib NumpyArrayWrapper without shape or dtype")
	}
	size, object, err := dtypeSize(dt)
	if err != nil {
		return m.fail("joblib array: %v", err)
	}
	*t = value{k: kAny}
	if object {
		return m.inlinePickle()
	}
	count := uint64(1)
	if shape.k != kTuple {
		return m.fail("joblib array shape is not a tuple")
	}
	if shape.o != nil {
		if shape.o.count > int64(len(shape.o.items)) {
			return m.fail("joblib array has too many dimensions")
		}
		for _, d := range shape.o.items {
			if d.k != kInt || d.n < 0 {
				return m.fail("joblib array shape is not made of integers")
			}
			hi, lo := bits.Mul64(count, uint64(d.n))
			if hi != 0 {
				return m.fail("joblib array size overflows")
			}
			count = lo
		}
	}
	hi, total := bits.Mul64(count, uint64(size))
	if hi != 0 || total > maxJoblibSkip {
		return m.fail("joblib array of %d items of %d bytes is too large", count, size)
	}
	a, ok := dictGet(state, "numpy_array_alignment_bytes")
	if ok && a.k != kNone && a.k != kInt && a.k != kBool {
		// joblib reads a padding byte unless the value is None: it must be known.
		return m.fail("joblib array alignment is neither None nor an integer")
	}
	if ok && a.k != kNone {
		p, err := m.uint(1)
		if err != nil {
			return err
		}
		if err := m.rd.skip(int64(p)); err != nil {
			return m.truncated(err)
		}
	}
	return m.arrayBytes(int64(total))
}

// maxFragmentOps bounds the lenient decode of array bytes.
const maxFragmentOps = 1 << 20

// arrayBytes skips the n bytes joblib reads as array data. A plain
// pickle.load of the same file does not know NumpyArrayWrapper and reads
// those bytes as opcodes, so they are first decoded leniently (continuing a
// stream whose stack we do not have): real numbers stop the decoder within a
// few bytes; hidden opcodes show their globals. Only well-formed names count.
func (m *vm) arrayBytes(n int64) error {
	start := m.rd.offset()
	lr := &io.LimitedReader{R: m.rd, N: n}
	f := &vm{ctx: m.ctx, rd: newReader(lr, start), opt: m.opt, depth: m.depth + 1, globals: map[string]*global{}, lenient: true}
	for ops := 0; ops < maxFragmentOps; ops++ {
		done, err := f.step()
		if done || err != nil || len(f.stack) > maxStack {
			break
		}
	}
	f.emitGlobals()
	for _, fd := range f.findings {
		switch fd.Rule {
		case finding.PickleDangerousGlobal, finding.PickleUnknownCallable, finding.PickleUnknownGlobal, finding.PickleGlobalMutation:
		default:
			continue
		}
		if strings.Contains(fd.Message, "malformed") || strings.Contains(fd.Message, "extension code") {
			continue
		}
		fd.Message += " (hidden in bytes that joblib reads as array data and pickle.load runs as opcodes)"
		m.findings = append(m.findings, fd)
	}
	consumed := n - lr.N
	if err := m.rd.skip(n - consumed); err != nil {
		return m.truncated(err)
	}
	if m.rd.offset() != start+n {
		return m.fail("internal: array skip ended at %d, want %d", m.rd.offset(), start+n)
	}
	return nil
}

// inlinePickle decodes a whole pickle embedded at the current position (joblib
// object arrays), with its own stack and memo, sharing globals and findings.
func (m *vm) inlinePickle() error {
	if m.depth >= maxNested {
		return m.fail("inline pickles nested too deeply")
	}
	stack, marks, memo, spars, heap, arena, sizes, proto := m.stack, m.marks, m.memo, m.spars, m.heap, m.arena, m.sizes, m.proto
	memoLen, plain := m.memoLen, m.plain
	m.stack, m.marks, m.spars, m.heap, m.arena = nil, nil, nil, nil, nil
	m.memo.reset()
	m.sizes.reset()
	// joblib reads the object array with pickle.load: a plain Unpickler, which
	// does not read arrays after a NumpyArrayWrapper's BUILD.
	m.memoLen, m.plain = 0, true
	m.depth++
	err := m.runOne()
	m.depth--
	m.stack, m.marks, m.memo, m.spars, m.heap, m.arena, m.sizes, m.proto = stack, marks, memo, spars, heap, arena, sizes, proto
	m.memoLen, m.plain = memoLen, plain
	return err
}
