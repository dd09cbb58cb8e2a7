// Package pb reads the protocol buffer wire format straight from an
// io.ReaderAt, one field at a time, without loading messages into memory.
// Length-delimited fields a caller does not want (tensor data, doc strings)
// are skipped by offset, so a 2 GB model costs a few reads.
//
// It serves the ONNX and TensorFlow scanners, which read hostile files:
// every length is checked against its enclosing message, nesting depth and
// the number of fields are capped, groups are refused, and the first error
// sticks: after it, every iteration ends and Err reports it.
package protobuf

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// WireType is the low three bits of a field's tag.
type WireType uint8

// Wire types. Groups (3, 4) are deprecated since proto2 and used by neither
// ONNX nor TensorFlow; they are refused.
const (
	Varint  WireType = 0
	Fixed64 WireType = 1
	Bytes   WireType = 2
	Fixed32 WireType = 5
)

// Limits bound a decode.
type Limits struct {
	// MaxDepth is the deepest message nesting accepted; the top-level
	// message is depth 0. The C++ protobuf parser stops at 100.
	MaxDepth int
	// MaxFields is how many fields may be visited in all, a bound on time.
	MaxFields int64
}

// DefaultLimits suit a model file: protobuf's own recursion limit, and
// enough fields for graphs of millions of nodes.
var DefaultLimits = Limits{MaxDepth: 100, MaxFields: 50_000_000}

// Error is malformed input, or input past a limit, at an offset.
type Error struct {
	Offset int64
	Msg    string
	Limit  bool // a limit was reached (nesting, field count), not a format error
}

func (e *Error) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// Unwrap makes errors.Is(err, ErrLimit) true for limits.
func (e *Error) Unwrap() error {
	if e.Limit {
		return ErrLimit
	}
	return nil
}

// ErrLimit is matched by errors from a limit rather than from malformed
// input (nesting too deep, too many fields).
var ErrLimit = errors.New("limit exceeded")

const (
	minWindow = 4 << 10
	maxWindow = 64 << 10
)

// Reader decodes messages from r. It is not safe for concurrent use.
type Reader struct {
	ctx  context.Context
	ra   io.ReaderAt
	size int64
	lim  Limits

	win    []byte // cached bytes at winOff
	winOff int64
	winCap int

	fields int64
	read   int64
	err    error
}

// NewReader reads the size bytes of ra.
func NewReader(ctx context.Context, ra io.ReaderAt, size int64, lim Limits) *Reader {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultLimits.MaxDepth
	}
	if lim.MaxFields <= 0 {
		lim.MaxFields = DefaultLimits.MaxFields
	}
	return &Reader{ctx: ctx, ra: ra, size: max(size, 0), lim: lim, winCap: minWindow}
}

// Err is the first error met: an *Error for malformed input (wrapping
// ErrLimit for a limit), the context's error, or an I/O error from ra.
func (r *Reader) Err() error { return r.err }

// BytesRead counts the bytes requested from the underlying reader.
func (r *Reader) BytesRead() int64 { return r.read }

// Fail records a semantic error found by the caller (a wrong wire type for
// a known field, say), unless an earlier error is already recorded.
func (r *Reader) Fail(off int64, format string, args ...any) {
	if r.err == nil {
		r.err = &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
}

func (r *Reader) limit(off int64, format string, args ...any) {
	if r.err == nil {
		r.err = &Error{Offset: off, Msg: fmt.Sprintf(format, args...), Limit: true}
	}
}

// Root is the whole input as one message.
func (r *Reader) Root() Msg { return Msg{r: r, pos: 0, end: r.size} }

// Msg iterates over the fields of one message.
type Msg struct {
	r        *Reader
	pos, end int64
	depth    int
}

// Field is one field of a message. For Varint, Fixed32 and Fixed64 the
// value is in V; for Bytes the payload is [Start, End).
type Field struct {
	Num   int32
	Type  WireType
	Off   int64 // where the tag starts
	V     uint64
	Start int64
	End   int64
	depth int // of the message holding the field
}

// Len is the payload length of a Bytes field.
func (f Field) Len() int64 { return f.End - f.Start }

// Next reads the next field into f; false at the end of the message or on
// an error.
func (m *Msg) Next(f *Field) bool {
	r := m.r
	if r == nil || r.err != nil || m.pos >= m.end {
		return false
	}
	r.fields++
	if r.fields > r.lim.MaxFields {
		r.limit(m.pos, "more than %d protobuf fields", r.lim.MaxFields)
		return false
	}
	if r.fields&0xffff == 0 && r.ctx != nil {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			return false
		}
	}
	off := m.pos
	tag, ok := r.varint(&m.pos, m.end)
	if !ok {
		return false
	}
	num, wt := tag>>3, WireType(tag&7)
	if num == 0 || num > 1<<29-1 {
		r.Fail(off, "invalid field number %d", num)
		return false
	}
	*f = Field{Num: int32(num), Type: wt, Off: off, depth: m.depth}
	switch wt {
	case Varint:
		f.V, ok = r.varint(&m.pos, m.end)
		if !ok {
			return false
		}
	case Fixed64, Fixed32:
		n := int64(8)
		if wt == Fixed32 {
			n = 4
		}
		if m.end-m.pos < n {
			r.Fail(off, "field %d: fixed-width value runs past the end of its message", num)
			return false
		}
		b := r.bytes(m.pos, int(n))
		if b == nil {
			return false
		}
		for i := n - 1; i >= 0; i-- {
			f.V = f.V<<8 | uint64(b[i])
		}
		m.pos += n
	case Bytes:
		n, ok := r.varint(&m.pos, m.end)
		if !ok {
			return false
		}
		if n > uint64(m.end-m.pos) {
			r.Fail(off, "field %d: length %d runs past the end of its message (%d bytes left)", num, n, m.end-m.pos)
			return false
		}
		f.Start, f.End = m.pos, m.pos+int64(n)
		m.pos = f.End
	case 3, 4:
		r.Fail(off, "field %d: protobuf groups are not supported", num)
		return false
	default:
		r.Fail(off, "field %d: invalid wire type %d", num, wt)
		return false
	}
	return true
}

// Sub is the payload of a Bytes field read as a message.
func (r *Reader) Sub(f Field) Msg {
	if f.Type != Bytes {
		r.Fail(f.Off, "field %d: wire type %d where a message was expected", f.Num, f.Type)
		return Msg{}
	}
	if f.depth+1 > r.lim.MaxDepth {
		r.limit(f.Off, "messages nested more than %d deep", r.lim.MaxDepth)
		return Msg{}
	}
	return Msg{r: r, pos: f.Start, end: f.End, depth: f.depth + 1}
}

// Str reads the payload of a Bytes field as a string, at most max bytes of
// it; full is false when it was cut.
func (r *Reader) Str(f Field, max int) (s string, full bool) {
	if f.Type != Bytes {
		r.Fail(f.Off, "field %d: wire type %d where a string was expected", f.Num, f.Type)
		return "", false
	}
	n := f.Len()
	full = n <= int64(max)
	if !full {
		n = int64(max)
	}
	b := r.bytes(f.Start, int(n))
	if b == nil {
		return "", false
	}
	return string(b), full
}

// Varints calls fn for each value of a repeated varint field, whether it was
// written packed (one Bytes field) or not (one Varint field per value); fn
// returns false to stop.
func (r *Reader) Varints(f Field, fn func(uint64) bool) {
	switch f.Type {
	case Varint:
		fn(f.V)
	case Bytes:
		pos := f.Start
		for pos < f.End && r.err == nil {
			v, ok := r.varint(&pos, f.End)
			if !ok || !fn(v) {
				return
			}
		}
	default:
		r.Fail(f.Off, "field %d: wire type %d where varints were expected", f.Num, f.Type)
	}
}

// varint decodes a base-128 varint at *pos, before end.
func (r *Reader) varint(pos *int64, end int64) (uint64, bool) {
	start := *pos
	avail := min(end-start, 10)
	if avail <= 0 {
		r.Fail(start, "truncated varint")
		return 0, false
	}
	b := r.bytes(start, int(avail))
	if b == nil {
		return 0, false
	}
	var v uint64
	for i, c := range b {
		if i == 9 && c > 1 {
			r.Fail(start, "varint overflows 64 bits")
			return 0, false
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			*pos = start + int64(i) + 1
			return v, true
		}
	}
	if avail < 10 {
		r.Fail(start, "truncated varint")
	} else {
		r.Fail(start, "varint longer than 10 bytes")
	}
	return 0, false
}

// bytes returns n bytes at off, from the window when it holds them. The
// slice is valid until the next call. It returns nil (and records the error)
// when the input cannot supply them.
func (r *Reader) bytes(off int64, n int) []byte {
	if r.err != nil {
		return nil
	}
	if off < 0 || int64(n) > r.size-off {
		r.Fail(off, "%d bytes past the end of the input", int64(n)-(r.size-off))
		return nil
	}
	if off >= r.winOff && off+int64(n) <= r.winOff+int64(len(r.win)) {
		return r.win[off-r.winOff : off-r.winOff+int64(n)]
	}
	if n > maxWindow {
		b := make([]byte, n)
		if !r.readAt(b, off) {
			return nil
		}
		return b
	}
	// Reading on from the end of the window grows it (a dense run of small
	// fields); a jump (over tensor data) starts small again.
	if len(r.win) > 0 && off >= r.winOff && off <= r.winOff+int64(len(r.win)) {
		r.winCap = min(r.winCap*2, maxWindow)
	} else {
		r.winCap = minWindow
	}
	want := int64(max(r.winCap, n))
	want = min(want, r.size-off)
	if cap(r.win) < int(want) {
		r.win = make([]byte, want, max(int(want), maxWindow))
	}
	r.win = r.win[:want]
	if !r.readAt(r.win, off) {
		r.win = r.win[:0]
		return nil
	}
	r.winOff = off
	return r.win[:n]
}

func (r *Reader) readAt(b []byte, off int64) bool {
	r.read += int64(len(b))
	k, err := r.ra.ReadAt(b, off)
	if k == len(b) {
		return true
	}
	switch {
	case err == nil || errors.Is(err, io.EOF):
		r.Fail(off, "the input ends %d bytes early", len(b)-k)
	default:
		r.err = fmt.Errorf("reading at offset %d: %w", off, err)
	}
	return false
}
