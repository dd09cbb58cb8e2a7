package gitlab

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/markdown"
	"github.com/mlguard/mlguard/internal/report/text"
)

// CodeQualityFile is the artifact name the GitLab templates use for the
// Code Quality report (artifacts:reports:codequality).
const CodeQualityFile = "gl-code-quality-report.json"

// maxDescription bounds a Code Quality description, in bytes.
const maxDescription = 2 << 10

// codeQualityIssue is one entry of the Code Quality report: exactly the
// fields GitLab documents as processed ("Code Quality report format" in
// doc/ci/testing/code_quality.md), a subset of the Code Climate issue. Code
// Climate's other fields (type, categories, content...) are ignored by
// GitLab and left out.
type codeQualityIssue struct {
	Description string              `json:"description"`
	CheckName   string              `json:"check_name"`
	Fingerprint string              `json:"fingerprint"`
	Severity    string              `json:"severity"`
	Location    codeQualityLocation `json:"location"`
}

type codeQualityLocation struct {
	Path  string           `json:"path"`
	Lines codeQualityLines `json:"lines"`
}

type codeQualityLines struct {
	Begin int `json:"begin"`
}

// codeQualitySeverity maps a severity to Code Quality's: info, minor, major,
// critical, blocker.
func codeQualitySeverity(s finding.Severity) string {
	switch {
	case s >= finding.Critical:
		return "blocker"
	case s == finding.High:
		return "critical"
	case s == finding.Medium:
		return "major"
	case s == finding.Low:
		return "minor"
	default:
		return "info"
	}
}

// WriteCodeQuality writes r's findings as a GitLab Code Quality report: a
// JSON array with one issue per finding, "[]" when there are none.
//
// Each issue's check_name is the rule, its fingerprint a hash of rule, path,
// member, offset and message (distinct within the report, stable across
// pipelines), its location the finding's path and line (1 for binary files).
// Dependency findings are included: they point at the manifest line that
// names the package. Waived findings are left out, since Code Quality has no
// way to mark a finding accepted (the merge request note lists them), and so
// are findings without a path, which have no place on the diff (the note,
// JSON and SARIF reports carry them). The description is the message, where
// inside the file, sanitized (no control characters) and at most 2 KiB.
func WriteCodeQuality(w io.Writer, r *finding.Result) error {
	if r == nil {
		return errors.New("writing Code Quality report: nil result")
	}
	issues := []codeQualityIssue{}
	prints := fingerprints(r.Findings)
	for i, f := range r.Findings {
		path := reportPath(f.Path)
		if path == "" {
			continue
		}
		issues = append(issues, codeQualityIssue{
			Description: codeQualityDescription(f),
			CheckName:   checkName(f),
			Fingerprint: prints[i],
			Severity:    codeQualitySeverity(f.Severity),
			Location:    codeQualityLocation{Path: path, Lines: codeQualityLines{Begin: startLine(f)}},
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(issues); err != nil {
		return fmt.Errorf("encoding Code Quality report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing Code Quality report: %w", err)
	}
	return nil
}

// codeQualityDescription is the message, then the archive member and
// offset, sanitized and bounded.
func codeQualityDescription(f finding.Finding) string {
	var b strings.Builder
	b.WriteString(markdown.Clip(f.Message, maxText))
	if f.Member != "" {
		b.WriteString(" (in " + markdown.Clip(f.Member, maxText/2))
		if f.Offset > 0 {
			b.WriteString(" at offset " + strconv.FormatInt(f.Offset, 10))
		}
		b.WriteString(")")
	} else if f.Offset > 0 && f.Line <= 0 {
		b.WriteString(" (at offset " + strconv.FormatInt(f.Offset, 10) + ")")
	}
	d := cmp.Or(strings.TrimSpace(text.Sanitize(b.String())), checkName(f))
	return markdown.Clip(d, maxDescription-32)
}

// checkName is the finding's rule, sanitized and bounded, or "unknown".
func checkName(f finding.Finding) string {
	return cmp.Or(text.Sanitize(markdown.Clip(f.Rule, maxText)), "unknown")
}
