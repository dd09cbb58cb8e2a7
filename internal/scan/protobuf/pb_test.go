package protobuf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func read(b []byte, lim Limits) *Reader {
	return NewReader(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
}

type field struct {
	Num  int32
	Type WireType
	V    uint64
	S    string
}

// fields lists the top-level fields of b, with Bytes payloads as strings.
func fields(r *Reader) []field {
	out := []field{}
	m := r.Root()
	var f Field
	for m.Next(&f) {
		g := field{Num: f.Num, Type: f.Type, V: f.V}
		if f.Type == Bytes {
			g.S, _ = r.Str(f, 1<<20)
		}
		out = append(out, g)
	}
	return out
}

func TestFields(t *testing.T) {
	t.Parallel()
	b := []byte{0x08, 0x96, 0x01} // 1: varint 150
	b = append(b, 0x12, 0x03, 'a', 'b', 'c')
	b = append(b, 0x19) // 3: fixed64
	b = binary.LittleEndian.AppendUint64(b, 0x0102030405060708)
	b = append(b, 0x25) // 4: fixed32
	b = binary.LittleEndian.AppendUint32(b, 0xdeadbeef)
	b = append(b, 0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01) // 5: max uint64
	b = append(b, 0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00)                               // field 2^29-1
	r := read(b, DefaultLimits)
	want := []field{
		{1, Varint, 150, ""}, {2, Bytes, 0, "abc"}, {3, Fixed64, 0x0102030405060708, ""},
		{4, Fixed32, 0xdeadbeef, ""}, {5, Varint, 1<<64 - 1, ""}, {1<<29 - 1, Varint, 0, ""},
	}
	if diff := cmp.Diff(want, fields(r)); diff != "" || r.Err() != nil {
		t.Errorf("fields (-want +got):\n%s\nerr %v", diff, r.Err())
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"truncated tag", []byte{0x80}, "truncated varint"},
		{"truncated value", []byte{0x08, 0x80}, "truncated varint"},
		{"overflow", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, "overflows"},
		{"eleven bytes", []byte{0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, "overflows"},
		{"length too long", []byte{0x12, 0x05, 'a'}, "runs past the end"},
		{"fixed64 cut", []byte{0x19, 1, 2, 3}, "runs past the end"},
		{"start group", []byte{0x0b}, "groups"},
		{"end group", []byte{0x0c}, "groups"},
		{"wire type 6", []byte{0x0e}, "invalid wire type"},
		{"field 0", []byte{0x00, 0x00}, "invalid field number"},
		{"field too large", []byte{0x80, 0x80, 0x80, 0x80, 0x10, 0x00}, "invalid field number"},
	}
	for _, tt := range tests {
		r := read(tt.in, DefaultLimits)
		fields(r)
		var pe *Error
		if err := r.Err(); !errors.As(err, &pe) || !strings.Contains(pe.Msg, tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	// Messages nested 5 deep: 0x0a len (0x0a len (...)).
	b := []byte{}
	for range 5 {
		b = append([]byte{0x0a, byte(len(b))}, b...)
	}
	var descend func(r *Reader, m Msg) int
	descend = func(r *Reader, m Msg) int {
		var f Field
		depth := 0
		for m.Next(&f) {
			depth = max(depth, 1+descend(r, r.Sub(f)))
		}
		return depth
	}
	r := read(b, Limits{MaxDepth: 5})
	if d := descend(r, r.Root()); d != 5 || r.Err() != nil {
		t.Errorf("depth %d, err %v; want 5, nil", d, r.Err())
	}
	r = read(b, Limits{MaxDepth: 4})
	descend(r, r.Root())
	if !errors.Is(r.Err(), ErrLimit) {
		t.Errorf("err = %v, want a limit", r.Err())
	}
	r = read(bytes.Repeat([]byte{0x08, 0x01}, 100), Limits{MaxFields: 50})
	if n := len(fields(r)); n != 50 || !errors.Is(r.Err(), ErrLimit) {
		t.Errorf("%d fields, err %v; want 50 and a limit", n, r.Err())
	}
}

func TestStrAndVarints(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 100<<10)
	b := append([]byte{0x0a, 0x80, 0xa0, 0x06}, long...) // 1: 100 KiB string
	b = append(b, 0x12, 0x04, 0x01, 0x96, 0x01, 0x02)    // 2: packed 1, 150, 2
	b = append(b, 0x10, 0x07)                            // 2: unpacked 7
	b = append(b, 0x1a, 0x02, 0x01, 0x80)                // 3: packed, truncated
	r := read(b, DefaultLimits)
	m := r.Root()
	var f Field
	var got []uint64
	for m.Next(&f) {
		switch f.Num {
		case 1:
			if s, full := r.Str(f, 10); s != "xxxxxxxxxx" || full {
				t.Errorf("Str cut = %q, %v", s, full)
			}
			if s, full := r.Str(f, 200<<10); s != long || !full {
				t.Errorf("Str whole: %d bytes, %v", len(s), full)
			}
		case 2, 3:
			r.Varints(f, func(v uint64) bool { got = append(got, v); return true })
		}
	}
	if diff := cmp.Diff([]uint64{1, 150, 2, 7, 1}, got); diff != "" {
		t.Errorf("varints (-want +got):\n%s", diff)
	}
	if r.Err() == nil {
		t.Error("truncated packed varint not reported")
	}
}

// TestSkipsPayloads checks that a large Bytes field is skipped, not read.
func TestSkipsPayloads(t *testing.T) {
	t.Parallel()
	b := []byte{0x0a, 0x80, 0x80, 0x80, 0x01} // 1: 2 MiB
	b = append(b, make([]byte, 2<<20)...)
	b = append(b, 0x10, 0x2a)
	r := read(b, DefaultLimits)
	got := []int32{}
	m := r.Root()
	var f Field
	for m.Next(&f) {
		got = append(got, f.Num)
	}
	if len(got) != 2 || r.Err() != nil || r.BytesRead() > 16<<10 {
		t.Errorf("fields %v, err %v, read %d bytes", got, r.Err(), r.BytesRead())
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte{0x08, 0x96, 0x01, 0x12, 0x03, 'a', 'b', 'c'})
	f.Add([]byte{0x0a, 0x02, 0x08, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := read(b, Limits{MaxDepth: 20, MaxFields: 10000})
		var walk func(m Msg)
		walk = func(m Msg) {
			var f Field
			for m.Next(&f) {
				if f.Type == Bytes {
					if f.Start < 0 || f.End > int64(len(b)) || f.Start > f.End {
						t.Fatalf("field %+v outside the input", f)
					}
					r.Str(f, 16)
					r.Varints(f, func(uint64) bool { return true })
					walk(r.Sub(f))
				}
			}
		}
		walk(r.Root())
	})
}
