package hdf5

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
)

// Group is an HDF5 group: the root, or one reached by hard links from it.
// Its links are read once, by the first Children or Group call.
type Group struct {
	f    *File
	path string
	obj  *object

	once  sync.Once
	list  []link         // in storage order
	first map[string]int // a name's first link in list
	err   error
}

// Root reads the root group's object header.
func (f *File) Root() (*Group, error) {
	o, err := f.readObject(f.rootAddr)
	if err != nil {
		return nil, fmt.Errorf("hdf5: root group: %w", err)
	}
	if !o.isGroup() {
		return nil, errors.New("hdf5: the root object is not a group")
	}
	return &Group{f: f, path: "/", obj: o}, nil
}

// Link kinds, as link messages number them (symbol table entries are hard
// or soft).
const (
	linkHard     = 0
	linkSoft     = 1
	linkExternal = 64
)

// link is one entry of a group.
type link struct {
	name string
	kind int
	addr uint64 // for hard links
}

// Children returns the names of the group's links (to groups, datasets,
// committed datatypes; hard, soft and external), sorted. Names are returned
// as stored: bytes that may not be valid UTF-8, and a malformed file may
// name a link twice.
func (g *Group) Children() ([]string, error) {
	list, _, err := g.linkIndex()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(list))
	for i, l := range list {
		names[i] = l.name
	}
	sort.Strings(names)
	return names, nil
}

// linkIndex reads the group's links, once.
func (g *Group) linkIndex() ([]link, map[string]int, error) {
	g.once.Do(func() {
		first := map[string]int{}
		var list []link
		err := g.links(newBudget(), func(l link) error {
			if _, ok := first[l.name]; !ok {
				first[l.name] = len(list)
			}
			list = append(list, l)
			return nil
		})
		if err != nil {
			g.err = fmt.Errorf("hdf5: links of %s: %w", g.path, err)
			return
		}
		g.list, g.first = list, first
	})
	return g.list, g.first, g.err
}

// Group opens the child group at the given path, relative to g: a link name,
// or link names separated by "/" ("dense/dense"; empty parts are skipped, so
// a leading "/" does not make it absolute). Only hard links are followed;
// if a name is linked twice, the first link counts. A missing link is an error wrapping fs.ErrNotExist; soft and
// external links are errors wrapping ErrUnsupported; a link to a dataset or
// a committed datatype is an error. Hard links may form cycles (a group
// linking to its parent): a caller walking the tree must bound its depth or
// the number of groups it visits.
func (g *Group) Group(name string) (*Group, error) {
	var parts []string
	for p := range strings.SplitSeq(name, "/") {
		if p != "" {
			parts = append(parts, p)
		}
		if len(parts) > maxPathParts {
			return nil, fmt.Errorf("hdf5: path %q has more than %d parts", name, maxPathParts)
		}
	}
	cur := g
	for _, p := range parts {
		next, err := cur.child(p)
		if err != nil {
			return nil, err
		}
		cur = next
	}
	if cur == g {
		return nil, fmt.Errorf("hdf5: empty group path %q", name)
	}
	return cur, nil
}

func (g *Group) child(name string) (*Group, error) {
	path := strings.TrimSuffix(g.path, "/") + "/" + name
	list, first, err := g.linkIndex()
	if err != nil {
		return nil, err
	}
	i, ok := first[name]
	if !ok {
		return nil, fmt.Errorf("hdf5: group %s: %w", path, fs.ErrNotExist)
	}
	found := list[i]
	switch found.kind {
	case linkHard:
	case linkSoft:
		return nil, fmt.Errorf("hdf5: group %s: %w: soft link", path, ErrUnsupported)
	case linkExternal:
		return nil, fmt.Errorf("hdf5: group %s: %w: external link", path, ErrUnsupported)
	default:
		return nil, fmt.Errorf("hdf5: group %s: %w: user-defined link type %d", path, ErrUnsupported, found.kind)
	}
	o, err := g.f.readObject(found.addr)
	if err != nil {
		return nil, fmt.Errorf("hdf5: group %s: %w", path, err)
	}
	if !o.isGroup() {
		return nil, fmt.Errorf("hdf5: %s is not a group", path)
	}
	return &Group{f: g.f, path: path, obj: o}, nil
}

// links calls fn for every link of the group: symbol table entries, link
// messages and dense links.
func (g *Group) links(bud *budget, fn func(link) error) error {
	count := 0
	emit := func(l link) error {
		count++
		if count > maxLinks {
			return fmt.Errorf("more than %d links", maxLinks)
		}
		if err := bud.take(uint64(len(l.name))); err != nil {
			return err
		}
		return fn(l)
	}
	return g.eachLink(bud, emit)
}

func (g *Group) eachLink(bud *budget, emit func(link) error) error {
	f := g.f
	for _, m := range g.obj.msgs {
		switch m.typ {
		case msgSymbolTable:
			d := &dec{b: m.data, f: f}
			bt, heap := d.addr(), d.addr()
			if d.err != nil {
				return fmt.Errorf("symbol table message: %w", d.err)
			}
			if err := f.symbolTable(bt, heap, bud, emit); err != nil {
				return err
			}
		case msgLink:
			l, err := f.parseLink(m.data)
			if err != nil {
				return err
			}
			if err := emit(l); err != nil {
				return err
			}
		case msgLinkInfo:
			d := &dec{b: m.data, f: f}
			if v := d.u8(); v != 0 {
				return fmt.Errorf("%w: link info version %d", ErrUnsupported, v)
			}
			flags := d.u8()
			if flags&0x01 != 0 {
				d.u64() // maximum creation index
			}
			heapAddr, nameIndex := d.addr(), d.addr()
			if d.err != nil {
				return fmt.Errorf("link info message: %w", d.err)
			}
			if heapAddr == undef {
				continue // compact: the links are link messages
			}
			if err := f.denseLinks(heapAddr, nameIndex, bud, emit); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseLink decodes a link message (also the objects of a dense group's heap).
func (f *File) parseLink(b []byte) (link, error) {
	d := &dec{b: b, f: f}
	var l link
	if v := d.u8(); v != 1 {
		return l, fmt.Errorf("%w: link message version %d", ErrUnsupported, v)
	}
	flags := d.u8()
	if flags&0x08 != 0 {
		l.kind = int(d.u8())
	}
	if flags&0x04 != 0 {
		d.u64() // creation order
	}
	if flags&0x10 != 0 {
		d.u8() // name character set
	}
	n := d.uint(1 << (flags & 3))
	if n == 0 || n > uint64(d.left()) {
		return l, fmt.Errorf("link message: name of %d bytes", n)
	}
	l.name = string(d.bytes(int(n)))
	switch {
	case l.kind == linkHard:
		l.addr = d.addr()
	case l.kind == linkSoft || l.kind >= linkExternal:
		d.bytes(int(d.u16()))
	default:
		return l, fmt.Errorf("link %q of reserved type %d", l.name, l.kind)
	}
	if d.err != nil {
		return l, fmt.Errorf("link message: %w", d.err)
	}
	return l, nil
}

// denseLinks walks a dense group's name index and reads each link from its
// fractal heap.
func (f *File) denseLinks(heapAddr, index uint64, bud *budget, emit func(link) error) error {
	h, err := f.openHeap(heapAddr, bud)
	if err != nil {
		return err
	}
	if index == undef {
		return errors.New("dense links without a name index")
	}
	return f.walkBTree2(index, bt2LinkNames, bud, func(rec []byte) error {
		// name hash (4 bytes), heap ID
		if len(rec) < 4 {
			return errShort
		}
		obj, err := h.get(rec[4:])
		if err != nil {
			return err
		}
		l, err := f.parseLink(obj)
		if err != nil {
			return err
		}
		return emit(l)
	})
}

// symbolTable walks an old-style group: a v1 B-tree of symbol table nodes,
// whose names are in a local heap.
func (f *File) symbolTable(btree, heapAddr uint64, bud *budget, emit func(link) error) error {
	heap, err := f.localHeap(heapAddr, bud)
	if err != nil {
		return fmt.Errorf("local heap at %#x: %w", heapAddr, err)
	}
	w := &symWalker{f: f, heap: heap, bud: bud, emit: emit, seen: map[uint64]bool{}}
	if err := w.node(btree, -1); err != nil {
		return fmt.Errorf("group B-tree at %#x: %w", btree, err)
	}
	return nil
}

// localHeap returns the data segment of the local heap at addr.
func (f *File) localHeap(addr uint64, bud *budget) ([]byte, error) {
	b, err := f.read(addr, uint64(8+2*f.lenSize+f.offSize))
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "HEAP" {
		return nil, errors.New("no HEAP signature")
	}
	d := &dec{b: b, off: 4, f: f}
	if v := d.u8(); v != 0 {
		return nil, fmt.Errorf("%w: local heap version %d", ErrUnsupported, v)
	}
	d.skip(3)
	size := d.length()
	d.length() // free list
	data := d.addr()
	if d.err != nil {
		return nil, d.err
	}
	if err := bud.take(size); err != nil {
		return nil, err
	}
	return f.read(data, size)
}

type symWalker struct {
	f     *File
	heap  []byte
	bud   *budget
	emit  func(link) error
	seen  map[uint64]bool
	nodes int
}

// node walks the v1 B-tree node at addr; level is the level its parent
// expects (-1 for the root), each level one less than its parent's.
func (w *symWalker) node(addr uint64, level int) error {
	if w.seen[addr] {
		return fmt.Errorf("node at %#x seen twice (a cycle)", addr)
	}
	w.seen[addr] = true
	w.nodes++
	if w.nodes > maxNodes {
		return fmt.Errorf("more than %d nodes", maxNodes)
	}
	f := w.f
	head := uint64(8 + 2*f.offSize)
	b, err := f.read(addr, head)
	if err != nil {
		return err
	}
	if string(b[:4]) != "TREE" {
		return fmt.Errorf("node at %#x: no TREE signature", addr)
	}
	if b[4] != 0 {
		return fmt.Errorf("node at %#x: type %d, not a group node", addr, b[4])
	}
	lvl := int(b[5])
	if level >= 0 && lvl != level {
		return fmt.Errorf("node at %#x: level %d under a node of level %d", addr, lvl, level+1)
	}
	if lvl > maxDepth {
		return fmt.Errorf("node at %#x: level %d", addr, lvl)
	}
	entries := uint64(b[6]) | uint64(b[7])<<8
	// keys and children alternate: key, child, key, ..., child, key.
	n := entries*uint64(f.lenSize+f.offSize) + uint64(f.lenSize)
	if err := w.bud.take(head + n); err != nil {
		return err
	}
	body, err := f.read(addr+head, n)
	if err != nil {
		return fmt.Errorf("node at %#x: %w", addr, err)
	}
	d := &dec{b: body, f: f}
	for i := uint64(0); i < entries; i++ {
		d.length() // key: a heap offset
		child := d.addr()
		if d.err != nil {
			return d.err
		}
		if lvl > 0 {
			err = w.node(child, lvl-1)
		} else {
			err = w.snod(child)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// snod emits the entries of the symbol table node at addr.
func (w *symWalker) snod(addr uint64) error {
	if w.seen[addr] {
		return fmt.Errorf("symbol table node at %#x seen twice (a cycle)", addr)
	}
	w.seen[addr] = true
	f := w.f
	b, err := f.read(addr, 8)
	if err != nil {
		return err
	}
	if string(b[:4]) != "SNOD" {
		return fmt.Errorf("symbol table node at %#x: no SNOD signature", addr)
	}
	if b[4] != 1 {
		return fmt.Errorf("%w: symbol table node version %d", ErrUnsupported, b[4])
	}
	count := uint64(b[6]) | uint64(b[7])<<8
	entry := uint64(2*f.offSize + 4 + 4 + 16)
	if err := w.bud.take(8 + count*entry); err != nil {
		return err
	}
	body, err := f.read(addr+8, count*entry)
	if err != nil {
		return fmt.Errorf("symbol table node at %#x: %w", addr, err)
	}
	d := &dec{b: body, f: f}
	for i := uint64(0); i < count; i++ {
		nameOff := d.length()
		objAddr := d.addr()
		cache := d.u32()
		d.skip(4 + 16) // reserved, scratch pad
		if d.err != nil {
			return d.err
		}
		name, err := heapString(w.heap, nameOff)
		if err != nil {
			return fmt.Errorf("symbol table entry %d: %w", i, err)
		}
		l := link{name: name, kind: linkHard, addr: objAddr}
		if cache == 2 {
			l.kind = linkSoft
		}
		if err := w.emit(l); err != nil {
			return err
		}
	}
	return nil
}

// heapString is the NUL-terminated string at off in a local heap.
func heapString(heap []byte, off uint64) (string, error) {
	if off >= uint64(len(heap)) {
		return "", fmt.Errorf("name at heap offset %d, past the heap's %d bytes", off, len(heap))
	}
	s := heap[off:]
	i := bytes.IndexByte(s, 0)
	if i < 0 {
		return "", errors.New("name without a terminating NUL")
	}
	return string(s[:i]), nil
}
