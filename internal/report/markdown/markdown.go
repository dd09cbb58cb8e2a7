// Package markdown holds what the GitHub and GitLab reporters render alike:
// clipped text, counted nouns, the counts line under a report's heading, and
// link destinations that cannot leave their URL or end the Markdown link.
// Escaping text stays with each reporter: GitLab's Markdown has mentions,
// references and autolinks that GitHub's escaping does not defuse.
package markdown

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/mlguard/mlguard/internal/finding"
)

// Clip cuts s to at most n bytes, at a UTF-8 boundary when there is one
// nearby, and says how much was cut. The result is at most n+32 bytes.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for i := 0; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return fmt.Sprintf("%s … (%d more bytes)", s[:cut], len(s)-cut)
}

// Plural returns "1 finding", "2 findings".
func Plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Counts is the line under a report's heading: the findings by severity,
// the files scanned and skipped, and, with waived, the findings waivers
// covered.
func Counts(r *finding.Result, waived bool) string {
	var b strings.Builder
	if len(r.Findings) == 0 {
		b.WriteString("No findings")
	} else {
		b.WriteString("**" + Plural(len(r.Findings), "finding") + "**")
		if by := finding.SeverityCounts(r.Findings); by != "" {
			b.WriteString(" (" + by + ")")
		}
	}
	fmt.Fprintf(&b, " in %s", Plural(len(r.Files), "scanned file"))
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "; %s skipped", Plural(len(r.Skipped), "file"))
	}
	if waived && len(r.Waived) > 0 {
		fmt.Fprintf(&b, "; %s waived", Plural(len(r.Waived), "finding"))
	}
	b.WriteString(".\n")
	return b.String()
}

// EscapePath percent-encodes each segment of a repository path for a URL,
// dot segments included, so that a path can neither leave the blob URL nor
// end the Markdown link.
func EscapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s == "." || s == ".." {
			segs[i] = strings.Repeat("%2E", len(s))
		} else {
			segs[i] = url.PathEscape(s)
		}
	}
	return strings.Join(segs, "/")
}

// SafeURL returns an http(s) URL without user info, with every byte that
// could end a Markdown link destination percent-encoded, or "" for anything
// else.
func SafeURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	s = u.String()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~:/?#@!$&*+,;=%", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
