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
	shape, ok := d["shape"].([]any)
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

// hasObject reports whether a descr (a type string, or a list of fields
// (name, type[, shape])) contains the object type 'O'.
func hasObject(v any) bool {
	switch x := v.(type) {
	case string:
		t := strings.TrimLeft(x, "<>|=")
		return strings.HasPrefix(t, "O")
	case []any:
		for i, it := range x {
			if f, ok := it.([]any); ok {
				if len(f) >= 2 && hasObject(f[1]) {
					return true
				}
				continue
			}
			if i > 0 && hasObject(it) {
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
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v)
}

// lit parses the small subset of Python literals that npy headers use:
// dicts, lists, tuples, strings, integers, True/False/None.
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
		}
	case c == '[' || c == '(':
		end := byte(']')
		if c == '(' {
			end = ')'
		}
		p.i++
		var out []any
		for {
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == end {
				p.i++
				if out == nil {
					out = []any{}
				}
				return out, nil
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			if err := p.sep(end); err != nil {
				return nil, err
			}
		}
	case c == '\'' || c == '"':
		j := strings.IndexByte(p.s[p.i+1:], c)
		if j < 0 {
			return nil, errors.New("unterminated string")
		}
		v := p.s[p.i+1 : p.i+1+j]
		p.i += j + 2
		return v, nil
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

// sep consumes a ',' or sees the closing bracket.
func (p *lit) sep(end byte) error {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		return nil
	}
	if p.i < len(p.s) && p.s[p.i] == end {
		return nil
	}
	return fmt.Errorf("expected ',' or %q", end)
}
