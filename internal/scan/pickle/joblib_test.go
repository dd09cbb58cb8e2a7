package pickle

import (
	"fmt"
	"testing"
)

// npDtype emits numpy.dtype(code, False, True) and the BUILD of its version 3
// state, as numpy's __reduce__ writes it.
func (b *pb) npDtype(code string, elsize, align int32, flags uint8) *pb {
	return b.stackGlobalOf("numpy", "dtype").str(code).newFalse().newTrue().tuple3().reduce().
		mark().binInt1(3).str("<").none().none().none().binInt(elsize).binInt(align).binInt1(flags).tuple().build()
}

// dtypeOf is npDtype with numpy's state for a type code.
func (b *pb) dtypeOf(code string) *pb {
	switch code {
	case "U3":
		return b.npDtype(code, 12, 4, 8)
	case "S5":
		return b.npDtype(code, 5, 1, 0)
	case "O8":
		return b.npDtype(code, -1, -1, 63)
	case "V16-object": // [('a', 'O'), ('b', '<f8')]
		return b.npDtype("V16", 16, 1, 27)
	}
	return b.npDtype(code, -1, -1, 0)
}

// wrapper emits a NumpyArrayWrapper made by NEWOBJ and its BUILD with a state
// dict whose items state appends, as joblib.dump writes it.
func (b *pb) wrapper(state func(*pb)) *pb {
	b.stackGlobalOf("joblib.numpy_pickle", "NumpyArrayWrapper").memoize().emptyTuple().newObj().memoize().
		emptyDict().memoize().mark()
	state(b)
	return b.setItems().build()
}

// shape emits a shape tuple.
func (b *pb) shape(dims []int) *pb {
	b.mark()
	for _, d := range dims {
		b.binInt(int32(d))
	}
	return b.tuple()
}

// joblibState emits the state items of an array of dtype code and shape.
func joblibState(code string, dims []int, align bool) func(*pb) {
	return func(b *pb) {
		b.str("subclass").stackGlobalOf("numpy", "ndarray").
			str("shape").shape(dims).
			str("order").str("C").
			str("dtype").dtypeOf(code).
			str("allow_mmap").newTrue()
		if align {
			b.str("numpy_array_alignment_bytes").binInt1(16)
		}
	}
}

// padding appends the alignment byte and padding joblib writes before the data.
func (b *pb) padding() *pb {
	n := 16 - (len(b.b)+1)%16
	b.raw(byte(n))
	for range n {
		b.raw(0xff)
	}
	return b
}

// arrayBytes is n bytes of array data that would derail a decoder reading
// them as opcodes: a MARK, an invalid opcode, a STOP.
func arrayBytes(n int) []byte {
	pattern := []byte("(N\xff.")
	out := make([]byte, n)
	for i := range out {
		out[i] = pattern[i%len(pattern)]
	}
	return out
}

// joblibStream appends an inline array as joblib writes it: the wrapper, the
// padding (when align), then the raw data.
func joblibStream(t *testing.T, b *pb, code string, dims []int, align bool, data []byte) *pb {
	t.Helper()
	b.wrapper(joblibState(code, dims, align))
	if align {
		b.padding()
	}
	return b.raw(data...)
}

func TestJoblibInlineArrays(t *testing.T) {
	t.Parallel()
	// Each stream is a dict {'w': <array>, 'evil': builtins.eval('1+1')}: the
	// eval is only found when the array's bytes were skipped exactly.
	evil := func(b *pb, r *int64) *pb {
		return b.str("evil").stackGlobalOf("builtins", "eval").str("1+1").tuple1().here(r).reduce().setItems().stop()
	}
	head := func() *pb { return p().proto(4).emptyDict().memoize().mark().str("w") }
	runScanCases(t, []scanCase{
		{"float64 2x3, aligned (joblib >= 1.2)", func() ([]byte, []got) {
			var r int64
			b := evil(joblibStream(t, head(), "f8", []int{2, 3}, true, arrayBytes(48)), &r)
			return b.bytes(), []got{critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"float64, no alignment (joblib < 1.2)", func() ([]byte, []got) {
			var r int64
			b := evil(joblibStream(t, head(), "f8", []int{3}, false, arrayBytes(24)), &r)
			return b.bytes(), []got{critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"alignment None reads no padding byte", func() ([]byte, []got) {
			var r int64
			b := head().wrapper(func(b *pb) {
				joblibState("i4", []int{2}, false)(b)
				b.str("numpy_array_alignment_bytes").none()
			}).raw(arrayBytes(8)...)
			return evil(b, &r).bytes(), []got{critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"unicode U3 takes its size from the state", func() ([]byte, []got) {
			var r int64
			b := evil(joblibStream(t, head(), "U3", []int{4}, true, arrayBytes(48)), &r)
			return b.bytes(), []got{critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"other dtype codes", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).emptyDict().memoize().mark()
			for _, c := range []struct {
				code string
				size int
			}{{"b1", 1}, {"i8", 8}, {"u2", 2}, {"f2", 2}, {"c16", 16}, {"M8[ns]", 8}, {"m8", 8}, {"S5", 5}} {
				joblibStream(t, b.str(c.code), c.code, []int{3}, true, arrayBytes(3*c.size))
			}
			return evil(b, &r).bytes(), []got{critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"empty array (0, 3)", func() ([]byte, []got) {
			var r int64
			b := evil(joblibStream(t, head(), "f8", []int{0, 3}, true, nil), &r)
			return b.bytes(), []got{critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"zero-dimensional array", func() ([]byte, []got) {
			var r int64
			b := evil(joblibStream(t, head(), "f8", nil, true, arrayBytes(8)), &r)
			return b.bytes(), []got{critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"state item size ignored for f8", func() ([]byte, []got) {
			// numpy only takes elsize from the state for flexible kinds.
			var r int64
			b := head().wrapper(func(b *pb) {
				b.str("subclass").stackGlobalOf("numpy", "ndarray").str("order").str("C").
					str("shape").shape([]int{2}).str("dtype").npDtype("f8", 100, 8, 0).str("numpy_array_alignment_bytes").binInt1(16)
			}).padding().raw(arrayBytes(16)...)
			return evil(b, &r).bytes(), []got{critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"object array: an inline pickle", func() ([]byte, []got) {
			var r, ri int64
			b := head().wrapper(joblibState("O8", []int{2}, true))
			inline := p().proto(4).mark().str("label").stackGlobalOf("os", "system").str("id").tuple1().here(&ri).reduce().list().stop()
			ri += int64(len(b.b))
			b.then(inline)
			return evil(b, &r).bytes(), []got{critGlobal(ri, "os.system('id')"), critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"structured dtype with an object field: an inline pickle", func() ([]byte, []got) {
			var r, ri int64
			b := head().wrapper(joblibState("V16-object", []int{1}, true))
			inline := p().proto(4).stackGlobalOf("os", "system").str("id").tuple1().here(&ri).reduce().stop()
			ri += int64(len(b.b))
			b.then(inline)
			return evil(b, &r).bytes(), []got{critGlobal(ri, "os.system('id')"), critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"hasobject flag in the state of an f8 dtype", func() ([]byte, []got) {
			var r, ri int64
			b := head().wrapper(func(b *pb) {
				b.str("subclass").stackGlobalOf("numpy", "ndarray").str("order").str("C").
					str("shape").shape([]int{1}).str("dtype").npDtype("f8", -1, -1, 1).str("numpy_array_alignment_bytes").binInt1(16)
			})
			inline := p().proto(4).stackGlobalOf("os", "system").str("id").tuple1().here(&ri).reduce().stop()
			ri += int64(len(b.b))
			b.then(inline)
			return evil(b, &r).bytes(), []got{critGlobal(ri, "os.system('id')"), critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"duplicate dtype key: the last one wins", func() ([]byte, []got) {
			var r, ri int64
			b := head().wrapper(func(b *pb) {
				b.str("order").str("C").str("shape").shape([]int{1}).str("dtype").dtypeOf("f8").str("numpy_array_alignment_bytes").binInt1(16).
					str("dtype").dtypeOf("O8")
			})
			inline := p().proto(4).stackGlobalOf("os", "system").str("id").tuple1().here(&ri).reduce().stop()
			ri += int64(len(b.b))
			b.then(inline)
			return evil(b, &r).bytes(), []got{critGlobal(ri, "os.system('id')"), critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"the inline pickle is read by a plain Unpickler", func() ([]byte, []got) {
			// pickle.load does not read arrays: after a wrapper's BUILD inside
			// the inline pickle, the next bytes are opcodes.
			var r, ri int64
			b := head().wrapper(joblibState("O8", []int{1}, true))
			inline := p().proto(4).wrapper(joblibState("f8", []int{8}, true)).pop().
				stackGlobalOf("os", "system").str("id").tuple1().here(&ri).reduce().stop()
			ri += int64(len(b.b))
			b.then(inline)
			return evil(b, &r).bytes(), []got{critGlobal(ri, "os.system('id')"), critGlobal(r, "builtins.eval('1+1')")}
		}},
		{"shared dtype from the memo", func() ([]byte, []got) {
			var r int64
			// memo: 0 the dict, 1 the wrapper class, 2 the wrapper, 3 its state, 4 the dtype.
			b := head().wrapper(func(b *pb) {
				b.str("order").str("C").str("subclass").stackGlobalOf("numpy", "ndarray").str("shape").shape([]int{2}).str("dtype").dtypeOf("f8").memoize().str("numpy_array_alignment_bytes").binInt1(16)
			}).padding().raw(arrayBytes(16)...).str("w2")
			b.wrapper(func(b *pb) {
				b.str("order").str("C").str("subclass").stackGlobalOf("numpy", "ndarray").str("shape").shape([]int{3}).str("dtype").binGet(4).str("numpy_array_alignment_bytes").binInt1(16)
			}).padding().raw(arrayBytes(24)...)
			return evil(b, &r).bytes(), []got{critGlobal(r, "builtins.eval('1+1')")}
		}},
	})
}

// TestJoblibFailsClosed: a wrapper state the decoder cannot read exactly as
// joblib does stops decoding with a finding instead of guessing a length.
func TestJoblibFailsClosed(t *testing.T) {
	t.Parallel()
	head := func() *pb { return p().proto(4).emptyDict().memoize().mark().str("w") }
	build := func(state func(*pb), msg string) func() ([]byte, []got) {
		return func() ([]byte, []got) {
			b := head().wrapper(state)
			at := int64(len(b.b) - 1) // the BUILD
			b.padding().raw(arrayBytes(64)...)
			return b.bytes(), []got{incomplete(at, fmt.Sprintf("offset %d (BUILD): %s", at, msg))}
		}
	}
	runScanCases(t, []scanCase{
		{"dtype name instead of code", build(func(b *pb) {
			b.str("shape").shape([]int{2}).str("dtype").dtypeOf("float64")
		}, `joblib array: unsupported dtype code "float64"`)},
		{"dtype code without a size", build(func(b *pb) {
			b.str("shape").shape([]int{2}).str("dtype").dtypeOf("d")
		}, `joblib array: unsupported dtype code "d"`)},
		{"dtype made by functools.partial", build(func(b *pb) {
			b.str("shape").shape([]int{2}).str("dtype").stackGlobalOf("functools", "partial").stackGlobalOf("numpy", "dtype").str("O8").tuple2().reduce().
				str("f8").tuple1().reduce()
		}, "joblib array: the array's dtype is not a numpy.dtype(...) call")},
		{"dtype state of another layout", build(func(b *pb) {
			b.str("shape").shape([]int{2}).str("dtype").stackGlobalOf("numpy", "dtype").str("f8").newFalse().newTrue().tuple3().reduce().
				mark().binInt1(2).str("<").tuple().build()
		}, `joblib array: unsupported state for dtype "f8"`)},
		{"state key that is not a string", build(func(b *pb) {
			b.str("shape").shape([]int{2}).str("dtype").dtypeOf("f8").binInt1(1).binInt1(2)
		}, "joblib NumpyArrayWrapper state has a key that is not a plain string")},
		{"state with more keys than the decoder keeps", build(func(b *pb) {
			b.str("shape").shape([]int{2}).str("dtype").dtypeOf("f8")
			for i := range 8 {
				b.str(fmt.Sprintf("k%d", i)).none()
			}
		}, "joblib NumpyArrayWrapper state is not a small dict")},
		{"no shape", build(func(b *pb) {
			b.str("dtype").dtypeOf("f8")
		}, "joblib NumpyArrayWrapper without shape or dtype")},
		{"shape that is not a tuple", build(func(b *pb) {
			b.str("shape").binInt1(3).str("dtype").dtypeOf("f8")
		}, "joblib array shape is not a tuple")},
		{"negative dimension", build(func(b *pb) {
			b.str("shape").shape([]int{-1}).str("dtype").dtypeOf("f8")
		}, "joblib array shape is not made of integers")},
		{"size overflow", build(func(b *pb) {
			b.str("shape").mark().binInt(1 << 30).binInt(1 << 30).binInt(1 << 30).tuple().str("dtype").dtypeOf("f8")
		}, "joblib array size overflows")},
		{"too large", build(func(b *pb) {
			b.str("shape").shape([]int{1 << 30, 1 << 20}).str("dtype").dtypeOf("f8")
		}, "joblib array of 1125899906842624 items of 8 bytes is too large")},
		{"alignment from the memo is unknown", build(func(b *pb) {
			b.str("shape").shape([]int{2}).str("dtype").dtypeOf("f8").str("numpy_array_alignment_bytes").binGet(0)
		}, "joblib array alignment is neither None nor an integer")},
		{"state that is not a dict", func() ([]byte, []got) {
			b := head().stackGlobalOf("joblib.numpy_pickle", "NumpyArrayWrapper").emptyTuple().newObj().none().tuple1()
			at := int64(len(b.b))
			b.build().raw(arrayBytes(16)...)
			return b.bytes(), []got{incomplete(at, fmt.Sprintf("offset %d (BUILD): joblib NumpyArrayWrapper state is not a small dict", at))}
		}},
	})
	t.Run("truncated array data", func(t *testing.T) {
		t.Parallel()
		b := head().wrapper(joblibState("f8", []int{100}, true)).padding().raw(arrayBytes(10)...).bytes()
		res := scanBytes(b)
		want := []got{incomplete(int64(len(b)), fmt.Sprintf("offset %d (BUILD): truncated: the stream ends inside an opcode", len(b)))}
		if diff := cmpGot(want, res); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})
}
