package manifest

import (
	"strconv"
	"strings"
)

// tomlLines maps TOML key paths to the 1-based line that first defines
// them: a table header ([dependencies.serde]), a key (serde = "1") or a
// dotted key (serde.version = "1") under the current table. A path also
// counts as defined where one of its descendants first is. It reads only
// what it needs (headers, keys, where strings and arrays end) and is meant
// for content a TOML decoder has already accepted.
type tomlLines map[string]int

func tomlPathKey(path []string) string { return strings.Join(path, "\x00") }

func newTOMLLines(content []byte) tomlLines {
	lines := tomlLines{}
	record := func(path []string, line int) {
		for i := 1; i <= len(path); i++ {
			k := tomlPathKey(path[:i])
			if _, ok := lines[k]; !ok {
				lines[k] = line
			}
		}
	}
	var (
		table     []string
		depth     int    // open [ and { of a value that spans lines
		multiline string // the delimiter of an open multi-line string
	)
	for n, line := range strings.Split(string(content), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if depth > 0 || multiline != "" {
			depth, multiline = scanTOMLValue(line, depth, multiline)
			continue
		}
		s := strings.TrimLeft(line, " \t")
		switch {
		case s == "" || s[0] == '#':
			continue
		case strings.HasPrefix(s, "[["):
			if path, rest, ok := parseTOMLKey(s[2:]); ok && strings.HasPrefix(strings.TrimLeft(rest, " \t"), "]]") {
				table = path
				record(path, n+1)
			}
		case s[0] == '[':
			if path, rest, ok := parseTOMLKey(s[1:]); ok && strings.HasPrefix(strings.TrimLeft(rest, " \t"), "]") {
				table = path
				record(path, n+1)
			}
		default:
			path, rest, ok := parseTOMLKey(s)
			rest = strings.TrimLeft(rest, " \t")
			if !ok || !strings.HasPrefix(rest, "=") {
				continue
			}
			full := append(append([]string(nil), table...), path...)
			record(full, n+1)
			depth, multiline = scanTOMLValue(rest[1:], 0, "")
		}
	}
	return lines
}

// line is the line that first defines path, 0 when none does.
func (l tomlLines) line(path ...string) int { return l[tomlPathKey(path)] }

// parseTOMLKey reads a dotted key (bare, "basic" or 'literal' parts) at the
// start of s and returns its parts and what follows.
func parseTOMLKey(s string) (path []string, rest string, ok bool) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return nil, "", false
		}
		var part string
		switch s[0] {
		case '"':
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return nil, "", false
			}
			part = s[1:end]
			if u, err := strconv.Unquote(s[:end+1]); err == nil {
				part = u
			}
			s = s[end+1:]
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, "", false
			}
			part, s = s[1:end+1], s[end+2:]
		default:
			end := 0
			for end < len(s) && (isIdentByte(s[end]) && s[end] < 0x80 || s[end] == '-') {
				end++
			}
			if end == 0 {
				return nil, "", false
			}
			part, s = s[:end], s[end:]
		}
		path = append(path, part)
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ".") {
			return path, s, true
		}
		s = s[1:]
	}
}

// scanTOMLValue follows a value over one line: the brackets and braces it
// leaves open and the multi-line string it leaves open, starting from those
// the previous line left.
func scanTOMLValue(s string, depth int, multiline string) (int, string) {
	for i := 0; i < len(s); i++ {
		if multiline != "" {
			end := strings.Index(s[i:], multiline)
			if end < 0 {
				return depth, multiline
			}
			i += end + len(multiline) - 1
			multiline = ""
			continue
		}
		switch c := s[i]; c {
		case '#':
			return depth, ""
		case '[', '{':
			depth++
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case '"', '\'':
			if strings.HasPrefix(s[i:], strings.Repeat(string(c), 3)) {
				multiline = strings.Repeat(string(c), 3)
				i += 2
				continue
			}
			for i++; i < len(s) && s[i] != c; i++ {
				if c == '"' && s[i] == '\\' {
					i++
				}
			}
		}
	}
	return depth, multiline
}
