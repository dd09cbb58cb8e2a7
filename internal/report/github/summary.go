package github

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/markdown"
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
	out, _, err := summaryLayout(r, limit).render(finding.BySeverity(r.Findings))
	if err != nil {
		return fmt.Errorf("writing job summary: %w", err)
	}
	if _, err := io.WriteString(w, out); err != nil {
		return fmt.Errorf("writing job summary: %w", err)
	}
	return nil
}

// summaryLayout is the job summary's: findings with their evidence, and a
// note that points to the JSON and SARIF reports for what did not fit.
func summaryLayout(r *finding.Result, limit int) layout {
	return layout{
		head:           heading(r),
		row:            func(f finding.Finding) string { return tableRow(f, md(location(f))) },
		details:        evidenceBlock,
		detailsHeading: "\n### Evidence\n",
		omitted: func(n int) string {
			return omittedNote(n, "the job summary is limited in size. The JSON or SARIF report lists every finding.")
		},
		skipped: r.Skipped,
		waived:  r.Waived,
		foot:    footer(r.Tool),
		limit:   limit,
	}
}

// layout is the shape the job summary, the check run output and the pull
// request comment share: a heading, a table of findings with a collapsed
// block for each that has one, the skipped files, a tail and a footer, all
// within a size limit in bytes (which also bounds the count of characters,
// however GitHub counts them).
type layout struct {
	head string
	// row renders one table row; details the finding's collapsed block, or
	// "" when it has none. The first block is preceded by detailsHeading.
	row            func(finding.Finding) string
	details        func(finding.Finding) string
	detailsHeading string
	// omitted is the note written after the table when n findings did not fit.
	omitted func(n int) string
	skipped []finding.Skipped
	waived  []finding.Waived // listed before the skipped files: nothing waived is hidden
	tail    string           // after the skipped files, before the footer
	foot    string
	limit   int
}

// render lays out fs, in the order given (most severe first), and returns
// the Markdown and how many of fs it shows: whole rows with their blocks, as
// many as fit; skipped files share what is left. It fails when even the
// heading, tail and footer do not fit.
func (l layout) render(fs []finding.Finding) (string, int, error) {
	// The heading, tail, footer, table header and the longest "left out"
	// note are always written; findings, then skipped files, share the rest.
	fixed := len(l.head) + len(l.tail) + len(l.foot)
	reserve := 0
	if len(fs) > 0 {
		fixed += len("\n") + len(tableHeader)
		reserve = len(l.omitted(len(fs)))
	}
	budget := l.limit - fixed - reserve
	if budget < 0 {
		return "", 0, fmt.Errorf("%d bytes are too few for the heading and footer (%d)", l.limit, fixed+reserve)
	}

	var rows, details strings.Builder
	shown := 0
	for _, f := range fs {
		row := l.row(f)
		block := ""
		if l.details != nil {
			block = l.details(f)
		}
		if block != "" && details.Len() == 0 {
			block = l.detailsHeading + block
		}
		if len(row)+len(block) > budget {
			break
		}
		budget -= len(row) + len(block)
		rows.WriteString(row)
		details.WriteString(block)
		shown++
	}
	note := ""
	if omitted := len(fs) - shown; omitted > 0 {
		note = l.omitted(omitted)
	}
	budget += reserve - len(note)

	var b strings.Builder
	b.WriteString(l.head)
	if len(fs) > 0 {
		b.WriteString("\n" + tableHeader)
		b.WriteString(rows.String())
		b.WriteString(note)
	}
	b.WriteString(details.String())
	ws := waivedSection(l.waived, budget)
	b.WriteString(ws)
	b.WriteString(skippedSection(l.skipped, budget-len(ws)))
	b.WriteString(l.tail)
	b.WriteString(l.foot)
	if b.Len() > l.limit { // a bug in the accounting above, never the input's fault
		return "", 0, fmt.Errorf("%d bytes exceed the limit of %d", b.Len(), l.limit)
	}
	return b.String(), shown, nil
}

// heading is the decision and the counts.
func heading(r *finding.Result) string {
	switch r.Decision {
	case finding.Pass:
		return "## ✅ mlguard: pass\n\n" + markdown.Counts(r, false)
	case finding.Fail:
		return "## ❌ mlguard: fail\n\n" + markdown.Counts(r, false)
	default:
		return "## ❔ mlguard: no decision\n\n" + markdown.Counts(r, false)
	}
}

// tableRow is one row of the findings table; file is the File cell,
// already made safe (escaped text, or a link the caller built).
func tableRow(f finding.Finding, file string) string {
	rule := md(markdown.Clip(f.Rule, maxText))
	if known, ok := finding.Lookup(f.Rule); ok {
		rule = "[" + rule + "](" + known.HelpURL() + ")"
	}
	return "| " + md(f.Severity.String()) + " | " + rule + " | " + file + " | " + md(markdown.Clip(f.Message, maxText)) + " |\n"
}

// location is path!member, with the member clipped.
func location(f finding.Finding) string {
	if f.Member == "" {
		return f.Path
	}
	return f.Path + "!" + markdown.Clip(f.Member, maxText)
}

// evidenceBlock is one finding's evidence, collapsed, or "" when it has none.
func evidenceBlock(f finding.Finding) string {
	if f.Evidence == "" {
		return ""
	}
	return detailsBlock(f, "")
}

// detailsBlock is one finding, collapsed under a line that says what and
// where: its evidence, if any, in a fenced code block whose fence no backtick
// run in the evidence can close, then more, Markdown the caller made safe.
func detailsBlock(f finding.Finding, more string) string {
	what := f.Severity.String() + " " + f.Rule + " in " + location(f)
	if f.Offset > 0 {
		what += " at offset " + strconv.FormatInt(f.Offset, 10)
	}
	var b strings.Builder
	b.WriteString("\n<details><summary>" + md(what) + "</summary>\n\n")
	if f.Evidence != "" {
		body := sanitizeLines(markdown.Clip(f.Evidence, maxEvidence))
		fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
		b.WriteString(fence + "\n" + body + "\n" + fence + "\n\n")
	}
	b.WriteString(more)
	b.WriteString("</details>\n")
	return b.String()
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

// omittedNote says that n findings are not shown, and why.
func omittedNote(n int, why string) string {
	return fmt.Sprintf("\n**%s not shown**: %s\n", markdown.Plural(n, "more finding"), why)
}

// skippedSection lists the skipped files in a collapsed block of at most
// budget bytes: as many whole rows as fit and a line for the rest, or a
// single line when even that does not fit.
func skippedSection(skipped []finding.Skipped, budget int) string {
	if len(skipped) == 0 {
		return ""
	}
	open := fmt.Sprintf("\n<details><summary>%s skipped (not models)</summary>\n\n| File | Reason |\n| --- | --- |\n", markdown.Plural(len(skipped), "file"))
	const closing = "\n</details>\n"
	more := func(n int) string { return fmt.Sprintf("\nand %d more.\n", n) }
	room := budget - len(open) - len(closing) - len(more(len(skipped)))
	if room < 0 {
		if short := fmt.Sprintf("\n%s skipped (not models).\n", markdown.Plural(len(skipped), "file")); len(short) <= budget {
			return short
		}
		return ""
	}
	var b strings.Builder
	b.WriteString(open)
	shown := 0
	for _, s := range skipped {
		row := "| " + md(s.Path) + " | " + md(markdown.Clip(s.Reason, maxText)) + " |\n"
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

// waivedSection lists the findings the policy's waivers accepted in a
// collapsed block of at most budget bytes, as skippedSection does.
func waivedSection(waived []finding.Waived, budget int) string {
	if len(waived) == 0 {
		return ""
	}
	open := fmt.Sprintf("\n<details><summary>%s waived by the policy</summary>\n\n| Severity | Rule | File | Waiver | Reason | Until |\n| --- | --- | --- | --- | --- | --- |\n", markdown.Plural(len(waived), "finding"))
	const closing = "\n</details>\n"
	more := func(n int) string { return fmt.Sprintf("\nand %d more.\n", n) }
	room := budget - len(open) - len(closing) - len(more(len(waived)))
	if room < 0 {
		if short := fmt.Sprintf("\n%s waived by the policy.\n", markdown.Plural(len(waived), "finding")); len(short) <= budget {
			return short
		}
		return ""
	}
	var b strings.Builder
	b.WriteString(open)
	shown := 0
	for _, w := range waived {
		row := "| " + w.Finding.Severity.String() + " | " + md(w.Finding.Rule) + " | " + md(location(w.Finding)) + " | " +
			md(markdown.Clip(w.Waiver, maxText)) + " | " + md(markdown.Clip(w.Reason, maxText)) + " | " + md(w.Expires) + " |\n"
		if len(row) > room {
			break
		}
		room -= len(row)
		b.WriteString(row)
		shown++
	}
	if n := len(waived) - shown; n > 0 {
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
	v := md(markdown.Clip(name, 64))
	if t.Version != "" {
		v += " " + md(markdown.Clip(t.Version, 64))
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
	'$': "&#36;", // GitHub renders $...$ as math
}

// MarkdownText makes untrusted text inert in GitHub Markdown, as the cells
// of the summary and the comment are, cut to at most max bytes of input.
func MarkdownText(s string, max int) string { return md(markdown.Clip(s, max)) }

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
