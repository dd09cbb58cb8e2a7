package zipx

import (
	"bufio"
	"bytes"
	"compress/flate"
	"io"
)

// maxRecoverInflate caps the bytes decompressed, over a whole Open call, to
// find where deflated members with a data descriptor end while recovering.
const maxRecoverInflate = 1 << 30

// maxDescriptorTries caps the data descriptor signatures tried for one
// member whose sizes follow its data.
const maxDescriptorTries = 64

// scanLocal walks the local file headers from the start of the file and adds
// the members no central directory listed. It returns how many local headers
// it found, listed or not.
func (z *reader) scanLocal() int {
	known := make(map[int64]bool, len(z.a.Entries))
	for _, e := range z.a.Entries {
		if e.DataOffset >= 0 {
			known[e.HeaderOffset] = true
		}
	}
	z.ddFrom = -1
	z.scanning = true
	defer func() { z.scanning = false }()
	found := 0
	for pos := int64(0); z.limitErr == nil && pos <= z.size-lenLocal; {
		if !z.sigAt(pos, sigLocal) {
			if pos = z.find(pos, sigLocal); pos < 0 {
				break
			}
		}
		l, ok := z.localHeader(pos, true)
		if !ok {
			pos++
			continue
		}
		found++
		if !z.spend(int64(lenLocal + len(l.name) + len(l.extra))) {
			break
		}
		e, next := z.recoverEntry(pos, l)
		if !known[pos] {
			known[pos] = true
			z.add(e)
		}
		pos = max(next, pos+1)
	}
	return found
}

// recoverEntry builds the Entry for the local header l at pos, finding where its
// data ends. It returns the entry and where the next header should start.
func (z *reader) recoverEntry(pos int64, l local) (Entry, int64) {
	e := Entry{
		Name:             string(l.name),
		Flags:            l.flags,
		Method:           l.method,
		CRC32:            l.crc,
		CompressedSize:   l.csize,
		UncompressedSize: l.usize,
		HeaderOffset:     pos,
		DataOffset:       l.dataOff,
	}
	var off uint64
	z.applyExtra(&e, l.extra, &off, l.zip64C, l.zip64U, false)
	e.Encrypted = e.Flags&FlagEncrypted != 0 || e.Method == MethodAES
	z.a.flagNotes(&e)
	n := quote(e.Name)

	dd := e.Flags&FlagDataDescriptor != 0
	if dd && e.CompressedSize == 0 && !z.measure(&e) {
		// The end of the data is unknown: take everything up to the next
		// header, or to the end of the file.
		end := z.find(e.DataOffset, sigLocal, sigCentral, sigEOCD)
		if end < 0 {
			end = z.size
		}
		e.CompressedSize = uint64(end - e.DataOffset)
		if e.Method == MethodStore {
			e.UncompressedSize = e.CompressedSize
		}
		z.a.note("member %s: data descriptor not found; data taken to run to offset %d", n, end)
		return e, end
	}
	span := dataSpan(&e)
	if span > uint64(z.size-e.DataOffset) {
		z.a.note("member %s: data runs past the end of the file (%d bytes declared, %d present)", n, span, z.size-e.DataOffset)
		// Keep looking for headers inside what is there, in case the
		// declared size is a lie.
		return e, e.DataOffset
	}
	next := e.DataOffset + int64(e.CompressedSize)
	if dd {
		next = z.skipDescriptor(&e, next)
	}
	return e, next
}

// measure finds the end of a member whose sizes follow its data: by decoding
// a deflate stream, else by looking for a data descriptor whose compressed
// size matches its distance from the data. It reports whether it succeeded.
func (z *reader) measure(e *Entry) bool {
	if e.Method == MethodDeflate && z.inflated < maxRecoverInflate {
		cr := &countReader{r: bufio.NewReader(io.NewSectionReader(z.r, e.DataOffset, z.size-e.DataOffset))}
		fr := flate.NewReader(cr)
		budget := maxRecoverInflate - z.inflated
		out, err := io.Copy(io.Discard, io.LimitReader(fr, budget+1))
		z.inflated += out
		if err == nil && out <= budget {
			e.CompressedSize, e.UncompressedSize = uint64(cr.n), uint64(out)
			return true
		}
	}
	p := e.DataOffset
	for range maxDescriptorTries {
		q := z.findDD(p)
		if q < 0 {
			return false
		}
		p = q + 1
		dist := uint64(q - e.DataOffset)
		if b := z.readAt(q, 16); b != nil && uint64(le32(b[8:])) == dist {
			e.CRC32, e.CompressedSize, e.UncompressedSize = le32(b[4:]), dist, uint64(le32(b[12:]))
			return true
		}
		if b := z.readAt(q, 24); b != nil && le64(b[8:]) == dist {
			e.CRC32, e.CompressedSize, e.UncompressedSize = le32(b[4:]), dist, le64(b[16:])
			return true
		}
	}
	return false
}

// findDD is find for the data descriptor signature, remembering the last
// answer so that searches from nearby offsets do not read the file again.
func (z *reader) findDD(from int64) int64 {
	if z.ddFrom >= 0 && from >= z.ddFrom && (z.ddAt < 0 || from <= z.ddAt) {
		return z.ddAt
	}
	q := z.find(from, sigDD)
	z.ddFrom, z.ddAt = from, q
	return q
}

// skipDescriptor returns where the next header starts after the data
// descriptor at off, taking the CRC-32 from it when the local header had none.
func (z *reader) skipDescriptor(e *Entry, off int64) int64 {
	head := z.readAt(off, 4)
	if head == nil {
		return off
	}
	withSig := int64(0)
	if le32(head) == sigDD {
		withSig = 4
	}
	for _, n := range []int64{12, 20} {
		if next := off + withSig + n; z.headerAt(next) || next == z.size {
			if e.CRC32 == 0 {
				if b := z.readAt(off+withSig, 4); b != nil {
					e.CRC32 = le32(b)
				}
			}
			return next
		}
	}
	if withSig != 0 {
		return off + 16
	}
	return off
}

// headerAt reports whether a local, central or end record signature is at off.
func (z *reader) headerAt(off int64) bool {
	b := z.readAt(off, 4)
	if b == nil {
		return false
	}
	s := le32(b)
	return s == sigLocal || s == sigCentral || s == sigEOCD || s == sigEOCD64
}

// find returns the offset of the first of sigs at or after from, or -1.
func (z *reader) find(from int64, sigs ...uint32) int64 {
	from = max(from, 0)
	for from <= z.size-4 {
		if !z.inWindow(from, 4) && !z.fill(from) {
			return -1
		}
		b := z.win[from-z.winOff:]
		for i := 0; i+4 <= len(b); i++ {
			j := bytes.Index(b[i:], []byte("PK"))
			if j < 0 {
				break
			}
			if i += j; i+4 > len(b) {
				break
			}
			s := le32(b[i:])
			for _, sig := range sigs {
				if s == sig {
					return from + int64(i)
				}
			}
		}
		end := z.winOff + int64(len(z.win))
		if end >= z.size || len(b) < 4 {
			return -1
		}
		from = end - 3
	}
	return -1
}

// countReader counts the bytes read through it; it is an io.ByteReader so
// that flate reads no further than the end of the stream.
type countReader struct {
	r *bufio.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}
