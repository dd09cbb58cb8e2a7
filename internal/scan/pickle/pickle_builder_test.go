package pickle

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"

	"github.com/mlguard/mlguard/internal/scan/pickle/pickleop"
)

// pb builds pickle byte streams opcode by opcode, for tests. Every method
// appends one opcode (with its argument) and returns the builder, so a
// stream reads like a disassembly:
//
//	p().proto(4).shortBinUnicode("os").memoize().shortBinUnicode("system").memoize().
//		stackGlobal().shortBinUnicode("id").tuple1().reduce().stop()
//
// Nothing is checked: malformed streams are as easy to write as valid ones.
type pb struct{ b []byte }

func p() *pb { return &pb{} }

// bytes returns a copy of the stream built so far.
func (b *pb) bytes() []byte { return append([]byte(nil), b.b...) }

func (b *pb) op(op byte, arg ...byte) *pb {
	b.b = append(b.b, op)
	b.b = append(b.b, arg...)
	return b
}

func (b *pb) opLine(op byte, line string) *pb {
	b.b = append(b.b, op)
	b.b = append(b.b, line...)
	b.b = append(b.b, '\n')
	return b
}

func (b *pb) opU32(op byte, n uint32) *pb {
	return b.op(op, binary.LittleEndian.AppendUint32(nil, n)...)
}

func (b *pb) opU64(op byte, n uint64) *pb {
	return b.op(op, binary.LittleEndian.AppendUint64(nil, n)...)
}

// raw appends bytes as they are (garbage, payloads, partial opcodes).
func (b *pb) raw(x ...byte) *pb { b.b = append(b.b, x...); return b }

// rawString appends the bytes of s.
func (b *pb) rawString(s string) *pb { b.b = append(b.b, s...); return b }

// then appends another builder's stream.
func (b *pb) then(o *pb) *pb { b.b = append(b.b, o.b...); return b }

// ---- framing and control ----

func (b *pb) proto(v byte) *pb   { return b.op(pickleop.Proto, v) }
func (b *pb) frame(n uint64) *pb { return b.opU64(pickleop.Frame, n) }
func (b *pb) stop() *pb          { return b.op(pickleop.Stop) }
func (b *pb) mark() *pb          { return b.op(pickleop.Mark) }
func (b *pb) pop() *pb           { return b.op(pickleop.Pop) }
func (b *pb) popMark() *pb       { return b.op(pickleop.PopMark) }
func (b *pb) dup() *pb           { return b.op(pickleop.Dup) }

// ---- numbers ----

// intLine emits INT with its text argument as given ("00", "01", "-5").
func (b *pb) intLine(s string) *pb   { return b.opLine(pickleop.Int, s) }
func (b *pb) int_(n int64) *pb       { return b.intLine(strconv.FormatInt(n, 10)) }
func (b *pb) longLine(s string) *pb  { return b.opLine(pickleop.Long, s) }
func (b *pb) binInt(n int32) *pb     { return b.opU32(pickleop.BinInt, uint32(n)) }
func (b *pb) binInt1(n uint8) *pb    { return b.op(pickleop.BinInt1, n) }
func (b *pb) binInt2(n uint16) *pb   { return b.op(pickleop.BinInt2, byte(n), byte(n>>8)) }
func (b *pb) floatLine(s string) *pb { return b.opLine(pickleop.Float, s) }
func (b *pb) binFloat(f float64) *pb {
	return b.op(pickleop.BinFloat, binary.BigEndian.AppendUint64(nil, math.Float64bits(f))...)
}

// long1 emits LONG1 with n encoded as Python's encode_long does.
func (b *pb) long1(n *big.Int) *pb {
	enc := encodeLong(n)
	return b.op(pickleop.Long1, append([]byte{byte(len(enc))}, enc...)...)
}

// long4 emits LONG4 with n encoded as Python's encode_long does.
func (b *pb) long4(n *big.Int) *pb {
	enc := encodeLong(n)
	return b.op(pickleop.Long4, append(binary.LittleEndian.AppendUint32(nil, uint32(len(enc))), enc...)...)
}

// long1Raw emits LONG1 with the given little-endian two's complement bytes.
func (b *pb) long1Raw(enc ...byte) *pb {
	return b.op(pickleop.Long1, append([]byte{byte(len(enc))}, enc...)...)
}

// encodeLong is pickle.encode_long: little-endian two's complement, shortest form.
func encodeLong(n *big.Int) []byte {
	if n.Sign() == 0 {
		return nil
	}
	nbytes := (n.BitLen() >> 3) + 1
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*nbytes))
	v := new(big.Int).Set(n)
	if v.Sign() < 0 {
		v.Add(v, mod)
	}
	be := v.FillBytes(make([]byte, nbytes))
	le := make([]byte, nbytes)
	for i := range be {
		le[i] = be[nbytes-1-i]
	}
	if n.Sign() < 0 && nbytes > 1 && le[nbytes-1] == 0xff && le[nbytes-2]&0x80 != 0 {
		le = le[:nbytes-1]
	}
	return le
}

func (b *pb) none() *pb     { return b.op(pickleop.None) }
func (b *pb) newTrue() *pb  { return b.op(pickleop.NewTrue) }
func (b *pb) newFalse() *pb { return b.op(pickleop.NewFalse) }

// ---- strings and bytes ----

// stringLine emits STRING with its argument as written (quotes and escapes included).
func (b *pb) stringLine(quoted string) *pb { return b.opLine(pickleop.String, quoted) }

// string_ emits STRING of s in single quotes (s must not need escapes).
func (b *pb) string_(s string) *pb { return b.stringLine("'" + s + "'") }

func (b *pb) binString(s string) *pb { return b.opU32(pickleop.BinString, uint32(len(s))).rawString(s) }
func (b *pb) shortBinString(s string) *pb {
	return b.op(pickleop.ShortBinString, byte(len(s))).rawString(s)
}

// unicodeLine emits UNICODE with a raw-unicode-escape argument as written.
func (b *pb) unicodeLine(raw string) *pb { return b.opLine(pickleop.Unicode, raw) }
func (b *pb) binUnicode(s string) *pb {
	return b.opU32(pickleop.BinUnicode, uint32(len(s))).rawString(s)
}
func (b *pb) binUnicode8(s string) *pb {
	return b.opU64(pickleop.BinUnicode8, uint64(len(s))).rawString(s)
}
func (b *pb) shortBinUnicode(s string) *pb {
	return b.op(pickleop.ShortBinUnicode, byte(len(s))).rawString(s)
}
func (b *pb) binBytes(s string) *pb  { return b.opU32(pickleop.BinBytes, uint32(len(s))).rawString(s) }
func (b *pb) binBytes8(s string) *pb { return b.opU64(pickleop.BinBytes8, uint64(len(s))).rawString(s) }
func (b *pb) shortBinBytes(s string) *pb {
	return b.op(pickleop.ShortBinBytes, byte(len(s))).rawString(s)
}
func (b *pb) byteArray8(s string) *pb {
	return b.opU64(pickleop.ByteArray8, uint64(len(s))).rawString(s)
}
func (b *pb) nextBuffer() *pb     { return b.op(pickleop.NextBuffer) }
func (b *pb) readOnlyBuffer() *pb { return b.op(pickleop.ReadOnlyBuffer) }

// str is the short form most tests use: SHORT_BINUNICODE.
func (b *pb) str(s string) *pb { return b.shortBinUnicode(s) }

// binBytes8Len and binUnicodeLen emit only the opcode and a declared length,
// for truncated and oversized payloads.
func (b *pb) binBytes8Len(n uint64) *pb  { return b.opU64(pickleop.BinBytes8, n) }
func (b *pb) binUnicodeLen(n uint32) *pb { return b.opU32(pickleop.BinUnicode, n) }

// ---- containers ----

func (b *pb) emptyTuple() *pb { return b.op(pickleop.EmptyTuple) }
func (b *pb) tuple() *pb      { return b.op(pickleop.Tuple) }
func (b *pb) tuple1() *pb     { return b.op(pickleop.Tuple1) }
func (b *pb) tuple2() *pb     { return b.op(pickleop.Tuple2) }
func (b *pb) tuple3() *pb     { return b.op(pickleop.Tuple3) }
func (b *pb) emptyList() *pb  { return b.op(pickleop.EmptyList) }
func (b *pb) list() *pb       { return b.op(pickleop.List) }
func (b *pb) append_() *pb    { return b.op(pickleop.Append) }
func (b *pb) appends() *pb    { return b.op(pickleop.Appends) }
func (b *pb) emptyDict() *pb  { return b.op(pickleop.EmptyDict) }
func (b *pb) dict() *pb       { return b.op(pickleop.Dict) }
func (b *pb) setItem() *pb    { return b.op(pickleop.SetItem) }
func (b *pb) setItems() *pb   { return b.op(pickleop.SetItems) }
func (b *pb) emptySet() *pb   { return b.op(pickleop.EmptySet) }
func (b *pb) addItems() *pb   { return b.op(pickleop.AddItems) }
func (b *pb) frozenSet() *pb  { return b.op(pickleop.FrozenSet) }

// ---- memo ----

func (b *pb) put(i int) *pb           { return b.opLine(pickleop.Put, strconv.Itoa(i)) }
func (b *pb) binPut(i uint8) *pb      { return b.op(pickleop.BinPut, i) }
func (b *pb) longBinPut(i uint32) *pb { return b.opU32(pickleop.LongBinPut, i) }
func (b *pb) memoize() *pb            { return b.op(pickleop.Memoize) }
func (b *pb) get(i int) *pb           { return b.opLine(pickleop.Get, strconv.Itoa(i)) }
func (b *pb) binGet(i uint8) *pb      { return b.op(pickleop.BinGet, i) }
func (b *pb) longBinGet(i uint32) *pb { return b.opU32(pickleop.LongBinGet, i) }

// ---- globals, calls and objects ----

func (b *pb) global(mod, name string) *pb {
	return b.opLine(pickleop.Global, mod).rawString(name + "\n")
}
func (b *pb) inst(mod, name string) *pb { return b.opLine(pickleop.Inst, mod).rawString(name + "\n") }
func (b *pb) obj() *pb                  { return b.op(pickleop.Obj) }
func (b *pb) stackGlobal() *pb          { return b.op(pickleop.StackGlobal) }
func (b *pb) newObj() *pb               { return b.op(pickleop.NewObj) }
func (b *pb) newObjEx() *pb             { return b.op(pickleop.NewObjEx) }
func (b *pb) reduce() *pb               { return b.op(pickleop.Reduce) }
func (b *pb) build() *pb                { return b.op(pickleop.Build) }
func (b *pb) persID(pid string) *pb     { return b.opLine(pickleop.PersID, pid) }
func (b *pb) binPersID() *pb            { return b.op(pickleop.BinPersID) }
func (b *pb) ext1(code uint8) *pb       { return b.op(pickleop.Ext1, code) }
func (b *pb) ext2(code uint16) *pb      { return b.op(pickleop.Ext2, byte(code), byte(code>>8)) }
func (b *pb) ext4(code uint32) *pb      { return b.opU32(pickleop.Ext4, code) }

// stackGlobalOf pushes mod and name as SHORT_BINUNICODE, then STACK_GLOBAL.
func (b *pb) stackGlobalOf(mod, name string) *pb { return b.str(mod).str(name).stackGlobal() }

// here stores the current length of the stream (the offset of the next opcode) in *at.
func (b *pb) here(at *int64) *pb { *at = int64(len(b.b)); return b }
