package gitlab

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/markdown"
)

// NoteMarker starts the merge request note, so that later runs find it again
// and update it rather than add another.
const NoteMarker = "<!-- mlguard:mr-note -->"

// maxNoteBytes bounds the note's body. GitLab accepts 1,000,000 characters;
// a note is read by people, so it stays far smaller, as GitHub's comment does.
const maxNoteBytes = 64 << 10

// NoteOptions say where the note's links lead and when to post it.
type NoteOptions struct {
	// ProjectURL is the project's web address (CI_PROJECT_URL); with HeadSHA
	// it links each file to {ProjectURL}/-/blob/{HeadSHA}/{path}.
	ProjectURL string
	// HeadSHA is the commit the pipeline scanned (CI_COMMIT_SHA).
	HeadSHA string
	// PipelineURL is linked at the end of the note (CI_PIPELINE_URL).
	PipelineURL string
	// Always posts an "all clear" note even when no note existed yet.
	Always bool
}

const tableHeader = "| Severity | Rule | File | Message |\n| --- | --- | --- | --- |\n"

// RenderNote is the Markdown of the merge request note: NoteMarker, the
// decision and counts, a table of the findings (most severe first; rule
// linked to its documentation, file to its blob at opts.HeadSHA), for each
// finding a collapsed block with its evidence and what to do, the waived
// findings, the skipped files, the pipeline link and the tool version. With
// no findings and a passing decision the heading says "all clear". Every
// untrusted string is made inert (see md). The note is at most 64 KiB: the
// least severe findings are dropped whole, with a line saying how many, when
// they do not all fit; waived and skipped entries share what is left. A nil
// result renders as one without a decision.
func RenderNote(r *finding.Result, opts NoteOptions) string {
	if r == nil {
		r = &finding.Result{}
	}
	l := noteLayout{
		head:    NoteMarker + "\n" + heading(r),
		blob:    blobBase(opts),
		waived:  r.Waived,
		skipped: r.Skipped,
		foot:    footer(r.Tool),
		limit:   maxNoteBytes,
	}
	if u := markdown.SafeURL(opts.PipelineURL); u != "" && len(u) <= 2048 {
		l.tail = "\n[Pipeline](" + u + ")\n"
	}
	return l.render(finding.BySeverity(r.Findings))
}

// noteLayout lays out a note within limit bytes.
type noteLayout struct {
	head, tail, foot string
	blob             string // "" or "{project}/-/blob/{sha}/"
	waived           []finding.Waived
	skipped          []finding.Skipped
	limit            int
}

func (l noteLayout) render(fs []finding.Finding) string {
	omitted := func(n int) string {
		return fmt.Sprintf("\n**%s not shown**: a note is limited in size. The pipeline's Code Quality and security reports and the JSON report list every finding.\n",
			markdown.Plural(n, "more finding"))
	}
	fixed := len(l.head) + len(l.tail) + len(l.foot)
	reserve := 0
	if len(fs) > 0 {
		fixed += len("\n") + len(tableHeader)
		reserve = len(omitted(len(fs)))
	}
	budget := l.limit - fixed - reserve
	if budget < 0 { // cannot happen: every part of fixed is bounded
		return l.head
	}
	var rows, details strings.Builder
	shown := 0
	for _, f := range fs {
		row := tableRow(f, l.fileCell(f))
		block := detailsBlock(f)
		if block != "" && details.Len() == 0 {
			block = "\n### Details\n" + block
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
	if n := len(fs) - shown; n > 0 {
		note = omitted(n)
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
	return b.String()
}

// heading is the decision and the counts.
func heading(r *finding.Result) string {
	switch {
	case len(r.Findings) == 0 && r.Decision == finding.Pass:
		return "## ✅ mlguard: all clear\n\n" + markdown.Counts(r, true)
	case r.Decision == finding.Pass:
		return "## ✅ mlguard: pass\n\n" + markdown.Counts(r, true)
	case r.Decision == finding.Fail:
		return "## ❌ mlguard: fail\n\n" + markdown.Counts(r, true)
	default:
		return "## ❔ mlguard: no decision\n\n" + markdown.Counts(r, true)
	}
}

// tableRow is one row of the findings table; file is the File cell, already
// made safe.
func tableRow(f finding.Finding, file string) string {
	return "| " + md(f.Severity.String()) + " | " + ruleCell(f.Rule) + " | " + file + " | " + mdClip(f.Message, maxText) + " |\n"
}

// ruleCell is the rule, linked to its documentation when the rule table
// knows it.
func ruleCell(rule string) string {
	cell := mdClip(rule, maxText)
	if known, ok := finding.Lookup(rule); ok {
		cell = "[" + cell + "](" + known.HelpURL() + ")"
	}
	return cell
}

// location is path!member, each clipped, the path as reportPath gives it,
// "(no file)" for a finding about no file.
func location(f finding.Finding) string {
	path := markdown.Clip(cmp.Or(reportPath(f.Path), f.Path, "(no file)"), maxText)
	if f.Member == "" {
		return path
	}
	return path + "!" + markdown.Clip(f.Member, maxText)
}

// fileCell is the File cell of a finding: its path linked to the file at the
// head commit when the layout has a blob base, then the archive member.
func (l noteLayout) fileCell(f finding.Finding) string {
	path := reportPath(f.Path)
	if l.blob == "" || path == "" || len(path) > maxText {
		return md(location(f))
	}
	u := l.blob + markdown.EscapePath(path)
	if f.Line > 0 {
		u += "#L" + strconv.Itoa(f.Line)
	}
	cell := "[" + md(path) + "](" + u + ")"
	if f.Member != "" {
		cell += md("!" + markdown.Clip(f.Member, maxText))
	}
	return cell
}

// blobBase is "{project}/-/blob/{sha}/", or "" when opts lack either.
func blobBase(opts NoteOptions) string {
	project := markdown.SafeURL(strings.TrimRight(opts.ProjectURL, "/"))
	sha := opts.HeadSHA
	if project == "" || sha == "" || len(sha) > 64 || strings.Trim(sha, "0123456789abcdefABCDEF") != "" {
		return ""
	}
	return project + "/-/blob/" + sha + "/"
}

// detailsBlock is a finding collapsed under a line that says what and where:
// its evidence in a code block, then what to do. "" when there is neither.
func detailsBlock(f finding.Finding) string {
	known, ok := finding.Lookup(f.Rule)
	if !ok && f.Evidence == "" {
		return ""
	}
	what := f.Severity.String() + " " + markdown.Clip(f.Rule, maxText) + " in " + location(f)
	if f.Offset > 0 {
		what += " at offset " + strconv.FormatInt(f.Offset, 10)
	}
	var b strings.Builder
	b.WriteString("\n<details><summary>" + md(what) + "</summary>\n\n")
	if f.Evidence != "" {
		b.WriteString(codeBlock(markdown.Clip(f.Evidence, maxEvidence)) + "\n")
	}
	if ok {
		b.WriteString("**What to do.** " + md(known.Remediation) + " [More about " + md(known.ID) + "](" + known.HelpURL() + ")\n\n")
	}
	b.WriteString("</details>\n")
	return b.String()
}

// waivedSection lists the findings the policy's waivers accepted in a
// collapsed block of at most budget bytes: as many whole rows as fit and a
// line for the rest, or a single line when even that does not fit.
func waivedSection(waived []finding.Waived, budget int) string {
	if len(waived) == 0 {
		return ""
	}
	rows := make([]string, len(waived))
	for i, w := range waived {
		rows[i] = "| " + md(w.Finding.Severity.String()) + " | " + ruleCell(w.Finding.Rule) + " | " + md(location(w.Finding)) + " | " +
			mdClip(w.Waiver, maxText) + " | " + mdClip(w.Reason, maxText) + " | " + mdClip(w.Expires, 32) + " |\n"
	}
	return collapsed(markdown.Plural(len(waived), "finding")+" waived by the policy",
		"| Severity | Rule | File | Waiver | Reason | Until |\n| --- | --- | --- | --- | --- | --- |\n", rows, budget)
}

// skippedSection lists the skipped files like waivedSection.
func skippedSection(skipped []finding.Skipped, budget int) string {
	if len(skipped) == 0 {
		return ""
	}
	rows := make([]string, len(skipped))
	for i, s := range skipped {
		rows[i] = "| " + mdClip(s.Path, maxText) + " | " + mdClip(s.Reason, maxText) + " |\n"
	}
	return collapsed(markdown.Plural(len(skipped), "file")+" skipped (not models)", "| File | Reason |\n| --- | --- |\n", rows, budget)
}

// collapsed is a <details> block titled summary with a table of as many
// whole rows as fit in budget bytes and a line for the rest; just the
// summary as a line when the block does not fit; "" when nothing fits.
func collapsed(summary, header string, rows []string, budget int) string {
	open := "\n<details><summary>" + summary + "</summary>\n\n" + header
	const closing = "\n</details>\n"
	more := func(n int) string { return fmt.Sprintf("\nand %d more.\n", n) }
	room := budget - len(open) - len(closing) - len(more(len(rows)))
	if room < 0 {
		if short := "\n" + summary + ".\n"; len(short) <= budget {
			return short
		}
		return ""
	}
	var b strings.Builder
	b.WriteString(open)
	shown := 0
	for _, row := range rows {
		if len(row) > room {
			break
		}
		room -= len(row)
		b.WriteString(row)
		shown++
	}
	if n := len(rows) - shown; n > 0 {
		b.WriteString(more(n))
	}
	b.WriteString(closing)
	return b.String()
}

func footer(t finding.Tool) string {
	v := mdClip(t.Name, 64)
	if v == "" {
		v = toolName
	}
	if t.Version != "" {
		v += " " + mdClip(t.Version, 64)
	}
	return "\n---\n\n<sub>" + v + " · [rules](" + finding.RepoURL + "/blob/main/" + finding.DocsBase + ")</sub>\n"
}
