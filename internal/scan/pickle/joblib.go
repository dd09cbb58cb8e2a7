package pickle

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// joblib writes NumPy arrays into the pickle stream itself: after the BUILD
// of a NumpyArrayWrapper, its unpickler reads the array's raw bytes (after an
// alignment byte and padding, for joblib >= 1.2) straight from the file, or,
// for object arrays, a whole nested pickle. The decoder must skip those bytes
// to find the next opcode.

func isJoblibWrapper(resolved string) bool {
	return resolved == "joblib.numpy_pickle.NumpyArrayWrapper" ||
		resolved == "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper"
}

func dictGet(d value, key string) (value, bool) {
	if d.k != kDict || d.o == nil {
		return value{}, false
	}
	for i := 0; i+1 < len(d.o.items); i += 2 {
		if k := d.o.items[i]; k.k == kStr && k.s == key {
			return d.o.items[i+1], true
		}
	}
	return value{}, false
}

// dtypeSize returns the item size of a numpy.dtype(...) value and whether it holds objects.
func dtypeSize(d value) (size int64, object bool, err error) {
	if d.k != kCall || d.o.args == nil || d.o.args.o == nil || len(d.o.args.o.items) == 0 || d.o.args.o.items[0].k != kStr {
		return 0, false, fmt.Errorf("the array's dtype is not a numpy.dtype(...) call")
	}
	code := strings.TrimLeft(d.o.args.o.items[0].s, "<>=|")
	if code == "" {
		return 0, false, fmt.Errorf("empty dtype code")
	}
	if code[0] == 'O' {
		return 0, true, nil
	}
	// The BUILD state carries the real item size for flexible and structured
	// dtypes: (version, byteorder, subdescr, names, fields, elsize, ...).
	if st := d.o.state; st != nil && st.k == kTuple && st.o != nil && len(st.o.items) > 5 && st.o.items[5].k == kInt && st.o.items[5].n > 0 {
		return st.o.items[5].n, false, nil
	}
	digits := strings.TrimLeft(code, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	if n, perr := strconv.ParseInt(digits, 10, 64); perr == nil && n > 0 {
		if code[0] == 'U' { // 'U3' counts characters of 4 bytes
			n *= 4
		}
		return n, false, nil
	}
	return 0, false, fmt.Errorf("unknown item size for dtype %q", code)
}

// joblibArray skips the array data that follows a NumpyArrayWrapper's BUILD.
func (m *vm) joblibArray(t *value, state value) error {
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
	if a, ok := dictGet(state, "numpy_array_alignment_bytes"); ok && a.k != kNone {
		p, err := m.uint(1)
		if err != nil {
			return err
		}
		if err := m.rd.skip(int64(p)); err != nil {
			return m.truncated(err)
		}
	}
	if err := m.rd.skip(int64(total)); err != nil {
		return m.truncated(err)
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
	m.stack, m.marks, m.spars, m.heap, m.arena = nil, nil, nil, nil, nil
	m.memo.reset()
	m.sizes.reset()
	m.depth++
	err := m.runOne()
	m.depth--
	m.stack, m.marks, m.memo, m.spars, m.heap, m.arena, m.sizes, m.proto = stack, marks, memo, spars, heap, arena, sizes, proto
	return err
}
