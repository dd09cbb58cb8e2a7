// Package jinja analyses Jinja2 chat templates, as found in GGUF metadata
// (tokenizer.chat_template) and tokenizer_config.json, for ways out of the
// Jinja sandbox: attribute access to Python internals (__class__,
// __globals__, __subclasses__...), the gadgets SSTI payloads start from
// (cycler.__init__.__globals__, lipsum.__globals__,
// self._TemplateReference__context...), calls that run commands or code,
// and templates loaded from elsewhere.
//
// The template is parsed, never rendered, by a port of Jinja's own lexer
// and parser (jinja2 3.1), so that whitespace control, comments, {% raw %}
// and string escapes mean what they mean to Jinja. Attribute names are
// then folded from constants: '__cla' ~ 'ss__', '%c%c'|format(95, 95),
// ['_','_']|join, '\x5f\x5fclass\x5f\x5f', 'ssalc'[::-1] and names bound
// by {% set %}, loops and macro calls all spell what they spell.
//
// Everything is bounded: template size, tokens, nesting depth, the values
// folded per expression and the string bytes built per pass.
package jinja

import (
	"fmt"
	"unicode/utf8"

	"github.com/mlguard/mlguard/internal/finding"
)

// Limits.
const (
	// MaxSize is the largest template parsed. Real chat templates are a
	// few KB to a few tens of KB; a larger one is reported and scanned for
	// escape names token by token.
	MaxSize = 1 << 20

	maxTokens   = 100_000
	maxFindings = 32
	maxEvidence = 200
)

// Analyze parses template as a Jinja2 template and returns what it found:
// template/sandbox-escape (critical), template/suspicious-access (medium),
// template/external-template (high) and template/unparseable (medium).
// Findings have Path and Member empty; Line is the 1-based line in the
// template, Offset the byte offset in the template (a caller that knows
// where the template starts in its file adds that), Evidence the tag in
// question. An ordinary chat template yields no finding. Analyze never
// renders or executes anything and is safe on any input.
func Analyze(template string) []finding.Finding {
	if len(template) > MaxSize {
		out := []finding.Finding{unparseable(1, 0, fmt.Sprintf("the template is %d bytes, more than the %d analysed; it was only scanned for escape names", len(template), MaxSize))}
		return append(out, scanText(template)...)
	}
	src, collapsed := normalize(template)
	toks, err := lex(src, maxTokens)
	if err == nil {
		var body []stmt
		body, err = parse(src, toks)
		if err == nil {
			out := analyze(src, body)
			for i := range out {
				out[i].Offset = int64(original(int(out[i].Offset), collapsed))
			}
			return out
		}
	}
	line, at := 1, 0
	if se, ok := err.(*syntaxError); ok {
		line, at = se.line, original(se.pos, collapsed)
	}
	out := []finding.Finding{unparseable(line, at, fmt.Sprintf("the template is not valid Jinja2 (%v); renderers reject it or read it differently, and it was only scanned for escape names", err))}
	out[0].Evidence = snippet(template, span{}, at)
	return append(out, scanText(template)...)
}

func unparseable(line, at int, msg string) finding.Finding {
	f := finding.New(finding.TemplateUnparseable, msg)
	f.Line, f.Offset = line, int64(at)
	return f
}

// scanText is the fallback for a template that cannot be parsed: every
// identifier-like word and every string that names an escape is reported.
// It reads the raw text, so escapes inside string literals are not decoded;
// the unparseable finding already fails the template.
func scanText(src string) []finding.Finding {
	var out []finding.Finding
	seen := map[string]bool{}
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		if c == '\n' {
			line++
		}
		if !isWordByte(c) {
			i++
			continue
		}
		j := i
		for j < len(src) && isWordByte(src[j]) {
			j++
		}
		w := src[i:j]
		if escapeName(w) && !seen[w] && len(out) < maxFindings {
			seen[w] = true
			f := finding.New(finding.TemplateSandboxEscape, fmt.Sprintf("the unparseable template names %q, the kind of name used to reach Python internals from a template", w))
			f.Line, f.Offset = line, int64(i)
			f.Evidence = snippet(src, span{}, i)
			if !utf8.ValidString(f.Evidence) {
				f.Evidence = fmt.Sprintf("%q", f.Evidence)
			}
			out = append(out, f)
		}
		i = j
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
