package github

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/text"
)

// DefaultSummaryMaxBytes is the size the summary stays within when
// SummaryOptions.MaxBytes is not set: GitHub accepts at most 1 MiB per step,
// and the room left is for whatever else the step writes.
const DefaultSummaryMaxBytes = 1<<20 - 1<<10

// SummaryOptions change the job summary.
type SummaryOptions struct {
	// MaxBytes caps the size of the output; 0 or less means
	// DefaultSummaryMaxBytes. When the findings do not all fit, the table is
	// cut after a whole row (most severe findings first) and a line says how
	// many were left out.
	MaxBytes int
}

const tableHeader = "| Severity | Rule | File | Message |\n| --- | --- | --- | --- |\n"

// WriteSummary writes the Markdown job summary of r: the decision, the counts
// by severity, a table of the findings with the evidence of each in a
// collapsed block, the skipped files, and the tool version. The output is
// never larger than opts.MaxBytes; an error is returned, and nothing written,
// when even the heading and footer do not fit.
func WriteSummary(w io.Writer, r *finding.Result, opts SummaryOptions) error {
	if r == nil {
		return errors.New("writing job summary: nil result")
	}
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = DefaultSummaryMaxBytes
	}
	fs := bySeverity(r.Findings)
	head := heading(r)
	foot := footer(r.Tool)

	// The heading, the footer, the table header and the longest "left out"
	// note are always written; findings, then skipped files, share the rest.
	fixed := len(head) + len(foot)
	reserve := 0
	if len(fs) > 0 {
		fixed += len("\n") + len(tableHeader)
		reserve = len(omittedNote(len(fs)))
	}
	budget := limit - fixed - reserve
	if budget < 0 {
		return fmt.Errorf("writing job summary: %d bytes are too few for the heading and footer (%d)", limit, fixed+reserve)
	}

	var rows, evidence strings.Builder
	shown := 0
	for _, f := range fs {
		row := tableRow(f)
		ev := ""
		if f.Evidence != "" {
			ev = evidenceBlock(f)
			if evidence.Len() == 0 {
				ev = "\n### Evidence\n" + ev
			}
		}
		if len(row)+len(ev) > budget {
			break
		}
		budget -= len(row) + len(ev)
		rows.WriteString(row)
		evidence.WriteString(ev)
		shown++
	}
	note := ""
	if omitted := len(fs) - shown; omitted > 0 {
		note = omittedNote(omitted)
	}
	budget += reserve - len(note)
	skipped := skippedSection(r.Skipped, budget)

	var b strings.Builder
	b.WriteString(head)
	if len(fs) > 0 {
		b.WriteString("\n" + tableHeader)
		b.WriteString(rows.String())
		b.WriteString(note)
	}
	b.WriteString(evidence.String())
	b.WriteString(skipped)
	b.WriteString(foot)
	if b.Len() > limit { // a bug in the accounting above, never the input's fault
		return fmt.Errorf("writing job summary: %d bytes exceed the limit of %d", b.Len(), limit)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing job summary: %w", err)
	}
	return nil
}

// heading is the decision and the counts.
func heading(r *finding.Result) string {
	var b strings.Builder
	switch r.Decision {
	case finding.Pass:
		b.WriteString("## ✅ mlguard: pass\n\n")
	case finding.Fail:
		b.WriteString("## ❌ mlguard: fail\n\n")
	default:
		b.WriteString("## ❔ mlguard: no decision\n\n")
	}
	var counts [finding.Critical + 1]int
	for _, f := range r.Findings {
		if f.Severity >= finding.Info && f.Severity <= finding.Critical {
			counts[f.Severity]++
		}
	}
	if len(r.Findings) == 0 {
		b.WriteString("No findings")
	} else {
		b.WriteString("**" + plural(len(r.Findings), "finding") + "**")
		var parts []string
		for s := finding.Critical; s >= finding.Info; s-- {
			if counts[s] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
			}
		}
		if len(parts) > 0 {
			b.WriteString(" (" + strings.Join(parts, ", ") + ")")
		}
	}
	fmt.Fprintf(&b, " in %s", plural(len(r.Files), "scanned file"))
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "; %s skipped", plural(len(r.Skipped), "file"))
	}
	b.WriteString(".\n")
	return b.String()
}

func tableRow(f finding.Finding) string {
	rule := md(clip(f.Rule, maxText))
	if known, ok := finding.Lookup(f.Rule); ok {
		rule = "[" + rule + "](" + known.HelpURL() + ")"
	}
	return "| " + md(f.Severity.String()) + " | " + rule + " | " + md(location(f)) + " | " + md(clip(f.Message, maxText)) + " |\n"
}

// location is path!member, with the member clipped.
func location(f finding.Finding) string {
	if f.Member == "" {
		return f.Path
	}
	return f.Path + "!" + clip(f.Member, maxText)
}

// evidenceBlock is one finding's evidence, collapsed, in a fenced code block
// whose fence no backtick run in the evidence can close.
func evidenceBlock(f finding.Finding) string {
	what := f.Severity.String() + " " + f.Rule + " in " + location(f)
	if f.Offset > 0 {
		what += " at offset " + strconv.FormatInt(f.Offset, 10)
	}
	lines := strings.Split(clip(f.Evidence, maxEvidence), "\n")
	for i, l := range lines {
		lines[i] = text.Sanitize(l)
	}
	body := strings.Join(lines, "\n")
	fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	return "\n<details><summary>" + md(what) + "</summary>\n\n" + fence + "\n" + body + "\n" + fence + "\n\n</details>\n"
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

func omittedNote(n int) string {
	return fmt.Sprintf("\n**%s not shown**: the job summary is limited in size. The JSON or SARIF report lists every finding.\n", plural(n, "more finding"))
}

// skippedSection lists the skipped files in a collapsed block of at most
// budget bytes: as many whole rows as fit and a line for the rest, or a
// single line when even that does not fit.
func skippedSection(skipped []finding.Skipped, budget int) string {
	if len(skipped) == 0 {
		return ""
	}
	open := fmt.Sprintf("\n<details><summary>%s skipped (not models)</summary>\n\n| File | Reason |\n| --- | --- |\n", plural(len(skipped), "file"))
	const closing = "\n</details>\n"
	more := func(n int) string { return fmt.Sprintf("\nand %d more.\n", n) }
	room := budget - len(open) - len(closing) - len(more(len(skipped)))
	if room < 0 {
		if short := fmt.Sprintf("\n%s skipped (not models).\n", plural(len(skipped), "file")); len(short) <= budget {
			return short
		}
		return ""
	}
	var b strings.Builder
	b.WriteString(open)
	shown := 0
	for _, s := range skipped {
		row := "| " + md(s.Path) + " | " + md(clip(s.Reason, maxText)) + " |\n"
		if len(row) > room {
			break
		}
		room -= len(row)
		b.WriteString(row)
		shown++
	}
	if n := len(skipped) - shown; n > 0 {
		b.WriteString(more(n))
	}
	b.WriteString(closing)
	return b.String()
}

func footer(t finding.Tool) string {
	name := t.Name
	if name == "" {
		name = "mlguard"
	}
	v := md(clip(name, 64))
	if t.Version != "" {
		v += " " + md(clip(t.Version, 64))
	}
	return "\n---\n\n<sub>" + v + " · [rules](" + finding.RepoURL + "/blob/main/" + finding.DocsBase + ")</sub>\n"
}

// mdEntities are the characters that could start Markdown or HTML in a
// table cell or a <summary>: table pipes, code spans, emphasis, links and
// images, raw HTML, entities, backslash escapes, and the colon and at-sign of
// autolinks, e-mail links, mentions and :emoji:. Each becomes a numeric
// character reference, which renders as the character and means nothing else.
var mdEntities = map[byte]string{
	'&': "&amp;", '<': "&lt;", '>': "&gt;", '|': "&#124;", '`': "&#96;", '\\': "&#92;",
	'[': "&#91;", ']': "&#93;", '*': "&#42;", '_': "&#95;", '~': "&#126;", ':': "&#58;", '@': "&#64;",
}

// md makes untrusted text inert in a Markdown table cell or an HTML block:
// sanitized for a terminal first (line breaks and controls become visible
// escapes), then every character of mdEntities escaped, and the dot of
// "www." too, which would otherwise start an autolink.
func md(s string) string {
	s = text.Sanitize(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch e, ok := mdEntities[c]; {
		case ok:
			b.WriteString(e)
		case c == '.' && i >= 3 && strings.EqualFold(s[i-3:i], "www"):
			b.WriteString("&#46;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
