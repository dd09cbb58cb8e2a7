// Package hdf5 is a minimal, bounded, pure-Go reader of HDF5 files: enough to
// list groups and read their attributes, which is where Keras keeps a model's
// configuration (model_config, training_config, keras_version, backend,
// layer_names, weight_names). It never reads dataset data.
//
// Every byte is treated as hostile. Sizes and counts are checked against the
// file size before anything is allocated, object header continuation chains
// and B-trees are walked with cycle detection and depth limits, and one
// Attributes or Children call decodes at most 64 MiB. Checksums of version 2
// structures (superblocks 2 and 3, OHDR/OCHK, fractal heaps, v2 B-trees) are
// verified, as the HDF5 library does.
//
// Supported (what h5py and Keras write):
//   - superblocks 0, 1, 2 and 3, user blocks (a superblock at 512, 1024, ...);
//   - object headers version 1 and 2 (OHDR) with continuation blocks;
//   - groups as symbol tables (v1 B-tree, SNOD nodes, local heap), as link
//     messages (compact) and as dense links (link info, fractal heap, v2
//     B-tree name index); Children lists hard, soft, external and
//     user-defined links, Group follows hard links;
//   - attributes in the object header (versions 1, 2 and 3) and in dense
//     storage (attribute info, fractal heap with managed, tiny and huge
//     objects, v2 B-tree name index);
//   - datatypes: fixed-point (1, 2, 4, 8 bytes, either byte order), IEEE
//     floats (4 and 8 bytes, either byte order), fixed-length strings (null
//     terminated, null padded, space padded), variable-length strings in
//     global heap collections (ASCII and UTF-8), enumerations of integers
//     (h5py's bool), and datatypes committed to the file (shared datatypes
//     that point at a named datatype's object header);
//   - dataspaces: null, scalar and simple (N-D values are flattened in
//     row-major order).
//
// Not supported, reported as errors wrapping ErrUnsupported: offsets or
// lengths other than 2, 4 or 8 bytes; messages shared through the shared
// object header message table (SOHM), including dense attributes stored
// there; shared dataspaces; fractal heaps with I/O filters; filtered huge
// objects. Datatypes that are read but not decoded (compound, array,
// opaque, bitfield, reference, half floats and other non-IEEE layouts, and
// variable-length sequences, whose raw bytes are global heap references)
// come back as their raw bytes.
package hdf5

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrUnsupported is wrapped by errors about valid HDF5 features this reader
// does not implement; errors.Is(err, ErrUnsupported) tells them from damage.
var ErrUnsupported = errors.New("hdf5: unsupported feature")

// Limits. They are far above anything h5py writes for a model's metadata and
// far below what a hostile file could ask for.
const (
	// maxAttributeBytes bounds what one Attributes, Attribute or Children call
	// reads and decodes: attribute data, heap objects and blocks, names.
	maxAttributeBytes = 64 << 20
	// maxRead bounds any single read of a structure.
	maxRead = 64 << 20
	// maxHeaderBytes bounds one object header, all its chunks together.
	maxHeaderBytes = 16 << 20
	// maxHeaderChunks bounds the continuation chain of one object header.
	maxHeaderChunks = 4096
	// maxMessages bounds the messages of one object header.
	maxMessages = 1 << 16
	// maxLinks bounds the links of one group, and the records of one B-tree.
	maxLinks = 1 << 20
	// maxNodes bounds the B-tree nodes and heap blocks one call visits.
	maxNodes = 1 << 16
	// maxDepth bounds B-tree depth and nested datatypes.
	maxDepth = 32
	// maxPathParts bounds the components of a path given to Group.
	maxPathParts = 64
)

// signature starts the superblock, at offset 0 or at 512, 1024, 2048, ...
const signature = "\x89HDF\r\n\x1a\n"

// undef is the undefined address (all bits set, whatever the offset size).
const undef = ^uint64(0)

// File is an HDF5 file opened for reading its metadata. It is safe for
// concurrent use if the underlying io.ReaderAt is.
type File struct {
	r    io.ReaderAt
	size int64
	// base is the absolute position of the superblock; file addresses are
	// relative to it.
	base     uint64
	offSize  int // size of an address, in bytes
	lenSize  int // size of a length, in bytes
	version  int // superblock version
	rootAddr uint64
}

// Open reads the superblock of the HDF5 file in r, of the given size. It
// finds the superblock at 0 or after a user block (512, 1024, 2048, ...),
// and fails if the file is shorter than the superblock says (a truncated
// file). Nothing else is read until Root is called.
func Open(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, errors.New("hdf5: negative file size")
	}
	f := &File{r: r, size: size}
	var b [len(signature)]byte
	found := false
	for pos := int64(0); pos+int64(len(b)) <= size; {
		if _, err := readFull(r, b[:], pos); err != nil {
			return nil, fmt.Errorf("hdf5: reading signature at %d: %w", pos, err)
		}
		if string(b[:]) == signature {
			f.base = uint64(pos)
			found = true
			break
		}
		if pos == 0 {
			pos = 512
		} else {
			pos *= 2
		}
	}
	if !found {
		return nil, errors.New("hdf5: not an HDF5 file: no signature")
	}
	if err := f.readSuperblock(); err != nil {
		return nil, fmt.Errorf("hdf5: reading superblock: %w", err)
	}
	return f, nil
}

func (f *File) readSuperblock() error {
	avail := uint64(f.size) - f.base
	n := uint64(256)
	if avail < n {
		n = avail
	}
	b := make([]byte, n)
	if _, err := readFull(f.r, b, int64(f.base)); err != nil {
		return err
	}
	if len(b) < 12 {
		return errShort
	}
	f.version = int(b[8])
	var eof, storedBase uint64
	switch f.version {
	case 0, 1:
		// signature, versions (superblock, free space, root symbol table,
		// reserved, shared header), offset size, length size, reserved,
		// group K (leaf, internal), consistency flags, [indexed K, reserved].
		if len(b) < 24 {
			return errShort
		}
		if err := f.setSizes(int(b[13]), int(b[14])); err != nil {
			return err
		}
		d := &dec{b: b, off: 24, f: f}
		if f.version == 1 {
			d.skip(4)
		}
		storedBase = d.addr()
		d.addr() // free-space info
		eof = d.addr()
		d.addr() // driver info
		// The root group's symbol table entry.
		d.addr() // link name offset
		f.rootAddr = d.addr()
		if d.err != nil {
			return d.err
		}
	case 2, 3:
		if err := f.setSizes(int(b[9]), int(b[10])); err != nil {
			return err
		}
		d := &dec{b: b, off: 12, f: f}
		storedBase = d.addr()
		d.addr() // superblock extension
		eof = d.addr()
		f.rootAddr = d.addr()
		end := d.off
		sum := d.u32()
		if d.err != nil {
			return d.err
		}
		if got := lookup3(b[:end]); got != sum {
			return fmt.Errorf("superblock checksum mismatch (stored %#x, computed %#x)", sum, got)
		}
	default:
		return fmt.Errorf("%w: superblock version %d", ErrUnsupported, f.version)
	}
	if f.rootAddr == undef {
		return errors.New("no root group")
	}
	// The HDF5 library refuses a file shorter than its end-of-file address.
	// That address counts from the start of the file as it was written (a
	// user block included); if the superblock has moved since (a user block
	// added in front), the end moves with it. Other addresses are relative
	// to where the superblock is now.
	if eof != undef && storedBase != undef {
		sum := eof + f.base
		if sum < eof || sum < storedBase {
			return fmt.Errorf("end-of-file address %d with base address %d", eof, storedBase)
		}
		end := sum - storedBase
		if end > uint64(f.size) {
			return fmt.Errorf("truncated file: %d bytes, the superblock says %d", f.size, end)
		}
	}
	return nil
}

func (f *File) setSizes(off, length int) error {
	ok := func(n int) bool { return n == 2 || n == 4 || n == 8 }
	if !ok(off) || !ok(length) {
		return fmt.Errorf("%w: offsets of %d bytes and lengths of %d bytes", ErrUnsupported, off, length)
	}
	f.offSize, f.lenSize = off, length
	return nil
}

// errShort is a structure that ends before its fields do.
var errShort = errors.New("structure truncated")

// read returns n bytes at the file address a (relative to the base).
func (f *File) read(a uint64, n uint64) ([]byte, error) {
	if a == undef {
		return nil, errors.New("read at the undefined address")
	}
	if n > maxRead {
		return nil, fmt.Errorf("structure of %d bytes at %#x is larger than %d", n, a, maxRead)
	}
	abs := f.base + a
	if abs < f.base || abs > uint64(f.size) || n > uint64(f.size)-abs {
		return nil, fmt.Errorf("%d bytes at %#x: beyond the end of the file (%d bytes)", n, a, f.size)
	}
	b := make([]byte, n)
	if _, err := readFull(f.r, b, int64(abs)); err != nil {
		return nil, fmt.Errorf("reading %d bytes at %#x: %w", n, a, err)
	}
	return b, nil
}

// readFull reads len(b) bytes at off, accepting io.EOF with a full buffer.
func readFull(r io.ReaderAt, b []byte, off int64) (int, error) {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return n, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// dec decodes little-endian fields from b; the first error sticks and later
// reads return zeros.
type dec struct {
	b   []byte
	off int
	err error
	f   *File
}

func (d *dec) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || n > len(d.b)-d.off {
		d.err = errShort
		return false
	}
	return true
}

func (d *dec) left() int {
	if d.err != nil {
		return 0
	}
	return len(d.b) - d.off
}

func (d *dec) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *dec) u16() uint16 { return uint16(d.uint(2)) }
func (d *dec) u32() uint32 { return uint32(d.uint(4)) }
func (d *dec) u64() uint64 { return d.uint(8) }

// uint reads an n-byte (0 to 8) little-endian unsigned integer.
func (d *dec) uint(n int) uint64 {
	if n > 8 {
		d.fail(fmt.Errorf("%d-byte integer", n))
		return 0
	}
	if !d.need(n) {
		return 0
	}
	v := leUint(d.b[d.off : d.off+n])
	d.off += n
	return v
}

// addr reads an address, mapping all-ones to undef.
func (d *dec) addr() uint64 {
	n := d.f.offSize
	if !d.need(n) {
		return 0
	}
	v := leUint(d.b[d.off : d.off+n])
	d.off += n
	if n < 8 && v == 1<<(8*n)-1 {
		return undef
	}
	return v
}

// length reads a length field.
func (d *dec) length() uint64 { return d.uint(d.f.lenSize) }

func (d *dec) bytes(n int) []byte {
	if !d.need(n) {
		return nil
	}
	v := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return v
}

func (d *dec) skip(n int) {
	if d.need(n) {
		d.off += n
	}
}

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func leUint(b []byte) uint64 {
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:])
}

// budget counts the bytes one call may still read and decode.
type budget struct{ left uint64 }

func newBudget() *budget { return &budget{left: maxAttributeBytes} }

func (b *budget) take(n uint64) error {
	if n > b.left {
		return fmt.Errorf("more than %d bytes of metadata in one call", uint64(maxAttributeBytes))
	}
	b.left -= n
	return nil
}

// checkSum verifies the Jenkins lookup3 checksum stored after b[:end].
func checkSum(b []byte, end int, what string) error {
	if end < 0 || end+4 > len(b) {
		return fmt.Errorf("%s: %w", what, errShort)
	}
	stored := binary.LittleEndian.Uint32(b[end:])
	if got := lookup3(b[:end]); got != stored {
		return fmt.Errorf("%s: checksum mismatch (stored %#x, computed %#x)", what, stored, got)
	}
	return nil
}

// errStop ends a walk early; walkers return nil for it.
var errStop = errors.New("stop")
