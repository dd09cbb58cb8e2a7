package gguf

import (
	"encoding/binary"
	"errors"
	"io"
)

// reader reads a file front to back through a small buffer over an
// io.ReaderAt. Skipping moves the offset without reading, so the
// fixed-size arrays of a tokenizer (scores, token types) and the tensor
// data are never read.
type reader struct {
	ra    io.ReaderAt
	size  int64
	buf   []byte
	start int64 // file offset of buf[0]
	r, w  int   // buf[r:w] is read and not consumed
	order binary.ByteOrder
}

const bufSize = 64 << 10

// errEOF is the file ending inside the structure being read.
var errEOF = errors.New("unexpected end of file")

// ioError is a failure of the underlying reader, not of the file's content.
type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

func newReader(ra io.ReaderAt, size int64) *reader {
	return &reader{ra: ra, size: size, buf: make([]byte, bufSize), order: binary.LittleEndian}
}

func (b *reader) off() int64       { return b.start + int64(b.r) }
func (b *reader) remaining() int64 { return b.size - b.off() }

// need makes n <= bufSize bytes available at buf[r:].
func (b *reader) need(n int) error {
	if b.w-b.r >= n {
		return nil
	}
	if int64(n) > b.remaining() {
		return errEOF
	}
	copy(b.buf, b.buf[b.r:b.w])
	b.start += int64(b.r)
	b.w -= b.r
	b.r = 0
	for b.w < n {
		want := min(int64(len(b.buf)-b.w), b.size-(b.start+int64(b.w)))
		m, err := b.ra.ReadAt(b.buf[b.w:b.w+int(want)], b.start+int64(b.w))
		b.w += m
		if b.w >= n {
			break
		}
		if err == io.EOF || err == nil && m == 0 {
			return errEOF // the file is shorter than its stated size
		}
		if err != nil {
			return &ioError{err}
		}
	}
	return nil
}

// next returns the next n <= bufSize bytes.
func (b *reader) next(n int) ([]byte, error) {
	if err := b.need(n); err != nil {
		return nil, err
	}
	p := b.buf[b.r : b.r+n]
	b.r += n
	return p, nil
}

// skip moves n bytes forward without reading them.
func (b *reader) skip(n uint64) error {
	if n > uint64(b.remaining()) {
		return errEOF
	}
	if n <= uint64(b.w-b.r) {
		b.r += int(n)
		return nil
	}
	b.start = b.off() + int64(n)
	b.r, b.w = 0, 0
	return nil
}

// read returns the next n bytes in a new slice; n may exceed bufSize.
func (b *reader) read(n int64) ([]byte, error) {
	if n > b.remaining() {
		return nil, errEOF
	}
	if n <= bufSize {
		p, err := b.next(int(n))
		return append([]byte(nil), p...), err
	}
	out := make([]byte, n)
	k := copy(out, b.buf[b.r:b.w])
	rest := out[k:]
	at := b.start + int64(b.w)
	m, err := b.ra.ReadAt(rest, at)
	if m < len(rest) {
		if err == nil || err == io.EOF {
			return nil, errEOF
		}
		return nil, &ioError{err}
	}
	b.start = at + int64(len(rest))
	b.r, b.w = 0, 0
	return out, nil
}

func (b *reader) u32() (uint32, error) {
	p, err := b.next(4)
	if err != nil {
		return 0, err
	}
	return b.order.Uint32(p), nil
}

func (b *reader) u64() (uint64, error) {
	p, err := b.next(8)
	if err != nil {
		return 0, err
	}
	return b.order.Uint64(p), nil
}
