package zipx

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// testMember is one member for testZip, with knobs to corrupt it.
type testMember struct {
	name       string
	localName  string // name in the local header when not empty
	data       []byte
	method     uint16 // MethodStore or MethodDeflate; others are written stored but labelled so
	flags      uint16 // in both headers
	badCRC     bool
	descriptor bool // flag bit 3, zero sizes in the local header, descriptor after the data
	zip64      bool // sizes and offset through zip64 extra fields
	usize      *uint64
}

// testZip describes an archive, written byte by byte so tests can break it.
type testZip struct {
	prefix    []byte // bytes before the first local header
	relative  bool   // offsets count from the end of prefix, as when a zip is appended to a stub
	members   []testMember
	comment   []byte
	zip64EOCD bool
	noCentral bool // stop after the members
	truncate  int  // drop this many bytes from the end
	count     *uint16
	cdSize    *uint32
}

type le struct{ bytes.Buffer }

func (w *le) u16(v uint16) { _ = binary.Write(w, binary.LittleEndian, v) }
func (w *le) u32(v uint32) { _ = binary.Write(w, binary.LittleEndian, v) }
func (w *le) u64(v uint64) { _ = binary.Write(w, binary.LittleEndian, v) }

func deflate(tb testing.TB, b []byte) []byte {
	var out bytes.Buffer
	fw, err := flate.NewWriter(&out, flate.BestCompression)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := fw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

func (z testZip) build(tb testing.TB) []byte {
	tb.Helper()
	var w le
	w.Write(z.prefix)
	base := 0
	if z.relative {
		base = len(z.prefix)
	}
	type cdInfo struct {
		m            testMember
		crc          uint32
		csize, usize uint64
		off          uint64
	}
	var cd []cdInfo
	for _, m := range z.members {
		comp := m.data
		if m.method == MethodDeflate {
			comp = deflate(tb, m.data)
		}
		crc := crc32.ChecksumIEEE(m.data)
		if m.badCRC {
			crc ^= 0xdeadbeef
		}
		flags := m.flags
		if m.descriptor {
			flags |= FlagDataDescriptor
		}
		m.flags = flags
		usize := uint64(len(m.data))
		if m.usize != nil {
			usize = *m.usize
		}
		info := cdInfo{m: m, crc: crc, csize: uint64(len(comp)), usize: usize, off: uint64(w.Len() - base)}
		cd = append(cd, info)
		lname := m.name
		if m.localName != "" {
			lname = m.localName
		}
		w.u32(sigLocal)
		w.u16(45)
		w.u16(flags)
		w.u16(m.method)
		w.u16(0)
		w.u16(0x21)
		switch {
		case m.descriptor:
			w.u32(0)
			w.u32(0)
			w.u32(0)
		case m.zip64:
			w.u32(crc)
			w.u32(0xFFFFFFFF)
			w.u32(0xFFFFFFFF)
		default:
			w.u32(crc)
			w.u32(uint32(info.csize))
			w.u32(uint32(info.usize))
		}
		w.u16(uint16(len(lname)))
		if m.zip64 && !m.descriptor {
			w.u16(20)
			w.WriteString(lname)
			w.u16(1)
			w.u16(16)
			w.u64(info.usize)
			w.u64(info.csize)
		} else {
			w.u16(0)
			w.WriteString(lname)
		}
		w.Write(comp)
		if m.descriptor {
			w.u32(sigDD)
			w.u32(crc)
			if m.zip64 {
				w.u64(info.csize)
				w.u64(info.usize)
			} else {
				w.u32(uint32(info.csize))
				w.u32(uint32(info.usize))
			}
		}
	}
	if z.noCentral {
		return z.cut(w.Bytes())
	}
	cdStart := w.Len()
	for _, c := range cd {
		w.u32(sigCentral)
		w.u16(0x031e)
		w.u16(45)
		w.u16(c.m.flags)
		w.u16(c.m.method)
		w.u16(0)
		w.u16(0x21)
		w.u32(c.crc)
		if c.m.zip64 {
			w.u32(0xFFFFFFFF)
			w.u32(0xFFFFFFFF)
		} else {
			w.u32(uint32(c.csize))
			w.u32(uint32(c.usize))
		}
		w.u16(uint16(len(c.m.name)))
		if c.m.zip64 {
			w.u16(28)
		} else {
			w.u16(0)
		}
		w.u16(0) // comment
		w.u16(0) // disk
		w.u16(0) // internal attributes
		w.u32(0o100644 << 16)
		if c.m.zip64 {
			w.u32(0xFFFFFFFF)
		} else {
			w.u32(uint32(c.off))
		}
		w.WriteString(c.m.name)
		if c.m.zip64 {
			w.u16(1)
			w.u16(24)
			w.u64(c.usize)
			w.u64(c.csize)
			w.u64(c.off)
		}
	}
	cdSize := uint32(w.Len() - cdStart)
	if z.cdSize != nil {
		cdSize = *z.cdSize
	}
	count := uint16(len(cd))
	if z.count != nil {
		count = *z.count
	}
	cdOff := uint32(cdStart - base)
	if z.zip64EOCD {
		z64 := w.Len()
		w.u32(sigEOCD64)
		w.u64(44)
		w.u16(45)
		w.u16(45)
		w.u32(0)
		w.u32(0)
		w.u64(uint64(count))
		w.u64(uint64(count))
		w.u64(uint64(cdSize))
		w.u64(uint64(cdOff))
		w.u32(sigLoc64)
		w.u32(0)
		w.u64(uint64(z64 - base))
		w.u32(1)
		count, cdSize, cdOff = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
	}
	w.u32(sigEOCD)
	w.u16(0)
	w.u16(0)
	w.u16(count)
	w.u16(count)
	w.u32(cdSize)
	w.u32(cdOff)
	w.u16(uint16(len(z.comment)))
	w.Write(z.comment)
	return z.cut(w.Bytes())
}

func (z testZip) cut(b []byte) []byte {
	if z.truncate > 0 && z.truncate <= len(b) {
		return b[:len(b)-z.truncate]
	}
	return b
}
