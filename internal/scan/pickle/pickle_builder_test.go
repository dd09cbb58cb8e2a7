package pickle

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
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

func (b *pb) proto(v byte) *pb   { return b.op(opProto, v) }
func (b *pb) frame(n uint64) *pb { return b.opU64(opFrame, n) }
func (b *pb) stop() *pb          { return b.op(opStop) }
func (b *pb) mark() *pb          { return b.op(opMark) }
func (b *pb) pop() *pb           { return b.op(opPop) }
func (b *pb) popMark() *pb       { return b.op(opPopMark) }
func (b *pb) dup() *pb           { return b.op(opDup) }

// ---- numbers ----

// intLine emits INT with its text argument as given ("00", "01", "-5").
func (b *pb) intLine(s string) *pb   { return b.opLine(opInt, s) }
func (b *pb) int_(n int64) *pb       { return b.intLine(strconv.FormatInt(n, 10)) }
func (b *pb) longLine(s string) *pb  { return b.opLine(opLong, s) }
func (b *pb) binInt(n int32) *pb     { return b.opU32(opBinInt, uint32(n)) }
func (b *pb) binInt1(n uint8) *pb    { return b.op(opBinInt1, n) }
func (b *pb) binInt2(n uint16) *pb   { return b.op(opBinInt2, byte(n), byte(n>>8)) }
func (b *pb) floatLine(s string) *pb { return b.opLine(opFloat, s) }
func (b *pb) binFloat(f float64) *pb {
	return b.op(opBinFloat, binary.BigEndian.AppendUint64(nil, math.Float64bits(f))...)
}

// long1 emits LONG1 with n encoded as Python's encode_long does.
func (b *pb) long1(n *big.Int) *pb {
	enc := encodeLong(n)
	return b.op(opLong1, append([]byte{byte(len(enc))}, enc...)...)
}

// long4 emits LONG4 with n encoded as Python's encode_long does.
func (b *pb) long4(n *big.Int) *pb {
	enc := encodeLong(n)
	return b.op(opLong4, append(binary.LittleEndian.AppendUint32(nil, uint32(len(enc))), enc...)...)
}

// long1Raw emits LONG1 with the given little-endian two's complement bytes.
func (b *pb) long1Raw(enc ...byte) *pb {
	return b.op(opLong1, append([]byte{byte(len(enc))}, enc...)...)
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

func (b *pb) none() *pb     { return b.op(opNone) }
func (b *pb) newTrue() *pb  { return b.op(opNewTrue) }
func (b *pb) newFalse() *pb { return b.op(opNewFalse) }

// ---- strings and bytes ----

// stringLine emits STRING with its argument as written (quotes and escapes included).
func (b *pb) stringLine(quoted string) *pb { return b.opLine(opString, quoted) }

// string_ emits STRING of s in single quotes (s must not need escapes).
func (b *pb) string_(s string) *pb { return b.stringLine("'" + s + "'") }

func (b *pb) binString(s string) *pb { return b.opU32(opBinString, uint32(len(s))).rawString(s) }
func (b *pb) shortBinString(s string) *pb {
	return b.op(opShortBinString, byte(len(s))).rawString(s)
}

// unicodeLine emits UNICODE with a raw-unicode-escape argument as written.
func (b *pb) unicodeLine(raw string) *pb   { return b.opLine(opUnicode, raw) }
func (b *pb) binUnicode(s string) *pb      { return b.opU32(opBinUnicode, uint32(len(s))).rawString(s) }
func (b *pb) binUnicode8(s string) *pb     { return b.opU64(opBinUnicode8, uint64(len(s))).rawString(s) }
func (b *pb) shortBinUnicode(s string) *pb { return b.op(opShortBinUnicode, byte(len(s))).rawString(s) }
func (b *pb) binBytes(s string) *pb        { return b.opU32(opBinBytes, uint32(len(s))).rawString(s) }
func (b *pb) binBytes8(s string) *pb       { return b.opU64(opBinBytes8, uint64(len(s))).rawString(s) }
func (b *pb) shortBinBytes(s string) *pb   { return b.op(opShortBinBytes, byte(len(s))).rawString(s) }
func (b *pb) byteArray8(s string) *pb      { return b.opU64(opByteArray8, uint64(len(s))).rawString(s) }
func (b *pb) nextBuffer() *pb              { return b.op(opNextBuffer) }
func (b *pb) readOnlyBuffer() *pb          { return b.op(opReadOnlyBuffer) }

// str is the short form most tests use: SHORT_BINUNICODE.
func (b *pb) str(s string) *pb { return b.shortBinUnicode(s) }

// binBytes8Len and binUnicodeLen emit only the opcode and a declared length,
// for truncated and oversized payloads.
func (b *pb) binBytes8Len(n uint64) *pb  { return b.opU64(opBinBytes8, n) }
func (b *pb) binUnicodeLen(n uint32) *pb { return b.opU32(opBinUnicode, n) }

// ---- containers ----

func (b *pb) emptyTuple() *pb { return b.op(opEmptyTuple) }
func (b *pb) tuple() *pb      { return b.op(opTuple) }
func (b *pb) tuple1() *pb     { return b.op(opTuple1) }
func (b *pb) tuple2() *pb     { return b.op(opTuple2) }
func (b *pb) tuple3() *pb     { return b.op(opTuple3) }
func (b *pb) emptyList() *pb  { return b.op(opEmptyList) }
func (b *pb) list() *pb       { return b.op(opList) }
func (b *pb) append_() *pb    { return b.op(opAppend) }
func (b *pb) appends() *pb    { return b.op(opAppends) }
func (b *pb) emptyDict() *pb  { return b.op(opEmptyDict) }
func (b *pb) dict() *pb       { return b.op(opDict) }
func (b *pb) setItem() *pb    { return b.op(opSetItem) }
func (b *pb) setItems() *pb   { return b.op(opSetItems) }
func (b *pb) emptySet() *pb   { return b.op(opEmptySet) }
func (b *pb) addItems() *pb   { return b.op(opAddItems) }
func (b *pb) frozenSet() *pb  { return b.op(opFrozenSet) }

// ---- memo ----

func (b *pb) put(i int) *pb           { return b.opLine(opPut, strconv.Itoa(i)) }
func (b *pb) binPut(i uint8) *pb      { return b.op(opBinPut, i) }
func (b *pb) longBinPut(i uint32) *pb { return b.opU32(opLongBinPut, i) }
func (b *pb) memoize() *pb            { return b.op(opMemoize) }
func (b *pb) get(i int) *pb           { return b.opLine(opGet, strconv.Itoa(i)) }
func (b *pb) binGet(i uint8) *pb      { return b.op(opBinGet, i) }
func (b *pb) longBinGet(i uint32) *pb { return b.opU32(opLongBinGet, i) }

// ---- globals, calls and objects ----

func (b *pb) global(mod, name string) *pb { return b.opLine(opGlobal, mod).rawString(name + "\n") }
func (b *pb) inst(mod, name string) *pb   { return b.opLine(opInst, mod).rawString(name + "\n") }
func (b *pb) obj() *pb                    { return b.op(opObj) }
func (b *pb) stackGlobal() *pb            { return b.op(opStackGlobal) }
func (b *pb) newObj() *pb                 { return b.op(opNewObj) }
func (b *pb) newObjEx() *pb               { return b.op(opNewObjEx) }
func (b *pb) reduce() *pb                 { return b.op(opReduce) }
func (b *pb) build() *pb                  { return b.op(opBuild) }
func (b *pb) persID(pid string) *pb       { return b.opLine(opPersID, pid) }
func (b *pb) binPersID() *pb              { return b.op(opBinPersID) }
func (b *pb) ext1(code uint8) *pb         { return b.op(opExt1, code) }
func (b *pb) ext2(code uint16) *pb        { return b.op(opExt2, byte(code), byte(code>>8)) }
func (b *pb) ext4(code uint32) *pb        { return b.opU32(opExt4, code) }

// stackGlobalOf pushes mod and name as SHORT_BINUNICODE, then STACK_GLOBAL.
func (b *pb) stackGlobalOf(mod, name string) *pb { return b.str(mod).str(name).stackGlobal() }

// here stores the current length of the stream (the offset of the next opcode) in *at.
func (b *pb) here(at *int64) *pb { *at = int64(len(b.b)); return b }
