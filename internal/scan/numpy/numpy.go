// Package numpy reads the header of a NumPy .npy file (format versions 1.0,
// 2.0 and 3.0): enough to know whether the data that follows is raw numbers
// or, for object dtypes, a pickle.
package numpy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Magic starts every .npy file.
const Magic = "\x93NUMPY"

// maxHeader bounds the header; NumPy itself refuses headers over 10000 bytes
// unless told otherwise, and structured dtypes stay far below 1 MiB.
const maxHeader = 1 << 20

// Header is what an .npy header says.
type Header struct {
	Major, Minor int
	Descr        string // the dtype description as written (a string or a list literal)
	Object       bool   // the dtype holds Python objects: the data is a pickle
	Fortran      bool
	Shape        []int64
	// DataOffset is where the array data starts.
	DataOffset int64
}

// ReadHeader parses the header at the start of r.
func ReadHeader(r io.Reader) (*Header, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, fmt.Errorf("reading npy magic: %w", err)
	}
	if string(pre[:6]) != Magic {
		return nil, errors.New("not an npy file: bad magic")
	}
	h := &Header{Major: int(pre[6]), Minor: int(pre[7])}
	var n int64
	switch h.Major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, fmt.Errorf("reading npy header length: %w", err)
		}
		n = int64(binary.LittleEndian.Uint16(pre[8:10]))
		h.DataOffset = 10 + n
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("reading npy header length: %w", err)
		}
		n = int64(binary.LittleEndian.Uint32(b[:]))
		h.DataOffset = 12 + n
	default:
		return nil, fmt.Errorf("unsupported npy format version %d.%d", h.Major, h.Minor)
	}
	if n > maxHeader {
		return nil, fmt.Errorf("npy header of %d bytes is larger than %d", n, maxHeader)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("reading npy header: %w", err)
	}
	if err := h.parse(string(buf)); err != nil {
		return nil, err
	}
	return h, nil
}

// parse reads the header dict literal: {'descr': ..., 'fortran_order': ..., 'shape': (...), }
func (h *Header) parse(s string) error {
	p := &lit{s: strings.TrimRight(s, " \n\x00")}
	v, err := p.value(0)
	if err != nil {
		return fmt.Errorf("npy header: %w", err)
	}
	d, ok := v.(map[string]any)
	if !ok {
		return errors.New("npy header is not a dict")
	}
	descr, ok := d["descr"]
	if !ok {
		return errors.New("npy header has no 'descr'")
	}
	h.Descr = render(descr)
	h.Object = hasObject(descr)
	if f, ok := d["fortran_order"].(bool); ok {
		h.Fortran = f
	}
	shape, ok := d["shape"].(tuple)
	if !ok {
		return errors.New("npy header has no 'shape' tuple")
	}
	for _, x := range shape {
		i, ok := x.(int64)
		if !ok || i < 0 {
			return errors.New("npy shape holds something other than non-negative integers")
		}
		h.Shape = append(h.Shape, i)
	}
	return nil
}

// hasObject reports whether a descr holds the object type, read the way
// numpy.lib.format.descr_to_dtype reads it: a string is a dtype string, a
// tuple is a subarray (base, shape), a list holds fields (name, type[, shape]).
// It errs on the side of "object": a miss lets a pickle through unscanned.
func hasObject(v any) bool {
	switch x := v.(type) {
	case string:
		// "O", "|O", "O8", "(2,)O", "i4,O", "object", "object_", "object0".
		return strings.Contains(x, "O") || strings.Contains(strings.ToLower(x), "object")
	case int64:
		return x == 17 // NPY_OBJECT, which numpy.dtype(17) accepted before 1.17
	case tuple:
		return len(x) > 0 && hasObject(x[0])
	case []any:
		for _, it := range x {
			switch f := it.(type) {
			case tuple:
				if len(f) >= 2 && hasObject(f[1]) {
					return true
				}
			case []any:
				if len(f) >= 2 && hasObject(f[1]) {
					return true
				}
			case string:
				// A field is unpacked as a sequence: "aO" is the field a of type O.
				if len(f) == 2 || len(f) == 3 {
					if hasObject(f[1:2]) {
						return true
					}
				}
			}
		}
	case map[string]any:
		// numpy.dtype({'names': [...], 'formats': [...]}) or {'name': (type, offset)},
		// which numpy before 1.17 passed the descr to directly.
		if fs, ok := x["formats"].([]any); ok {
			for _, f := range fs {
				if hasObject(f) {
					return true
				}
			}
		}
		for k, it := range x {
			if t, ok := it.(tuple); ok && hasObject(t) {
				return true
			}
			if (len(k) == 2 || len(k) == 3) && hasObject(k[1:2]) {
				return true
			}
		}
	}
	return false
}

func render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = render(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case tuple:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = render(it)
		}
		if len(parts) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v)
}

// tuple is a parsed Python tuple; lists parse to []any. NumPy gives the two
// different meanings in a descr.
type tuple []any

// lit parses the small subset of Python literals that npy headers use:
// dicts, lists, tuples, strings, integers, True/False/None. NumPy reads the
// header with ast.literal_eval, so strings follow Python's rules (prefixes,
// escapes, adjacent literals concatenated): an attacker can spell 'O' as
// '\x4f' or 'O' 'bject'.
type lit struct {
	s string
	i int
}

const maxNesting = 32

func (p *lit) ws() {
	for p.i < len(p.s) && strings.IndexByte(" \t\n\r", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *lit) value(depth int) (any, error) {
	if depth > maxNesting {
		return nil, errors.New("nested too deeply")
	}
	p.ws()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		m := map[string]any{}
		for {
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return m, nil
			}
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, errors.New("dict key is not a string")
			}
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, errors.New("expected ':'")
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			m[ks] = v
			if err := p.sep('}'); err != nil {
				return nil, err
			}
			if p.s[p.i] == ',' {
				p.i++
			}
		}
	case c == '[' || c == '(':
		end := byte(']')
		if c == '(' {
			end = ')'
		}
		p.i++
		out := []any{}
		comma := false
		for {
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == end {
				p.i++
				switch {
				case end == ']':
					return out, nil
				case len(out) == 1 && !comma:
					return out[0], nil // (x) is x, not a tuple
				}
				return tuple(out), nil
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			if err := p.sep(end); err != nil {
				return nil, err
			}
			comma = comma || p.s[p.i] == ','
			if p.s[p.i] == ',' {
				p.i++
			}
		}
	case c == '\'' || c == '"' || isStringPrefix(p.s[p.i:]):
		var b strings.Builder
		for {
			v, err := p.str()
			if err != nil {
				return nil, err
			}
			b.WriteString(v)
			// Adjacent literals are one string: 'O' 'bject'.
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' && !isStringPrefix(p.s[p.i:]) {
				return b.String(), nil
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		j := p.i + 1
		for j < len(p.s) && (p.s[j] >= '0' && p.s[j] <= '9' || p.s[j] == 'L') {
			j++
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(p.s[p.i:j], "L"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer %q", p.s[p.i:j])
		}
		p.i = j
		return n, nil
	default:
		for _, w := range []struct {
			s string
			v any
		}{{"True", true}, {"False", false}, {"None", nil}} {
			if strings.HasPrefix(p.s[p.i:], w.s) {
				p.i += len(w.s)
				return w.v, nil
			}
		}
		return nil, fmt.Errorf("unexpected %q", c)
	}
}

// sep sees a ',' or the closing bracket, leaving p.i on it.
func (p *lit) sep(end byte) error {
	p.ws()
	if p.i < len(p.s) && (p.s[p.i] == ',' || p.s[p.i] == end) {
		return nil
	}
	return fmt.Errorf("expected ',' or %q", end)
}

// isStringPrefix reports whether s starts with a string prefix (u, r, b in
// either case, rb/br) and a quote.
func isStringPrefix(s string) bool {
	i := 0
	for i < len(s) && i < 2 && strings.IndexByte("uUrRbB", s[i]) >= 0 {
		i++
	}
	return i > 0 && i < len(s) && (s[i] == '\'' || s[i] == '"')
}

// str reads one string literal at p.i, with its prefix, and decodes it.
func (p *lit) str() (string, error) {
	raw := false
	for p.i < len(p.s) && p.s[p.i] != '\'' && p.s[p.i] != '"' {
		if p.s[p.i] == 'r' || p.s[p.i] == 'R' {
			raw = true
		}
		p.i++
	}
	if p.i >= len(p.s) {
		return "", errors.New("unterminated string")
	}
	q := p.s[p.i : p.i+1]
	if strings.HasPrefix(p.s[p.i:], q+q+q) {
		q = q + q + q
	}
	p.i += len(q)
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", errors.New("unterminated string")
		}
		if strings.HasPrefix(p.s[p.i:], q) {
			p.i += len(q)
			return b.String(), nil
		}
		c := p.s[p.i]
		if c == '\n' && len(q) == 1 {
			return "", errors.New("unterminated string")
		}
		if c != '\\' {
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return "", errors.New("unterminated string")
		}
		if raw {
			// A backslash still keeps the next quote in the string.
			b.WriteString(p.s[p.i : p.i+2])
			p.i += 2
			continue
		}
		if err := p.escape(&b); err != nil {
			return "", err
		}
	}
}

// escape decodes the backslash escape at p.i as Python does.
func (p *lit) escape(b *strings.Builder) error {
	e := p.s[p.i+1]
	p.i += 2
	simple := map[byte]string{'\n': "", '\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v"}
	if v, ok := simple[e]; ok {
		b.WriteString(v)
		return nil
	}
	hex := map[byte]int{'x': 2, 'u': 4, 'U': 8}
	switch {
	case hex[e] > 0:
		n := hex[e]
		if p.i+n > len(p.s) {
			return errors.New("truncated escape in string")
		}
		r, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
		if err != nil {
			return fmt.Errorf("bad escape in string: %w", err)
		}
		p.i += n
		b.WriteRune(rune(r))
	case e >= '0' && e <= '7':
		j := p.i - 1
		for p.i < len(p.s) && p.i-j < 3 && p.s[p.i] >= '0' && p.s[p.i] <= '7' {
			p.i++
		}
		r, _ := strconv.ParseUint(p.s[j:p.i], 8, 32)
		b.WriteRune(rune(r))
	case e == 'N':
		// \N{NAME}: a Unicode name table is more than a header needs.
		return errors.New("named Unicode escape in string")
	default:
		// Python keeps unknown escapes as they are.
		b.WriteByte('\\')
		b.WriteByte(e)
	}
	return nil
}
