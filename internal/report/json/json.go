// Package json writes a result as the JSON object that DESIGN.md ("Contracts")
// promises: schema mlguard/result/v1, two-space indentation, one trailing
// newline, and [] rather than null for every empty list.
package json

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/mlguard/mlguard/internal/finding"
)

// Options is empty for now; it keeps Write's signature the same as the other
// reporters'.
type Options struct{}

// document is the wire form; field order is the order printed.
type document struct {
	Schema   string            `json:"schema"`
	Tool     finding.Tool      `json:"tool"`
	Decision string            `json:"decision"`
	Files    []finding.File    `json:"files"`
	Skipped  []finding.Skipped `json:"skipped"`
	Findings []finding.Finding `json:"findings"`
	Packages []finding.Package `json:"packages"`
	// Waived are the findings the policy's waivers accepted, with each
	// waiver; absent when there are none.
	Waived []finding.Waived `json:"waived,omitempty"`
}

// Write writes r to w as one JSON object.
func Write(w io.Writer, r *finding.Result, _ Options) error {
	if r == nil {
		return errors.New("writing JSON report: nil result")
	}
	doc := document{
		Schema:   finding.Schema,
		Tool:     r.Tool,
		Decision: r.Decision,
		Files:    orEmpty(r.Files),
		Skipped:  orEmpty(r.Skipped),
		Findings: orEmpty(r.Findings),
		Packages: orEmpty(r.Packages),
		Waived:   r.Waived,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// The output is not embedded in HTML; keep "<lambda>" and "a && b" readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding JSON report: %w", err)
	}
	if _, err := w.Write(escapeInvisible(buf.Bytes())); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// escapeInvisible rewrites the characters that encoding/json leaves raw but a
// terminal may act on (C1 controls, bidirectional formatting) as \uXXXX
// escapes. JSON's own syntax is ASCII, so such a character can only sit inside
// a string, where the escape means the same thing.
func escapeInvisible(b []byte) []byte {
	if !bytes.ContainsFunc(b, invisible) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if invisible(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}

func invisible(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1 controls
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // bidi marks
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	}
	return false
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
