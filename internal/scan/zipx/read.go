package zipx

import (
	"compress/bzip2"
	"compress/flate"
	"errors"
	"fmt"
	"io"
)

// Open returns a reader of e's decompressed data. It does not check the
// CRC-32 and does not stop at the declared uncompressed size: callers bound
// what they read. Encrypted members give ErrEncrypted, methods other than
// stored, deflate and bzip2 give ErrUnsupportedMethod, and a member whose
// local header is unusable gives ErrLocalHeader. A stored member cut short by
// the end of the file reads io.ErrUnexpectedEOF after the bytes present; a
// compressed one fails as its decoder does.
func (a *Archive) Open(e *Entry) (io.ReadCloser, error) {
	return a.open(e, false)
}

// OpenIgnoringEncryption is Open for a member with the encryption flag set,
// reading its bytes as if the flag were clear. Attackers set the flag on
// plaintext members to make scanners give up; scan what this returns and
// report the flag too. AES (method 99) members still give ErrEncrypted.
func (a *Archive) OpenIgnoringEncryption(e *Entry) (io.ReadCloser, error) {
	return a.open(e, true)
}

func (a *Archive) open(e *Entry, ignoreEncryption bool) (io.ReadCloser, error) {
	if e == nil {
		return nil, errors.New("zipx: opening member: nil entry")
	}
	if e.Method == MethodAES || (e.Encrypted && !ignoreEncryption) {
		return nil, fmt.Errorf("zipx: opening member %s: %w", quote(e.Name), ErrEncrypted)
	}
	if e.DataOffset < 0 || e.DataOffset > a.size {
		return nil, fmt.Errorf("zipx: opening member %s: %w", quote(e.Name), ErrLocalHeader)
	}
	sec, short := a.section(e)
	switch e.Method {
	case MethodStore:
		if short {
			return io.NopCloser(shortReader{sec}), nil
		}
		return io.NopCloser(sec), nil
	case MethodDeflate:
		return flate.NewReader(sec), nil
	case MethodBzip2:
		return io.NopCloser(bzip2.NewReader(sec)), nil
	}
	return nil, fmt.Errorf("zipx: opening member %s: %w %d", quote(e.Name), ErrUnsupportedMethod, e.Method)
}

// Raw returns the bytes e occupies in the file, as stored: the data itself
// for stored members (so callers can ReadAt or skip cheaply), the compressed
// stream otherwise. It is clipped to the end of the file, and empty when the
// member's local header is unusable.
func (a *Archive) Raw(e *Entry) *io.SectionReader {
	if e == nil || e.DataOffset < 0 || e.DataOffset > a.size {
		return io.NewSectionReader(a.r, 0, 0)
	}
	sec, _ := a.section(e)
	return sec
}

// section returns e's data clipped to the file, and whether it was clipped.
func (a *Archive) section(e *Entry) (*io.SectionReader, bool) {
	span, avail := dataSpan(e), a.size-e.DataOffset
	if span > uint64(avail) {
		return io.NewSectionReader(a.r, e.DataOffset, avail), true
	}
	return io.NewSectionReader(a.r, e.DataOffset, int64(span)), false
}

// shortReader turns the end of a clipped member into io.ErrUnexpectedEOF.
type shortReader struct{ r io.Reader }

func (s shortReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
