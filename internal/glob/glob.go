// Package glob matches repository paths against the globs that users write
// in a workflow's inputs and in a policy's paths and waivers.
//
// A glob matches paths with forward slashes: `*` and `?` stay within a
// folder, `**` crosses folders, `[...]` is a class (`[!...]` negated), a
// glob without a slash matches a name in any folder (like .gitignore), a
// glob ending in a slash matches everything under that folder, and a folder
// matched by name matches everything under it. A leading "./" or "/" is
// ignored.
package glob

import (
	"fmt"
	"regexp"
	"strings"
)

// Glob is a compiled glob.
type Glob struct {
	pattern string
	re      *regexp.Regexp
}

// Compile compiles a glob; an empty pattern, an unclosed `[` or an invalid
// class is an error.
func Compile(pattern string) (*Glob, error) {
	re, err := toRegexp(pattern)
	if err != nil {
		return nil, err
	}
	return &Glob{pattern: pattern, re: re}, nil
}

// Match reports whether the repository path p matches.
func (g *Glob) Match(p string) bool { return g.re.MatchString(p) }

// String returns the glob as written.
func (g *Glob) String() string { return g.pattern }

// toRegexp turns a glob into an anchored regular expression.
func toRegexp(glob string) (*regexp.Regexp, error) {
	g := strings.TrimPrefix(strings.TrimSpace(glob), "./")
	if g == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	var b strings.Builder
	if !strings.Contains(strings.TrimSuffix(g, "/"), "/") {
		b.WriteString("^(?:.*/)?") // a bare name matches in any folder
	} else {
		g = strings.TrimPrefix(g, "/")
		b.WriteString("^")
	}
	dir := strings.HasSuffix(g, "/")
	g = strings.TrimSuffix(g, "/")
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case strings.HasPrefix(g[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := strings.IndexByte(g[i+1:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [")
			}
			class := g[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			class = "[" + strings.ReplaceAll(class, `\`, `\\`) + "]"
			if _, err := regexp.Compile(class); err != nil {
				return nil, fmt.Errorf("invalid class %s", g[i:i+end+2])
			}
			b.WriteString(class)
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if dir {
		b.WriteString("/.*$")
	} else {
		b.WriteString("(?:/.*)?$") // a folder's name matches what is under it
	}
	return regexp.Compile(b.String())
}
