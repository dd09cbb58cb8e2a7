package policy

import (
	"fmt"
	"strings"
)

// Error is one problem in a policy file. Its text is
// "SOURCE:LINE: KEY: MESSAGE" ("SOURCE:LINE:COLUMN: ..." inside a CEL
// expression), for example
//
//	.mlguard.yaml:12: ignore[1].expires: "2026-13-01" is not a date (YYYY-MM-DD)
type Error struct {
	Source string // the file as named: ".mlguard.yaml", "builtin:strict"
	Line   int    // 1-based; every error has one
	Column int    // 1-based, set for a position inside a CEL expression; else 0
	Key    string // the key's path: "ignore[1].expires", "rules.pickle/unknown-global.severity"; "" for the whole file
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d", e.Source, e.Line)
	if e.Column > 0 {
		fmt.Fprintf(&b, ":%d", e.Column)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors are every problem found in one policy file, in line order, one per
// line of text. Parse returns them as its error; errors.As gets them back.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// maxErrors is how many errors one file reports before giving up.
const maxErrors = 50
