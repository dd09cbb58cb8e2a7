package pickle

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is the type of a symbolic value.
type kind uint8

const (
	kAny kind = iota // data whose content is not tracked
	kNone
	kBool
	kInt
	kFloat
	kStr
	kBytes
	kTuple
	kList
	kDict
	kSet
	kFrozenSet
	kGlobal     // an imported object
	kCall       // the result of calling something
	kObj        // an instance made by NEWOBJ / NEWOBJ_EX
	kPersistent // persistent_load(pid)
	kBuffer     // an out-of-band buffer
)

// maxKept bounds how many items of a container are remembered for evidence
// and for reading joblib array metadata. Counts are always exact.
const maxKept = 16

// value is one symbolic Python object. Plain data costs no allocation; only
// containers with items, globals and calls carry an *obj.
type value struct {
	k     kind
	trunc bool   // s holds only a prefix of the string or bytes
	keep  bool   // containers: remember the first items (see addItems)
	n     int64  // int value; full length of str/bytes; item count of containers without o
	s     string // str/bytes content (prefix)
	cid   int32  // container id + 1 (0: none), for logical-size accounting
	o     *obj
}

// obj carries the details of values that need them.
type obj struct {
	items []value // first maxKept items (dict: key, value, key, value, ...)
	count int64   // number of items
	g     *global // kGlobal, kObj: the class
	fn    *value  // kCall: the callee
	args  *value  // kCall, kObj: the arguments
	state *value  // state given by BUILD
	off   int64   // offset of the opcode that made the value
	heap  int32   // index + 1 in the VM's heap once memoised
	// latin1 marks truncated bytes folded from _codecs.encode(text, 'latin1'):
	// off and count locate the UTF-8 text in the source.
	latin1 bool
}

func (v value) isStr() bool { return v.k == kStr }

// count is the number of items of a container.
func (v value) count() int64 {
	if v.o != nil {
		return v.o.count
	}
	return v.n
}

func (v *value) setCount(n int64) {
	if v.o != nil {
		v.o.count = n
	} else {
		v.n = n
	}
}

// text renders a value as Python-like source, bounded in length and depth.
func (v value) text() string {
	var b strings.Builder
	render(&b, v, 0)
	return clip(b.String(), maxEvidence)
}

const (
	maxEvidence = 400
	maxDepth    = 4
)

func render(b *strings.Builder, v value, depth int) {
	if b.Len() > maxEvidence {
		return
	}
	if depth > 2*maxDepth {
		// Calls nest through their callee with no container in between:
		// f()()()... must not recurse once per REDUCE.
		b.WriteString("…")
		return
	}
	switch v.k {
	case kNone:
		b.WriteString("None")
	case kBool:
		if v.n != 0 {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case kInt:
		b.WriteString(strconv.FormatInt(v.n, 10))
	case kFloat:
		b.WriteString("<float>")
	case kStr:
		b.WriteString(quote(v.s, v.trunc, v.n))
	case kBytes:
		b.WriteByte('b')
		b.WriteString(quote(v.s, v.trunc, v.n))
	case kTuple, kList, kSet, kFrozenSet, kDict:
		open, close := brackets(v.k)
		if v.k == kSet && v.count() == 0 {
			b.WriteString("set()")
			return
		}
		b.WriteString(open)
		if depth >= maxDepth {
			if v.count() > 0 {
				b.WriteString("...")
			}
			b.WriteString(close)
			return
		}
		if v.o != nil {
			renderItems(b, v, depth)
		} else if v.n > 0 {
			b.WriteString("...")
		}
		if v.k == kTuple && v.count() == 1 {
			b.WriteByte(',')
		}
		b.WriteString(close)
	case kGlobal:
		b.WriteString(v.o.g.display())
	case kCall, kObj:
		if v.k == kCall {
			render(b, *v.o.fn, depth+1)
		} else {
			b.WriteString(v.o.g.display())
		}
		b.WriteByte('(')
		if v.o.args != nil && depth < maxDepth {
			a := *v.o.args
			if a.k == kTuple && a.o != nil {
				renderItems(b, a, depth)
			} else if a.k != kTuple {
				b.WriteByte('*')
				render(b, a, depth+1)
			}
		}
		b.WriteByte(')')
	case kPersistent:
		b.WriteString("<persistent id>")
	case kBuffer:
		b.WriteString("<buffer>")
	default:
		b.WriteString("<data>")
	}
}

func renderItems(b *strings.Builder, v value, depth int) {
	items := v.o.items
	if v.k == kDict {
		for i := 0; i+1 < len(items); i += 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			render(b, items[i], depth+1)
			b.WriteString(": ")
			render(b, items[i+1], depth+1)
		}
		if v.o.count > int64(len(items)/2) {
			b.WriteString(", ...")
		}
		return
	}
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		render(b, it, depth+1)
	}
	if v.o.count > int64(len(items)) {
		b.WriteString(", ...")
	}
}

// quote renders s like Python's repr, escaping anything unprintable.
func quote(s string, trunc bool, full int64) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			if r < 0x100 {
				b.WriteString(`\x` + strconv.FormatUint(uint64(r)|0x100, 16)[1:])
			} else {
				b.WriteString(`\u` + strconv.FormatUint(uint64(r)|0x10000, 16)[1:])
			}
		default:
			b.WriteRune(r)
		}
		i += size
		if b.Len() > maxEvidence {
			trunc = true
			break
		}
	}
	b.WriteByte('\'')
	if trunc {
		b.WriteString("… (" + strconv.FormatInt(full, 10) + " bytes)")
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func brackets(k kind) (string, string) {
	switch k {
	case kTuple:
		return "(", ")"
	case kList:
		return "[", "]"
	case kFrozenSet:
		return "frozenset({", "})"
	default:
		return "{", "}"
	}
}
