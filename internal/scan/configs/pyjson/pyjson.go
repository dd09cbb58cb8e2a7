// Package pyjson parses JSON the way Python's json module reads it, which is
// how Keras, Transformers and NeMo read their configs: the encoding of a
// byte string is detected (UTF-8 with or without BOM, UTF-16, UTF-32), NaN
// and Infinity are numbers, and of duplicate keys the last one wins. Objects
// keep their keys in order and remember where they start, so findings can
// point at a line. Depth and size are bounded.
package pyjson

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting Parse accepts. CPython's decoder gives up
// near its recursion limit of 1000, so a config nested deeper does not load.
const MaxDepth = 1000

// ErrTooDeep is returned for documents nested deeper than MaxDepth.
var ErrTooDeep = errors.New("nested more than 1000 levels deep")

// Number is a JSON number as written (NaN, Infinity and -Infinity included).
type Number string

// Int returns the number as an int64 when it is an integer literal.
func (n Number) Int() (int64, bool) {
	i, err := strconv.ParseInt(string(n), 10, 64)
	return i, err == nil
}

// Object is a JSON object: its keys in order, duplicates included.
type Object struct {
	Keys   []string
	Values []any
	// Offset is where the object's '{' is in the decoded text; Offsets
	// where each value starts.
	Offset  int
	Offsets []int
}

// ValueOffset returns where the value of key (the last of duplicates) starts, or the object's offset.
func (o *Object) ValueOffset(key string) int {
	for i := len(o.Keys) - 1; i >= 0; i-- {
		if o.Keys[i] == key && i < len(o.Offsets) {
			return o.Offsets[i]
		}
	}
	return o.Offset
}

// Get returns the value of key; of duplicate keys, the last, as Python's dict does.
func (o *Object) Get(key string) (any, bool) {
	for i := len(o.Keys) - 1; i >= 0; i-- {
		if o.Keys[i] == key {
			return o.Values[i], true
		}
	}
	return nil, false
}

// String returns the value of key when it is a string.
func (o *Object) String(key string) (string, bool) {
	v, _ := o.Get(key)
	s, ok := v.(string)
	return s, ok
}

// Object returns the value of key when it is an object.
func (o *Object) Object(key string) (*Object, bool) {
	v, _ := o.Get(key)
	m, ok := v.(*Object)
	return m, ok
}

// Effective calls fn for each key with the value Python would keep: the
// last of duplicate keys, at the position of its first occurrence.
func (o *Object) Effective(fn func(key string, v any)) {
	if len(o.Keys) < 2 {
		for i, k := range o.Keys {
			fn(k, o.Values[i])
		}
		return
	}
	seen := make(map[string]bool, len(o.Keys))
	for _, k := range o.Keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		v, _ := o.Get(k)
		fn(k, v)
	}
}

// Decode turns the bytes of a JSON document into UTF-8 text as Python's
// json.loads does with bytes: a BOM or the pattern of zero bytes at the
// start tells UTF-32, UTF-16 or UTF-8 apart. Invalid sequences are kept
// or replaced rather than refused: a scanner is better lenient than blind.
func Decode(b []byte) string {
	switch {
	case hasPrefix(b, "\x00\x00\xfe\xff"):
		return utf32(b[4:], true)
	case hasPrefix(b, "\xff\xfe\x00\x00"):
		return utf32(b[4:], false)
	case hasPrefix(b, "\xfe\xff"):
		return utf16s(b[2:], true)
	case hasPrefix(b, "\xff\xfe"):
		return utf16s(b[2:], false)
	case hasPrefix(b, "\xef\xbb\xbf"):
		return string(b[3:])
	}
	switch {
	case len(b) >= 4 && b[0] == 0 && b[1] != 0:
		return utf16s(b, true)
	case len(b) >= 4 && b[0] == 0:
		return utf32(b, true)
	case len(b) >= 4 && b[1] == 0 && (b[2] != 0 || b[3] != 0):
		return utf16s(b, false)
	case len(b) >= 4 && b[1] == 0:
		return utf32(b, false)
	case len(b) == 2 && b[0] == 0:
		return utf16s(b, true)
	case len(b) == 2 && b[1] == 0:
		return utf16s(b, false)
	}
	return string(b)
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

func utf16s(b []byte, big bool) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if big {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return string(utf16.Decode(u))
}

func utf32(b []byte, big bool) string {
	var sb strings.Builder
	sb.Grow(len(b) / 4)
	for i := 0; i+4 <= len(b); i += 4 {
		var r uint32
		if big {
			r = uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		} else {
			r = uint32(b[i+3])<<24 | uint32(b[i+2])<<16 | uint32(b[i+1])<<8 | uint32(b[i])
		}
		if r > utf8.MaxRune {
			r = utf8.RuneError
		}
		sb.WriteRune(rune(r))
	}
	return sb.String()
}

// SyntaxError is a malformed document; Offset is in the decoded text.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("JSON at offset %d: %s", e.Offset, e.Msg) }

// Parse reads one JSON value from text (already decoded, see Decode). The
// result is nil, bool, Number, string, []any or *Object.
func Parse(text string) (any, error) {
	p := &parser{s: text}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i < len(p.s) {
		return nil, p.err("extra data after the document")
	}
	return v, nil
}

// ParseBytes is Parse(Decode(b)).
func ParseBytes(b []byte) (any, error) { return Parse(Decode(b)) }

type parser struct {
	s string
	i int
}

func (p *parser) err(msg string) error { return &SyntaxError{Offset: p.i, Msg: msg} }

func (p *parser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if p.i >= len(p.s) {
		return nil, p.err("unexpected end of document")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		if depth >= MaxDepth {
			return nil, ErrTooDeep
		}
		return p.object(depth)
	case c == '[':
		if depth >= MaxDepth {
			return nil, ErrTooDeep
		}
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, w := range []struct {
		lit string
		v   any
	}{{"true", true}, {"false", false}, {"null", nil}, {"NaN", Number("NaN")}, {"Infinity", Number("Infinity")}} {
		if strings.HasPrefix(p.s[p.i:], w.lit) {
			p.i += len(w.lit)
			return w.v, nil
		}
	}
	return nil, p.err(fmt.Sprintf("unexpected character %q", p.s[p.i]))
}

func (p *parser) object(depth int) (any, error) {
	o := &Object{Offset: p.i}
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return o, nil
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.err("expected a string key")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.err("expected ':'")
		}
		p.i++
		p.ws()
		at := p.i
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		o.Keys = append(o.Keys, k)
		o.Values = append(o.Values, v)
		o.Offsets = append(o.Offsets, at)
		p.ws()
		if p.i >= len(p.s) {
			return nil, p.err("unterminated object")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return o, nil
		default:
			return nil, p.err("expected ',' or '}'")
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.i++
	out := []any{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return out, nil
	}
	for {
		p.ws()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.ws()
		if p.i >= len(p.s) {
			return nil, p.err("unterminated array")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, nil
		default:
			return nil, p.err("expected ',' or ']'")
		}
	}
}

func (p *parser) number() (any, error) {
	start := p.i
	if strings.HasPrefix(p.s[p.i:], "-Infinity") {
		p.i += len("-Infinity")
		return Number("-Infinity"), nil
	}
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		j := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		return p.i - j
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, p.err("malformed number")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		save := p.i
		p.i++
		if digits() == 0 {
			p.i = save // Python stops the number before a lone '.'
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		save := p.i
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			p.i = save
		}
	}
	return Number(p.s[start:p.i]), nil
}

func (p *parser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := p.s[start:p.i]
			p.i++
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.err("control character in string")
		}
		p.i++
	}
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for {
		if p.i >= len(p.s) {
			return "", p.err("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c < 0x20:
			return "", p.err("control character in string")
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return "", p.err("unterminated string")
		}
		e := p.s[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.err("bad \\u escape")
			}
			if utf16.IsSurrogate(r) && strings.HasPrefix(p.s[p.i:], "\\u") {
				save := p.i
				p.i += 2
				if r2, ok := p.hex4(); ok && utf16.DecodeRune(r, r2) != utf8.RuneError {
					r = utf16.DecodeRune(r, r2)
				} else {
					p.i = save
				}
			}
			b.WriteRune(r)
		default:
			return "", p.err("bad escape")
		}
	}
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}

// Lines maps offsets in a text to 1-based line numbers.
type Lines []int

// NewLines indexes the line starts of text.
func NewLines(text string) Lines {
	l := Lines{0}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			l = append(l, i+1)
		}
	}
	return l
}

// Line returns the 1-based line of offset.
func (l Lines) Line(offset int) int {
	return sort.Search(len(l), func(i int) bool { return l[i] > offset })
}
