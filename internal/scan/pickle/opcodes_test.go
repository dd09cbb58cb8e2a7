package pickle

import (
	"bytes"
	"context"
	"math"
	"math/big"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
)

func bigInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

// decodeOne decodes the first pickle of b with the Stream API, which returns
// the value the pickle evaluates to.
func decodeOne(t *testing.T, b []byte) Value {
	t.Helper()
	s := NewStream(context.Background(), bytes.NewReader(b), Options{})
	v, err := s.Next()
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return v
}

// TestDataOpcodes decodes every data opcode: each must give the value Python
// would build (as far as the decoder tracks it) and no finding at all.
func TestDataOpcodes(t *testing.T) {
	t.Parallel()
	i := func(n int64) Value { return Value{Kind: "int", Int: n} }
	str := func(s string) Value { return Value{Kind: "str", Str: s} }
	byt := func(s string) Value { return Value{Kind: "bytes", Str: s} }
	other := Value{Kind: "other"}
	tests := []struct {
		name string
		b    *pb
		want Value
	}{
		{"INT", p().int_(42).stop(), i(42)},
		{"INT negative", p().int_(-7).stop(), i(-7)},
		{"INT 00 is False", p().intLine("00").stop(), Value{Kind: "bool", Int: 0}},
		{"INT 01 is True", p().intLine("01").stop(), Value{Kind: "bool", Int: 1}},
		{"INT beyond int64", p().intLine("123456789012345678901234567890").stop(), other},
		{"LONG", p().longLine("123L").stop(), i(123)},
		{"LONG negative without suffix", p().longLine("-5").stop(), i(-5)},
		{"LONG huge", p().longLine("-123456789012345678901234567890L").stop(), other},
		{"BININT", p().binInt(-5).stop(), i(-5)},
		{"BININT max", p().binInt(math.MaxInt32).stop(), i(math.MaxInt32)},
		{"BININT1", p().binInt1(255).stop(), i(255)},
		{"BININT2", p().binInt2(65535).stop(), i(65535)},
		{"LONG1 zero", p().proto(2).long1(big.NewInt(0)).stop(), i(0)},
		{"LONG1 -1", p().proto(2).long1(big.NewInt(-1)).stop(), i(-1)},
		{"LONG1 255", p().proto(2).long1(big.NewInt(255)).stop(), i(255)},
		{"LONG1 -256", p().proto(2).long1(big.NewInt(-256)).stop(), i(-256)},
		{"LONG1 -129", p().proto(2).long1(big.NewInt(-129)).stop(), i(-129)},
		{"LONG1 max int64", p().proto(2).long1(big.NewInt(math.MaxInt64)).stop(), i(math.MaxInt64)},
		{"LONG1 min int64", p().proto(2).long1(big.NewInt(math.MinInt64)).stop(), i(math.MinInt64)},
		{"LONG1 2**64", p().proto(2).long1(bigInt("18446744073709551616")).stop(), other},
		{"LONG1 torch magic number", p().proto(2).long1Raw(0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).stop(), other},
		{"LONG4 negative", p().proto(2).long4(big.NewInt(-12345)).stop(), i(-12345)},
		{"LONG4 huge negative", p().proto(2).long4(bigInt("-1000000000000000000000000000000")).stop(), other},
		{"FLOAT", p().floatLine("1.5").stop(), other},
		{"FLOAT nan", p().floatLine("nan").stop(), other},
		{"FLOAT -inf", p().floatLine("-inf").stop(), other},
		{"FLOAT exponent", p().floatLine("1e308").stop(), other},
		{"BINFLOAT", p().binFloat(3.14).stop(), other},
		{"STRING with escapes", p().stringLine(`'a\'b\n\x41\101\\'`).stop(), str("a'b\nAA\\")},
		{"STRING double-quoted", p().stringLine(`"it's"`).stop(), str("it's")},
		{"STRING control escapes", p().stringLine(`'\t\r\a\b\f\v\0'`).stop(), str("\t\r\a\b\f\v\x00")},
		{"BINSTRING", p().binString("abc").stop(), str("abc")},
		{"SHORT_BINSTRING", p().shortBinString("xyz").stop(), str("xyz")},
		{"UNICODE with \\u escapes", p().unicodeLine(`caf\u00e9 \U0001f600`).stop(), str("café 😀")},
		{"UNICODE latin-1 bytes", p().unicodeLine("\xe9t\xe9").stop(), str("été")},
		{"BINUNICODE", p().binUnicode("héllo").stop(), str("héllo")},
		{"BINUNICODE8", p().proto(4).binUnicode8("wide").stop(), str("wide")},
		{"SHORT_BINUNICODE", p().proto(4).shortBinUnicode("short").stop(), str("short")},
		{"BINBYTES", p().proto(3).binBytes("\x00\x01").stop(), byt("\x00\x01")},
		{"BINBYTES8", p().proto(4).binBytes8("\xff").stop(), byt("\xff")},
		{"SHORT_BINBYTES", p().proto(3).shortBinBytes("ab").stop(), byt("ab")},
		{"BYTEARRAY8", p().proto(5).byteArray8("ba").stop(), byt("ba")},
		{"NEXT_BUFFER", p().proto(5).nextBuffer().stop(), other},
		{"READONLY_BUFFER", p().proto(5).nextBuffer().readOnlyBuffer().stop(), other},
		{"NONE", p().none().stop(), Value{Kind: "none"}},
		{"NEWTRUE", p().proto(2).newTrue().stop(), Value{Kind: "bool", Int: 1}},
		{"NEWFALSE", p().proto(2).newFalse().stop(), Value{Kind: "bool", Int: 0}},
		{"EMPTY_TUPLE", p().emptyTuple().stop(), Value{Kind: "tuple"}},
		{"TUPLE", p().mark().binInt1(1).str("a").tuple().stop(), Value{Kind: "tuple", Items: []Value{i(1), str("a")}}},
		{"TUPLE1", p().proto(2).binInt1(1).tuple1().stop(), Value{Kind: "tuple", Items: []Value{i(1)}}},
		{"TUPLE2", p().proto(2).binInt1(1).binInt1(2).tuple2().stop(), Value{Kind: "tuple", Items: []Value{i(1), i(2)}}},
		{"TUPLE3", p().proto(2).binInt1(1).binInt1(2).binInt1(3).tuple3().stop(), Value{Kind: "tuple", Items: []Value{i(1), i(2), i(3)}}},
		{"nested TUPLE", p().proto(2).binInt1(1).tuple1().emptyTuple().tuple2().stop(),
			Value{Kind: "tuple", Items: []Value{{Kind: "tuple", Items: []Value{i(1)}}, {Kind: "tuple"}}}},
		// Plain lists and dicts are counted, not remembered (see newContainer).
		{"LIST", p().mark().binInt1(1).list().stop(), Value{Kind: "list"}},
		{"EMPTY_LIST APPEND", p().emptyList().binInt1(1).append_().stop(), Value{Kind: "list"}},
		{"EMPTY_LIST APPENDS", p().emptyList().mark().binInt1(1).binInt1(2).appends().stop(), Value{Kind: "list"}},
		{"DICT", p().mark().str("k").binInt1(1).dict().stop(), Value{Kind: "dict"}},
		{"EMPTY_DICT SETITEM", p().emptyDict().str("k").binInt1(1).setItem().stop(), Value{Kind: "dict"}},
		{"EMPTY_DICT SETITEMS", p().emptyDict().mark().str("k").binInt1(1).str("l").none().setItems().stop(), Value{Kind: "dict"}},
		{"empty SETITEMS", p().emptyDict().mark().setItems().stop(), Value{Kind: "dict"}},
		{"EMPTY_SET ADDITEMS", p().proto(4).emptySet().mark().binInt1(1).binInt1(2).addItems().stop(), other},
		{"FROZENSET", p().proto(4).mark().binInt1(1).frozenSet().stop(), other},
		{"POP", p().binInt1(1).binInt1(2).pop().stop(), i(1)},
		{"POP of an empty frame pops the MARK", p().binInt1(1).mark().pop().stop(), i(1)},
		{"POP_MARK", p().binInt1(1).mark().binInt1(2).binInt1(3).popMark().stop(), i(1)},
		{"DUP", p().proto(2).binInt1(7).dup().tuple2().stop(), Value{Kind: "tuple", Items: []Value{i(7), i(7)}}},
		{"PUT GET", p().str("s").put(0).pop().get(0).stop(), str("s")},
		{"BINPUT BINGET", p().str("s").binPut(9).pop().binGet(9).stop(), str("s")},
		{"LONG_BINPUT LONG_BINGET", p().str("s").longBinPut(1 << 20).pop().longBinGet(1 << 20).stop(), str("s")},
		{"MEMOIZE BINGET", p().proto(4).str("a").memoize().str("b").memoize().pop().pop().binGet(1).stop(), str("b")},
		{"memoised long string keeps its length", p().binUnicode(strings.Repeat("x", 300)).binPut(0).pop().binGet(0).stop(),
			str(strings.Repeat("x", memoStrKeep))},
		{"memoised tuple", p().proto(2).binInt1(1).tuple1().binPut(0).pop().binGet(0).stop(), other},
		{"FRAME", p().proto(4).frame(2).none().stop(), Value{Kind: "none"}},
		{"PROTO 0", p().proto(0).none().stop(), Value{Kind: "none"}},
		{"PROTO 1", p().proto(1).none().stop(), Value{Kind: "none"}},
		{"PROTO 2", p().proto(2).none().stop(), Value{Kind: "none"}},
		{"PROTO 3", p().proto(3).none().stop(), Value{Kind: "none"}},
		{"PROTO 4", p().proto(4).none().stop(), Value{Kind: "none"}},
		{"PROTO 5", p().proto(5).none().stop(), Value{Kind: "none"}},
		{"global value", p().global("collections", "OrderedDict").stop(), Value{Kind: "global", Global: "collections.OrderedDict"}},
		{"aliased global value", p().global("__builtin__", "set").stop(), Value{Kind: "global", Global: "builtins.set"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := tc.b.bytes()
			if diff := gocmp.Diff(tc.want, decodeOne(t, b)); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			res := scanBytes(b)
			if len(res.Findings) != 0 || res.Pickles != 1 || res.Err != nil || res.End != int64(len(b)) {
				t.Errorf("Scan: findings %v, Pickles %d, Err %v, End %d (want none, 1, nil, %d)",
					summarize(res.Findings), res.Pickles, res.Err, res.End, len(b))
			}
		})
	}
}

// TestEncodeLong checks the builder's LONG encoding against Python's encode_long.
func TestEncodeLong(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want []byte
	}{
		{0, nil}, {255, []byte{0xff, 0x00}}, {-256, []byte{0x00, 0xff}}, {-128, []byte{0x80}},
		{127, []byte{0x7f}}, {-32768, []byte{0x00, 0x80}},
	}
	for _, tc := range tests {
		if diff := gocmp.Diff(tc.want, encodeLong(big.NewInt(tc.n))); diff != "" {
			t.Errorf("encodeLong(%d) (-want +got):\n%s", tc.n, diff)
		}
	}
}

// TestPlainStreams decodes whole pickles of every protocol, as Python writes
// them, without findings.
func TestPlainStreams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		b    *pb
	}{
		// pickle.dumps({'a': 1, 'b': [1, 2]}, protocol=0): no PROTO opcode.
		{"protocol 0", p().mark().dict().put(0).unicodeLine("a").put(1).int_(1).setItem().
			unicodeLine("b").put(2).mark().list().put(3).int_(1).append_().int_(2).append_().setItem().stop()},
		// The same with protocol 1: no PROTO opcode either.
		{"protocol 1", p().emptyDict().binPut(0).mark().binUnicode("a").binPut(1).binInt1(1).
			binUnicode("b").binPut(2).emptyList().binPut(3).mark().binInt1(1).binInt1(2).appends().setItems().stop()},
		{"protocol 2", p().proto(2).emptyDict().binPut(0).mark().binUnicode("a").binPut(1).binInt1(1).
			binUnicode("b").binPut(2).emptyList().binPut(3).mark().binInt1(1).binInt1(2).appends().setItems().stop()},
		{"protocol 3", p().proto(3).emptyDict().binPut(0).mark().binUnicode("a").binPut(1).shortBinBytes("\x00").
			binUnicode("b").binPut(2).emptyList().binPut(3).mark().binInt1(1).binInt1(2).appends().setItems().stop()},
		{"protocol 4", p().proto(4).frame(30).emptyDict().memoize().mark().shortBinUnicode("a").memoize().binInt1(1).
			shortBinUnicode("b").memoize().emptyList().memoize().mark().binInt1(1).binInt1(2).appends().setItems().stop()},
		{"protocol 5", p().proto(5).frame(30).emptyDict().memoize().mark().shortBinUnicode("a").memoize().byteArray8("x").memoize().
			shortBinUnicode("b").memoize().emptySet().memoize().mark().binInt1(1).binInt1(2).addItems().setItems().stop()},
		{"shared reference by GET", p().mark().list().put(0).mark().unicodeLine("x").put(1).get(1).tuple().append_().get(0).append_().stop()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := tc.b.bytes()
			res := scanBytes(b)
			if len(res.Findings) != 0 || res.Pickles != 1 || res.Err != nil {
				t.Errorf("findings %v, Pickles %d, Err %v", summarize(res.Findings), res.Pickles, res.Err)
			}
			if !Plausible(b, true) {
				t.Errorf("Plausible(complete) = false")
			}
		})
	}
}
