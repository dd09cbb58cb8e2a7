package pickle

import (
	"bytes"
	"errors"
	"io"
)

// reader is a small buffered reader that knows its absolute offset and can
// skip bulk payloads without reading them when the source can seek. It is
// what keeps a 1 GB pickle of in-band tensors cheap: tensor bytes are jumped
// over, never copied.
type reader struct {
	src  io.Reader
	seek io.Seeker // nil when the source cannot seek
	buf  []byte
	r, w int
	off  int64 // absolute offset of buf[r]
	err  error
	// seekBase is the source position that corresponds to offset 0.
	seekBase int64
}

const bufSize = 64 << 10

func newReader(src io.Reader, base int64) *reader {
	rd := &reader{src: src, buf: make([]byte, bufSize), off: base}
	if s, ok := src.(io.Seeker); ok {
		if pos, err := s.Seek(0, io.SeekCurrent); err == nil {
			rd.seek = s
			rd.seekBase = pos - base
		}
	}
	return rd
}

// offset returns the absolute offset of the next unread byte.
func (rd *reader) offset() int64 { return rd.off }

func (rd *reader) fill() {
	if rd.r > 0 {
		copy(rd.buf, rd.buf[rd.r:rd.w])
		rd.w -= rd.r
		rd.r = 0
	}
	for rd.w < len(rd.buf) && rd.err == nil {
		n, err := rd.src.Read(rd.buf[rd.w:])
		rd.w += n
		if err != nil {
			rd.err = err
		}
		if n > 0 {
			return
		}
	}
}

func (rd *reader) readErr() error {
	if rd.err == io.EOF || rd.err == nil {
		return io.ErrUnexpectedEOF
	}
	return rd.err
}

// atEOF reports whether no byte is left.
func (rd *reader) atEOF() bool {
	if rd.r < rd.w {
		return false
	}
	rd.fill()
	return rd.r >= rd.w
}

func (rd *reader) ReadByte() (byte, error) {
	if rd.r >= rd.w {
		rd.fill()
		if rd.r >= rd.w {
			return 0, rd.readErr()
		}
	}
	b := rd.buf[rd.r]
	rd.r++
	rd.off++
	return b, nil
}

// peek returns up to n buffered bytes without consuming them.
func (rd *reader) peek(n int) []byte {
	if rd.w-rd.r < n {
		rd.fill()
	}
	return rd.buf[rd.r:min(rd.w, rd.r+n)]
}

// next returns the next n bytes (n <= bufSize); the slice is valid until the next call.
func (rd *reader) next(n int) ([]byte, error) {
	if n > len(rd.buf) {
		return nil, errors.New("internal: read larger than buffer")
	}
	for rd.w-rd.r < n {
		before := rd.w - rd.r
		rd.fill()
		if rd.w-rd.r == before {
			rd.off += int64(before)
			rd.r = rd.w
			return nil, rd.readErr()
		}
	}
	b := rd.buf[rd.r : rd.r+n]
	rd.r += n
	rd.off += int64(n)
	return b, nil
}

// payload reads an n-byte argument, keeping at most keep bytes of it and
// skipping the rest. It returns the kept prefix (a fresh copy).
func (rd *reader) payload(n int64, keep int) ([]byte, error) {
	k := int(min(n, int64(keep)))
	out := make([]byte, k)
	for got := 0; got < k; {
		if rd.r >= rd.w {
			rd.fill()
			if rd.r >= rd.w {
				return out[:got], rd.readErr()
			}
		}
		c := copy(out[got:], rd.buf[rd.r:rd.w])
		got += c
		rd.r += c
		rd.off += int64(c)
	}
	if err := rd.skip(n - int64(k)); err != nil {
		return out, err
	}
	return out, nil
}

// skip discards n bytes, seeking past them when the source allows.
func (rd *reader) skip(n int64) error {
	if n <= 0 {
		return nil
	}
	if buffered := int64(rd.w - rd.r); n <= buffered {
		rd.r += int(n)
		rd.off += n
		return nil
	}
	buffered := int64(rd.w - rd.r)
	n -= buffered
	rd.off += buffered
	rd.r, rd.w = 0, 0
	if rd.seek != nil && rd.err == nil {
		end, err := rd.seek.Seek(0, io.SeekEnd)
		if err == nil {
			target := rd.seekBase + rd.off + n
			if target > end {
				rd.off += end - (rd.seekBase + rd.off)
				_, _ = rd.seek.Seek(end, io.SeekStart)
				rd.err = io.EOF
				return io.ErrUnexpectedEOF
			}
			if _, err := rd.seek.Seek(target, io.SeekStart); err == nil {
				rd.off += n
				return nil
			}
		}
		rd.seek = nil // fall back to reading
	}
	for n > 0 {
		rd.fill()
		if rd.r >= rd.w {
			return rd.readErr()
		}
		c := min(n, int64(rd.w-rd.r))
		rd.r += int(c)
		rd.off += c
		n -= c
	}
	return nil
}

// line reads up to and including '\n' and returns the line without it,
// keeping at most keep bytes (the rest of a long line is skipped). truncated
// reports whether bytes were dropped.
func (rd *reader) line(keep int) (b []byte, truncated bool, err error) {
	var out []byte
	for {
		if rd.r >= rd.w {
			rd.fill()
			if rd.r >= rd.w {
				return out, truncated, rd.readErr()
			}
		}
		chunk := rd.buf[rd.r:rd.w]
		i := bytes.IndexByte(chunk, '\n')
		end := len(chunk)
		if i >= 0 {
			end = i
		}
		if room := keep - len(out); room > 0 {
			out = append(out, chunk[:min(end, room)]...)
			if end > room {
				truncated = true
			}
		} else if end > 0 {
			truncated = true
		}
		if i >= 0 {
			rd.r += i + 1
			rd.off += int64(i + 1)
			return out, truncated, nil
		}
		rd.r += len(chunk)
		rd.off += int64(len(chunk))
	}
}

// Read implements io.Reader over the buffered stream.
func (rd *reader) Read(p []byte) (int, error) {
	if rd.r >= rd.w {
		rd.fill()
		if rd.r >= rd.w {
			if rd.err == nil {
				return 0, io.EOF
			}
			return 0, rd.err
		}
	}
	n := copy(p, rd.buf[rd.r:rd.w])
	rd.r += n
	rd.off += int64(n)
	return n, nil
}
