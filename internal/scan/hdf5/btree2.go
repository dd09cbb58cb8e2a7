package hdf5

import (
	"fmt"
	"math/bits"
)

// v2 B-tree record types this reader walks.
const (
	bt2HugeObjects = 1 // huge fractal heap objects, indirectly accessed, unfiltered
	bt2LinkNames   = 5 // links of a dense group, by name hash
	bt2AttrNames   = 8 // attributes in dense storage, by name hash
)

// bt2Prefix is a node's signature, version, type and checksum.
const bt2Prefix = 10

// walkBTree2 calls fn with every record of the version 2 B-tree whose header
// is at addr, which must be of type typ, in key order. fn may stop the walk
// by returning errStop, which walkBTree2 returns as it is.
func (f *File) walkBTree2(addr uint64, typ uint8, bud *budget, fn func(rec []byte) error) error {
	err := f.walkBTree2Header(addr, typ, bud, fn)
	if err == errStop {
		return err
	}
	if err != nil {
		return fmt.Errorf("v2 B-tree at %#x: %w", addr, err)
	}
	return nil
}

type bt2 struct {
	f        *File
	typ      uint8
	nodeSize uint64
	recSize  int
	// per depth: the most records a node holds, and the size in bytes of the
	// count of records below a child pointer at that depth.
	maxNrec     []uint64
	cumNrecSize []int
	nrecSize    int
	seen        map[uint64]bool
	records     int
	bud         *budget
}

func (f *File) walkBTree2Header(addr uint64, typ uint8, bud *budget, fn func([]byte) error) error {
	n := uint64(4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + f.offSize + 2 + f.lenSize + 4)
	if err := bud.take(n); err != nil {
		return err
	}
	b, err := f.read(addr, n)
	if err != nil {
		return err
	}
	if string(b[:4]) != "BTHD" {
		return fmt.Errorf("no BTHD signature")
	}
	if err := checkSum(b, len(b)-4, "BTHD"); err != nil {
		return err
	}
	d := &dec{b: b, off: 4, f: f}
	if v := d.u8(); v != 0 {
		return fmt.Errorf("%w: v2 B-tree version %d", ErrUnsupported, v)
	}
	if t := d.u8(); t != typ {
		return fmt.Errorf("type %d where %d was expected", t, typ)
	}
	t := &bt2{f: f, typ: typ, seen: map[uint64]bool{}, bud: bud}
	t.nodeSize = uint64(d.u32())
	t.recSize = int(d.u16())
	depth := int(d.u16())
	d.u8() // split percent
	d.u8() // merge percent
	root := d.addr()
	rootNrec := uint64(d.u16())
	d.length() // total records
	if d.err != nil {
		return d.err
	}
	if t.recSize == 0 || t.nodeSize < bt2Prefix+uint64(t.recSize) || t.nodeSize > maxRead {
		return fmt.Errorf("node size %d with records of %d bytes", t.nodeSize, t.recSize)
	}
	if depth > maxDepth {
		return fmt.Errorf("depth %d is more than %d", depth, maxDepth)
	}
	if root == undef {
		return nil // empty
	}
	t.layout(depth)
	return t.node(root, depth, rootNrec, fn)
}

// layout computes, as the HDF5 library does, how many records a node at each
// depth holds and how wide the record counts in internal nodes are.
func (t *bt2) layout(depth int) {
	t.maxNrec = make([]uint64, depth+1)
	cum := make([]uint64, depth+1)
	t.cumNrecSize = make([]int, depth+1)
	t.maxNrec[0] = (t.nodeSize - bt2Prefix) / uint64(t.recSize)
	cum[0] = t.maxNrec[0]
	t.nrecSize = limitEncSize(t.maxNrec[0])
	for u := 1; u <= depth; u++ {
		ptr := uint64(t.ptrSize(u))
		if t.nodeSize < bt2Prefix+ptr {
			t.maxNrec[u] = 0
		} else {
			t.maxNrec[u] = (t.nodeSize - (bt2Prefix + ptr)) / (uint64(t.recSize) + ptr)
		}
		hi, lo := bits.Mul64(t.maxNrec[u]+1, cum[u-1])
		c, carry := bits.Add64(lo, t.maxNrec[u], 0)
		if hi != 0 || carry != 0 {
			c = ^uint64(0)
		}
		cum[u] = c
		t.cumNrecSize[u] = limitEncSize(cum[u])
	}
}

// ptrSize is the size of a child pointer in an internal node at depth u.
func (t *bt2) ptrSize(u int) int {
	n := t.f.offSize + t.nrecSize
	if u > 1 {
		n += t.cumNrecSize[u-1]
	}
	return n
}

// limitEncSize is the number of bytes the library uses to encode counts up
// to n.
func limitEncSize(n uint64) int {
	if n == 0 {
		return 1
	}
	return (bits.Len64(n)-1)/8 + 1
}

func (t *bt2) node(addr uint64, depth int, nrec uint64, fn func([]byte) error) error {
	if t.seen[addr] {
		return fmt.Errorf("node at %#x seen twice (a cycle)", addr)
	}
	t.seen[addr] = true
	if len(t.seen) > maxNodes {
		return fmt.Errorf("more than %d nodes", maxNodes)
	}
	if nrec > t.maxNrec[depth] {
		return fmt.Errorf("node at %#x: %d records, at most %d fit", addr, nrec, t.maxNrec[depth])
	}
	if err := t.bud.take(t.nodeSize); err != nil {
		return err
	}
	b, err := t.f.read(addr, t.nodeSize)
	if err != nil {
		return err
	}
	sig := "BTLF"
	if depth > 0 {
		sig = "BTIN"
	}
	if string(b[:4]) != sig {
		return fmt.Errorf("node at %#x: no %s signature", addr, sig)
	}
	d := &dec{b: b, off: 4, f: t.f}
	if v := d.u8(); v != 0 {
		return fmt.Errorf("%w: v2 B-tree node version %d", ErrUnsupported, v)
	}
	if typ := d.u8(); typ != t.typ {
		return fmt.Errorf("node at %#x: type %d, not %d", addr, typ, t.typ)
	}
	recs := make([][]byte, nrec)
	for i := range recs {
		recs[i] = d.bytes(t.recSize)
	}
	type child struct {
		addr uint64
		nrec uint64
	}
	var kids []child
	if depth > 0 {
		kids = make([]child, nrec+1)
		for i := range kids {
			kids[i].addr = d.addr()
			kids[i].nrec = d.uint(t.nrecSize)
			if depth > 1 {
				d.uint(t.cumNrecSize[depth-1])
			}
		}
	}
	if d.err != nil {
		return fmt.Errorf("node at %#x: %w", addr, d.err)
	}
	if err := checkSum(b, d.off, "v2 B-tree node"); err != nil {
		return err
	}
	for i, r := range recs {
		if depth > 0 {
			if err := t.node(kids[i].addr, depth-1, kids[i].nrec, fn); err != nil {
				return err
			}
		}
		t.records++
		if t.records > maxLinks {
			return fmt.Errorf("more than %d records", maxLinks)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if depth > 0 {
		k := kids[len(kids)-1]
		return t.node(k.addr, depth-1, k.nrec, fn)
	}
	return nil
}
