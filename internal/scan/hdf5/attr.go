package hdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Attribute is one attribute of a group.
//
// Value is, for a scalar dataspace, a string, int64 or float64, and for a
// simple dataspace (flattened in row-major order) a []string, []int64 or
// []float64; nil for a null dataspace (h5py's Empty). Strings are the stored
// bytes, which may not be valid UTF-8 whatever the character set says:
// fixed-length strings lose their padding (trailing NULs, as h5py and NumPy
// read them, or trailing spaces); variable-length strings end at their first
// NUL, as h5py reads them. Integers of up to 8 bytes, signed or not, and
// enumerations over them (h5py's bool) are int64; an unsigned value above
// math.MaxInt64 makes the whole value raw bytes. Datatypes not decoded come
// back as []byte: the elements' stored bytes, in file byte order.
type Attribute struct {
	Name  string
	Value any
}

// Attributes returns the group's attributes: those in its object header
// (compact storage), in header order, then those in dense storage (a
// fractal heap indexed by a v2 B-tree), in index order.
func (g *Group) Attributes() ([]Attribute, error) {
	c := g.newAttrCtx()
	var out []Attribute
	err := c.each(g.obj, "", func(a Attribute) error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hdf5: attributes of %s: %w", g.path, err)
	}
	return out, nil
}

// Attribute returns the group's first attribute of that name; ok is false if
// there is none. Other attributes' values are not decoded.
func (g *Group) Attribute(name string) (attr *Attribute, ok bool, err error) {
	if name == "" {
		return nil, false, nil // HDF5 names are never empty
	}
	c := g.newAttrCtx()
	err = c.each(g.obj, name, func(a Attribute) error {
		attr = &a
		return errStop
	})
	if err == errStop {
		err = nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("hdf5: attribute %q of %s: %w", name, g.path, err)
	}
	return attr, attr != nil, nil
}

// attrCtx holds what one call reads: its budget, the global heap
// collections and committed datatypes it has met.
type attrCtx struct {
	f     *File
	bud   *budget
	gcols map[uint64]map[uint64][]byte
	types map[uint64]*dtype
}

func (g *Group) newAttrCtx() *attrCtx {
	return &attrCtx{f: g.f, bud: newBudget(), gcols: map[uint64]map[uint64][]byte{}, types: map[uint64]*dtype{}}
}

// each calls fn for every attribute of the object, or only for those named
// want if want is not empty.
func (c *attrCtx) each(o *object, want string, fn func(Attribute) error) error {
	for _, m := range o.msgs {
		if m.typ != msgAttribute {
			continue
		}
		if m.flags&msgFlagShared != 0 {
			return fmt.Errorf("%w: shared attribute message", ErrUnsupported)
		}
		if err := c.attribute(m.data, want, fn); err != nil {
			return err
		}
	}
	for _, m := range o.msgs {
		if m.typ != msgAttrInfo {
			continue
		}
		if err := c.dense(m.data, want, fn); err != nil {
			return err
		}
	}
	return nil
}

// dense walks the attributes of an attribute info message's dense storage.
func (c *attrCtx) dense(b []byte, want string, fn func(Attribute) error) error {
	f := c.f
	d := &dec{b: b, f: f}
	if v := d.u8(); v != 0 {
		return fmt.Errorf("%w: attribute info version %d", ErrUnsupported, v)
	}
	flags := d.u8()
	if flags&0x01 != 0 {
		d.u16() // maximum creation index
	}
	heapAddr, index := d.addr(), d.addr()
	if d.err != nil {
		return fmt.Errorf("attribute info message: %w", d.err)
	}
	if heapAddr == undef {
		return nil // compact storage
	}
	if index == undef {
		return errors.New("dense attributes without a name index")
	}
	h, err := f.openHeap(heapAddr, c.bud)
	if err != nil {
		return err
	}
	var wantHash uint32
	if want != "" {
		wantHash = lookup3([]byte(want))
	}
	return f.walkBTree2(index, bt2AttrNames, c.bud, func(rec []byte) error {
		// heap ID, message flags (1), creation order (4), name hash (4)
		if len(rec) != h.idLen+9 {
			return fmt.Errorf("attribute name record of %d bytes for %d-byte heap IDs", len(rec), h.idLen)
		}
		if want != "" && binary.LittleEndian.Uint32(rec[h.idLen+5:]) != wantHash {
			return nil
		}
		if rec[h.idLen]&msgFlagShared != 0 {
			return fmt.Errorf("%w: attribute in the shared message heap", ErrUnsupported)
		}
		obj, err := h.get(rec[:h.idLen])
		if err != nil {
			return err
		}
		return c.attribute(obj, want, fn)
	})
}

// attribute decodes one attribute message and calls fn with it, unless want
// is set and is not its name.
func (c *attrCtx) attribute(b []byte, want string, fn func(Attribute) error) error {
	name, a, err := c.decodeAttribute(b, want)
	if err != nil {
		if name != "" {
			return fmt.Errorf("attribute %q: %w", name, err)
		}
		return fmt.Errorf("attribute message: %w", err)
	}
	if a == nil {
		return nil
	}
	return fn(*a)
}

func (c *attrCtx) decodeAttribute(b []byte, want string) (string, *Attribute, error) {
	f := c.f
	d := &dec{b: b, f: f}
	version := d.u8()
	var flags uint8
	switch version {
	case 1:
		d.u8() // reserved
	case 2, 3:
		flags = d.u8()
	default:
		return "", nil, fmt.Errorf("%w: attribute message version %d", ErrUnsupported, version)
	}
	nameLen, dtLen, dsLen := int(d.u16()), int(d.u16()), int(d.u16())
	if version == 3 {
		d.u8() // name character set
	}
	pad := func(n int) int {
		if version == 1 {
			return (n + 7) &^ 7
		}
		return n
	}
	rawName := d.bytes(nameLen)
	d.skip(pad(nameLen) - nameLen)
	if d.err != nil {
		return "", nil, d.err
	}
	name := string(rawName)
	if i := bytes.IndexByte(rawName, 0); i >= 0 {
		name = string(rawName[:i])
	}
	if want != "" && name != want {
		return name, nil, nil
	}
	dtRaw := d.bytes(dtLen)
	d.skip(pad(dtLen) - dtLen)
	dsRaw := d.bytes(dsLen)
	d.skip(pad(dsLen) - dsLen)
	if d.err != nil {
		return name, nil, d.err
	}
	data := b[d.off:]
	if flags&0x02 != 0 {
		return name, nil, fmt.Errorf("%w: shared dataspace", ErrUnsupported)
	}
	var dt *dtype
	var err error
	if flags&0x01 != 0 {
		dt, err = c.sharedDatatype(dtRaw)
	} else {
		dt, err = parseDatatype(dtRaw, 0)
	}
	if err != nil {
		return name, nil, fmt.Errorf("datatype: %w", err)
	}
	ds, err := parseDataspace(f, dsRaw)
	if err != nil {
		return name, nil, fmt.Errorf("dataspace: %w", err)
	}
	v, err := c.value(dt, ds, data)
	if err != nil {
		return name, nil, err
	}
	if err := c.bud.take(uint64(len(name))); err != nil {
		return name, nil, err
	}
	return name, &Attribute{Name: name, Value: v}, nil
}

// Datatype classes.
const (
	classFixed    = 0
	classFloat    = 1
	classString   = 3
	classEnum     = 8
	classVariable = 9
)

// dtype is a decoded datatype message, as far as this reader needs it.
type dtype struct {
	class uint8
	bits  uint32 // the 24-bit class bit field
	size  uint32
	base  *dtype // enumerations and variable-length types
	// fixed-point and floating-point properties
	bitOff, prec    uint16
	expLoc, expSize uint8
	manLoc, manSize uint8
	bias            uint32
}

func parseDatatype(b []byte, depth int) (*dtype, error) {
	if depth > maxDepth {
		return nil, errors.New("datatypes nested too deep")
	}
	d := &dec{b: b}
	cv := d.u8()
	t := &dtype{class: cv & 0x0F}
	t.bits = uint32(d.u8()) | uint32(d.u8())<<8 | uint32(d.u8())<<16
	t.size = d.u32()
	if d.err != nil {
		return nil, d.err
	}
	if v := cv >> 4; v < 1 || v > 5 {
		return nil, fmt.Errorf("%w: datatype version %d", ErrUnsupported, v)
	}
	if t.size == 0 {
		return nil, errors.New("datatype of size 0")
	}
	switch t.class {
	case classFixed:
		t.bitOff, t.prec = d.u16(), d.u16()
	case classFloat:
		t.bitOff, t.prec = d.u16(), d.u16()
		t.expLoc, t.expSize, t.manLoc, t.manSize = d.u8(), d.u8(), d.u8(), d.u8()
		t.bias = d.u32()
	case classEnum, classVariable:
		base, err := parseDatatype(b[min(d.off, len(b)):], depth+1)
		if err != nil {
			return nil, fmt.Errorf("base type: %w", err)
		}
		t.base = base
	}
	if d.err != nil {
		return nil, d.err
	}
	return t, nil
}

// sharedDatatype resolves a shared datatype message: a datatype committed
// to the file, whose object header holds the datatype message.
func (c *attrCtx) sharedDatatype(b []byte) (*dtype, error) {
	f := c.f
	d := &dec{b: b, f: f}
	version := d.u8()
	typ := d.u8()
	var addr uint64
	switch version {
	case 1:
		d.skip(6)
		addr = d.addr()
	case 2:
		addr = d.addr()
	case 3:
		switch typ {
		case 2:
			addr = d.addr()
		case 1:
			return nil, fmt.Errorf("%w: datatype in the shared message heap", ErrUnsupported)
		default:
			return nil, fmt.Errorf("shared message of type %d", typ)
		}
	default:
		return nil, fmt.Errorf("%w: shared message version %d", ErrUnsupported, version)
	}
	if d.err != nil {
		return nil, fmt.Errorf("shared message: %w", d.err)
	}
	if t, ok := c.types[addr]; ok {
		return t, nil
	}
	if len(c.types) >= maxNodes {
		return nil, fmt.Errorf("more than %d committed datatypes", maxNodes)
	}
	o, err := f.readObject(addr)
	if err != nil {
		return nil, fmt.Errorf("committed datatype: %w", err)
	}
	for _, m := range o.msgs {
		if m.typ != msgDatatype {
			continue
		}
		if m.flags&msgFlagShared != 0 {
			return nil, fmt.Errorf("committed datatype at %#x is itself shared", addr)
		}
		t, err := parseDatatype(m.data, 0)
		if err != nil {
			return nil, fmt.Errorf("committed datatype at %#x: %w", addr, err)
		}
		c.types[addr] = t
		return t, nil
	}
	return nil, fmt.Errorf("object at %#x is not a committed datatype", addr)
}

// dspace is a decoded dataspace message.
type dspace struct {
	null bool
	dims []uint64 // nil for a scalar
}

const maxRank = 32

func parseDataspace(f *File, b []byte) (*dspace, error) {
	d := &dec{b: b, f: f}
	version := d.u8()
	rank := int(d.u8())
	d.u8() // flags: maximum dimensions, permutations follow the dimensions
	s := &dspace{}
	switch version {
	case 1:
		d.skip(5)
	case 2:
		switch d.u8() {
		case 0: // scalar
			rank = 0
		case 1: // simple
		case 2:
			s.null = true
			return s, d.err
		default:
			return nil, errors.New("unknown dataspace type")
		}
	default:
		return nil, fmt.Errorf("%w: dataspace version %d", ErrUnsupported, version)
	}
	if rank > maxRank {
		return nil, fmt.Errorf("rank %d is more than %d", rank, maxRank)
	}
	if rank == 0 {
		return s, d.err
	}
	s.dims = make([]uint64, rank)
	for i := range s.dims {
		s.dims[i] = d.length()
	}
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

// count is the number of elements, or false if it overflows.
func (s *dspace) count() (uint64, bool) {
	if s.null {
		return 0, true
	}
	n := uint64(1)
	for _, v := range s.dims {
		hi, lo := bits.Mul64(n, v)
		if hi != 0 {
			return 0, false
		}
		n = lo
	}
	return n, true
}

// value decodes an attribute's data.
func (c *attrCtx) value(t *dtype, s *dspace, data []byte) (any, error) {
	if s.null {
		return nil, nil
	}
	n, ok := s.count()
	hi, total := bits.Mul64(n, uint64(t.size))
	if !ok || hi != 0 || total > uint64(len(data)) {
		return nil, fmt.Errorf("%d elements of %d bytes in %d bytes of data", n, t.size, len(data))
	}
	if err := c.bud.take(total); err != nil {
		return nil, err
	}
	data = data[:total]
	scalar := s.dims == nil
	size := int(t.size)
	switch t.class {
	case classFixed, classEnum:
		it := t
		if t.class == classEnum {
			it = t.base
			if it.class != classFixed || it.size != t.size {
				break
			}
		}
		if v, ok := decodeInts(it, data, size); ok {
			if scalar {
				return v[0], nil
			}
			return v, nil
		}
	case classFloat:
		if v, ok := decodeFloats(t, data, size); ok {
			if scalar {
				return v[0], nil
			}
			return v, nil
		}
	case classString:
		out := make([]string, n)
		pad := t.bits & 0x0F
		for i := range out {
			e := data[i*size : (i+1)*size]
			if pad == 2 { // space padded
				e = bytes.TrimRight(e, " ")
			} else { // null terminated or null padded: NumPy strips NULs
				e = bytes.TrimRight(e, "\x00")
			}
			out[i] = string(e)
		}
		if scalar {
			return out[0], nil
		}
		return out, nil
	case classVariable:
		if t.bits&0x0F != 1 { // a sequence, not a string
			break
		}
		out, err := c.vlenStrings(data, size, int(n))
		if err != nil {
			return nil, err
		}
		if scalar {
			return out[0], nil
		}
		return out, nil
	}
	return bytes.Clone(data), nil
}

func decodeInts(t *dtype, data []byte, size int) ([]int64, bool) {
	if t.class != classFixed || t.bitOff != 0 || int(t.prec) != 8*size {
		return nil, false
	}
	if size != 1 && size != 2 && size != 4 && size != 8 {
		return nil, false
	}
	big := t.bits&0x01 != 0
	signed := t.bits&0x08 != 0
	out := make([]int64, len(data)/size)
	for i := range out {
		e := data[i*size : (i+1)*size]
		var u uint64
		if big {
			for _, b := range e {
				u = u<<8 | uint64(b)
			}
		} else {
			u = leUint(e)
		}
		if signed {
			shift := uint(64 - 8*size)
			out[i] = int64(u<<shift) >> shift
		} else {
			if u > math.MaxInt64 {
				return nil, false
			}
			out[i] = int64(u)
		}
	}
	return out, true
}

func decodeFloats(t *dtype, data []byte, size int) ([]float64, bool) {
	order := t.bits & 0x41
	if order != 0 && order != 0x01 { // VAX or reserved orders
		return nil, false
	}
	ieee32 := size == 4 && t.bitOff == 0 && t.prec == 32 && t.expLoc == 23 && t.expSize == 8 &&
		t.manLoc == 0 && t.manSize == 23 && t.bias == 127
	ieee64 := size == 8 && t.bitOff == 0 && t.prec == 64 && t.expLoc == 52 && t.expSize == 11 &&
		t.manLoc == 0 && t.manSize == 52 && t.bias == 1023
	if !ieee32 && !ieee64 {
		return nil, false
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if order == 0x01 {
		bo = binary.BigEndian
	}
	out := make([]float64, len(data)/size)
	for i := range out {
		e := data[i*size:]
		if size == 4 {
			out[i] = float64(math.Float32frombits(bo.Uint32(e)))
		} else {
			out[i] = math.Float64frombits(bo.Uint64(e))
		}
	}
	return out, true
}

// vlenStrings decodes variable-length string references: a length, then a
// global heap ID (collection address, object index).
func (c *attrCtx) vlenStrings(data []byte, size, n int) ([]string, error) {
	f := c.f
	if size < 4+f.offSize+4 {
		return nil, fmt.Errorf("variable-length string references of %d bytes", size)
	}
	out := make([]string, n)
	for i := range out {
		d := &dec{b: data[i*size : (i+1)*size], f: f}
		length := uint64(d.u32())
		coll := d.addr()
		idx := uint64(d.u32())
		if d.err != nil {
			return nil, d.err
		}
		if length == 0 {
			continue
		}
		obj, err := c.globalObject(coll, idx)
		if err != nil {
			return nil, fmt.Errorf("string %d: %w", i, err)
		}
		if length > uint64(len(obj)) {
			return nil, fmt.Errorf("string %d: %d bytes in a heap object of %d", i, length, len(obj))
		}
		if err := c.bud.take(length); err != nil {
			return nil, err
		}
		s := obj[:length]
		if j := bytes.IndexByte(s, 0); j >= 0 {
			s = s[:j]
		}
		out[i] = string(s)
	}
	return out, nil
}

// globalObject returns object idx of the global heap collection at addr.
func (c *attrCtx) globalObject(addr, idx uint64) ([]byte, error) {
	objs, ok := c.gcols[addr]
	if !ok {
		var err error
		if objs, err = c.readCollection(addr); err != nil {
			return nil, fmt.Errorf("global heap collection at %#x: %w", addr, err)
		}
		c.gcols[addr] = objs
	}
	obj, ok := objs[idx]
	if !ok {
		return nil, fmt.Errorf("global heap collection at %#x has no object %d", addr, idx)
	}
	return obj, nil
}

func (c *attrCtx) readCollection(addr uint64) (map[uint64][]byte, error) {
	f := c.f
	if len(c.gcols) >= maxNodes {
		return nil, fmt.Errorf("more than %d collections", maxNodes)
	}
	align := func(n uint64) uint64 { return (n + 7) &^ 7 }
	hdr := align(uint64(8 + f.lenSize))
	b, err := f.read(addr, hdr)
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "GCOL" {
		return nil, errors.New("no GCOL signature")
	}
	if b[4] != 1 {
		return nil, fmt.Errorf("%w: global heap version %d", ErrUnsupported, b[4])
	}
	size := leUint(b[8 : 8+f.lenSize])
	if size < hdr {
		return nil, fmt.Errorf("collection of %d bytes", size)
	}
	if err := c.bud.take(size); err != nil {
		return nil, err
	}
	if b, err = f.read(addr, size); err != nil {
		return nil, err
	}
	objs := map[uint64][]byte{}
	objHdr := align(uint64(8 + f.lenSize))
	for off := hdr; off+objHdr <= size; {
		d := &dec{b: b[off:], f: f}
		idx := uint64(d.u16())
		d.u16() // reference count
		d.skip(4)
		n := d.length()
		if d.err != nil {
			return nil, d.err
		}
		if idx == 0 { // free space: the rest of the collection
			break
		}
		start := off + objHdr
		if n > size-start {
			return nil, fmt.Errorf("object %d of %d bytes past the collection's end", idx, n)
		}
		objs[idx] = b[start : start+n : start+n]
		off = start + align(n)
		if off < start { // overflow
			break
		}
	}
	return objs, nil
}
