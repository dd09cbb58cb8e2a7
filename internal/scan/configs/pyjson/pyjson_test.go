package pyjson

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

// plain converts a parsed value to maps and slices for comparison.
func plain(v any) any {
	switch x := v.(type) {
	case *Object:
		m := map[string]any{}
		x.Effective(func(k string, v any) { m[k] = plain(v) })
		return m
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = plain(it)
		}
		return out
	}
	return v
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want any
	}{
		{`null`, nil},
		{` true `, true},
		{`"a\u00e9\ud83d\ude00\n\"\\\/"`, "a\u00e9\U0001F600\n\"\\/"},
		{`"\ud800"`, "\ufffd"}, // a lone surrogate: Python keeps it, Go cannot
		{`[1, -2.5e3, 0, NaN, Infinity, -Infinity]`, []any{Number("1"), Number("-2.5e3"), Number("0"), Number("NaN"), Number("Infinity"), Number("-Infinity")}},
		{`{"a": {"b": []}, "c": {}}`, map[string]any{"a": map[string]any{"b": []any{}}, "c": map[string]any{}}},
		{`{"k": 1, "k": 2}`, map[string]any{"k": Number("2")}},
		{"\t{\r\n\"x\" :\n[ ] }\n", map[string]any{"x": []any{}}},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, plain(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `{`, `{"a"}`, `{"a": 1,}`, `[1,]`, `[1 2]`, `{1: 2}`, `"abc`, "\"a\x01\"", `"\x"`, `"\u12"`,
		`tru`, `-`, `01x`, `{} {}`, `nan`, `'a'`} {
		if _, err := Parse(in); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	if _, err := Parse(deep); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep: %v", err)
	}
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Parse(ok); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	const doc = `{"class_name": "Lambda"}`
	u16 := func(big, bom bool) []byte {
		var b []byte
		if bom {
			if big {
				b = append(b, 0xfe, 0xff)
			} else {
				b = append(b, 0xff, 0xfe)
			}
		}
		for _, u := range utf16.Encode([]rune(doc)) {
			if big {
				b = append(b, byte(u>>8), byte(u))
			} else {
				b = append(b, byte(u), byte(u>>8))
			}
		}
		return b
	}
	u32 := func(big, bom bool) []byte {
		var b []byte
		rs := []rune(doc)
		if bom {
			rs = append([]rune{0xfeff}, rs...)
		}
		for _, r := range rs {
			if big {
				b = append(b, byte(r>>24), byte(r>>16), byte(r>>8), byte(r))
			} else {
				b = append(b, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
			}
		}
		return b
	}
	for name, in := range map[string][]byte{
		"utf-8": []byte(doc), "utf-8-sig": append([]byte("\xef\xbb\xbf"), doc...),
		"utf-16-le": u16(false, false), "utf-16-be": u16(true, false), "utf-16 bom le": u16(false, true), "utf-16 bom be": u16(true, true),
		"utf-32-le": u32(false, false), "utf-32-be": u32(true, false), "utf-32 bom le": u32(false, true), "utf-32 bom be": u32(true, true),
	} {
		if got := Decode(in); got != doc {
			t.Errorf("%s: %q", name, got)
		}
	}
}

func TestObjectAccessors(t *testing.T) {
	t.Parallel()
	v, err := Parse(`{"s": "x", "o": {"n": 3}, "s": "y"}`)
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*Object)
	if s, ok := o.String("s"); !ok || s != "y" {
		t.Errorf("String: %q", s)
	}
	if _, ok := o.String("o"); ok {
		t.Error("String of an object")
	}
	in, ok := o.Object("o")
	if !ok {
		t.Fatal("Object")
	}
	n, _ := in.Get("n")
	if i, ok := n.(Number).Int(); !ok || i != 3 {
		t.Errorf("Int: %v", n)
	}
	var keys []string
	o.Effective(func(k string, v any) { keys = append(keys, k) })
	if diff := cmp.Diff([]string{"s", "o"}, keys); diff != "" {
		t.Error(diff)
	}
	lines := NewLines("a\nbb\n\nc")
	for off, want := range map[int]int{0: 1, 1: 1, 2: 2, 4: 2, 5: 3, 6: 4, 100: 4} {
		if got := lines.Line(off); got != want {
			t.Errorf("Line(%d) = %d, want %d", off, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a": [1, 2.5, NaN, "x\u0041"]}`, `[[[]]]`, `"\ud83d\ude00"`, `-Infinity`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseBytes(b)
		if err == nil {
			plain(v)
		}
	})
}
