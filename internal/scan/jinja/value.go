package jinja

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// val is what the analysis knows about an expression's value at render
// time: a few possible strings, integers or one list it certainly is, and
// whether it may also be something else (open). Strings are what matter:
// an attribute name built from constants ('__cla' ~ 'ss__') is folded to
// the name it spells.
type val struct {
	strs  []string
	ints  []int64
	items []val // a known list or tuple (or a dict's keys); valid if list
	list  bool
	open  bool // other, unknown values are possible
	typ   vtype
	// derived marks a string assembled at render time (indexing or slicing
	// a string, joining, formatting, concatenating with unknown parts):
	// when its value is unknown and it is used as an attribute name, the
	// name was hidden on purpose.
	derived bool
}

type vtype uint8

// The type of a val's unknown part.
const (
	anyT vtype = iota
	strT
	listT
	numT
)

// Folding limits: values that would break them become unknown.
const (
	maxVals    = 16       // possible values tracked per expression
	maxItems   = 64       // items of a known list
	maxStrLen  = 64 << 10 // one string
	passBudget = 32 << 20 // bytes of strings built in one pass
)

func unknown(t vtype) val      { return val{open: true, typ: t} }
func strVal(s ...string) val   { return val{strs: s} }
func derivedStr() val          { return val{open: true, typ: strT, derived: true} }
func (v val) single() bool     { return !v.open && !v.list && len(v.strs)+len(v.ints) == 1 }
func (v val) isStr() bool      { return len(v.strs) > 0 || v.open && v.typ == strT }
func (v val) known() bool      { return len(v.strs) > 0 || len(v.ints) > 0 || v.list }
func (v val) onlyStrs() bool   { return !v.open && !v.list && len(v.ints) == 0 && len(v.strs) > 0 }
func (v val) withDerived() val { v.derived = true; return v }

// union is the value of an expression that is either a or b.
func union(a, b val) val {
	out := val{open: a.open || b.open, derived: a.derived || b.derived}
	switch {
	case a.open && b.open && a.typ != b.typ:
		out.typ = anyT
	case a.open:
		out.typ = a.typ
	default:
		out.typ = b.typ
	}
	out.strs = mergeStrs(a.strs, b.strs)
	out.ints = mergeInts(a.ints, b.ints)
	switch {
	case a.list && b.list:
		if equalVals(a.items, b.items) {
			out.items, out.list = a.items, true
		} else {
			out = widen(out, listT)
		}
	case a.list:
		out.items, out.list = a.items, true
	case b.list:
		out.items, out.list = b.items, true
	}
	if len(out.strs) > maxVals {
		out.strs = nil
		out = widen(out, strT)
	}
	if len(out.ints) > maxVals {
		out.ints = nil
		out = widen(out, numT)
	}
	return out
}

// widen adds an unknown value of type t.
func widen(v val, t vtype) val {
	if v.open && v.typ != t {
		v.typ = anyT
	} else {
		v.typ = t
	}
	v.open = true
	return v
}

func mergeStrs(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func mergeInts(a, b []int64) []int64 {
	if len(b) == 0 {
		return a
	}
	out := slices.Clone(a)
	for _, n := range b {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func equalVals(a, b []val) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameVal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// sameVal compares two values for the fixpoint iteration.
func sameVal(a, b val) bool {
	return a.open == b.open && a.typ == b.typ && a.derived == b.derived && a.list == b.list &&
		slices.Equal(a.strs, b.strs) && slices.Equal(a.ints, b.ints) && equalVals(a.items, b.items)
}

// texts are the strings a value prints as (str() of strings and integers);
// ok is false when some are unknown.
func (v val) texts() ([]string, bool) {
	out := slices.Clone(v.strs)
	for _, n := range v.ints {
		out = append(out, strconv.FormatInt(n, 10))
	}
	return out, !v.open && !v.list
}

// folder builds strings within a byte budget shared by one analysis pass.
type folder struct {
	budget int
	spent  bool // the budget ran out: some values were given up
}

// keep admits s, charging it to the budget; false means it is too long.
func (f *folder) keep(s string) bool {
	if len(s) > maxStrLen || len(s) > f.budget {
		f.spent = f.spent || len(s) > f.budget
		return false
	}
	f.budget -= len(s)
	return true
}

// product applies op to every pair of a's and b's strings.
func (f *folder) product(a, b []string, op func(x, y string) (string, bool)) ([]string, bool) {
	if len(a)*len(b) > maxVals*4 {
		return nil, false
	}
	var out []string
	for _, x := range a {
		for _, y := range b {
			s, ok := op(x, y)
			if !ok || !f.keep(s) {
				return nil, false
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	if len(out) > maxVals {
		return nil, false
	}
	return out, true
}

// concat is a ~ b: both printed and joined.
func (f *folder) concat(a, b val) val {
	at, aok := a.texts()
	bt, bok := b.texts()
	out := val{derived: a.derived || b.derived || a.open || b.open}
	if aok && bok {
		if s, ok := f.product(at, bt, func(x, y string) (string, bool) { return x + y, true }); ok {
			out.strs = s
			return out
		}
	}
	out.open, out.typ, out.derived = true, strT, true
	return out
}

// mapStr applies fn to each string of v (a filter or method on a string).
// Strings stay derived if v was; set derive for operations that can
// assemble a name out of pieces.
func (f *folder) mapStr(v val, derive bool, fn func(string) (string, bool)) val {
	out := val{derived: v.derived || derive && v.open}
	if v.open || v.list || len(v.ints) > 0 {
		out.open, out.typ = true, strT
	}
	for _, s := range v.strs {
		r, ok := fn(s)
		if !ok || !f.keep(r) {
			out.open, out.typ = true, strT
			out.derived = out.derived || derive
			continue
		}
		if !slices.Contains(out.strs, r) {
			out.strs = append(out.strs, r)
		}
	}
	return out
}

// index is s[i] for a string (a character, as Python indexes code points).
func index(s string, i int64) (string, bool) {
	r := []rune(s)
	if i < 0 {
		i += int64(len(r))
	}
	if i < 0 || i >= int64(len(r)) {
		return "", false
	}
	return string(r[i]), true
}

// slice is Python's s[start:stop:step] on code points; nil bounds are omitted.
func slice(s string, start, stop, step *int64) (string, bool) {
	r := []rune(s)
	n := int64(len(r))
	st := int64(1)
	if step != nil {
		st = *step
	}
	if st == 0 {
		return "", false
	}
	clamp := func(p *int64, def int64, lo, hi int64) int64 {
		if p == nil {
			return def
		}
		x := *p
		if x < 0 {
			x += n
			if x < lo {
				x = lo
			}
		} else if x > hi {
			x = hi
		}
		return x
	}
	var b strings.Builder
	if st > 0 {
		i, j := clamp(start, 0, 0, n), clamp(stop, n, 0, n)
		for i < j {
			b.WriteRune(r[i])
			if st > j-i {
				break
			}
			i += st
		}
	} else {
		i, j := clamp(start, n-1, -1, n-1), clamp(stop, -1, -1, n-1)
		for i > j {
			b.WriteRune(r[i])
			if st <= -(i - j) {
				break
			}
			i += st
		}
	}
	return b.String(), true
}

// percent is Python's printf-style fmt % args for the conversions that
// can spell a name: %s %r %a %c %d %i %u %x %o and %%.
func percent(format string, args []val, named map[string]val) (string, bool) {
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return "", false
		}
		var arg val
		haveArg := false
		if format[i] == '(' {
			j := strings.IndexByte(format[i:], ')')
			if j < 0 {
				return "", false
			}
			a, ok := named[format[i+1:i+j]]
			if !ok {
				return "", false
			}
			arg, haveArg = a, true
			i += j + 1
		}
		// flags, width and precision are not worth modelling
		for i < len(format) && strings.IndexByte("#0- +123456789.", format[i]) >= 0 {
			i++
		}
		if i >= len(format) {
			return "", false
		}
		conv := format[i]
		if conv == '%' {
			b.WriteByte('%')
			continue
		}
		if !haveArg {
			if next >= len(args) {
				return "", false
			}
			arg = args[next]
			next++
		}
		s, ok := convert(arg, conv)
		if !ok {
			return "", false
		}
		b.WriteString(s)
	}
	return b.String(), next == len(args) || len(named) > 0
}

// convert formats one single-valued argument as the conversion c does.
func convert(v val, c byte) (string, bool) {
	if !v.single() {
		return "", false
	}
	switch c {
	case 's', 'r', 'a':
		if len(v.strs) == 1 {
			if c == 's' {
				return v.strs[0], true
			}
			return "'" + v.strs[0] + "'", true
		}
		return strconv.FormatInt(v.ints[0], 10), true
	case 'c':
		if len(v.ints) == 1 && v.ints[0] >= 0 && v.ints[0] <= unicode.MaxRune {
			return string(rune(v.ints[0])), true
		}
		if len(v.strs) == 1 && utf8.RuneCountInString(v.strs[0]) == 1 {
			return v.strs[0], true
		}
	case 'd', 'i', 'u':
		if len(v.ints) == 1 {
			return strconv.FormatInt(v.ints[0], 10), true
		}
	case 'x', 'X', 'o', 'b':
		if len(v.ints) == 1 {
			base := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'b': 2}[c]
			s := strconv.FormatInt(v.ints[0], base)
			if c == 'X' {
				s = strings.ToUpper(s)
			}
			return s, true
		}
	}
	return "", false
}

// formatField is one replacement field of str.format: the argument it
// names and the attribute names it looks up on the way ("0.__class__").
type formatField struct {
	arg   string
	attrs []string
	spec  string
}

// strFormat is Python's str.format. It returns the fields, which the
// analysis checks for attribute access, and the result when every
// argument is known.
func strFormat(format string, args []val, named map[string]val) ([]formatField, string, bool) {
	var fields []formatField
	var b strings.Builder
	ok := true
	auto := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c == '}' {
			if i+1 < len(format) && format[i+1] == '}' {
				i++
			}
			b.WriteByte('}')
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(format) && format[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		j := strings.IndexByte(format[i:], '}')
		if j < 0 {
			return fields, "", false
		}
		body := format[i+1 : i+j]
		i += j
		f := formatField{}
		if k := strings.IndexByte(body, ':'); k >= 0 {
			body, f.spec = body[:k], body[k+1:]
		}
		if k := strings.IndexByte(body, '!'); k >= 0 {
			body = body[:k]
		}
		// arg_name then .attr or [key] parts
		k := strings.IndexAny(body, ".[")
		if k < 0 {
			k = len(body)
		}
		f.arg = body[:k]
		for rest := body[k:]; rest != ""; {
			if rest[0] == '.' {
				e := strings.IndexAny(rest[1:], ".[")
				if e < 0 {
					e = len(rest) - 1
				}
				f.attrs = append(f.attrs, rest[1:1+e])
				rest = rest[1+e:]
				continue
			}
			if rest[0] != '[' {
				ok = false // Python: only '.' or '[' may follow ']'
				break
			}
			e := strings.IndexByte(rest, ']')
			if e < 0 {
				f.attrs = append(f.attrs, rest[1:])
				break
			}
			f.attrs = append(f.attrs, rest[1:e])
			rest = rest[e+1:]
		}
		fields = append(fields, f)
		if !ok || len(f.attrs) > 0 {
			ok = false
			continue
		}
		var arg val
		switch n, err := strconv.Atoi(f.arg); {
		case f.arg == "":
			if auto >= len(args) {
				ok = false
				continue
			}
			arg = args[auto]
			auto++
		case err == nil:
			if n >= len(args) {
				ok = false
				continue
			}
			arg = args[n]
		default:
			a, found := named[f.arg]
			if !found {
				ok = false
				continue
			}
			arg = a
		}
		conv := byte('s')
		switch spec := strings.TrimLeft(f.spec, "<>=^+- #0123456789,_."); {
		case spec == "":
			if len(arg.ints) == 1 {
				conv = 'd'
			}
		default:
			conv = spec[len(spec)-1]
		}
		s, good := convert(arg, conv)
		if !good {
			ok = false
			continue
		}
		b.WriteString(s)
	}
	return fields, b.String(), ok
}

// pyTitle is str.title(): words start upper case, the rest lower.
func pyTitle(s string) string {
	var b strings.Builder
	prev := false
	for _, r := range s {
		if unicode.IsLetter(r) {
			if prev {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteRune(unicode.ToUpper(r))
			}
			prev = true
			continue
		}
		prev = false
		b.WriteRune(r)
	}
	return b.String()
}

func pyCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + strings.ToLower(s[n:])
}

func pySwapcase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

func reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}
