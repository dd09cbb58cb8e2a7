package hdf5

import (
	"encoding/binary"
)

// h5file builds small HDF5 files by hand (superblock 0, version 1 object
// headers, 8-byte offsets and lengths) for the structures h5py will not
// write: cycles, lies about sizes, references that multiply.
type h5file struct {
	buf []byte
}

const synthRoot = 96 // the root object header follows the superblock

// newH5 starts a file whose root object header will be at synthRoot.
func newH5() *h5file {
	b := &h5file{buf: make([]byte, 96)}
	copy(b.buf, signature)
	b.buf[13], b.buf[14] = 8, 8 // offset and length sizes
	le16(b.buf[16:], 4)         // group leaf K
	le16(b.buf[18:], 16)        // group internal K
	le64(b.buf[24:], 0)         // base address
	le64(b.buf[32:], undef)     // free space
	le64(b.buf[48:], undef)     // driver info
	le64(b.buf[56:], 0)         // root entry: name offset
	le64(b.buf[64:], synthRoot) // root entry: object header
	return b
}

// at returns the address the next block will get (8-aligned).
func (b *h5file) at() uint64 {
	for len(b.buf)%8 != 0 {
		b.buf = append(b.buf, 0)
	}
	return uint64(len(b.buf))
}

// add appends a block and returns its address.
func (b *h5file) add(block []byte) uint64 {
	a := b.at()
	b.buf = append(b.buf, block...)
	return a
}

// bytes finishes the file: the end-of-file address is its length.
func (b *h5file) bytes() []byte {
	b.at()
	le64(b.buf[40:], uint64(len(b.buf)))
	return b.buf
}

// msg is one header message.
type msg struct {
	typ   uint16
	flags uint8
	data  []byte
}

// objectV1 encodes a version 1 object header holding msgs.
func objectV1(msgs ...msg) []byte {
	body := chunkV1(msgs...)
	h := make([]byte, 16)
	h[0] = 1
	le16(h[2:], uint16(len(msgs)))
	le32(h[4:], 1)
	le32(h[8:], uint32(len(body)))
	return append(h, body...)
}

// chunkV1 encodes messages as a version 1 header chunk.
func chunkV1(msgs ...msg) []byte {
	var out []byte
	for _, m := range msgs {
		data := pad8(m.data)
		h := make([]byte, 8)
		le16(h, m.typ)
		le16(h[2:], uint16(len(data)))
		h[4] = m.flags
		out = append(out, h...)
		out = append(out, data...)
	}
	return out
}

// compactLinks is a link info message for a new-style group with its links
// in the header: enough to make an object a group.
func compactLinks() msg {
	d := make([]byte, 2+16)
	le64(d[2:], undef)
	le64(d[10:], undef)
	return msg{typ: msgLinkInfo, data: d}
}

// hardLink is a link message.
func hardLink(name string, addr uint64) msg {
	d := []byte{1, 0, byte(len(name))}
	d = append(d, name...)
	d = binary.LittleEndian.AppendUint64(d, addr)
	return msg{typ: msgLink, data: d}
}

// continuation is a continuation message.
func continuation(addr, size uint64) msg {
	d := binary.LittleEndian.AppendUint64(nil, addr)
	d = binary.LittleEndian.AppendUint64(d, size)
	return msg{typ: msgContinuation, data: d}
}

// attrV1 is a version 1 attribute message.
func attrV1(name string, dt, ds, data []byte) msg {
	n := append([]byte(name), 0)
	d := []byte{1, 0}
	d = binary.LittleEndian.AppendUint16(d, uint16(len(n)))
	d = binary.LittleEndian.AppendUint16(d, uint16(len(dt)))
	d = binary.LittleEndian.AppendUint16(d, uint16(len(ds)))
	d = append(d, pad8(n)...)
	d = append(d, pad8(dt)...)
	d = append(d, pad8(ds)...)
	d = append(d, data...)
	return msg{typ: msgAttribute, data: d}
}

// attrV3 is a version 3 attribute message; flags 1 marks a shared datatype.
func attrV3(name string, flags uint8, dt, ds, data []byte) msg {
	n := append([]byte(name), 0)
	d := []byte{3, flags}
	d = binary.LittleEndian.AppendUint16(d, uint16(len(n)))
	d = binary.LittleEndian.AppendUint16(d, uint16(len(dt)))
	d = binary.LittleEndian.AppendUint16(d, uint16(len(ds)))
	d = append(d, 0)
	d = append(d, n...)
	d = append(d, dt...)
	d = append(d, ds...)
	d = append(d, data...)
	return msg{typ: msgAttribute, data: d}
}

// int32LE is a little-endian signed 4-byte fixed-point datatype.
func int32LE() []byte {
	d := []byte{0x10, 0x08, 0, 0, 4, 0, 0, 0}
	return append(d, 0, 0, 32, 0)
}

// vlenString is a variable-length ASCII string datatype.
func vlenString() []byte {
	d := []byte{0x19, 0x01, 0, 0, 16, 0, 0, 0}
	return append(d, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0)
}

// simple is a version 1 dataspace of the given dimensions.
func simple(dims ...uint64) []byte {
	d := []byte{1, byte(len(dims)), 0, 0, 0, 0, 0, 0}
	for _, v := range dims {
		d = binary.LittleEndian.AppendUint64(d, v)
	}
	return d
}

// scalar is a version 2 scalar dataspace.
func scalar() []byte { return []byte{2, 0, 0, 0} }

// gcol is a global heap collection holding objs as objects 1, 2, ...
func gcol(objs ...[]byte) []byte {
	var body []byte
	for i, o := range objs {
		h := make([]byte, 16)
		le16(h, uint16(i+1))
		le64(h[8:], uint64(len(o)))
		body = append(body, h...)
		body = append(body, pad8(o)...)
	}
	free := make([]byte, 16)
	le64(free[8:], 16)
	body = append(body, free...)
	h := []byte("GCOL\x01\x00\x00\x00")
	h = binary.LittleEndian.AppendUint64(h, uint64(16+len(body)))
	return append(h, body...)
}

// vlenRef is one variable-length element: length, collection, index.
func vlenRef(n uint32, coll uint64, idx uint32) []byte {
	d := binary.LittleEndian.AppendUint32(nil, n)
	d = binary.LittleEndian.AppendUint64(d, coll)
	return binary.LittleEndian.AppendUint32(d, idx)
}

func pad8(b []byte) []byte {
	out := append([]byte(nil), b...)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	return out
}

func le16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }
func le32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }
func le64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }
