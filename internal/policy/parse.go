package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxSize is the size of the largest policy file Parse reads: 1 MiB.
const MaxSize = 1 << 20

// maxValues bounds the values one file may expand to through anchors and
// merge keys (a file without aliases is far below it).
const maxValues = 1 << 16

// maxMergeDepth bounds merge keys (<<) within merged mappings.
const maxMergeDepth = 8

// Parse reads one policy file, strictly: an unknown key, a value of the wrong
// type, a missing or unsupported version, an unknown rule id, severity or
// built-in name, an invalid glob, date, sha256, purl, pickle global or SPDX
// id, a waiver without a reason or with not exactly one target, a bad
// custom rule or a CEL expression that does not compile is an error. Every
// problem is reported, as Errors, each naming source, line and key. The
// policy returned is not resolved: see Resolve.
//
// Parse normalises what it accepts: licences take the SPDX list's spelling
// and sha256 digests lower case.
func Parse(source string, data []byte) (*Policy, error) {
	d := &decoder{source: source, data: data, at: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}, bad: map[string]bool{}, seen: map[string]bool{}}
	p := d.parse()
	if errs := d.result(); errs != nil {
		return nil, errs
	}
	p.Source = source
	return p, nil
}

// decoder walks the YAML nodes into a Policy by the struct's yaml tags,
// recording where every key path is written.
type decoder struct {
	source  string
	data    []byte
	lines   [][]byte              // data split in lines, on demand
	at      map[string]*yaml.Node // key path -> the value written there
	keys    map[string]*yaml.Node // key path -> its key, for map entries
	bad     map[string]bool       // key paths whose value was already reported
	seen    map[string]bool       // error texts, so that an alias used twice is reported once
	errs    Errors
	dropped int
	values  int
}

func (d *decoder) errorf(line int, key, format string, args ...any) {
	if key != "" {
		d.bad[key] = true
	}
	e := &Error{Source: d.source, Line: max(line, 1), Key: key, Msg: fmt.Sprintf(format, args...)}
	text := e.Error()
	if d.seen[text] {
		return
	}
	d.seen[text] = true
	if len(d.errs) >= maxErrors {
		d.dropped++
		return
	}
	d.errs = append(d.errs, e)
}

// result returns the errors in line order, or nil.
func (d *decoder) result() error {
	if len(d.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(d.errs, func(a, b *Error) int { return a.Line - b.Line })
	if d.dropped > 0 {
		last := d.errs[len(d.errs)-1]
		d.errs = append(d.errs, &Error{Source: d.source, Line: last.Line, Msg: fmt.Sprintf("and %d more errors", d.dropped)})
	}
	return d.errs
}

func (d *decoder) parse() *Policy {
	if len(d.data) > MaxSize {
		d.errorf(1, "", "the file is %d bytes, more than the %d a policy may have", len(d.data), MaxSize)
		return nil
	}
	if line, msg := checkText(d.data); msg != "" {
		d.errorf(line, "", "%s", msg)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(d.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		d.yamlError(err)
		return nil
	} else if err == nil {
		var next yaml.Node
		switch err := dec.Decode(&next); {
		case errors.Is(err, io.EOF):
		case err != nil:
			d.yamlError(err)
			return nil
		default:
			d.errorf(next.Line, "", "a second YAML document: a policy file holds one")
			return nil
		}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind == yaml.DocumentNode || root.Kind == 0 || isNull(root) {
		root = &yaml.Node{Kind: yaml.MappingNode, Line: 1} // an empty file: version is missing
	}
	if root.Kind != yaml.MappingNode {
		d.errorf(root.Line, "", "want a mapping of keys at the top of the file, got %s", describe(root))
		return nil
	}
	p := &Policy{}
	d.value("", root, reflect.ValueOf(p).Elem())
	d.validate(p)
	return p
}

var (
	yamlLine      = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	unknownAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// yamlError reports an error of the YAML parser, with its line: the one it
// gives, else for an unknown anchor the first line naming it, else 1.
func (d *decoder) yamlError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.errorf(line, "", "invalid YAML: %s", m[2])
		return
	}
	line := 1
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(d.data, []byte("*"+m[1])); i >= 0 {
			line += bytes.Count(d.data[:i], []byte("\n"))
		}
	}
	d.errorf(line, "", "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// checkText finds what the YAML parser would refuse without a line: bytes
// that are not UTF-8 and control characters.
func checkText(data []byte) (line int, msg string) {
	line = 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return line, "not UTF-8 text"
		case r == '\n':
			line++
		case r == '\t' || r == '\r' || r == 0x85 || (r == 0xFEFF && i == 0):
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r <= 0x9F) || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF:
			return line, fmt.Sprintf("control character %U: a policy file is plain text", r)
		}
		i += size
	}
	return 0, ""
}

var dateType = reflect.TypeFor[Date]()

// value decodes n into v, recording it at path; it reports whether the
// value was well typed.
func (d *decoder) value(path string, n *yaml.Node, v reflect.Value) bool {
	n = deref(n)
	d.at[path] = n
	if !d.count(n, path) {
		return false
	}
	if !d.tagOK(path, n) {
		return false
	}
	t := v.Type()
	if t == dateType {
		s, ok := d.scalar(path, n, "a date (YYYY-MM-DD)")
		if !ok {
			return false
		}
		date, err := ParseDate(s)
		if err != nil {
			d.errorf(n.Line, path, "%v", err)
			return false
		}
		v.Set(reflect.ValueOf(date))
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		return d.structure(path, n, v)
	case reflect.Map:
		return d.dict(path, n, v)
	case reflect.Slice:
		return d.list(path, n, v)
	case reflect.Pointer:
		e := reflect.New(t.Elem())
		if !d.value(path, n, e.Elem()) {
			return false
		}
		v.Set(e)
		return true
	case reflect.String:
		s, ok := d.scalar(path, n, "a string")
		if ok {
			v.SetString(s)
		}
		return ok
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			d.errorf(n.Line, path, "want an integer, got %s", describe(n))
			return false
		}
		var i int64
		if err := n.Decode(&i); err != nil || i > math.MaxInt32 || i < math.MinInt32 {
			d.errorf(n.Line, path, "%s is out of range", n.Value)
			return false
		}
		v.SetInt(i)
		return true
	case reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorf(n.Line, path, "want a number, got %s", describe(n))
			return false
		}
		v.SetFloat(f)
		return true
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.errorf(n.Line, path, "want true or false, got %s", describe(n))
			return false
		}
		v.SetBool(b)
		return true
	}
	panic("policy: no YAML decoding for " + t.String()) // a schema type without a case: the tests catch it
}

// tagOK refuses explicit tags other than YAML's core ones.
func (d *decoder) tagOK(path string, n *yaml.Node) bool {
	switch n.Tag {
	case "", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!map", "!!seq":
		return true
	}
	if !strings.HasPrefix(n.Tag, "!!") {
		d.errorf(n.Line, path, "%s is read as a YAML tag: quote a value that starts with ! (or write it in a block, |)", n.Tag)
		return false
	}
	d.errorf(n.Line, path, "the tag %s is not allowed in a policy", n.Tag)
	return false
}

// scalar returns n's text when n is a scalar other than null.
func (d *decoder) scalar(path string, n *yaml.Node, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.errorf(n.Line, path, "want %s, got %s", want, describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) structure(path string, n *yaml.Node, v reflect.Value) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "want a mapping, got %s", describe(n))
		return false
	}
	fields := yamlFields(v.Type())
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	ok := true
	for _, kv := range d.pairs(path, n, 0) {
		kp := join(path, kv.key.Value)
		i := slices.IndexFunc(fields, func(f field) bool { return f.name == kv.key.Value })
		if i < 0 {
			d.errorf(kv.key.Line, kp, "unknown key (%s)", hintOr(kv.key.Value, names, "known keys: "+strings.Join(names, ", ")))
			ok = false
			continue
		}
		d.keys[kp] = kv.key
		ok = d.value(kp, kv.val, v.Field(fields[i].index)) && ok
	}
	if f := v.FieldByName("Line"); f.IsValid() && f.Kind() == reflect.Int {
		f.SetInt(int64(n.Line))
	}
	if f := v.FieldByName("Source"); f.IsValid() && f.Kind() == reflect.String {
		f.SetString(d.source)
	}
	return ok
}

func (d *decoder) dict(path string, n *yaml.Node, v reflect.Value) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "want a mapping, got %s", describe(n))
		return false
	}
	t := v.Type()
	m := reflect.MakeMap(t)
	ok := true
	for _, kv := range d.pairs(path, n, 0) {
		kp := join(path, kv.key.Value)
		d.keys[kp] = kv.key
		e := reflect.New(t.Elem()).Elem()
		ok = d.value(kp, kv.val, e) && ok
		m.SetMapIndex(reflect.ValueOf(kv.key.Value), e)
	}
	v.Set(m)
	return ok
}

func (d *decoder) list(path string, n *yaml.Node, v reflect.Value) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "want a list, got %s", describe(n))
		return false
	}
	t := v.Type()
	s := reflect.MakeSlice(t, 0, len(n.Content))
	ok := true
	for i, item := range n.Content {
		e := reflect.New(t.Elem()).Elem()
		ok = d.value(fmt.Sprintf("%s[%d]", path, i), item, e) && ok
		s = reflect.Append(s, e)
	}
	v.Set(s)
	return ok
}

// count counts one more value or key read, and reports whether the file
// is still within maxValues (the first time past it is an error).
func (d *decoder) count(n *yaml.Node, path string) bool {
	if d.values++; d.values <= maxValues {
		return true
	}
	if d.values == maxValues+1 {
		d.errorf(n.Line, path, "the file expands to more than %d values through aliases and merge keys", maxValues)
	}
	return false
}

type pair struct{ key, val *yaml.Node }

// pairs returns a mapping's keys and values: its own first, then those
// merge keys (<<) bring that it does not set. A duplicate key or a key that
// is not a scalar is an error. depth counts the merges that led here.
func (d *decoder) pairs(path string, n *yaml.Node, depth int) []pair {
	var out, merged []pair
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if !d.count(k, path) {
			return nil
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "a key must be a string, got %s", describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			merged = append(merged, d.merge(path, v, depth+1)...)
			continue
		}
		if f, dup := first[k.Value]; dup {
			d.errorf(k.Line, join(path, k.Value), "duplicate key (first at line %d)", f.Line)
			continue
		}
		first[k.Value] = k
		out = append(out, pair{k, v})
	}
	for _, p := range merged {
		if _, set := first[p.key.Value]; !set {
			first[p.key.Value] = p.key
			out = append(out, p)
		}
	}
	return out
}

// merge returns the pairs a merge key's value brings: a mapping, or a list
// of mappings (the first one setting a key wins).
func (d *decoder) merge(path string, v *yaml.Node, depth int) []pair {
	v = deref(v)
	if !d.count(v, path) {
		return nil
	}
	if depth > maxMergeDepth {
		d.errorf(v.Line, path, "merge keys (<<) nest more than %d deep", maxMergeDepth)
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(path, v, depth)
	case yaml.SequenceNode:
		var out []pair
		for _, m := range v.Content {
			if m = deref(m); m.Kind != yaml.MappingNode {
				d.errorf(m.Line, path, "a merge key (<<) takes mappings, got %s", describe(m))
				continue
			}
			out = append(out, d.pairs(path, m, depth)...)
		}
		return out
	}
	d.errorf(v.Line, path, "a merge key (<<) takes a mapping, got %s", describe(v))
	return nil
}

// field is a struct field by its yaml key.
type field struct {
	name  string
	index int
}

// yamlFields lists the keys of a schema struct, in order.
func yamlFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		out = append(out, field{name, i})
	}
	return out
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// describe names a value in an error: `"text"`, 12, true, a list.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "no value"
		case "!!int", "!!float", "!!bool":
			return clip(n.Value)
		}
		return quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// quote quotes text from the file for a message, shortened.
func quote(s string) string { return strconv.Quote(clip(s)) }

func clip(s string) string {
	const maxLen = 60
	if utf8.RuneCountInString(s) <= maxLen {
		return s
	}
	r := []rune(s)
	return string(r[:maxLen]) + "…"
}

// join appends a key to a key path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
