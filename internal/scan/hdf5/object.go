package hdf5

import (
	"errors"
	"fmt"
)

// Header message types this reader uses.
const (
	msgNil          = 0x0000
	msgLinkInfo     = 0x0002
	msgDatatype     = 0x0003
	msgGroupInfo    = 0x000A
	msgLink         = 0x0006
	msgAttribute    = 0x000C
	msgContinuation = 0x0010
	msgSymbolTable  = 0x0011
	msgAttrInfo     = 0x0015
)

// Header message flags.
const (
	msgFlagShared = 0x02
)

// message is one object header message, its data still encoded.
type message struct {
	typ   uint16
	flags uint8
	data  []byte
}

// object is a parsed object header: its messages in order, across all chunks.
type object struct {
	addr uint64
	msgs []message
}

// has reports whether the object has a message of the type.
func (o *object) has(typ uint16) bool {
	for _, m := range o.msgs {
		if m.typ == typ {
			return true
		}
	}
	return false
}

// isGroup reports whether the object header is a group's: a symbol table,
// link info, group info or link message, none of which a dataset or a
// committed datatype has.
func (o *object) isGroup() bool {
	return o.has(msgSymbolTable) || o.has(msgLinkInfo) || o.has(msgGroupInfo) || o.has(msgLink)
}

// chunk is one block of header messages still to parse.
type chunk struct {
	addr, size uint64
}

// readObject parses the object header at addr, following continuation
// messages (each chunk address once, at most maxHeaderChunks chunks and
// maxHeaderBytes in all).
func (f *File) readObject(addr uint64) (*object, error) {
	o, err := f.readObjectHeader(addr)
	if err != nil {
		return nil, fmt.Errorf("reading object header at %#x: %w", addr, err)
	}
	return o, nil
}

func (f *File) readObjectHeader(addr uint64) (*object, error) {
	if addr == undef {
		return nil, errors.New("undefined address")
	}
	pre, err := f.read(addr, 4)
	if err != nil {
		return nil, err
	}
	o := &object{addr: addr}
	if string(pre) == "OHDR" {
		return o, f.readObjectV2(o)
	}
	if pre[0] == 1 {
		return o, f.readObjectV1(o)
	}
	return nil, fmt.Errorf("unknown object header (version byte %d)", pre[0])
}

func (f *File) readObjectV1(o *object) error {
	p, err := f.read(o.addr, 16)
	if err != nil {
		return err
	}
	d := &dec{b: p, f: f}
	d.u8() // version
	d.u8() // reserved
	d.u16()
	d.u32() // reference count
	size := uint64(d.u32())
	// The prefix is 12 bytes, padded to 16 so that messages are 8-aligned.
	queue := []chunk{{o.addr + 16, size}}
	return f.readChunks(o, queue)
}

func (f *File) readObjectV2(o *object) error {
	p, err := f.read(o.addr, 6)
	if err != nil {
		return err
	}
	if p[4] != 2 {
		return fmt.Errorf("%w: OHDR version %d", ErrUnsupported, p[4])
	}
	flags := p[5]
	if flags&0xC0 != 0 {
		return fmt.Errorf("OHDR: reserved flags %#x", flags)
	}
	pre := 6
	if flags&0x20 != 0 {
		pre += 16 // access, modification, change, birth times
	}
	if flags&0x10 != 0 {
		pre += 4 // max compact, min dense attributes
	}
	sizeLen := 1 << (flags & 3)
	p, err = f.read(o.addr, uint64(pre+sizeLen))
	if err != nil {
		return err
	}
	size := leUint(p[pre:])
	if size > maxHeaderBytes {
		return fmt.Errorf("OHDR chunk of %d bytes is larger than %d", size, maxHeaderBytes)
	}
	hdr := uint64(pre + sizeLen)
	// The first chunk's checksum covers the prefix too: read it all at once.
	b, err := f.read(o.addr, hdr+size+4)
	if err != nil {
		return err
	}
	if err := checkSum(b, int(hdr+size), "OHDR"); err != nil {
		return err
	}
	st := &chunkState{seen: map[uint64]bool{o.addr: true}, total: size}
	var queue []chunk
	if err := f.parseMessagesV2(o, b[hdr:hdr+size], flags, &queue, st); err != nil {
		return err
	}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if err := st.add(c); err != nil {
			return err
		}
		b, err := f.read(c.addr, c.size)
		if err != nil {
			return fmt.Errorf("continuation block: %w", err)
		}
		if c.size < 8 || string(b[:4]) != "OCHK" {
			return fmt.Errorf("continuation block at %#x: no OCHK signature", c.addr)
		}
		if err := checkSum(b, len(b)-4, "OCHK"); err != nil {
			return err
		}
		if err := f.parseMessagesV2(o, b[4:len(b)-4], flags, &queue, st); err != nil {
			return err
		}
	}
	return nil
}

// chunkState bounds one object header's continuation chain.
type chunkState struct {
	seen   map[uint64]bool
	chunks int
	total  uint64
}

func (st *chunkState) add(c chunk) error {
	if st.seen[c.addr] {
		return fmt.Errorf("continuation block at %#x seen twice (a cycle)", c.addr)
	}
	st.seen[c.addr] = true
	st.chunks++
	if st.chunks > maxHeaderChunks {
		return fmt.Errorf("more than %d continuation blocks", maxHeaderChunks)
	}
	if c.size > maxHeaderBytes || st.total+c.size > maxHeaderBytes {
		return fmt.Errorf("object header larger than %d bytes", maxHeaderBytes)
	}
	st.total += c.size
	return nil
}

func (f *File) parseMessagesV2(o *object, b []byte, flags uint8, queue *[]chunk, st *chunkState) error {
	hdrLen := 4
	if flags&0x04 != 0 {
		hdrLen = 6 // creation order
	}
	d := &dec{b: b, f: f}
	for d.left() >= hdrLen {
		typ := uint16(d.u8())
		size := int(d.u16())
		mflags := d.u8()
		if hdrLen == 6 {
			d.u16()
		}
		data := d.bytes(size)
		if d.err != nil {
			return fmt.Errorf("message %#x of %d bytes: %w", typ, size, d.err)
		}
		if err := f.addMessage(o, message{typ, mflags, data}, queue); err != nil {
			return err
		}
	}
	// What is left (fewer bytes than a message header) is a gap.
	return nil
}

// readChunks parses version 1 header chunks: the first, then those that
// continuation messages add.
func (f *File) readChunks(o *object, queue []chunk) error {
	st := &chunkState{seen: map[uint64]bool{}}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if err := st.add(c); err != nil {
			return err
		}
		b, err := f.read(c.addr, c.size)
		if err != nil {
			return err
		}
		d := &dec{b: b, f: f}
		for d.left() >= 8 {
			typ := d.u16()
			size := int(d.u16())
			mflags := d.u8()
			d.skip(3)
			data := d.bytes(size)
			if d.err != nil {
				return fmt.Errorf("message %#x of %d bytes: %w", typ, size, d.err)
			}
			if err := f.addMessage(o, message{typ, mflags, data}, &queue); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *File) addMessage(o *object, m message, queue *[]chunk) error {
	if len(o.msgs) >= maxMessages {
		return fmt.Errorf("more than %d header messages", maxMessages)
	}
	switch m.typ {
	case msgNil:
		return nil
	case msgContinuation:
		d := &dec{b: m.data, f: f}
		a := d.addr()
		n := d.length()
		if d.err != nil {
			return fmt.Errorf("continuation message: %w", d.err)
		}
		if len(*queue) >= maxHeaderChunks {
			return fmt.Errorf("more than %d continuation blocks", maxHeaderChunks)
		}
		*queue = append(*queue, chunk{a, n})
		return nil
	}
	o.msgs = append(o.msgs, m)
	return nil
}
