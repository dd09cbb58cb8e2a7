// Package gitlab writes a result where a GitLab merge request shows it: the
// Code Quality report (findings inline on the diff and in the merge request
// widget), the SAST security report (the security widget and the
// vulnerability report), and one merge request note kept up to date through
// the REST API (UpsertNote). The reports are pure functions of the result;
// the caller decides where they go (the files that artifacts:reports name).
//
// Every string that came from a scanned file (paths, archive members,
// messages, evidence) is untrusted: it is made inert for a terminal first
// (text.Sanitize), then escaped for where it lands, so that it can neither
// inject Markdown, HTML or links nor mention users and reference issues in a
// note or a vulnerability description.
package gitlab

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlguard/mlguard/internal/finding"
)

// Limits on untrusted text, in bytes of the raw input, so that one finding
// cannot fill a report on its own.
const (
	maxText     = 1 << 10 // a message, an archive member, a rule id
	maxEvidence = 4 << 10
)

// toolName names mlguard where a report wants a name and the result has none.
const toolName = "mlguard"

// reportPath is a finding's path as GitLab matches it against the
// repository: forward slashes, relative, without a leading "./".
func reportPath(p string) string {
	p = filepath.ToSlash(p)
	for strings.HasPrefix(p, "./") {
		p = strings.TrimLeft(p[2:], "/")
	}
	return p
}

// startLine is the line a finding is reported on: its own, or 1 for a
// finding in a binary file (GitLab needs a line).
func startLine(f finding.Finding) int { return max(f.Line, 1) }

// fingerprint identifies a finding across pipelines: a hash of its rule,
// path, member, offset and message (not the evidence, which may be clipped
// or re-rendered). GitLab shows findings with equal fingerprints as one, so
// fingerprints numbers each repeat of an identical finding.
func fingerprint(f finding.Finding, repeat int) string {
	h := sha256.New()
	for _, s := range []string{"mlguard/gitlab/v1", f.Rule, reportPath(f.Path), f.Member, strconv.FormatInt(f.Offset, 10), f.Message} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if repeat > 0 {
		h.Write([]byte(strconv.Itoa(repeat)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fingerprints returns the fingerprint of each of fs, in order, each
// distinct: the second and later copies of an identical finding are told
// apart by their rank among the copies, which keeps them stable as long as
// the copies stay in the same order.
func fingerprints(fs []finding.Finding) []string {
	out := make([]string, len(fs))
	seen := make(map[string]int, len(fs))
	for i, f := range fs {
		base := fingerprint(f, 0)
		n := seen[base]
		seen[base] = n + 1
		if n == 0 {
			out[i] = base
		} else {
			out[i] = fingerprint(f, n)
		}
	}
	return out
}

// helpURL is the absolute documentation link of a finding's rule: the
// finding's own help link made absolute, else the rule table's, else "".
// Only http(s) links are returned.
func helpURL(f finding.Finding) string {
	u := f.Help
	switch {
	case u == "":
		if known, ok := finding.Lookup(f.Rule); ok {
			return known.HelpURL()
		}
		return ""
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"):
	case strings.Contains(u, "://"):
		return ""
	default:
		u = finding.RepoURL + "/blob/main/" + strings.TrimPrefix(u, "/")
	}
	if strings.ContainsAny(u, " \t\r\n\"<>\\^`{|}") || !utf8.ValidString(u) {
		return ""
	}
	return u
}

// isDependency reports whether f is about a dependency rather than a file:
// a package/* rule, or a finding that a checked package lists as its own.
func isDependency(f finding.Finding, pkgFindings map[finding.Finding]bool) bool {
	return strings.HasPrefix(f.Rule, "package/") || pkgFindings[f]
}

// packageFindings is the set of findings the result's packages list.
func packageFindings(r *finding.Result) map[finding.Finding]bool {
	m := map[finding.Finding]bool{}
	for _, p := range r.Packages {
		for _, f := range p.Findings {
			m[f] = true
		}
	}
	return m
}
