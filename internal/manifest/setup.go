package manifest

import (
	"context"
	"fmt"
	"strings"

	"github.com/mlguard/mlguard/internal/deps"
)

// setupListArgs are the keyword arguments of setup() that list requirements;
// extras_require maps extras to such lists.
var setupListArgs = map[string]bool{"install_requires": true, "setup_requires": true, "tests_require": true}

// Limits on following setup.py's expressions: variables named by variables,
// and the tokens and strings visited beyond a few per token of the file (a
// list added to itself level after level grows exponentially).
const (
	maxSetupIndirection = 8
	maxSetupWork        = 1 << 20
)

// parseSetupPy reads the requirements a setup.py passes to setup() as
// install_requires, setup_requires, tests_require and extras_require. The
// file is read, never run: a value counts when it is a list or tuple of
// string literals (adjacent literals concatenated, any prefix and quote), a
// string of one requirement per line, a dict or dict(...) of those for
// extras_require, a variable assigned one of those earlier (REQUIRED = [...],
// also REQUIRED += [...]), or a sum of them. Anything computed (reading
// requirements.txt, comprehensions, f-strings) yields nothing. Each string is
// a requirement as in requirements.txt. scalibr's setup extractor is not
// used: it matches "name==1.0", "name>=1.0" and "name<=1.0" in quotes on any
// line of the file, so it takes a bound for a pinned version, drops
// requirements with no such operator ("accelerate", "~=1.5") or over
// several lines, and reads strings that are not requirements.
func parseSetupPy(_ context.Context, _ string, content []byte) ([]deps.Package, error) {
	toks := tokenizePython(content)
	r := setupReader{toks: toks, work: maxSetupWork + 16*len(toks)}
	r.vars = map[string][]int{}
	depth := 0
	for i, t := range r.toks { // NAME = value and NAME += value statements, outside brackets
		switch t.kind {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth = max(depth-1, 0)
		}
		if t.kind != 'i' || depth > 0 || i+2 >= len(r.toks) ||
			i > 0 && r.toks[i-1].line == t.line && r.toks[i-1].kind != ';' {
			continue
		}
		if r.toks[i+1].kind == '=' && r.toks[i+2].kind != '=' ||
			r.toks[i+1].kind == '+' && r.toks[i+2].kind == '=' {
			r.vars[t.text] = append(r.vars[t.text], i)
		}
	}
	var c collector
	type at struct {
		line int
		text string
	}
	seen := map[at]bool{} // a variable passed to several arguments or setup() calls counts once
	add := func(strs []pyToken) error {
		for _, s := range strs {
			err := logicalLines([]byte(s.text), func(line string, lineno int) error {
				k := at{s.line + lineno - 1, line}
				p, ok := requirementPackage(line, k.line)
				if !ok || strings.HasPrefix(line, "-") || seen[k] {
					return nil
				}
				seen[k] = true
				return c.add(p)
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; i+1 < len(r.toks); i++ {
		if r.toks[i].kind != 'i' || r.toks[i].text != "setup" || r.toks[i+1].kind != '(' ||
			i > 0 && r.toks[i-1].kind == 'i' && r.toks[i-1].text == "def" {
			continue
		}
		end := r.closing(i + 1)
		for _, arg := range r.split(i+2, end, ',') {
			if arg[1]-arg[0] < 3 || r.toks[arg[0]].kind != 'i' || r.toks[arg[0]+1].kind != '=' {
				continue
			}
			key, value := r.toks[arg[0]].text, [2]int{arg[0] + 2, arg[1]}
			var strs []pyToken
			switch {
			case setupListArgs[key]:
				strs = r.strings(value, 0)
			case key == "extras_require":
				strs = r.dictValues(value, 0)
			}
			if r.work < 0 {
				return nil, fmt.Errorf("expressions in setup() too large to follow: %w", ErrTooLarge)
			}
			if err := add(strs); err != nil {
				return nil, err
			}
		}
	}
	return c.pkgs, nil
}

// setupReader follows the expressions of a tokenized setup.py.
type setupReader struct {
	toks []pyToken
	vars map[string][]int // token indexes of the assignments to each name
	work int              // budget left
}

// closing is the index of the bracket that closes the one at open, or
// len(toks) when none does.
func (r *setupReader) closing(open int) int {
	depth := 0
	for j := open; j < len(r.toks); j++ {
		r.work--
		switch r.toks[j].kind {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth--; depth == 0 {
				return j
			}
		}
	}
	return len(r.toks)
}

// split cuts toks[from:to] at the sep tokens outside brackets into
// [start, end) ranges, empty ones dropped.
func (r *setupReader) split(from, to int, sep byte) [][2]int {
	var out [][2]int
	depth, start := 0, from
	for j := from; j < to && j < len(r.toks); j++ {
		r.work--
		switch k := r.toks[j].kind; {
		case k == '(' || k == '[' || k == '{':
			depth++
		case k == ')' || k == ']' || k == '}':
			depth--
		case k == sep && depth == 0:
			if j > start {
				out = append(out, [2]int{start, j})
			}
			start = j + 1
		}
	}
	if to > start {
		out = append(out, [2]int{start, min(to, len(r.toks))})
	}
	return out
}

// strings are the string literals an expression stands for: a string (or
// adjacent strings), a list or tuple of them, a variable, or a sum of those.
// A sum of strings is one string.
func (r *setupReader) strings(e [2]int, depth int) []pyToken {
	if depth > maxSetupIndirection || r.work < 0 {
		return nil
	}
	var out []pyToken
	joined := -1 // the index in out of the string a sum of strings builds
	for _, op := range r.split(e[0], e[1], '+') {
		first, last := r.toks[op[0]], r.toks[op[1]-1]
		switch {
		case r.isString(op):
			s := r.concat(op)
			if joined < 0 {
				out = append(out, s)
				joined = len(out) - 1
			} else {
				out[joined].text += s.text
			}
			continue
		case (first.kind == '[' && last.kind == ']' || first.kind == '(' && last.kind == ')') && r.closing(op[0]) == op[1]-1:
			for _, el := range r.split(op[0]+1, op[1]-1, ',') {
				out = append(out, r.strings(el, depth+1)...)
			}
		case op[1]-op[0] == 1 && first.kind == 'i':
			for _, v := range r.value(first.text, op[0]) {
				out = append(out, r.strings(v, depth+1)...)
			}
		}
		joined = -1
		r.work -= len(out)
	}
	return out
}

// dictValues are the strings of the values of a dict display, a dict(...)
// call or a variable holding one: extras_require.
func (r *setupReader) dictValues(e [2]int, depth int) []pyToken {
	if depth > maxSetupIndirection || r.work < 0 || e[1] <= e[0] {
		return nil
	}
	first, last := r.toks[e[0]], r.toks[e[1]-1]
	var out []pyToken
	switch {
	case first.kind == '{' && last.kind == '}' && r.closing(e[0]) == e[1]-1:
		for _, entry := range r.split(e[0]+1, e[1]-1, ',') {
			for j := entry[0]; j < entry[1]; j++ {
				if r.toks[j].kind == ':' { // the key is a string: no colon before this one outside brackets
					out = append(out, r.strings([2]int{j + 1, entry[1]}, depth+1)...)
					break
				}
			}
		}
	case e[1]-e[0] > 2 && first.kind == 'i' && first.text == "dict" && r.toks[e[0]+1].kind == '(' && r.closing(e[0]+1) == e[1]-1:
		for _, arg := range r.split(e[0]+2, e[1]-1, ',') {
			if arg[1]-arg[0] > 2 && r.toks[arg[0]].kind == 'i' && r.toks[arg[0]+1].kind == '=' {
				out = append(out, r.strings([2]int{arg[0] + 2, arg[1]}, depth+1)...)
			}
		}
	case e[1]-e[0] == 1 && first.kind == 'i':
		for _, v := range r.value(first.text, e[0]) {
			out = append(out, r.dictValues(v, depth+1)...)
		}
	}
	return out
}

// value is what name holds where token use reads it: the last plain
// assignment before use and the += assignments after that one.
func (r *setupReader) value(name string, use int) [][2]int {
	var out [][2]int
	for _, i := range r.vars[name] {
		if i >= use {
			break
		}
		start := i + 2
		if r.toks[i+1].kind == '+' {
			start = i + 3
		} else {
			out = out[:0]
		}
		out = append(out, [2]int{start, r.statementEnd(start)})
	}
	return out
}

// statementEnd is where the expression starting at token from ends: at the
// first token outside brackets that starts a new line.
func (r *setupReader) statementEnd(from int) int {
	depth := 0
	for j := from; j < len(r.toks); j++ {
		r.work--
		if depth == 0 && j > from && r.toks[j].line != r.toks[j-1].line || r.toks[j].kind == ';' && depth == 0 {
			return j
		}
		switch r.toks[j].kind {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
	}
	return len(r.toks)
}

// isString reports whether e is one or more adjacent string literals.
func (r *setupReader) isString(e [2]int) bool {
	for j := e[0]; j < e[1]; j++ {
		if k := r.toks[j].kind; k != 's' && k != 'b' {
			return false
		}
	}
	return e[1] > e[0]
}

// concat joins adjacent string literals, as Python does.
func (r *setupReader) concat(e [2]int) pyToken {
	s := r.toks[e[0]]
	for j := e[0] + 1; j < e[1]; j++ {
		s.text += r.toks[j].text
	}
	return s
}

// markerVariables are PEP 508 environment markers: what follows a ";" that
// setuptools took for a separator.
var markerVariables = map[string]bool{
	"python_version": true, "python_full_version": true, "os_name": true, "sys_platform": true,
	"platform_release": true, "platform_system": true, "platform_version": true, "platform_machine": true,
	"platform_python_implementation": true, "implementation_name": true, "implementation_version": true, "extra": true,
}

// parseSetupCfg reads the requirements of a setup.cfg: install_requires,
// setup_requires and tests_require in [options], and every entry of
// [options.extras_require]. It reads the file as Python's configparser and
// setuptools do: key = value or key: value, indented continuation lines,
// whole-line # and ; comments; a value over several lines holds one
// requirement a line, a one-line value requirements separated by ";".
// A "file:" value (requirements kept in another file) yields nothing.
func parseSetupCfg(_ context.Context, _ string, content []byte) ([]deps.Package, error) {
	type valueLine struct {
		text string
		line int
	}
	type option struct {
		section, key string
		lines        []valueLine
	}
	var (
		options []*option
		cur     *option
		section string
	)
	for n, raw := range strings.Split(string(content), "\n") {
		if len(raw) > MaxLineLength {
			return nil, fmt.Errorf("line %d: longer than %d bytes: %w", n+1, MaxLineLength, ErrTooLarge)
		}
		raw = strings.TrimSuffix(raw, "\r")
		s := strings.TrimSpace(raw)
		switch {
		case s == "" || s[0] == '#' || s[0] == ';':
			continue
		case cur != nil && (raw[0] == ' ' || raw[0] == '\t'):
			cur.lines = append(cur.lines, valueLine{s, n + 1})
			continue
		}
		cur = nil
		if s[0] == '[' {
			if end := strings.LastIndexByte(s, ']'); end > 1 {
				section = s[1:end]
			}
			continue
		}
		i := strings.IndexAny(s, "=:")
		if i < 0 {
			continue
		}
		key := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s[:i])), "-", "_")
		cur = &option{section: section, key: key}
		if v := strings.TrimSpace(s[i+1:]); v != "" {
			cur.lines = append(cur.lines, valueLine{v, n + 1})
		}
		options = append(options, cur)
	}
	var c collector
	for _, o := range options {
		if !(o.section == "options" && setupListArgs[o.key] || o.section == "options.extras_require") {
			continue
		}
		if len(o.lines) == 0 || strings.HasPrefix(o.lines[0].text, "file:") {
			continue
		}
		lines, oneLine := o.lines, len(o.lines) == 1
		if oneLine { // requirements separated by ";"
			lines = nil
			for _, part := range strings.Split(o.lines[0].text, ";") {
				lines = append(lines, valueLine{part, o.lines[0].line})
			}
		}
		for _, l := range lines {
			req := strings.TrimSpace(stripComment(l.text))
			p, ok := requirementPackage(req, l.line)
			if !ok || strings.HasPrefix(req, "-") || oneLine && markerVariables[p.Name] {
				continue
			}
			if err := c.add(p); err != nil {
				return nil, err
			}
		}
	}
	return c.pkgs, nil
}
