package hdf5

import (
	"io"
	"testing"
)

// seeds are the fixtures made for the fuzzer. Go's minimizer takes time
// quadratic in an input's length, so they are a few kilobytes at most; the
// larger fixtures would leave a short run minimizing its first finds.
var seeds = []string{"seed_v0.h5", "seed_v3.h5", "seed_dense_attrs.h5", "seed_dense_links.h5"}

// seedFiles are the seed fixtures and a hand-built file with variable-length
// strings (h5py's global heap collections take 4 KiB at least).
func seedFiles(tb testing.TB) [][]byte {
	var out [][]byte
	for _, name := range seeds {
		out = append(out, readFixture(tb, name))
	}
	b := newH5()
	b.add(objectV1(compactLinks(), hardLink("self", synthRoot),
		attrV1("n", int32LE(), scalar(), []byte{5, 0, 0, 0}),
		attrV1("s", vlenString(), simple(2), append(vlenRef(3, 400, 1), vlenRef(2, 400, 2)...))))
	for b.at() < 400 {
		b.buf = append(b.buf, 0)
	}
	b.add(gcol([]byte("abc"), []byte("de")))
	out = append(out, b.bytes())
	return out
}

// FuzzOpen opens arbitrary bytes and reads the root's attributes and links,
// and those of its groups to a small depth; it must neither panic nor hang.
// Each input is read twice: as it is, and followed by 64 KiB of zeros, so
// that inputs whose length a mutation changed still get past the
// end-of-file check.
func FuzzOpen(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range []*zeroPadded{{data, 0}, {data, 64 << 10}} {
			h, err := Open(r, r.size())
			if err != nil {
				if h != nil {
					t.Fatal("a file with an error")
				}
				continue
			}
			_ = walkErr(h)
		}
	})
}

// zeroPadded reads data followed by pad zero bytes.
type zeroPadded struct {
	data []byte
	pad  int64
}

func (z *zeroPadded) size() int64 { return int64(len(z.data)) + z.pad }

func (z *zeroPadded) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > z.size() {
		return 0, io.EOF
	}
	n := 0
	if off < int64(len(z.data)) {
		n = copy(p, z.data[off:])
	}
	for n < len(p) && off+int64(n) < z.size() {
		p[n] = 0
		n++
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
