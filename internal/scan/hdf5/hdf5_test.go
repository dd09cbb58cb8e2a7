package hdf5

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fixtures are the files testdata/make_fixtures.py writes, each with the
// values h5py read back from it in <name>.json.
var fixtures = []string{
	"keras2.h5",
	"keras2_latest.h5",
	"dense.h5",
	"fixed_strings.h5",
	"weights_only.h5",
	"types.h5",
	"links.h5",
	"seed_v0.h5",
	"seed_v3.h5",
	"seed_dense_attrs.h5",
	"seed_dense_links.h5",
}

// expectedFile is the JSON make_fixtures.py writes.
type expectedFile struct {
	Groups map[string]expectedGroup `json:"groups"`
}

type expectedGroup struct {
	Attrs    []expectedAttr `json:"attrs"`
	Children []string       `json:"children"`
}

type expectedAttr struct {
	Name  string          `json:"name"`
	Kind  string          `json:"kind"`
	Value json.RawMessage `json:"value"`
}

// digest is how the JSON records long strings and string lists.
type digest struct {
	Count  int    `json:"count"`
	SHA256 string `json:"sha256"`
}

// attrView is an attribute as the tests compare it.
type attrView struct {
	Name  string
	Kind  string
	Value any
}

// groupView is a group as the tests compare it.
type groupView struct {
	Attrs    []attrView
	Children []string
}

func (e expectedAttr) view(t *testing.T) attrView {
	t.Helper()
	v := attrView{Name: e.Name, Kind: e.Kind}
	var err error
	switch e.Kind {
	case "string", "strings":
		if bytes.HasPrefix(e.Value, []byte("{")) {
			var d digest
			err = json.Unmarshal(e.Value, &d)
			v.Value = d
			break
		}
		if e.Kind == "string" {
			var s string
			err = json.Unmarshal(e.Value, &s)
			v.Value = s
		} else {
			s := []string{}
			err = json.Unmarshal(e.Value, &s)
			v.Value = s
		}
	case "int":
		var n int64
		err = json.Unmarshal(e.Value, &n)
		v.Value = n
	case "ints":
		n := []int64{}
		err = json.Unmarshal(e.Value, &n)
		v.Value = n
	case "float":
		var n float64
		err = json.Unmarshal(e.Value, &n)
		v.Value = n
	case "floats":
		n := []float64{}
		err = json.Unmarshal(e.Value, &n)
		v.Value = n
	case "bytes":
		var s string
		err = json.Unmarshal(e.Value, &s)
		v.Value = s
	case "nil":
	default:
		t.Fatalf("attribute %s: unknown kind %q", e.Name, e.Kind)
	}
	if err != nil {
		t.Fatalf("attribute %s: %v", e.Name, err)
	}
	return v
}

// viewOf turns a decoded attribute into the form of the expected JSON;
// like tells whether a string value is recorded as a digest.
func viewOf(a Attribute, like any) attrView {
	_, asDigest := like.(digest)
	v := attrView{Name: a.Name}
	switch x := a.Value.(type) {
	case string:
		v.Kind, v.Value = "string", x
		if asDigest {
			sum := sha256.Sum256([]byte(x))
			v.Value = digest{Count: len([]rune(x)), SHA256: hex.EncodeToString(sum[:])}
		}
	case []string:
		v.Kind, v.Value = "strings", x
		if asDigest {
			h := sha256.New()
			for _, s := range x {
				h.Write([]byte(s))
				h.Write([]byte{0})
			}
			v.Value = digest{Count: len(x), SHA256: hex.EncodeToString(h.Sum(nil))}
		}
	case int64:
		v.Kind, v.Value = "int", x
	case []int64:
		v.Kind, v.Value = "ints", x
	case float64:
		v.Kind, v.Value = "float", x
	case []float64:
		v.Kind, v.Value = "floats", x
	case []byte:
		v.Kind, v.Value = "bytes", hex.EncodeToString(x)
	case nil:
		v.Kind = "nil"
	default:
		v.Kind, v.Value = fmt.Sprintf("unexpected %T", x), x
	}
	return v
}

func readExpected(t *testing.T, name string) expectedFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var e expectedFile
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

func openBytes(t testing.TB, b []byte) *File {
	t.Helper()
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// walkAll reads every group reachable by hard links, each once, the way
// make_fixtures.py does, and compares it with want.
func walkAll(t *testing.T, f *File, want expectedFile) {
	t.Helper()
	root, err := f.Root()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]groupView{}
	wantViews := map[string]groupView{}
	for path, g := range want.Groups {
		var attrs []attrView
		for _, a := range g.Attrs {
			attrs = append(attrs, a.view(t))
		}
		wantViews[path] = groupView{Attrs: attrs, Children: g.Children}
	}
	seen := map[uint64]bool{}
	var walk func(path string, g *Group)
	walk = func(path string, g *Group) {
		if seen[g.obj.addr] {
			return
		}
		seen[g.obj.addr] = true
		attrs, err := g.Attributes()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		like := map[string]any{}
		for _, a := range wantViews[path].Attrs {
			like[a.Name] = a.Value
		}
		var views []attrView
		for _, a := range attrs {
			views = append(views, viewOf(a, like[a.Name]))
		}
		sort.Slice(views, func(i, j int) bool { return views[i].Name < views[j].Name })
		kids, err := g.Children()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if kids == nil {
			kids = []string{}
		}
		got[path] = groupView{Attrs: views, Children: kids}
		for _, k := range kids {
			c, err := g.Group(k)
			if err != nil {
				continue // datasets, datatypes, soft and external links
			}
			walk(strings.TrimSuffix(path, "/")+"/"+k, c)
		}
	}
	walk("/", root)
	if diff := cmp.Diff(wantViews, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := openBytes(t, readFixture(t, name))
			walkAll(t, f, readExpected(t, name+".json"))
		})
	}
}

func TestSuperblockVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		version int
		base    uint64
	}{
		{"keras2.h5", 0, 0},
		{"weights_only.h5", 1, 0},
		{"fixed_strings.h5", 2, 0},
		{"types.h5", 2, 512},
		{"keras2_latest.h5", 3, 0},
		{"dense.h5", 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := openBytes(t, readFixture(t, tt.name))
			if f.version != tt.version || f.base != tt.base {
				t.Errorf("superblock version %d at %d, want %d at %d", f.version, f.base, tt.version, tt.base)
			}
		})
	}
}

// TestStorage checks that the fixtures exercise what they claim to.
func TestStorage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, group string
		has         uint16 // a message type the group's header must have
		dense       bool   // its attribute info or link info points at a heap
	}{
		{"keras2.h5", "/", msgSymbolTable, false},
		{"keras2_latest.h5", "/", msgLink, false},
		{"dense.h5", "/", msgAttrInfo, true},
		{"dense.h5", "/ordered", msgAttrInfo, true},
		{"dense.h5", "/many_links", msgLinkInfo, true},
		{"seed_v0.h5", "/", msgSymbolTable, false},
		{"seed_v3.h5", "/", msgLink, false},
		{"seed_dense_attrs.h5", "/", msgAttrInfo, true},
		{"seed_dense_links.h5", "/", msgLinkInfo, true},
		{"links.h5", "/symtab", msgSymbolTable, false},
	}
	for _, tt := range tests {
		t.Run(tt.file+tt.group, func(t *testing.T) {
			t.Parallel()
			f := openBytes(t, readFixture(t, tt.file))
			g, err := f.Root()
			if err != nil {
				t.Fatal(err)
			}
			if tt.group != "/" {
				if g, err = g.Group(tt.group); err != nil {
					t.Fatal(err)
				}
			}
			found := false
			for _, m := range g.obj.msgs {
				if m.typ != tt.has {
					continue
				}
				found = true
				if tt.dense {
					d := &dec{b: m.data, off: 2, f: f}
					if m.data[1]&1 != 0 {
						d.skip(map[uint16]int{msgAttrInfo: 2, msgLinkInfo: 8}[m.typ])
					}
					if d.addr() == undef {
						t.Errorf("message %#x: no fractal heap", m.typ)
					}
				}
			}
			if !found {
				t.Errorf("no message %#x", tt.has)
			}
		})
	}
}

func TestAttributeLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, group, name string
		want              any
		ok                bool
	}{
		{"keras2.h5", "/", "keras_version", "2.15.0", true},
		{"keras2.h5", "/", "nope", nil, false},
		{"keras2.h5", "model_weights/dense", "weight_names", []string{"dense/kernel:0", "dense/bias:0"}, true},
		{"keras2_latest.h5", "/model_weights", "backend", "tensorflow", true},
		{"dense.h5", "/", "attr_042", int64(126), true},
		{"dense.h5", "/", "attr_100", nil, false},
		{"dense.h5", "/", "keras_version", "2.15.0", true},
		{"dense.h5", "/ordered", "o11", "value 11", true},
		{"fixed_strings.h5", "/", "spacepad", "space padded", true},
		{"types.h5", "/", "shared_type", []int64{7, -8}, true},
		{"types.h5", "/sub", "answer", int64(42), true},
	}
	for _, tt := range tests {
		t.Run(tt.file+tt.group+tt.name, func(t *testing.T) {
			t.Parallel()
			f := openBytes(t, readFixture(t, tt.file))
			g, err := f.Root()
			if err != nil {
				t.Fatal(err)
			}
			if tt.group != "/" {
				if g, err = g.Group(tt.group); err != nil {
					t.Fatal(err)
				}
			}
			a, ok, err := g.Attribute(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				if a != nil {
					t.Errorf("attribute %v for a missing name", a)
				}
				return
			}
			if diff := cmp.Diff(&Attribute{Name: tt.name, Value: tt.want}, a); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, path string
		is         error  // the error must wrap this, if set
		text       string // or contain this
	}{
		{"keras2.h5", "missing", fs.ErrNotExist, ""},
		{"keras2.h5", "model_weights/missing", fs.ErrNotExist, ""},
		{"keras2.h5", "model_weights/dense/dense/kernel:0", nil, "is not a group"},
		{"types.h5", "committed_type", nil, "is not a group"},
		{"links.h5", "ext", ErrUnsupported, "external link"},
		{"links.h5", "symtab/link000", ErrUnsupported, "soft link"},
		{"dense.h5", "many_links/soft", ErrUnsupported, "soft link"},
		{"keras2.h5", "", nil, "empty group path"},
		{"keras2.h5", strings.Repeat("a/", 65), nil, "parts"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.path, func(t *testing.T) {
			t.Parallel()
			f := openBytes(t, readFixture(t, tt.file))
			root, err := f.Root()
			if err != nil {
				t.Fatal(err)
			}
			g, err := root.Group(tt.path)
			if err == nil {
				t.Fatalf("got group %s, want an error", g.path)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %q", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
		})
	}
}

func TestGroupPaths(t *testing.T) {
	t.Parallel()
	f := openBytes(t, readFixture(t, "links.h5"))
	root, err := f.Root()
	if err != nil {
		t.Fatal(err)
	}
	// loop/root is a hard link back to /: a cycle the caller walks at will.
	g, err := root.Group("/loop/root/loop/root/symtab/real/")
	if err != nil {
		t.Fatal(err)
	}
	if g.path != "/loop/root/loop/root/symtab/real" {
		t.Errorf("path %q", g.path)
	}
	a, ok, err := g.Attribute("n")
	if err != nil || !ok || a.Value != int64(1) {
		t.Errorf("attribute n = %v, %v, %v", a, ok, err)
	}
}

func TestLookup3(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 0xdeadbeef},
		{"Four score and seven years ago", 0x17770551},
	}
	for _, tt := range tests {
		if got := lookup3([]byte(tt.in)); got != tt.want {
			t.Errorf("lookup3(%q) = %#x, want %#x", tt.in, got, tt.want)
		}
	}
}

// countingReader serves a file whose one big dataset has been cut out
// (big_sparse.bin), as if it were whole, and counts what is read.
type countingReader struct {
	data             []byte
	holeOff, holeLen int64
	mu               sync.Mutex
	read, inHole     int64
	calls            int
}

func (r *countingReader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.read += int64(len(p))
	end := off + int64(len(p))
	if lo, hi := max(off, r.holeOff), min(end, r.holeOff+r.holeLen); lo < hi {
		r.inHole += hi - lo
	}
	for i := range p {
		pos := off + int64(i)
		switch {
		case pos < r.holeOff:
			p[i] = r.data[pos]
		case pos < r.holeOff+r.holeLen:
			p[i] = 0
		default:
			p[i] = r.data[pos-r.holeLen]
		}
	}
	return len(p), nil
}

// TestNoDatasetReads reads every attribute and link of a file holding a
// 50 MiB dataset and checks that not one byte of the dataset was read.
func TestNoDatasetReads(t *testing.T) {
	t.Parallel()
	var meta struct {
		Size       int64        `json:"size"`
		HoleOffset int64        `json:"hole_offset"`
		HoleSize   int64        `json:"hole_size"`
		Expected   expectedFile `json:"expected"`
	}
	if err := json.Unmarshal(readFixture(t, "big_sparse.json"), &meta); err != nil {
		t.Fatal(err)
	}
	data := readFixture(t, "big_sparse.bin")
	if int64(len(data))+meta.HoleSize != meta.Size || meta.HoleSize < 50<<20 {
		t.Fatalf("big_sparse: %d bytes + a %d-byte hole != %d", len(data), meta.HoleSize, meta.Size)
	}
	r := &countingReader{data: data, holeOff: meta.HoleOffset, holeLen: meta.HoleSize}
	f, err := Open(r, meta.Size)
	if err != nil {
		t.Fatal(err)
	}
	walkAll(t, f, meta.Expected)
	if r.inHole != 0 {
		t.Errorf("read %d bytes of the dataset", r.inHole)
	}
	if r.read > 64<<10 {
		t.Errorf("read %d bytes in %d calls for a file of %d bytes of metadata", r.read, r.calls, len(data))
	}
	t.Logf("read %d bytes in %d calls; the file is %d bytes", r.read, r.calls, meta.Size)
}

// walkErr reads everything reachable, to a small depth, and returns the first
// error. It is what the fuzz target does.
func walkErr(f *File) error {
	root, err := f.Root()
	if err != nil {
		return err
	}
	var first error
	visits := 0
	var walk func(g *Group, depth int)
	walk = func(g *Group, depth int) {
		visits++
		if visits > 64 {
			return
		}
		note := func(err error) {
			if first == nil && err != nil {
				first = err
			}
		}
		_, err := g.Attributes()
		note(err)
		kids, err := g.Children()
		note(err)
		if len(kids) > 0 {
			_, _, err := g.Attribute(kids[0])
			note(err)
		}
		if depth >= 3 {
			return
		}
		for _, k := range kids {
			c, err := g.Group(k)
			if err != nil {
				continue
			}
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	return first
}

func TestTruncated(t *testing.T) {
	t.Parallel()
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			full := readFixture(t, name)
			for _, n := range cuts(len(full)) {
				b := full[:n]
				f, err := Open(bytes.NewReader(b), int64(len(b)))
				if err == nil {
					err = walkErr(f)
				}
				if err == nil {
					t.Errorf("cut to %d of %d bytes: no error", n, len(full))
				}
			}
		})
	}
}

// TestTruncatedLying cuts files short but claims their full size, so that the
// end-of-file check passes and every structure read may fail.
func TestTruncatedLying(t *testing.T) {
	t.Parallel()
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			full := readFixture(t, name)
			errs := 0
			cs := cuts(len(full))
			for _, n := range cs {
				r := &shortReader{data: full[:n]}
				f, err := Open(r, int64(len(full)))
				if err == nil {
					err = walkErr(f)
				}
				if err != nil {
					errs++
				}
			}
			if errs == 0 {
				t.Errorf("no cut of %d made an error", len(cs))
			}
		})
	}
}

type shortReader struct{ data []byte }

func (r *shortReader) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(r.data).ReadAt(p, off)
}

// cuts are lengths to cut a file of n bytes to.
func cuts(n int) []int {
	out := []int{0, 1, 8, 9, 24, 50, 96, 100}
	for i := 1; i < 64; i++ {
		out = append(out, n*i/64)
	}
	out = append(out, n-1)
	var ok []int
	for _, c := range out {
		if c < n {
			ok = append(ok, c)
		}
	}
	return ok
}

func TestCorrupted(t *testing.T) {
	t.Parallel()
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			full := readFixture(t, name)
			// 128 places, the same every run: the fuzzer does the rest.
			rng := rand.New(rand.NewPCG(1, uint64(len(full))))
			b := make([]byte, len(full))
			for range 128 {
				pos := rng.IntN(len(full))
				for _, x := range []byte{0xFF, 0x01, 0x80} {
					copy(b, full)
					b[pos] ^= x
					if f, err := Open(bytes.NewReader(b), int64(len(b))); err == nil {
						_ = walkErr(f) // must not panic or hang
					}
				}
			}
		})
	}
}

// TestChecksums flips one byte in each checksummed structure of a version 3
// file: every flip must be caught.
func TestChecksums(t *testing.T) {
	t.Parallel()
	full := readFixture(t, "dense.h5")
	sigs := []string{"OHDR", "FRHP", "FHIB", "FHDB", "BTHD", "BTLF", "BTIN"}
	for _, sig := range sigs {
		t.Run(sig, func(t *testing.T) {
			t.Parallel()
			i := bytes.Index(full, []byte(sig))
			if i < 0 {
				t.Fatalf("no %s in dense.h5", sig)
			}
			// Past the signature and version, inside the checksummed bytes.
			b := bytes.Clone(full)
			b[i+6] ^= 0x40
			f, err := Open(bytes.NewReader(b), int64(len(b)))
			if err == nil {
				err = walkErr(f)
			}
			if err == nil {
				t.Fatalf("a flipped byte in %s at %#x went unnoticed", sig, i)
			}
		})
	}
	t.Run("superblock", func(t *testing.T) {
		t.Parallel()
		b := bytes.Clone(full)
		b[12] ^= 0x01 // base address
		if _, err := Open(bytes.NewReader(b), int64(len(b))); err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("error %v, want a checksum mismatch", err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	sb := func(mod func(b []byte)) []byte {
		b := newH5()
		b.add(objectV1(compactLinks()))
		out := b.bytes()
		mod(out)
		return out
	}
	tests := []struct {
		name string
		data []byte
		is   error
		text string
	}{
		{"empty", nil, nil, "no signature"},
		{"not hdf5", []byte("PK\x03\x04 certainly not"), nil, "no signature"},
		{"superblock version 4", sb(func(b []byte) { b[8] = 4 }), ErrUnsupported, "superblock version 4"},
		{"16-byte offsets", sb(func(b []byte) { b[13] = 16 }), ErrUnsupported, "offsets of 16 bytes"},
		{"eof past the end", sb(func(b []byte) { le64(b[40:], uint64(len(b))+1) }), nil, "truncated file"},
		{"no root", sb(func(b []byte) { le64(b[64:], undef) }), nil, "no root group"},
		{"short superblock", []byte(signature + "\x00\x00\x00\x00\x00\x08\x08"), nil, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)))
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %q", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
		})
	}
}

// TestHostile builds files by hand with the structures h5py never writes.
func TestHostile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		build func(t *testing.T, b *h5file)
		is    error
		text  string
	}{
		{
			name: "continuation cycle",
			build: func(t *testing.T, b *h5file) {
				// The root's continuation block continues into itself.
				next := b.at() + uint64(len(objectV1(compactLinks(), continuation(0, 24))))
				b.add(objectV1(compactLinks(), continuation(next, 24)))
				if got := b.add(chunkV1(continuation(next, 24))); got != next {
					t.Fatalf("block at %d, planned %d", got, next)
				}
			},
			text: "seen twice",
		},
		{
			name: "continuation past the end",
			build: func(t *testing.T, b *h5file) {
				b.add(objectV1(compactLinks(), continuation(1<<40, 64)))
			},
			text: "beyond the end",
		},
		{
			name: "huge continuation",
			build: func(t *testing.T, b *h5file) {
				b.add(objectV1(compactLinks(), continuation(200, 1<<40)))
			},
			text: "larger than",
		},
		{
			name: "string references that multiply",
			build: func(t *testing.T, b *h5file) {
				// 4000 references to one 32 KiB string: 125 MiB from 96 KiB.
				refs := func(coll uint64) []byte {
					var data []byte
					for range 4000 {
						data = append(data, vlenRef(32<<10, coll, 1)...)
					}
					return data
				}
				header := func(coll uint64) []byte {
					return objectV1(compactLinks(), attrV1("x", vlenString(), simple(4000), refs(coll)))
				}
				coll := b.at() + uint64(len(header(0)))
				b.add(header(coll))
				if got := b.add(gcol(bytes.Repeat([]byte("A"), 32<<10))); got != coll {
					t.Fatalf("collection at %d, planned %d", got, coll)
				}
			},
			text: "more than 67108864 bytes",
		},
		{
			name: "dimensions that overflow",
			build: func(t *testing.T, b *h5file) {
				b.add(objectV1(compactLinks(), attrV1("x", int32LE(), simple(1<<40, 1<<40), make([]byte, 8))))
			},
			text: "elements of 4 bytes",
		},
		{
			name: "more elements than data",
			build: func(t *testing.T, b *h5file) {
				b.add(objectV1(compactLinks(), attrV1("x", int32LE(), simple(1<<40), make([]byte, 8))))
			},
			text: "elements of 4 bytes",
		},
		{
			name: "string past its heap object",
			build: func(t *testing.T, b *h5file) {
				header := func(coll uint64) []byte {
					return objectV1(compactLinks(), attrV1("x", vlenString(), scalar(), vlenRef(100, coll, 1)))
				}
				coll := b.at() + uint64(len(header(0)))
				b.add(header(coll))
				b.add(gcol([]byte("short")))
			},
			text: "bytes in a heap object",
		},
		{
			name: "missing heap object",
			build: func(t *testing.T, b *h5file) {
				header := func(coll uint64) []byte {
					return objectV1(compactLinks(), attrV1("x", vlenString(), scalar(), vlenRef(1, coll, 7)))
				}
				coll := b.at() + uint64(len(header(0)))
				b.add(header(coll))
				b.add(gcol([]byte("short")))
			},
			text: "no object 7",
		},
		{
			name: "shared datatype pointing at a group",
			build: func(t *testing.T, b *h5file) {
				shared := binary.LittleEndian.AppendUint64([]byte{3, 2}, synthRoot)
				b.add(objectV1(compactLinks(), attrV3("x", 1, shared, scalar(), make([]byte, 4))))
			},
			text: "not a committed datatype",
		},
		{
			name: "datatype in the shared message heap",
			build: func(t *testing.T, b *h5file) {
				shared := []byte{3, 1, 1, 2, 3, 4, 5, 6, 7, 8}
				b.add(objectV1(compactLinks(), attrV3("x", 1, shared, scalar(), make([]byte, 4))))
			},
			is:   ErrUnsupported,
			text: "shared message heap",
		},
		{
			name: "datatype of size 0",
			build: func(t *testing.T, b *h5file) {
				dt := []byte{0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
				b.add(objectV1(compactLinks(), attrV1("x", dt, simple(1<<20), nil)))
			},
			text: "size 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newH5()
			tt.build(t, b)
			data := b.bytes()
			f := openBytes(t, data)
			err := walkErr(f)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %q", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
		})
	}
}

// TestSelfLink: a group that links to itself can be opened through the link
// any number of times; each Group call reads one header.
func TestSelfLink(t *testing.T) {
	t.Parallel()
	b := newH5()
	b.add(objectV1(compactLinks(), hardLink("self", synthRoot), attrV1("n", int32LE(), scalar(), []byte{5, 0, 0, 0})))
	f := openBytes(t, b.bytes())
	root, err := f.Root()
	if err != nil {
		t.Fatal(err)
	}
	g, err := root.Group(strings.Repeat("self/", 64))
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Attributes()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Attribute{{Name: "n", Value: int64(5)}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTinyObjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		idLen int
		id    []byte
		want  string
		err   bool
	}{
		{8, []byte{0x22, 'a', 'b', 'c', 0, 0, 0, 0}, "abc", false},
		{8, []byte{0x2F, 'a', 'b', 'c', 0, 0, 0, 0}, "", true}, // 16 bytes in 7
		{20, append([]byte{0x20, 0x01, 'x', 'y'}, make([]byte, 16)...), "xy", false},
	}
	for _, tt := range tests {
		h := &fheap{idLen: tt.idLen}
		got, err := h.get(tt.id)
		if (err != nil) != tt.err || string(got) != tt.want {
			t.Errorf("tiny %x: %q, %v; want %q (error %v)", tt.id, got, err, tt.want, tt.err)
		}
	}
}
