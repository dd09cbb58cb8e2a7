package jinja

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lexer follows jinja2/lexer.py (Jinja 3.1) with the default delimiters
// and no line statements, which is how transformers, llama-cpp-python and
// vLLM configure the environment that renders chat templates. Template data
// is kept as it is: whitespace control changes the output, not the code.

type tokKind uint8

const (
	tEOF tokKind = iota
	tData
	tVarBegin
	tVarEnd
	tBlockBegin
	tBlockEnd
	tName
	tString
	tInt
	tFloat
	tOp
)

func (k tokKind) String() string {
	return [...]string{"end of template", "template data", "'{{'", "'}}'", "'{%'", "'%}'", "name", "string", "integer", "float", "operator"}[k]
}

type token struct {
	kind tokKind
	val  string // name, operator, decoded string, data, integer text
	pos  int    // byte offset in the template
	line int    // 1-based
	// opaque marks a string literal holding an escape this package cannot
	// decode (a \N{...} name outside the small table below): its value is
	// not known.
	opaque bool
}

func (t token) String() string {
	switch t.kind {
	case tName, tOp:
		return strconv.Quote(t.val)
	}
	return t.kind.String()
}

// syntaxError is a template the lexer or parser rejects.
type syntaxError struct {
	pos, line int
	msg       string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// operators, longest first so that "**" wins over "*".
var operators = []string{
	"//", "**", "==", "!=", ">=", "<=",
	"+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";",
}

type lexer struct {
	src   string
	pos   int
	line  int
	toks  []token
	limit int // most tokens
}

// lex splits src, whose line breaks are normalised (see normalize), into
// tokens. Comments are dropped; {% raw %} bodies become data.
func lex(src string, maxTokens int) ([]token, error) {
	l := &lexer{src: src, line: 1, limit: maxTokens}
	if err := l.root(); err != nil {
		return l.toks, err
	}
	l.toks = append(l.toks, token{kind: tEOF, pos: len(src), line: l.line})
	return l.toks, nil
}

// normalize turns \r\n and \r into \n, as Jinja does before lexing. It
// returns the offsets, in the result, where a \r\n became \n, so that
// offsets can be mapped back to the original text.
func normalize(src string) (string, []int) {
	if strings.IndexByte(src, '\r') < 0 {
		return src, nil
	}
	var b strings.Builder
	var collapsed []int
	for i := 0; i < len(src); i++ {
		if src[i] != '\r' {
			b.WriteByte(src[i])
			continue
		}
		if i+1 < len(src) && src[i+1] == '\n' {
			collapsed = append(collapsed, b.Len())
			i++
		}
		b.WriteByte('\n')
	}
	return b.String(), collapsed
}

// original maps an offset in normalize's result back to the source.
func original(off int, collapsed []int) int {
	n, _ := slices.BinarySearch(collapsed, off)
	return off + n
}

func (l *lexer) errf(format string, args ...any) error {
	return &syntaxError{pos: l.pos, line: l.line, msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) emit(t token) error {
	if len(l.toks) >= l.limit {
		return l.errf("more than %d tokens", l.limit)
	}
	l.toks = append(l.toks, t)
	return nil
}

// advance moves to p, counting lines.
func (l *lexer) advance(p int) {
	l.line += strings.Count(l.src[l.pos:p], "\n")
	l.pos = p
}

// root reads template data up to the next tag, then the tag.
func (l *lexer) root() error {
	for l.pos < len(l.src) {
		start := -1
		for j := l.pos; j < len(l.src); j++ {
			k := strings.IndexByte(l.src[j:], '{')
			if k < 0 {
				break
			}
			j += k
			if j+1 < len(l.src) && strings.IndexByte("{%#", l.src[j+1]) >= 0 {
				start = j
				break
			}
		}
		if start < 0 {
			if err := l.emit(token{kind: tData, val: l.src[l.pos:], pos: l.pos, line: l.line}); err != nil {
				return err
			}
			l.advance(len(l.src))
			return nil
		}
		if start > l.pos {
			if err := l.emit(token{kind: tData, val: l.src[l.pos:start], pos: l.pos, line: l.line}); err != nil {
				return err
			}
			l.advance(start)
		}
		var err error
		switch l.src[start+1] {
		case '#':
			err = l.comment()
		case '{':
			err = l.tag(tVarBegin)
		case '%':
			if end, body, ok := l.raw(); ok {
				if body.val != "" {
					err = l.emit(body)
				}
				l.advance(end)
			} else {
				err = l.tag(tBlockBegin)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// comment skips {# ... #}.
func (l *lexer) comment() error {
	end := strings.Index(l.src[l.pos+2:], "#}")
	if p := l.pos + 2; end < 0 && (p == len(l.src) || p+1 == len(l.src) && strings.IndexByte("-+", l.src[p]) >= 0) {
		// Jinja's failure rule needs a character: "{#" ending the template is accepted.
		l.advance(len(l.src))
		return nil
	}
	if end < 0 {
		return l.errf("missing end of comment tag")
	}
	l.advance(l.pos + 2 + end + 2)
	return nil
}

// raw recognises {% raw %}...{% endraw %} at l.pos (with -/+ whitespace
// control) and returns the end of the whole construct and its body as data.
func (l *lexer) raw() (int, token, bool) {
	p := l.pos + 2
	if p < len(l.src) && (l.src[p] == '-' || l.src[p] == '+') {
		p++
	}
	p = skipSpace(l.src, p)
	if !strings.HasPrefix(l.src[p:], "raw") {
		return 0, token{}, false
	}
	p = skipSpace(l.src, p+3)
	if strings.HasPrefix(l.src[p:], "-%}") {
		p += 3
	} else if strings.HasPrefix(l.src[p:], "%}") {
		p += 2
	} else {
		return 0, token{}, false
	}
	body := p
	for q := p; q < len(l.src); {
		i := strings.Index(l.src[q:], "{%")
		if i < 0 {
			break
		}
		s := q + i
		r := s + 2
		if r < len(l.src) && strings.IndexByte("-+", l.src[r]) >= 0 {
			r++
		}
		r = skipSpace(l.src, r)
		if strings.HasPrefix(l.src[r:], "endraw") {
			r = skipSpace(l.src, r+6)
			for _, end := range []string{"+%}", "-%}", "%}"} {
				if strings.HasPrefix(l.src[r:], end) {
					return r + len(end), token{kind: tData, val: l.src[body:s], pos: body, line: l.line + strings.Count(l.src[l.pos:body], "\n")}, true
				}
			}
		}
		q = s + 2
	}
	if body == len(l.src) {
		return body, token{kind: tData}, true // as with comments, nothing left is no error
	}
	// "Missing end of raw directive": let tag() report it as an unknown tag.
	return 0, token{}, false
}

func skipSpace(s string, p int) int {
	for p < len(s) {
		r, n := utf8.DecodeRuneInString(s[p:])
		if !unicode.IsSpace(r) {
			break
		}
		p += n
	}
	return p
}

// tag reads the tokens of a {{ ... }} or {% ... %} tag, opening at l.pos.
func (l *lexer) tag(begin tokKind) error {
	if err := l.emit(token{kind: begin, pos: l.pos, line: l.line}); err != nil {
		return err
	}
	p := l.pos + 2
	if p < len(l.src) && (l.src[p] == '-' || l.src[p] == '+') {
		p++
	}
	l.advance(p)
	endKind, end := tVarEnd, "}}"
	if begin == tBlockBegin {
		endKind, end = tBlockEnd, "%}"
	}
	var balance []byte
	for {
		if l.pos >= len(l.src) {
			return l.errf("unexpected end of template, expected %q", end)
		}
		rest := l.src[l.pos:]
		if len(balance) == 0 {
			if strings.HasPrefix(rest, end) || (rest[0] == '-' || rest[0] == '+' && begin == tBlockBegin) && strings.HasPrefix(rest[1:], end) {
				n := len(end)
				if rest[0] != end[0] {
					n++
				}
				if err := l.emit(token{kind: endKind, pos: l.pos, line: l.line}); err != nil {
					return err
				}
				l.advance(l.pos + n)
				return nil
			}
		}
		r, size := utf8.DecodeRuneInString(rest)
		switch {
		case unicode.IsSpace(r):
			l.advance(l.pos + size)
		case r >= '0' && r <= '9':
			if err := l.number(); err != nil {
				return err
			}
		case r == '_' || unicode.IsLetter(r) || unicode.Is(unicode.Other_ID_Start, r):
			q := l.pos + size
			for q < len(l.src) {
				r, n := utf8.DecodeRuneInString(l.src[q:])
				if !isIdentContinue(r) {
					break
				}
				q += n
			}
			if err := l.emit(token{kind: tName, val: l.src[l.pos:q], pos: l.pos, line: l.line}); err != nil {
				return err
			}
			l.advance(q)
		case r == '\'' || r == '"':
			if err := l.str(); err != nil {
				return err
			}
		default:
			op := ""
			for _, o := range operators {
				if strings.HasPrefix(rest, o) {
					op = o
					break
				}
			}
			if op == "" {
				return l.errf("unexpected char %q", r)
			}
			switch op {
			case "(", "[", "{":
				if len(balance) >= maxNesting {
					return l.errf("brackets nested more than %d deep", maxNesting)
				}
				balance = append(balance, map[string]byte{"(": ')', "[": ']', "{": '}'}[op])
			case ")", "]", "}":
				if len(balance) == 0 {
					return l.errf("unexpected %q", op)
				}
				if want := balance[len(balance)-1]; want != op[0] {
					return l.errf("unexpected %q, expected %q", op, want)
				}
				balance = balance[:len(balance)-1]
			}
			if err := l.emit(token{kind: tOp, val: op, pos: l.pos, line: l.line}); err != nil {
				return err
			}
			l.advance(l.pos + len(op))
		}
	}
}

func isIdentContinue(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc, unicode.Nl, unicode.Other_ID_Start, unicode.Other_ID_Continue)
}

// number reads an integer or float as Jinja's float_re and integer_re do.
func (l *lexer) number() error {
	s := l.src[l.pos:]
	digits := func(i int, ok func(byte) bool) int { // (_?d)* after a first digit
		for i < len(s) {
			if ok(s[i]) {
				i++
			} else if s[i] == '_' && i+1 < len(s) && ok(s[i+1]) {
				i += 2
			} else {
				break
			}
		}
		return i
	}
	dec := func(c byte) bool { return c >= '0' && c <= '9' }
	// float: digits, then a fraction and/or an exponent.
	i := digits(1, dec)
	f := i
	afterDot := l.pos > 0 && l.src[l.pos-1] == '.' // float_re's (?<!\.)
	if !afterDot && f+1 < len(s) && s[f] == '.' && dec(s[f+1]) {
		f = digits(f+2, dec)
	}
	if !afterDot && f < len(s) && (s[f] == 'e' || s[f] == 'E') {
		g := f + 1
		if g < len(s) && (s[g] == '+' || s[g] == '-') {
			g++
		}
		if g < len(s) && dec(s[g]) {
			f = digits(g+1, dec)
		}
	}
	if f > i {
		return l.emitNum(tFloat, f)
	}
	// integer
	if s[0] == '0' && len(s) > 1 {
		base := map[byte]func(byte) bool{
			'b': func(c byte) bool { return c == '0' || c == '1' },
			'o': func(c byte) bool { return c >= '0' && c <= '7' },
			'x': func(c byte) bool { return dec(c) || c|0x20 >= 'a' && c|0x20 <= 'f' },
		}[s[1]|0x20]
		if base != nil {
			j := 2
			if j < len(s) && s[j] == '_' {
				j++
			}
			if j < len(s) && base(s[j]) {
				return l.emitNum(tInt, digits(j+1, base))
			}
		}
		return l.emitNum(tInt, digits(1, func(c byte) bool { return c == '0' }))
	}
	return l.emitNum(tInt, i)
}

func (l *lexer) emitNum(k tokKind, end int) error {
	if err := l.emit(token{kind: k, val: strings.ReplaceAll(l.src[l.pos:l.pos+end], "_", ""), pos: l.pos, line: l.line}); err != nil {
		return err
	}
	l.advance(l.pos + end)
	return nil
}

// str reads a quoted string and decodes it as Jinja does: Python's
// unicode-escape codec applied to the text with non-ASCII characters kept.
func (l *lexer) str() error {
	q := l.src[l.pos]
	i := l.pos + 1
	for i < len(l.src) && l.src[i] != q {
		if l.src[i] == '\\' {
			i++
		}
		i++
	}
	if i >= len(l.src) {
		return l.errf("unterminated string")
	}
	val, opaque, err := unescape(l.src[l.pos+1 : i])
	if err != nil {
		return l.errf("%v", err)
	}
	if err := l.emit(token{kind: tString, val: val, pos: l.pos, line: l.line, opaque: opaque}); err != nil {
		return err
	}
	l.advance(i + 1)
	return nil
}

// unescape decodes Python's escapes. A \N{NAME} outside the table below
// makes the value opaque rather than an error: Python knows every Unicode
// name, this package knows only the ones an attribute name can be spelt with.
func unescape(s string) (string, bool, error) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, false, nil
	}
	var b strings.Builder
	opaque := false
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", false, fmt.Errorf("\\ at end of string")
		}
		e := s[i+1]
		i += 2
		switch e {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'a':
			b.WriteByte('\a')
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
		case 'v':
			b.WriteByte('\v')
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+n > len(s) {
				return "", false, fmt.Errorf("truncated \\%cXX escape", e)
			}
			v, err := strconv.ParseUint(s[i:i+n], 16, 32)
			if err != nil || strings.ContainsAny(s[i:i+n], "+-_") {
				return "", false, fmt.Errorf("truncated \\%cXX escape", e)
			}
			if v > unicode.MaxRune {
				return "", false, fmt.Errorf("illegal Unicode character")
			}
			b.WriteRune(rune(v))
			i += n
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j < i+2 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i-1:j], 8, 32)
			b.WriteRune(rune(v))
			i = j
		case 'N':
			if i >= len(s) || s[i] != '{' {
				return "", false, fmt.Errorf("malformed \\N character escape")
			}
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return "", false, fmt.Errorf("malformed \\N character escape")
			}
			if r, ok := unicodeName(s[i+1 : i+j]); ok {
				b.WriteRune(r)
			} else {
				opaque = true
			}
			i += j + 1
		default:
			if e >= utf8.RuneSelf {
				// backslashreplace turns the character into \xhh, \uhhhh or
				// \Uhhhhhhhh first, so the backslash escapes a backslash.
				r, n := utf8.DecodeRuneInString(s[i-1:])
				b.WriteByte('\\')
				switch {
				case r < 0x100:
					fmt.Fprintf(&b, "x%02x", r)
				case r < 0x10000:
					fmt.Fprintf(&b, "u%04x", r)
				default:
					fmt.Fprintf(&b, "U%08x", r)
				}
				i += n - 1
				continue
			}
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), opaque, nil
}

// unicodeName resolves the Unicode names of the characters that identifiers
// and dotted paths are made of, case-insensitively as Python does.
func unicodeName(name string) (rune, bool) {
	n := strings.ToUpper(strings.Join(strings.Fields(name), " "))
	switch n {
	case "LOW LINE", "SPACING UNDERSCORE":
		return '_', true
	case "FULL STOP", "PERIOD":
		return '.', true
	case "SPACE":
		return ' ', true
	}
	for _, p := range []struct {
		prefix string
		base   rune
	}{{"LATIN SMALL LETTER ", 'a'}, {"LATIN CAPITAL LETTER ", 'A'}} {
		if rest, ok := strings.CutPrefix(n, p.prefix); ok && len(rest) == 1 && rest[0] >= 'A' && rest[0] <= 'Z' {
			return p.base + rune(rest[0]-'A'), true
		}
	}
	digits := []string{"ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"}
	if rest, ok := strings.CutPrefix(n, "DIGIT "); ok {
		for i, d := range digits {
			if rest == d {
				return '0' + rune(i), true
			}
		}
	}
	return 0, false
}
