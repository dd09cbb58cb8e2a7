package tensorflow

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// fbError is malformed flatbuffer at an offset.
type fbError struct {
	off int64
	msg string
}

func (e *fbError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

const (
	pageSize = 4 << 10
	maxPages = 256 // 1 MiB of cache
	// maxVisits bounds the tables and vector elements visited, a bound on
	// time for models with millions of tensors and operators.
	maxVisits = 20_000_000
)

// fbuf reads a flatbuffer from an io.ReaderAt through a small page cache.
// Every offset is checked against the size; the first error sticks, after
// which every read returns zero.
type fbuf struct {
	ctx    context.Context
	ra     io.ReaderAt
	size   int64
	pages  map[int64][]byte
	read   int64
	visits int64
	err    error
}

func newFbuf(ctx context.Context, ra io.ReaderAt, size int64) *fbuf {
	return &fbuf{ctx: ctx, ra: ra, size: max(size, 0), pages: map[int64][]byte{}}
}

func (b *fbuf) fail(off int64, format string, args ...any) {
	if b.err == nil {
		b.err = &fbError{off: off, msg: fmt.Sprintf(format, args...)}
	}
}

// visit counts one unit of work; false once the budget is spent or ctx is done.
func (b *fbuf) visit(off int64) bool {
	if b.err != nil {
		return false
	}
	b.visits++
	if b.visits > maxVisits {
		b.fail(off, "more than %d tables and vector elements", maxVisits)
		return false
	}
	if b.visits&0xffff == 0 && b.ctx != nil {
		if err := b.ctx.Err(); err != nil {
			b.err = err
			return false
		}
	}
	return true
}

// bytes returns n bytes at off (a fresh slice when they span pages).
func (b *fbuf) bytes(off int64, n int) []byte {
	if b.err != nil {
		return nil
	}
	if off < 0 || n < 0 || int64(n) > b.size-off {
		b.fail(off, "a read of %d bytes runs past the end of the file", n)
		return nil
	}
	p := off / pageSize
	if (off+int64(n)-1)/pageSize == p || n == 0 {
		page := b.page(p)
		if page == nil {
			return nil
		}
		i := off - p*pageSize
		return page[i : i+int64(n)]
	}
	out := make([]byte, n)
	if !b.readAt(out, off) {
		return nil
	}
	return out
}

func (b *fbuf) page(p int64) []byte {
	if pg, ok := b.pages[p]; ok {
		return pg
	}
	if len(b.pages) >= maxPages {
		clear(b.pages)
	}
	n := min(int64(pageSize), b.size-p*pageSize)
	pg := make([]byte, n)
	if !b.readAt(pg, p*pageSize) {
		return nil
	}
	b.pages[p] = pg
	return pg
}

func (b *fbuf) readAt(p []byte, off int64) bool {
	b.read += int64(len(p))
	k, err := b.ra.ReadAt(p, off)
	if k == len(p) {
		return true
	}
	if err == nil || errors.Is(err, io.EOF) {
		b.fail(off, "the file ends %d bytes early", len(p)-k)
	} else {
		b.err = fmt.Errorf("reading at offset %d: %w", off, err)
	}
	return false
}

func (b *fbuf) u8(off int64) uint8 {
	if p := b.bytes(off, 1); p != nil {
		return p[0]
	}
	return 0
}

func (b *fbuf) u16(off int64) uint16 {
	if p := b.bytes(off, 2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (b *fbuf) u32(off int64) uint32 {
	if p := b.bytes(off, 4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (b *fbuf) u64(off int64) uint64 {
	if p := b.bytes(off, 8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// table is a flatbuffer table: its position and its vtable's.
type table struct {
	pos, vt int64
	vtLen   int64
}

// tableAt reads the table at pos: a signed offset back to its vtable, whose
// first two uint16 are the vtable's and the table's sizes.
func (b *fbuf) tableAt(pos int64) (table, bool) {
	if !b.visit(pos) {
		return table{}, false
	}
	so := int64(int32(b.u32(pos)))
	vt := pos - so
	vtLen := int64(b.u16(vt))
	if b.err != nil {
		return table{}, false
	}
	if vtLen < 4 || vtLen%2 != 0 || vtLen > b.size-vt {
		b.fail(pos, "table has a vtable of %d bytes at %d", vtLen, vt)
		return table{}, false
	}
	return table{pos: pos, vt: vt, vtLen: vtLen}, true
}

// field is the absolute offset of field i of t, or 0 when absent.
func (b *fbuf) field(t table, i int) int64 {
	slot := 4 + 2*int64(i)
	if slot+2 > t.vtLen { // also the zero table, whose vtLen is 0
		return 0
	}
	o := int64(b.u16(t.vt + slot))
	if o == 0 {
		return 0
	}
	return t.pos + o
}

// root is the root table, whose offset starts the buffer.
func (b *fbuf) root() (table, bool) {
	pos := int64(b.u32(0))
	if b.err != nil {
		return table{}, false
	}
	if pos < 4 || pos >= b.size {
		b.fail(0, "the root table offset %d is outside the file", pos)
		return table{}, false
	}
	return b.tableAt(pos)
}

// deref follows the unsigned offset stored at off (0: an absent field).
func (b *fbuf) deref(off int64) (int64, bool) {
	if off == 0 {
		return 0, false
	}
	target := off + int64(b.u32(off))
	if b.err != nil {
		return 0, false
	}
	if target >= b.size {
		b.fail(off, "offset points past the end of the file")
		return 0, false
	}
	return target, true
}

// sub is the table in field i of t.
func (b *fbuf) sub(t table, i int) (table, bool) {
	p, ok := b.deref(b.field(t, i))
	if !ok {
		return table{}, false
	}
	return b.tableAt(p)
}

// vector is the vector in field i of t: where its elements start and how
// many there are, checked to fit the file with elements of elem bytes.
func (b *fbuf) vector(t table, i int, elem int64) (start, n int64, ok bool) {
	p, ok := b.deref(b.field(t, i))
	if !ok {
		return 0, 0, false
	}
	n = int64(b.u32(p))
	start = p + 4
	if b.err != nil {
		return 0, 0, false
	}
	if n > (b.size-start)/elem {
		b.fail(p, "vector of %d elements of %d bytes runs past the end of the file", n, elem)
		return 0, 0, false
	}
	return start, n, true
}

// tableElem is element k of a vector of tables starting at start.
func (b *fbuf) tableElem(start, k int64) (table, bool) {
	p, ok := b.deref(start + 4*k)
	if !ok {
		return table{}, false
	}
	return b.tableAt(p)
}

// str is the string in field i of t, cut to max bytes.
func (b *fbuf) str(t table, i int, max int) (string, bool) {
	start, n, ok := b.vector(t, i, 1)
	if !ok {
		return "", false
	}
	p := b.bytes(start, int(min(n, int64(max))))
	if p == nil {
		return "", false
	}
	return string(p), true
}

// scalar fields, with their defaults.

func (b *fbuf) fieldU8(t table, i int, def uint8) uint8 {
	if o := b.field(t, i); o != 0 {
		return b.u8(o)
	}
	return def
}

func (b *fbuf) fieldI32(t table, i int, def int32) int32 {
	if o := b.field(t, i); o != 0 {
		return int32(b.u32(o))
	}
	return def
}

func (b *fbuf) fieldU32(t table, i int, def uint32) uint32 {
	if o := b.field(t, i); o != 0 {
		return b.u32(o)
	}
	return def
}

func (b *fbuf) fieldU64(t table, i int, def uint64) uint64 {
	if o := b.field(t, i); o != 0 {
		return b.u64(o)
	}
	return def
}
