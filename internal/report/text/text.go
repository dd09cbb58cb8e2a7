// Package text writes a result as a report for people: findings grouped by
// file, a line per skipped file when asked, and a one-line summary.
package text

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
)

// Options change how the report looks.
type Options struct {
	// Color adds ANSI colours. The caller decides: set it only when the output
	// is a terminal and NO_COLOR is unset.
	Color bool
	// Verbose lists every skipped file with the reason it was skipped.
	Verbose bool
}

// ANSI SGR sequences.
const (
	reset = "\x1b[0m"
	bold  = "\x1b[1m"
	dim   = "\x1b[2m"
)

var severityColor = map[finding.Severity]string{
	finding.Critical: "\x1b[1;31m", // bold red
	finding.High:     "\x1b[31m",   // red
	finding.Medium:   "\x1b[33m",   // yellow
	finding.Low:      "\x1b[36m",   // cyan
	finding.Info:     dim,
}

// Write writes the report for r to w. Every string that came from a scanned
// file goes through Sanitize first.
func Write(w io.Writer, r *finding.Result, opts Options) error {
	if r == nil {
		return errors.New("writing text report: nil result")
	}
	p := printer{w: bufio.NewWriter(w), color: opts.Color}

	groups := groupByLocation(r.Findings)
	for i, g := range groups {
		if i > 0 {
			p.line("")
		}
		p.line(p.paint(bold, Sanitize(g.location)))
		for _, f := range g.findings {
			p.finding(f)
		}
	}
	if len(groups) == 0 {
		p.line("no findings")
	}
	p.line("")

	if n := len(r.Waived); n > 0 {
		p.line(fmt.Sprintf("%s waived by the policy:", plural(n, "finding", "findings")))
		for _, w := range r.Waived {
			until := ""
			if w.Expires != "" {
				until = ", until " + w.Expires
			}
			p.line(fmt.Sprintf("  %s %s at %s: %s (waiver %s%s)", w.Finding.Severity, Sanitize(w.Finding.Rule), Sanitize(w.Finding.Location()),
				Sanitize(w.Reason), Sanitize(w.Waiver), Sanitize(until)))
		}
	}
	if n := len(r.Skipped); n > 0 {
		p.line(fmt.Sprintf("%s skipped as not %s", plural(n, "file", "files"), pick(n, "a model", "models")))
		if opts.Verbose {
			for _, s := range r.Skipped {
				p.line("  " + Sanitize(s.Path) + ": " + Sanitize(s.Reason))
			}
		}
	}
	p.summary(r)

	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("writing text report: %w", err)
	}
	return nil
}

type group struct {
	location string
	findings []finding.Finding
}

// groupByLocation groups findings by path and member, keeping the order in
// which each location first appears (Result.Sort makes that order stable).
func groupByLocation(fs []finding.Finding) []group {
	var groups []group
	index := map[string]int{}
	for _, f := range fs {
		loc := f.Location()
		i, ok := index[loc]
		if !ok {
			i = len(groups)
			index[loc] = i
			groups = append(groups, group{location: loc})
		}
		groups[i].findings = append(groups[i].findings, f)
	}
	return groups
}

type printer struct {
	w     *bufio.Writer
	color bool
}

// line writes s and a newline; write errors surface at Flush.
func (p printer) line(s string) {
	p.w.WriteString(s)
	p.w.WriteByte('\n')
}

func (p printer) paint(sgr, s string) string {
	if !p.color || s == "" {
		return s
	}
	return sgr + s + reset
}

func (p printer) finding(f finding.Finding) {
	sev := fmt.Sprintf("%-8s", strings.ToUpper(f.Severity.String()))
	p.line("  " + p.paint(severityColor[f.Severity], sev) + " " + Sanitize(f.Rule) + ": " + Sanitize(f.Message))
	if f.Offset != 0 {
		p.line(fmt.Sprintf("    offset %d", f.Offset))
	}
	if f.Line != 0 {
		p.line(fmt.Sprintf("    line %d", f.Line))
	}
	if f.Evidence != "" {
		p.line("    evidence:")
		for _, l := range sanitizeLines(f.Evidence) {
			p.line("      " + l)
		}
	}
	if f.Help != "" {
		p.line("    " + p.paint(dim, "help: "+Sanitize(helpURL(f.Help))))
	}
}

// helpURL turns the repository-relative link that findings carry into one a
// terminal can open.
func helpURL(h string) string {
	if strings.HasPrefix(h, finding.DocsBase) {
		return finding.RepoURL + "/blob/main/" + h
	}
	return h
}

func (p printer) summary(r *finding.Result) {
	counts := finding.CountBySeverity(r.Findings)
	var b strings.Builder
	fmt.Fprintf(&b, "scanned %s: ", plural(len(r.Files), "file", "files"))
	for s := finding.Critical; s >= finding.Info; s-- {
		if s != finding.Critical {
			b.WriteString(", ")
		}
		text := fmt.Sprintf("%d %s", counts[s], s)
		if counts[s] > 0 {
			text = p.paint(severityColor[s], text)
		}
		b.WriteString(text)
	}
	if r.Decision != "" {
		c := "\x1b[1;32m" // bold green
		if r.Decision == finding.Fail {
			c = "\x1b[1;31m"
		}
		b.WriteString(" — decision: " + p.paint(c, Sanitize(r.Decision)))
	}
	p.line(b.String())
}

func plural(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, pick(n, one, many))
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
