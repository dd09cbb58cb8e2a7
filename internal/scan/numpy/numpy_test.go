package numpy

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const models = "../../../testdata/models"

// npy builds an .npy header of format version major with dict as its text,
// padded with spaces and a newline to a multiple of 64 bytes as NumPy does.
func npy(major byte, dict string) []byte {
	pre := 10
	if major >= 2 {
		pre = 12
	}
	n := len(dict) + 1
	if pad := (pre + n) % 64; pad != 0 {
		n += 64 - pad
	}
	text := dict + strings.Repeat(" ", n-len(dict)-1) + "\n"
	b := []byte(Magic + string([]byte{major, 0}))
	if major >= 2 {
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(n))
	}
	return append(b, text...)
}

func TestReadHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want *Header
	}{
		{
			name: "version 1",
			in:   npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"),
			want: &Header{Major: 1, Descr: "<f4", Shape: []int64{3, 4}},
		},
		{
			name: "version 2",
			in:   npy(2, "{'descr': '<i8', 'fortran_order': False, 'shape': (10,), }"),
			want: &Header{Major: 2, Descr: "<i8", Shape: []int64{10}},
		},
		{
			name: "version 3, utf-8 field name",
			in:   npy(3, "{'descr': [('na\u00efve', '<f8')], 'fortran_order': False, 'shape': (2,), }"),
			want: &Header{Major: 3, Descr: "[(na\u00efve, <f8)]", Shape: []int64{2}},
		},
		{
			name: "scalar, empty shape",
			in:   npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }"),
			want: &Header{Major: 1, Descr: "<f8", Shape: nil},
		},
		{
			name: "fortran order",
			in:   npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"),
			want: &Header{Major: 1, Descr: "<f4", Fortran: true, Shape: []int64{2, 3}},
		},
		{
			name: "python 2 long integers",
			in:   npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }"),
			want: &Header{Major: 1, Descr: "<f4", Shape: []int64{3, 4}},
		},
		{
			name: "double quotes, keys in another order",
			in:   npy(1, `{"shape": (1,), "fortran_order": False, "descr": "<u1"}`),
			want: &Header{Major: 1, Descr: "<u1", Shape: []int64{1}},
		},
		{
			name: "object dtype",
			in:   npy(1, "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }"),
			want: &Header{Major: 1, Descr: "|O", Object: true, Shape: []int64{3}},
		},
		{
			name: "structured dtype with an object field",
			in:   npy(1, "{'descr': [('id', '<i4'), ('obj', '|O')], 'fortran_order': False, 'shape': (2,), }"),
			want: &Header{Major: 1, Descr: "[(id, <i4), (obj, |O)]", Object: true, Shape: []int64{2}},
		},
		{
			name: "structured dtype with a subarray object field",
			in:   npy(1, "{'descr': [('id', '<i4'), ('obj', '|O', (2, 2))], 'fortran_order': False, 'shape': (2,), }"),
			want: &Header{Major: 1, Descr: "[(id, <i4), (obj, |O, (2, 2))]", Object: true, Shape: []int64{2}},
		},
		{
			name: "nested structured dtype with an object field",
			in:   npy(1, "{'descr': [('a', [('b', '<f4'), ('c', '|O')])], 'fortran_order': False, 'shape': (1,), }"),
			want: &Header{Major: 1, Descr: "[(a, [(b, <f4), (c, |O)])]", Object: true, Shape: []int64{1}},
		},
		{
			name: "structured dtype whose field names hold an O",
			in:   npy(1, "{'descr': [('Offset', '<i8'), ('OBJ', '<f4')], 'fortran_order': False, 'shape': (2,), }"),
			want: &Header{Major: 1, Descr: "[(Offset, <i8), (OBJ, <f4)]", Shape: []int64{2}},
		},
		{
			name: "titled field",
			in:   npy(1, "{'descr': [(('title', 'x'), '|O')], 'fortran_order': False, 'shape': (2,), }"),
			want: &Header{Major: 1, Descr: "[((title, x), |O)]", Object: true, Shape: []int64{2}},
		},
		// Spellings numpy.lib.format accepts for an object dtype.
		{
			name: "subarray descr (base, shape)",
			in:   npy(1, "{'descr': ('|O', (2,)), 'fortran_order': False, 'shape': (1,), }"),
			want: &Header{Major: 1, Descr: "(|O, (2,))", Object: true, Shape: []int64{1}},
		},
		{
			name: "parenthesised string is not a tuple",
			in:   npy(1, "{'descr': ('|O'), 'fortran_order': False, 'shape': (1,), }"),
			want: &Header{Major: 1, Descr: "|O", Object: true, Shape: []int64{1}},
		},
		{
			name: "dtype name",
			in:   npy(1, "{'descr': 'object', 'fortran_order': False, 'shape': (1,), }"),
			want: &Header{Major: 1, Descr: "object", Object: true, Shape: []int64{1}},
		},
		{
			name: "escaped",
			in:   npy(1, `{'descr': '|\x4f', 'fortran_order': False, 'shape': (1,), }`),
			want: &Header{Major: 1, Descr: "|O", Object: true, Shape: []int64{1}},
		},
		{
			name: "octal escape and unicode prefix",
			in:   npy(1, `{'descr': u'\117', 'fortran_order': False, 'shape': (1,), }`),
			want: &Header{Major: 1, Descr: "O", Object: true, Shape: []int64{1}},
		},
		{
			name: "adjacent literals",
			in:   npy(1, "{'descr': 'ob' \"ject\", 'fortran_order': False, 'shape': (1,), }"),
			want: &Header{Major: 1, Descr: "object", Object: true, Shape: []int64{1}},
		},
		{
			name: "comma dtype string",
			in:   npy(1, "{'descr': 'i4,O', 'fortran_order': False, 'shape': (1,), }"),
			want: &Header{Major: 1, Descr: "i4,O", Object: true, Shape: []int64{1}},
		},
		{
			name: "raw string keeps its backslash",
			in:   npy(1, `{'descr': r'<f\4', 'fortran_order': False, 'shape': (1,), }`),
			want: &Header{Major: 1, Descr: `<f\4`, Shape: []int64{1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.want.DataOffset = int64(len(tt.in)) // npy pads the header up to the data
			r := bytes.NewReader(tt.in)
			got, err := ReadHeader(r)
			if err != nil {
				t.Fatalf("ReadHeader: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if pos := int64(len(tt.in)) - int64(r.Len()); pos != got.DataOffset {
				t.Errorf("reader left at %d, DataOffset %d", pos, got.DataOffset)
			}
		})
	}
}

func TestReadHeaderFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want *Header
	}{
		{"benign/numpy_array.npy", &Header{Major: 1, Descr: "<f4", Shape: []int64{3, 4}, DataOffset: 128}},
		{"malicious/numpy_object_payload.npy", &Header{Major: 1, Descr: "|O", Object: true, Shape: []int64{3}, DataOffset: 128}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join(models, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := ReadHeader(f)
			if err != nil {
				t.Fatalf("ReadHeader: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadHeaderErrors(t *testing.T) {
	t.Parallel()
	huge := []byte(Magic + "\x02\x00\xff\xff\xff\xff")
	tests := []struct {
		name string
		in   []byte
		want string // part of the error
	}{
		{"empty", nil, "reading npy magic"},
		{"bad magic", []byte("\x93NUMPZ\x01\x00\x10\x00{}"), "bad magic"},
		{"short magic", []byte("\x93NUM"), "reading npy magic"},
		{"no header length", []byte(Magic + "\x01\x00\x10"), "reading npy header length"},
		{"unsupported version", []byte(Magic + "\x04\x00\x10\x00"), "unsupported npy format version 4.0"},
		{"huge length", huge, "larger than"},
		{"truncated header", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }")[:40], "reading npy header"},
		{"unterminated string", npy(1, "{'descr': '<f4, 'fortran_order': False, 'shape': (3,), }"), "expected"},
		{"string never closed", npy(1, "{'descr': '<f4"), "unterminated string"},
		{"not a dict", npy(1, "[('descr', '<f4')]"), "not a dict"},
		{"no descr", npy(1, "{'fortran_order': False, 'shape': (3,), }"), "no 'descr'"},
		{"no shape", npy(1, "{'descr': '<f4', 'fortran_order': False}"), "no 'shape' tuple"},
		{"shape is a list", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [3]}"), "no 'shape' tuple"},
		{"shape is a parenthesised int", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3)}"), "no 'shape' tuple"},
		{"negative dimension", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"), "non-negative"},
		{"dimension not an integer", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ('3',)}"), "non-negative"},
		{"bad integer", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}"), "bad integer"},
		{"key not a string", npy(1, "{1: '<f4'}"), "key is not a string"},
		{"missing colon", npy(1, "{'descr' '<f4'}"), "expected ':'"},
		{"unexpected token", npy(1, "{'descr': <f4}"), "unexpected"},
		{"nested too deeply", npy(1, "{'descr': "+strings.Repeat("[", 40)+strings.Repeat("]", 40)+"}"), "nested too deeply"},
		{"empty dict text", npy(1, ""), "unexpected end"},
		{"named unicode escape", npy(1, `{'descr': '\N{LATIN CAPITAL LETTER O}', 'shape': (1,)}`), "named Unicode escape"},
		{"bad hex escape", npy(1, `{'descr': '\xZZ', 'shape': (1,)}`), "bad escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := ReadHeader(bytes.NewReader(tt.in))
			if err == nil {
				t.Fatalf("ReadHeader = %+v, want an error", h)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestReadHeaderHugeLengthDoesNotRead checks that a length is refused before
// anything is allocated or read.
func TestReadHeaderHugeLengthDoesNotRead(t *testing.T) {
	t.Parallel()
	r := io.MultiReader(strings.NewReader(Magic+"\x03\x00\x00\x00\x00\x80"), failReader{t})
	if _, err := ReadHeader(r); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v", err)
	}
}

type failReader struct{ t *testing.T }

func (f failReader) Read([]byte) (int, error) {
	f.t.Error("read past the header length")
	return 0, io.EOF
}

func FuzzReadHeader(f *testing.F) {
	for _, file := range []string{"benign/numpy_array.npy", "malicious/numpy_object_payload.npy"} {
		b, err := os.ReadFile(filepath.Join(models, file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(npy(1, "{'descr': [('a', '|O', (2,))], 'fortran_order': True, 'shape': (1L,), }"))
	f.Add(npy(3, `{'descr': ('\x4f', (2,)), 'fortran_order': False, 'shape': (), }`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		h, err := ReadHeader(r)
		if err != nil {
			return
		}
		if pos := int64(len(b)) - int64(r.Len()); pos != h.DataOffset {
			t.Fatalf("reader left at %d, DataOffset %d", pos, h.DataOffset)
		}
		for _, d := range h.Shape {
			if d < 0 {
				t.Fatalf("negative dimension in %v", h.Shape)
			}
		}
	})
}
