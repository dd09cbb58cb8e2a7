package gitlab

import (
	"strings"

	"github.com/mlguard/mlguard/internal/report/markdown"
	"github.com/mlguard/mlguard/internal/report/text"
)

// wordJoiner is U+2060 WORD JOINER as a character reference: invisible, and
// no letter, digit or punctuation, so that no reference, mention, emoji or
// autolink pattern can run across it.
const wordJoiner = "&#8288;"

// mdEntities are the characters that could start Markdown or HTML in a table
// cell, a list item or a <summary>: table pipes, code spans, emphasis, links,
// images, footnotes, inline diffs ({+ +}, [- -]), raw HTML, entities,
// backslash escapes and math. Each becomes a numeric character reference,
// which renders as the character and means nothing else to the Markdown
// parser.
var mdEntities = map[byte]string{
	'&': "&amp;", '<': "&lt;", '>': "&gt;", '"': "&quot;", '|': "&#124;", '`': "&#96;", '\\': "&#92;",
	'[': "&#91;", ']': "&#93;", '{': "&#123;", '}': "&#125;",
	'*': "&#42;", '_': "&#95;", '~': "&#126;", '^': "&#94;", '$': "&#36;",
	':': "&#58;", '@': "&#64;", '#': "&#35;", '!': "&#33;", '%': "&#37;",
}

// refPrefixes are the characters GitLab's reference filters look for in the
// rendered text, after character references are decoded: @user and @all
// (which notify), #issue, !merge_request, ~label, %milestone, &epic,
// $snippet, *iteration, :emoji: and the colon of every URL scheme. A word
// joiner after each keeps the filters and the autolinker from matching.
const refPrefixes = "@#!~%&$*:"

// md makes untrusted text inert in GitLab Flavored Markdown, in a table cell
// or an HTML block: sanitized for a terminal first (line breaks and controls
// become visible escapes), then every character of mdEntities escaped, a word
// joiner put after each of refPrefixes and inside "www.", which would
// otherwise start an autolink. What a reader sees is the sanitized text.
func md(s string) string {
	s = text.Sanitize(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' && i >= 3 && strings.EqualFold(s[i-3:i], "www") {
			b.WriteString(wordJoiner)
		}
		if e, ok := mdEntities[c]; ok {
			b.WriteString(e)
		} else {
			b.WriteByte(c)
		}
		if strings.IndexByte(refPrefixes, c) >= 0 {
			b.WriteString(wordJoiner)
		}
	}
	return b.String()
}

// mdClip is md of s cut to at most n bytes of input.
func mdClip(s string, n int) string { return md(markdown.Clip(s, n)) }

// sanitizeLines sanitizes each line of s, so that multi-line text keeps its
// shape while every line stays inert.
func sanitizeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = text.Sanitize(l)
	}
	return strings.Join(lines, "\n")
}

// codeBlock is s, sanitized line by line, in a fenced code block whose fence
// no backtick run in s can close. Nothing inside a code block is Markdown,
// and GitLab's reference filters skip code.
func codeBlock(s string) string {
	body := sanitizeLines(s)
	fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	return fence + "\n" + body + "\n" + fence + "\n"
}

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}
