// Package github writes a result where a GitHub Actions run shows it: one
// workflow command per finding, which GitHub turns into an annotation, and the
// Markdown job summary. Both are pure functions of the result: the caller
// decides where the output goes (stdout for the commands, the file named by
// GITHUB_STEP_SUMMARY for the summary). Through the REST API it also
// publishes a check run with annotations (PublishCheckRun) and keeps one
// pull request comment up to date (UpsertComment); what they send is
// computed by pure functions too (CheckRunOutput, RenderComment).
//
// Every string that came from a scanned file (paths, archive members,
// messages, evidence) is untrusted: it is made inert for a terminal first
// (text.Sanitize), then escaped for where it lands, so that it can neither
// start a workflow command nor inject HTML, links or table cells.
package github

import (
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/text"
)

// Limits on untrusted text, in bytes of the raw input, so that one finding
// cannot fill an annotation or the summary on its own.
const (
	maxText     = 1 << 10 // a message or an archive member
	maxEvidence = 4 << 10
)

// helpURL is the absolute documentation link of a finding, or "".
func helpURL(f finding.Finding) string {
	switch {
	case f.Help == "":
		return ""
	case strings.Contains(f.Help, "://"):
		return f.Help
	default:
		return finding.RepoURL + "/blob/main/" + f.Help
	}
}

// sanitizeLines sanitizes each line of s, so that multi-line text keeps its
// shape while every line stays inert.
func sanitizeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = text.Sanitize(l)
	}
	return strings.Join(lines, "\n")
}
