package hdf5

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
)

// fheap is a fractal heap, as dense attribute and link storage use: the
// header, and the direct blocks of its doubling table, found once and read
// when an object in them is asked for.
type fheap struct {
	f          *File
	addr       uint64
	idLen      int
	flags      uint8
	hugeBTree  uint64
	width      uint64
	startBlock uint64
	maxDirect  uint64
	maxBits    int // maximum heap size, in bits: the width of heap offsets
	offBytes   int // bytes of an offset in a managed object ID
	lenBytes   int // bytes of a length in a managed object ID
	maxDirRows int
	blocks     []dblock          // direct blocks, by heap offset
	data       map[uint64][]byte // direct blocks read so far, by address
	seen       map[uint64]bool   // blocks visited while building the table
	bud        *budget
}

// dblock is a direct block: where it is in the heap's address space and in
// the file.
type dblock struct {
	off, size, addr uint64
}

// openHeap reads the fractal heap header at addr and finds its direct blocks.
func (f *File) openHeap(addr uint64, bud *budget) (*fheap, error) {
	h, err := f.openHeapHeader(addr, bud)
	if err != nil {
		return nil, fmt.Errorf("fractal heap at %#x: %w", addr, err)
	}
	return h, nil
}

func (f *File) openHeapHeader(addr uint64, bud *budget) (*fheap, error) {
	n := uint64(4 + 1 + 2 + 2 + 1 + 4 + 12*f.lenSize + 3*f.offSize + 2 + 2 + 2 + 2 + 4)
	if err := bud.take(n); err != nil {
		return nil, err
	}
	b, err := f.read(addr, n)
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "FRHP" {
		return nil, errors.New("no FRHP signature")
	}
	d := &dec{b: b, off: 4, f: f}
	if v := d.u8(); v != 0 {
		return nil, fmt.Errorf("%w: fractal heap version %d", ErrUnsupported, v)
	}
	h := &fheap{f: f, addr: addr, bud: bud, data: map[uint64][]byte{}, seen: map[uint64]bool{}}
	h.idLen = int(d.u16())
	filterLen := d.u16()
	h.flags = d.u8()
	maxManaged := uint64(d.u32())
	d.length() // next huge object ID
	h.hugeBTree = d.addr()
	d.length() // free space in managed blocks
	d.addr()   // free-space manager
	d.length() // managed space
	d.length() // allocated managed space
	d.length() // direct block allocation iterator
	d.length() // managed objects
	d.length() // huge objects' size
	d.length() // huge objects
	d.length() // tiny objects' size
	d.length() // tiny objects
	h.width = uint64(d.u16())
	h.startBlock = d.length()
	h.maxDirect = d.length()
	h.maxBits = int(d.u16())
	d.u16() // starting rows in the root indirect block
	root := d.addr()
	rows := int(d.u16())
	if d.err != nil {
		return nil, d.err
	}
	if filterLen != 0 {
		// The filter information (and a filtered root block's size) sits
		// before the checksum; such heaps are not read.
		return nil, fmt.Errorf("%w: fractal heap with I/O filters", ErrUnsupported)
	}
	if err := checkSum(b, d.off, "FRHP"); err != nil {
		return nil, err
	}
	if h.idLen < 1 || h.idLen > 4096 {
		return nil, fmt.Errorf("heap ID length %d", h.idLen)
	}
	pow2 := func(v uint64) bool { return v != 0 && v&(v-1) == 0 }
	if !pow2(h.width) || !pow2(h.startBlock) || !pow2(h.maxDirect) || h.maxDirect < h.startBlock ||
		h.maxDirect > maxRead || h.maxBits < 1 || h.maxBits > 64 {
		return nil, fmt.Errorf("doubling table: width %d, blocks %d to %d, %d-bit offsets",
			h.width, h.startBlock, h.maxDirect, h.maxBits)
	}
	// As the library computes them: offsets wide enough for the maximum heap
	// size, lengths for the smaller of a direct block's offsets and the
	// largest managed object.
	h.offBytes = (h.maxBits + 7) / 8
	h.lenBytes = min((bits.Len64(h.maxDirect)-1+7)/8, limitEncSize(maxManaged))
	h.maxDirRows = bits.Len64(h.maxDirect) - bits.Len64(h.startBlock) + 2
	if root == undef {
		return h, nil
	}
	if rows == 0 {
		h.blocks = append(h.blocks, dblock{0, h.startBlock, root})
	} else if err := h.indirect(root, 0, rows, 0); err != nil {
		return nil, err
	}
	sort.Slice(h.blocks, func(i, j int) bool { return h.blocks[i].off < h.blocks[j].off })
	return h, nil
}

// rowSize is the size of each block in row r of the doubling table.
func (h *fheap) rowSize(r int) (uint64, bool) {
	if r == 0 {
		return h.startBlock, true
	}
	if r-1 >= 64-bits.Len64(h.startBlock) {
		return 0, false
	}
	return h.startBlock << (r - 1), true
}

// indirect records the direct blocks under the indirect block at addr,
// which has rows rows and starts at heap offset off.
func (h *fheap) indirect(addr uint64, off uint64, rows int, depth int) error {
	if depth > maxDepth {
		return errors.New("indirect blocks nested too deep")
	}
	if h.seen[addr] {
		return fmt.Errorf("indirect block at %#x seen twice (a cycle)", addr)
	}
	h.seen[addr] = true
	if rows > 64 {
		return fmt.Errorf("indirect block with %d rows", rows)
	}
	dirRows := min(rows, h.maxDirRows)
	indRows := rows - dirRows
	entries := uint64(rows) * h.width
	if entries > maxNodes {
		return fmt.Errorf("indirect block with %d entries", entries)
	}
	n := uint64(4+1+h.f.offSize+h.offBytes) + entries*uint64(h.f.offSize) + 4
	if err := h.bud.take(n); err != nil {
		return err
	}
	b, err := h.f.read(addr, n)
	if err != nil {
		return fmt.Errorf("indirect block: %w", err)
	}
	if string(b[:4]) != "FHIB" {
		return fmt.Errorf("indirect block at %#x: no FHIB signature", addr)
	}
	if err := checkSum(b, len(b)-4, "FHIB"); err != nil {
		return err
	}
	d := &dec{b: b, off: 4, f: h.f}
	if v := d.u8(); v != 0 {
		return fmt.Errorf("%w: indirect block version %d", ErrUnsupported, v)
	}
	if a := d.addr(); a != h.addr {
		return fmt.Errorf("indirect block at %#x belongs to the heap at %#x", addr, a)
	}
	if got := d.uint(h.offBytes); got != off {
		return fmt.Errorf("indirect block at %#x: heap offset %d, expected %d", addr, got, off)
	}
	pos := off
	for r := 0; r < dirRows+indRows; r++ {
		size, ok := h.rowSize(r)
		if !ok {
			return fmt.Errorf("indirect block at %#x: row %d overflows", addr, r)
		}
		for c := uint64(0); c < h.width; c++ {
			child := d.addr()
			if d.err != nil {
				return d.err
			}
			if child != undef {
				if r < dirRows {
					if len(h.blocks) >= maxNodes {
						return fmt.Errorf("more than %d direct blocks", maxNodes)
					}
					h.blocks = append(h.blocks, dblock{pos, size, child})
				} else {
					// A child indirect block spans size bytes of heap space.
					sub := bits.Len64(size) - bits.Len64(h.startBlock*h.width) + 1
					if sub < 1 || sub >= rows {
						return fmt.Errorf("indirect block at %#x: child of %d rows", addr, sub)
					}
					if err := h.indirect(child, pos, sub, depth+1); err != nil {
						return err
					}
				}
			}
			next := pos + size
			if next < pos {
				return errors.New("heap offsets overflow")
			}
			pos = next
		}
	}
	return nil
}

// get returns the heap object the ID names.
func (h *fheap) get(id []byte) ([]byte, error) {
	if len(id) != h.idLen {
		return nil, fmt.Errorf("heap ID of %d bytes, the heap's are %d", len(id), h.idLen)
	}
	if v := id[0] >> 6; v != 0 {
		return nil, fmt.Errorf("%w: heap ID version %d", ErrUnsupported, v)
	}
	switch (id[0] >> 4) & 3 {
	case 0:
		return h.managed(id)
	case 1:
		return h.huge(id)
	case 2:
		return h.tiny(id)
	}
	return nil, fmt.Errorf("heap ID of unknown type %d", (id[0]>>4)&3)
}

func (h *fheap) managed(id []byte) ([]byte, error) {
	d := &dec{b: id, off: 1, f: h.f}
	off := d.uint(h.offBytes)
	n := d.uint(h.lenBytes)
	if d.err != nil {
		return nil, fmt.Errorf("managed heap ID: %w", d.err)
	}
	i := sort.Search(len(h.blocks), func(i int) bool { return h.blocks[i].off+h.blocks[i].size > off })
	if i == len(h.blocks) || h.blocks[i].off > off || n > h.blocks[i].off+h.blocks[i].size-off {
		return nil, fmt.Errorf("managed object at heap offset %d (%d bytes) is in no direct block", off, n)
	}
	blk := h.blocks[i]
	data, ok := h.data[blk.addr]
	if !ok {
		var err error
		if data, err = h.direct(blk); err != nil {
			return nil, err
		}
		h.data[blk.addr] = data
	}
	// Offsets count from the start of the block, its header included.
	start := off - blk.off
	hdr := uint64(4 + 1 + h.f.offSize + h.offBytes)
	if h.flags&0x02 != 0 {
		hdr += 4
	}
	if start < hdr {
		return nil, fmt.Errorf("managed object at heap offset %d overlaps its block's header", off)
	}
	if err := h.bud.take(n); err != nil {
		return nil, err
	}
	return data[start : start+n : start+n], nil
}

// direct reads and checks a direct block.
func (h *fheap) direct(blk dblock) ([]byte, error) {
	if len(h.data) >= maxNodes {
		return nil, fmt.Errorf("more than %d direct blocks", maxNodes)
	}
	if err := h.bud.take(blk.size); err != nil {
		return nil, err
	}
	b, err := h.f.read(blk.addr, blk.size)
	if err != nil {
		return nil, fmt.Errorf("direct block: %w", err)
	}
	d := &dec{b: b, f: h.f}
	if string(d.bytes(4)) != "FHDB" {
		return nil, fmt.Errorf("direct block at %#x: no FHDB signature", blk.addr)
	}
	if v := d.u8(); v != 0 {
		return nil, fmt.Errorf("%w: direct block version %d", ErrUnsupported, v)
	}
	if a := d.addr(); a != h.addr {
		return nil, fmt.Errorf("direct block at %#x belongs to the heap at %#x", blk.addr, a)
	}
	if got := d.uint(h.offBytes); got != blk.off {
		return nil, fmt.Errorf("direct block at %#x: heap offset %d, expected %d", blk.addr, got, blk.off)
	}
	if h.flags&0x02 != 0 {
		// The checksum covers the whole block with the checksum field zeroed.
		at := d.off
		stored := d.u32()
		if d.err != nil {
			return nil, d.err
		}
		tmp := make([]byte, len(b))
		copy(tmp, b)
		clear(tmp[at : at+4])
		if got := lookup3(tmp); got != stored {
			return nil, fmt.Errorf("direct block at %#x: checksum mismatch (stored %#x, computed %#x)", blk.addr, stored, got)
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return b, nil
}

func (h *fheap) tiny(id []byte) ([]byte, error) {
	var n, start int
	if h.idLen <= 18 {
		n, start = int(id[0]&0x0F)+1, 1
	} else {
		if len(id) < 2 {
			return nil, errShort
		}
		n, start = (int(id[0]&0x0F)<<8|int(id[1]))+1, 2
	}
	if start+n > len(id) {
		return nil, fmt.Errorf("tiny object of %d bytes in a %d-byte ID", n, len(id))
	}
	return id[start : start+n : start+n], nil
}

func (h *fheap) huge(id []byte) ([]byte, error) {
	if h.hugeBTree == undef {
		return nil, errors.New("huge object without a huge-object B-tree")
	}
	var addr, n uint64
	if h.idLen >= 1+h.f.offSize+h.f.lenSize {
		// Directly accessed: the ID holds the address and length.
		d := &dec{b: id, off: 1, f: h.f}
		addr, n = d.addr(), d.length()
		if d.err != nil {
			return nil, d.err
		}
	} else {
		key := leUint(id[1:min(len(id), 9)])
		found := false
		err := h.f.walkBTree2(h.hugeBTree, bt2HugeObjects, h.bud, func(rec []byte) error {
			d := &dec{b: rec, f: h.f}
			a, l, k := d.addr(), d.length(), d.length()
			if d.err != nil {
				return d.err
			}
			if k == key {
				addr, n, found = a, l, true
				return errStop
			}
			return nil
		})
		if err != nil && err != errStop {
			return nil, fmt.Errorf("huge object %d: %w", key, err)
		}
		if !found {
			return nil, fmt.Errorf("huge object %d not found", key)
		}
	}
	if err := h.bud.take(n); err != nil {
		return nil, err
	}
	b, err := h.f.read(addr, n)
	if err != nil {
		return nil, fmt.Errorf("huge object: %w", err)
	}
	return b, nil
}
