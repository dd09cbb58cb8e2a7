// Package scantest holds test helpers shared by the format scanners' tests.
package scantest

import (
	"io"
	"sync/atomic"
)

// Segment is part of a VirtualFile: literal bytes, or Zeros zero bytes.
type Segment struct {
	Data  []byte
	Zeros int64
}

// VirtualFile is a large file made of segments, with no memory behind its
// zero runs, that counts the bytes read from it: a 5 GB model whose scan
// must read only its header.
type VirtualFile struct {
	Segs []Segment
	read atomic.Int64
}

// Sparse is a file of size bytes: head, then zeros.
func Sparse(head []byte, size int64) *VirtualFile {
	return &VirtualFile{Segs: []Segment{{Data: head}, {Zeros: max(0, size-int64(len(head)))}}}
}

// Size is the file's length.
func (v *VirtualFile) Size() int64 {
	var n int64
	for _, s := range v.Segs {
		n += int64(len(s.Data)) + s.Zeros
	}
	return n
}

// Read is how many bytes ReadAt has returned so far.
func (v *VirtualFile) Read() int64 { return v.read.Load() }

// ReadAt implements io.ReaderAt.
func (v *VirtualFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	var base int64
	for _, s := range v.Segs {
		l := int64(len(s.Data)) + s.Zeros
		for n < len(p) && off+int64(n) >= base && off+int64(n) < base+l {
			i := off + int64(n) - base
			if i < int64(len(s.Data)) {
				n += copy(p[n:], s.Data[i:])
			} else {
				k := min(int64(len(p)-n), l-i)
				clear(p[n : n+int(k)])
				n += int(k)
			}
		}
		base += l
	}
	v.read.Add(int64(n))
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
