package github

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/markdown"
	"github.com/mlguard/mlguard/internal/report/text"
)

// DefaultMaxAnnotations is the number of annotations written when
// AnnotationOptions.Max is not set. GitHub keeps at most 10 annotations of
// each level per step and 50 per job; the rest are in the job summary.
const DefaultMaxAnnotations = 50

// AnnotationOptions change how many annotations are written.
type AnnotationOptions struct {
	// Max caps the number of annotations; 0 or less means
	// DefaultMaxAnnotations. The most severe findings are written first.
	Max int
}

// commandLevel maps a severity to the workflow command that annotates at that level.
func commandLevel(s finding.Severity) string {
	switch {
	case s >= finding.High:
		return "error"
	case s == finding.Medium:
		return "warning"
	default:
		return "notice"
	}
}

// WriteAnnotations writes one workflow command per finding,
//
//	::error file=PATH,line=N,title=mlguard: RULE (severity)::MESSAGE
//
// (error for critical and high, warning for medium, notice for low and info),
// at most opts.Max of them, most severe first, then one ::notice:: line that
// says how many more findings only the job summary lists. Each command is one
// line, and no other line is written.
func WriteAnnotations(w io.Writer, r *finding.Result, opts AnnotationOptions) error {
	if r == nil {
		return fmt.Errorf("writing annotations: nil result")
	}
	limit := opts.Max
	if limit <= 0 {
		limit = DefaultMaxAnnotations
	}
	fs := finding.BySeverity(r.Findings)
	n := min(len(fs), limit)
	var b strings.Builder
	for _, f := range fs[:n] {
		writeCommand(&b, commandLevel(f.Severity), annotationProperties(f), annotationMessage(f))
	}
	if more := len(fs) - n; more > 0 {
		msg := fmt.Sprintf("mlguard: %s not annotated here; the job summary lists them all.", markdown.Plural(more, "more finding"))
		writeCommand(&b, "notice", nil, msg)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing annotations: %w", err)
	}
	return nil
}

type property struct{ key, value string }

func annotationProperties(f finding.Finding) []property {
	var props []property
	if f.Path != "" {
		props = append(props,
			property{"file", text.Sanitize(f.Path)},
			property{"line", strconv.Itoa(max(f.Line, 1))})
	}
	title := fmt.Sprintf("mlguard: %s (%s)", text.Sanitize(markdown.Clip(f.Rule, maxText)), f.Severity)
	return append(props, property{"title", title})
}

// annotationMessage is the finding's message, where it is inside an archive,
// the evidence from the next line on, and the documentation link. Every line
// is sanitized and defused; the line breaks between them are escaped by
// writeCommand, and GitHub shows them as line breaks.
func annotationMessage(f finding.Finding) string {
	first := text.Sanitize(markdown.Clip(f.Message, maxText))
	if f.Member != "" {
		first += " (in " + text.Sanitize(f.Path) + "!" + text.Sanitize(markdown.Clip(f.Member, maxText))
		if f.Offset > 0 {
			first += " at offset " + strconv.FormatInt(f.Offset, 10)
		}
		first += ")"
	}
	lines := []string{first}
	if f.Evidence != "" {
		ev := strings.Split(markdown.Clip(f.Evidence, maxEvidence), "\n")
		ev[0] = "Evidence: " + ev[0]
		for _, l := range ev {
			lines = append(lines, text.Sanitize(l))
		}
	}
	if u := helpURL(f); u != "" {
		lines = append(lines, "Help: "+text.Sanitize(u))
	}
	for i, l := range lines {
		lines[i] = defuse(l)
	}
	return strings.Join(lines, "\n")
}

// defuse puts a backslash before "::" at the start of a line (after any
// white space, which the runner trims before it looks for a command), so that
// no line of a message reads as a workflow command even once unescaped.
func defuse(line string) string {
	rest := strings.TrimLeftFunc(line, unicode.IsSpace)
	if !strings.HasPrefix(rest, "::") {
		return line
	}
	lead := line[:len(line)-len(rest)]
	return lead + `\` + rest
}

// writeCommand writes "::name k=v,k=v::message" and a newline, escaped as
// @actions/core's issueCommand does.
func writeCommand(b *strings.Builder, name string, props []property, msg string) {
	b.WriteString("::")
	b.WriteString(name)
	for i, p := range props {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(p.key + "=" + escapeProperty(p.value))
	}
	b.WriteString("::")
	b.WriteString(escapeData(msg))
	b.WriteByte('\n')
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// escapeData escapes a command's message as @actions/core's escapeData does.
func escapeData(s string) string { return dataEscaper.Replace(s) }

// escapeProperty escapes a command property as @actions/core's escapeProperty does.
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }
