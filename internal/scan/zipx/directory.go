package zipx

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Record signatures and fixed sizes.
const (
	sigLocal   = 0x04034b50
	sigCentral = 0x02014b50
	sigEOCD    = 0x06054b50
	sigEOCD64  = 0x06064b50
	sigLoc64   = 0x07064b50
	sigDD      = 0x08074b50

	lenLocal   = 30
	lenCentral = 46
	lenEOCD    = 22
	lenEOCD64  = 56
	lenLoc64   = 20

	maxCommentLen = 65535
	// maxOffset bounds offsets read from the archive, so that shifting
	// them cannot overflow.
	maxOffset = 1 << 62
	// maxDirectories caps how many distinct central directories are read.
	maxDirectories = 4
)

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// reader holds the state of one Open call.
type reader struct {
	r        io.ReaderAt
	size     int64
	lim      Limits
	a        *Archive
	meta     int64 // metadata bytes read so far
	limitErr error
	seen     map[entryKey]bool
	ddFrom   int64 // the last data descriptor search started here (when >= 0) ...
	ddAt     int64 // ... and found a signature here first, or none when < 0
	inflated int64 // bytes decompressed while recovering

	scanning bool   // read through the window
	win      []byte // window of the file at winOff
	winOff   int64
}

type entryKey struct {
	off  int64
	name string
}

// winSize is the size of the window used while scanning the file; it holds
// a local header with the longest name and extra field.
const winSize = 256 << 10

// readAt returns a copy of the n bytes at off, or nil when they are not all
// in the file or cannot be read. While scanning (z.scanning) reads go through
// a window, so walking the file forward reads each byte about once.
func (z *reader) readAt(off int64, n int) []byte {
	if off < 0 || n < 0 || off > z.size || int64(n) > z.size-off {
		return nil
	}
	if n <= winSize && (z.scanning || z.inWindow(off, n)) {
		if !z.inWindow(off, n) && !z.fill(off) {
			return nil
		}
		if z.inWindow(off, n) {
			i := off - z.winOff
			return bytes.Clone(z.win[i : i+int64(n)])
		}
		return nil
	}
	buf := make([]byte, n)
	if m, _ := z.r.ReadAt(buf, off); m != n {
		return nil
	}
	return buf
}

func (z *reader) inWindow(off int64, n int) bool {
	return off >= z.winOff && off+int64(n) <= z.winOff+int64(len(z.win))
}

// fill loads the window at off; it reports whether anything was read.
func (z *reader) fill(off int64) bool {
	n := min(int64(winSize), z.size-off)
	if cap(z.win) < int(n) {
		z.win = make([]byte, winSize)
	}
	m, _ := z.r.ReadAt(z.win[:n], off)
	z.win, z.winOff = z.win[:m], off
	return m > 0
}

// sigAt reports whether the 4-byte signature sig is at off.
func (z *reader) sigAt(off int64, sig uint32) bool {
	b := z.readAt(off, 4)
	return b != nil && le32(b) == sig
}

// spend charges n bytes of metadata against Limits.MaxDirectorySize.
func (z *reader) spend(n int64) bool {
	if z.limitErr != nil {
		return false
	}
	if z.meta+n > z.lim.MaxDirectorySize {
		z.limitErr = fmt.Errorf("opening archive: more than %d bytes of entry metadata: %w", z.lim.MaxDirectorySize, ErrDirectoryTooLarge)
		return false
	}
	z.meta += n
	return true
}

// room reports whether one more entry fits under Limits.MaxEntries.
func (z *reader) room() bool {
	if z.limitErr != nil {
		return false
	}
	if len(z.a.Entries) >= z.lim.MaxEntries {
		z.limitErr = fmt.Errorf("opening archive: more than %d entries: %w", z.lim.MaxEntries, ErrTooManyEntries)
		return false
	}
	return true
}

// add appends e unless an entry with the same local header and name is
// already listed. It reports whether e was added.
func (z *reader) add(e Entry) bool {
	k := entryKey{e.HeaderOffset, e.Name}
	if z.seen[k] {
		return false
	}
	if !z.room() {
		return false
	}
	z.seen[k] = true
	z.a.Entries = append(z.a.Entries, e)
	return true
}

// eocd is one candidate end of central directory record.
type eocd struct {
	pos        int64
	comment    []byte
	commentLen int    // as declared
	count      uint64 // from the 32-bit record
	cdSize     uint64
	cdOffset   uint64
}

type eocd64 struct {
	pos      int64
	count    uint64
	cdSize   uint64
	cdOffset uint64
}

// dirLoc is a central directory found from an EOCD record.
type dirLoc struct {
	start  int64  // offset of the first central header
	end    int64  // start plus the declared size
	count  uint64 // declared number of entries
	concat int64  // shift applied to every offset inside the archive
	rec    *eocd
}

func (z *reader) run() error {
	z.seen = make(map[entryKey]bool)
	recs, err := z.findEOCDs()
	if err != nil {
		return err
	}
	dirs := z.locateDirectories(recs)
	corrupt := len(recs) > 0 && len(dirs) == 0
	if len(recs) == 0 {
		z.a.note("end of central directory record not found")
	}
	if len(dirs) > 0 {
		rec := dirs[0].rec
		z.a.Comment = string(rec.comment)
		switch end := rec.pos + lenEOCD + int64(rec.commentLen); {
		case end > z.size:
			z.a.note("archive comment runs %d bytes past the end of the file", end-z.size)
		case end < z.size:
			z.a.note("%d bytes after the end of central directory record", z.size-end)
		}
		for i, d := range dirs {
			if i == maxDirectories {
				z.a.note("%d more central directories not read", len(dirs)-i)
				break
			}
			if i > 0 && z.insideMember(d.rec.pos) {
				// The end record of a zip stored inside a member (a stored .npz
				// or torch.save file in a zip): that archive is the member's
				// business, scanned when the member is.
				continue
			}
			if d.concat != 0 {
				z.a.note("central directory found %d bytes from its declared offset %d (data before the archive); offsets shifted to match", d.concat, d.start-d.concat)
			}
			before := len(z.a.Entries)
			if !z.readDirectory(d) {
				corrupt = true
			}
			if i > 0 && len(z.a.Entries) > before {
				z.a.note("another end of central directory record at offset %d lists %d more entries", d.rec.pos, len(z.a.Entries)-before)
			}
			if z.limitErr != nil {
				break
			}
		}
	}
	if z.limitErr == nil && (corrupt || len(z.a.Entries) == 0) {
		before := len(z.a.Entries)
		found := z.scanLocal()
		switch {
		case found == 0 && len(dirs) == 0:
			return ErrNotZip
		case len(z.a.Entries) > before:
			z.a.Recovered = true
			why := "central directory not found"
			switch {
			case len(dirs) > 0 && corrupt:
				why = "central directory corrupt"
			case len(dirs) > 0:
				why = "central directory lists no entries"
			case len(recs) > 0:
				why = "central directory not found where the end record says"
			}
			z.a.note("%s: recovered %d entries by scanning local headers", why, len(z.a.Entries)-before)
		}
	}
	z.a.setPrefix()
	z.a.checkEntries()
	return nil
}

// insideMember reports whether off lies in the data of an entry already read.
func (z *reader) insideMember(off int64) bool {
	for _, e := range z.a.Entries {
		if e.DataOffset >= 0 && off >= e.DataOffset && uint64(off-e.DataOffset) < max(e.CompressedSize, e.UncompressedSize) {
			return true
		}
	}
	return false
}

// setPrefix records the bytes before the first local header.
func (a *Archive) setPrefix() {
	first := int64(-1)
	for _, e := range a.Entries {
		if e.DataOffset >= 0 && (first < 0 || e.HeaderOffset < first) {
			first = e.HeaderOffset
		}
	}
	if first > 0 {
		a.Prefix = first
		a.note("%d bytes before the first local header", first)
	}
}

// findEOCDs returns every end of central directory record candidate in the
// last 65535+22 bytes, last first.
func (z *reader) findEOCDs() ([]eocd, error) {
	n := min(z.size, maxCommentLen+lenEOCD)
	start := z.size - n
	buf := make([]byte, n)
	if m, err := z.r.ReadAt(buf, start); int64(m) != n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("zipx: reading end of archive: %w", err)
	}
	var out []eocd
	for i := len(buf) - lenEOCD; i >= 0; i-- {
		if buf[i] != 'P' || le32(buf[i:]) != sigEOCD {
			continue
		}
		b := buf[i:]
		cl := int(le16(b[20:]))
		rec := eocd{
			commentLen: cl,
			pos:        start + int64(i),
			count:      uint64(le16(b[10:])),
			cdSize:     uint64(le32(b[12:])),
			cdOffset:   uint64(le32(b[16:])),
			comment:    b[lenEOCD : lenEOCD+min(cl, len(b)-lenEOCD)],
		}
		out = append(out, rec)
	}
	return out, nil
}

// zip64 finds the zip64 end record belonging to rec, through the locator
// right before rec: at the offset the locator gives (as miniz does) or right
// before the locator (as Python's zipfile does).
func (z *reader) zip64(rec *eocd) *eocd64 {
	loc := z.readAt(rec.pos-lenLoc64, lenLoc64)
	if loc == nil || le32(loc) != sigLoc64 {
		return nil
	}
	tries := []int64{rec.pos - lenLoc64 - lenEOCD64}
	if off := le64(loc[8:]); off <= uint64(z.size) && int64(off) != tries[0] {
		tries = append([]int64{int64(off)}, tries...)
	}
	for _, p := range tries {
		b := z.readAt(p, lenEOCD64)
		if b == nil || le32(b) != sigEOCD64 {
			continue
		}
		return &eocd64{pos: p, count: le64(b[32:]), cdSize: le64(b[40:]), cdOffset: le64(b[48:])}
	}
	z.a.note("zip64 end of central directory locator at offset %d points to no zip64 end record", rec.pos-lenLoc64)
	return nil
}

// locateDirectories turns EOCD candidates into central directories, dropping
// inconsistent candidates and duplicates: non-empty directories first, each
// group last record first.
func (z *reader) locateDirectories(recs []eocd) []dirLoc {
	var full, empty []dirLoc
	seen := make(map[int64]bool)
	bad := 0
	var firstBad int64
	for i := range recs {
		rec := &recs[i]
		d, ok := z.locate(rec)
		if !ok {
			if bad == 0 {
				firstBad = rec.pos
			}
			bad++
			continue
		}
		if d.count == 0 && d.end == d.start {
			if len(empty) == 0 {
				empty = append(empty, d)
			}
			continue
		}
		if seen[d.start] {
			continue
		}
		seen[d.start] = true
		full = append(full, d)
	}
	if bad > 0 {
		z.a.note("ignored %d end of central directory signatures whose fields lead to no central directory (the last at offset %d), as a fake record in the archive comment would", bad, firstBad)
	}
	if len(full) > 0 {
		return full
	}
	return empty
}

// locate finds the central directory rec describes, trying the zip64 values
// and then the 32-bit ones, each at the declared offset and then shifted by
// the bytes found before the archive.
func (z *reader) locate(rec *eocd) (dirLoc, bool) {
	type layout struct {
		count, size, offset uint64
		end                 int64 // where the directory should end
	}
	var layouts []layout
	end := rec.pos
	if z64 := z.zip64(rec); z64 != nil {
		layouts = append(layouts, layout{z64.count, z64.cdSize, z64.cdOffset, z64.pos})
		end = z64.pos
	}
	layouts = append(layouts, layout{rec.count, rec.cdSize, rec.cdOffset, end})
	for _, l := range layouts {
		if l.offset > maxOffset || l.size > uint64(z.size) {
			continue
		}
		empty := l.count == 0 && l.size == 0
		declared := int64(l.offset)
		shifted := l.end - int64(l.size)
		for _, start := range []int64{declared, shifted} {
			if start < 0 {
				continue
			}
			if empty && start != l.end {
				continue
			}
			if !empty && !z.sigAt(start, sigCentral) {
				continue
			}
			return dirLoc{
				start:  start,
				end:    start + int64(l.size),
				count:  l.count,
				concat: start - declared,
				rec:    rec,
			}, true
		}
	}
	return dirLoc{}, false
}

// readDirectory reads the central headers of d into the archive. It keeps
// going while either the declared size or the declared count says there are
// more. It reports false when the directory breaks off before its declared end.
func (z *reader) readDirectory(d dirLoc) bool {
	br := bufio.NewReaderSize(io.NewSectionReader(z.r, d.start, z.size-d.start), 64<<10)
	pos := d.start
	var n uint64
	var h [lenCentral]byte
	clean := true
	for {
		if pos >= d.end && n >= d.count {
			break
		}
		if _, err := io.ReadFull(br, h[:]); err != nil || le32(h[:]) != sigCentral {
			if pos < d.end {
				clean = false
				z.a.note("central directory breaks off at offset %d after %d entries, %d bytes before its declared end", pos, n, d.end-pos)
			}
			break
		}
		nameLen, extraLen, commentLen := int(le16(h[28:])), int(le16(h[30:])), int(le16(h[32:]))
		total := int64(lenCentral + nameLen + extraLen + commentLen)
		if total > z.size-pos {
			clean = false
			z.a.note("central directory header at offset %d runs past the end of the file", pos)
			break
		}
		if !z.spend(total) || !z.room() {
			return true
		}
		rest := make([]byte, nameLen+extraLen)
		if _, err := io.ReadFull(br, rest); err != nil {
			clean = false
			break
		}
		if _, err := br.Discard(commentLen); err != nil {
			clean = false
			break
		}
		z.centralEntry(h[:], rest[:nameLen], rest[nameLen:], d.concat)
		pos += total
		n++
	}
	if n != d.count && clean {
		z.a.note("end of central directory record declares %d entries, central directory holds %d", d.count, n)
	}
	if pos != d.end && clean && pos > d.end {
		z.a.note("central directory is %d bytes longer than its declared size", pos-d.end)
	}
	return clean
}

// centralEntry builds an Entry from a central header and locates its data.
func (z *reader) centralEntry(h, name, extra []byte, concat int64) {
	e := Entry{
		Name:             string(name),
		Flags:            le16(h[8:]),
		Method:           le16(h[10:]),
		CRC32:            le32(h[16:]),
		CompressedSize:   uint64(le32(h[20:])),
		UncompressedSize: uint64(le32(h[24:])),
	}
	off := uint64(le32(h[42:]))
	z.applyExtra(&e, extra, &off, le32(h[20:]) == 0xFFFFFFFF, le32(h[24:]) == 0xFFFFFFFF, le32(h[42:]) == 0xFFFFFFFF)
	e.Encrypted = e.Flags&FlagEncrypted != 0 || e.Method == MethodAES
	z.a.flagNotes(&e)

	e.HeaderOffset, e.DataOffset = -1, -1
	if off <= maxOffset {
		raw := int64(off)
		tries := []int64{raw + concat}
		if concat != 0 {
			tries = append(tries, raw)
		}
		for i, p := range tries {
			if l, ok := z.localHeader(p, false); ok {
				if i > 0 {
					z.a.note("member %s: local header found at its unshifted offset %d", quote(e.Name), p)
				}
				z.applyLocal(&e, p, l)
				break
			}
		}
		if e.DataOffset < 0 {
			e.HeaderOffset = tries[0]
			z.a.note("member %s: no local file header at offset %d", quote(e.Name), tries[0])
		}
	} else {
		z.a.note("member %s: no local file header at offset %d", quote(e.Name), off)
	}
	if e.HeaderOffset < 0 || e.HeaderOffset > z.size {
		e.HeaderOffset = -1
	}
	z.add(e)
}

// applyExtra reads the zip64 (0x0001) and AES (0x9901) extra fields.
func (z *reader) applyExtra(e *Entry, extra []byte, off *uint64, needC, needU, needOff bool) {
	for len(extra) >= 4 {
		id, sz := le16(extra), int(le16(extra[2:]))
		if 4+sz > len(extra) {
			z.a.note("member %s: extra field 0x%04x runs past the end of the extra data", quote(e.Name), id)
			return
		}
		data := extra[4 : 4+sz]
		extra = extra[4+sz:]
		switch id {
		case 0x0001:
			need := []struct {
				want bool
				dst  *uint64
			}{{needU, &e.UncompressedSize}, {needC, &e.CompressedSize}, {needOff, off}}
			for _, f := range need {
				if !f.want {
					continue
				}
				if len(data) < 8 {
					z.a.note("member %s: zip64 extra field too short", quote(e.Name))
					break
				}
				*f.dst = le64(data)
				data = data[8:]
			}
		case 0x9901:
			if len(data) >= 7 {
				z.a.note("member %s: AES encrypted (actual method %d)", quote(e.Name), le16(data[5:]))
			}
		}
	}
}

// local is a parsed local file header.
type local struct {
	flags, method  uint16
	crc            uint32
	csize, usize   uint64
	name           []byte
	extra          []byte // only when asked for
	dataOff        int64
	zip64C, zip64U bool
}

// localHeader parses the local file header at off; with extra it also reads
// the extra field and applies zip64 sizes from it.
func (z *reader) localHeader(off int64, extra bool) (local, bool) {
	h := z.readAt(off, lenLocal)
	if h == nil || le32(h) != sigLocal {
		return local{}, false
	}
	nameLen, extraLen := int(le16(h[26:])), int(le16(h[28:]))
	l := local{
		flags:   le16(h[6:]),
		method:  le16(h[8:]),
		crc:     le32(h[14:]),
		csize:   uint64(le32(h[18:])),
		usize:   uint64(le32(h[22:])),
		dataOff: off + lenLocal + int64(nameLen) + int64(extraLen),
	}
	l.zip64C, l.zip64U = le32(h[18:]) == 0xFFFFFFFF, le32(h[22:]) == 0xFFFFFFFF
	if l.dataOff > z.size {
		return local{}, false
	}
	n := nameLen
	if extra {
		n += extraLen
	}
	b := z.readAt(off+lenLocal, n)
	if b == nil {
		return local{}, false
	}
	l.name = b[:nameLen]
	if extra {
		l.extra = b[nameLen:]
	}
	return l, true
}

// applyLocal fills in what the local header at off tells about e, and notes
// where it disagrees with the central directory.
func (z *reader) applyLocal(e *Entry, off int64, l local) {
	e.HeaderOffset, e.DataOffset = off, l.dataOff
	n := quote(e.Name)
	if string(l.name) != e.Name {
		e.LocalName = string(l.name)
		z.a.note("member %s: local header name %s differs from the central directory", n, quote(e.LocalName))
	}
	if l.flags != e.Flags {
		z.a.note("member %s: local header flags 0x%04x differ from central directory flags 0x%04x", n, l.flags, e.Flags)
	}
	if l.method != e.Method {
		z.a.note("member %s: local header method %d differs from central directory method %d", n, l.method, e.Method)
	}
	if l.flags&FlagDataDescriptor == 0 && !l.zip64C && !l.zip64U && (l.csize != e.CompressedSize || l.usize != e.UncompressedSize) {
		z.a.note("member %s: local header sizes %d/%d differ from central directory sizes %d/%d", n, l.csize, l.usize, e.CompressedSize, e.UncompressedSize)
	}
	if e.Method == MethodStore && e.CompressedSize != e.UncompressedSize && !e.Encrypted {
		z.a.note("member %s: stored with compressed size %d but uncompressed size %d; reading the larger", n, e.CompressedSize, e.UncompressedSize)
	}
	if span := dataSpan(e); span > uint64(z.size-e.DataOffset) {
		z.a.note("member %s: data runs past the end of the file (%d bytes declared, %d present)", n, span, z.size-e.DataOffset)
	}
}

// dataSpan is the number of bytes a member's data occupies: the compressed
// size, or for stored members the larger of both sizes.
func dataSpan(e *Entry) uint64 {
	if e.Method == MethodStore {
		return max(e.CompressedSize, e.UncompressedSize)
	}
	return e.CompressedSize
}
