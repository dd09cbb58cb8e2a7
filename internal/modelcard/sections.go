package modelcard

import (
	"strings"
	"unicode"
)

// The sections a card's body may have, as indexes into sectionFields.
const (
	secLimitations = iota
	secBias
	secEthical
	secIntendedUse
	secOutOfScope
	secTraining
	numSections
)

func sectionFields(s *Sections) [numSections]*string {
	return [numSections]*string{&s.Limitations, &s.Bias, &s.Ethical, &s.IntendedUse, &s.OutOfScope, &s.Training}
}

// sectionHeading is what a heading means: its section, and its rank among
// the headings of that section, 0 best. A card with several headings for
// one section gives the best-ranked one with text, the first of equals.
type sectionHeading struct {
	section, rank int
}

// headings maps normalized heading text (see normalizeHeading) to its
// section: the Hugging Face model card template's headings, and the
// variants that popular cards use.
var headings = map[string]sectionHeading{
	"limitations":                           {secLimitations, 0},
	"known limitations":                     {secLimitations, 0},
	"model limitations":                     {secLimitations, 0},
	"bias risks limitations":                {secLimitations, 1}, // the template's
	"risks limitations":                     {secLimitations, 1},
	"limitations risks":                     {secLimitations, 1},
	"limitations bias":                      {secLimitations, 1},
	"limitations biases":                    {secLimitations, 1},
	"bias limitations":                      {secLimitations, 1},
	"biases limitations":                    {secLimitations, 1},
	"risks limitations biases":              {secLimitations, 1},
	"bias":                                  {secBias, 0},
	"biases":                                {secBias, 0},
	"bias fairness":                         {secBias, 0},
	"fairness bias":                         {secBias, 0},
	"fairness":                              {secBias, 1},
	"ethical considerations":                {secEthical, 0},
	"ethics":                                {secEthical, 0},
	"ethical considerations limitations":    {secEthical, 1},
	"ethical considerations risks":          {secEthical, 1},
	"ethics safety":                         {secEthical, 1},
	"intended uses limitations":             {secIntendedUse, 0},
	"intended use":                          {secIntendedUse, 0},
	"intended uses":                         {secIntendedUse, 0},
	"intended use cases":                    {secIntendedUse, 0},
	"direct use":                            {secIntendedUse, 1}, // the template's, under "Uses"
	"out of scope use":                      {secOutOfScope, 0},
	"out of scope uses":                     {secOutOfScope, 0},
	"out of scope use cases":                {secOutOfScope, 0},
	"out of scope":                          {secOutOfScope, 0},
	"misuse out of scope use":               {secOutOfScope, 1},
	"misuse malicious use out of scope use": {secOutOfScope, 1},
	"training data":                         {secTraining, 0},
	"training dataset":                      {secTraining, 0},
	"training datasets":                     {secTraining, 0},
	"training details":                      {secTraining, 1}, // the template's, over Data and Procedure
	"training":                              {secTraining, 1},
	"training procedure":                    {secTraining, 2},
}

// normalizeHeading lowers a heading's text to words of letters and digits:
// punctuation, emphasis and emoji go, and so do leading section numbers,
// "and" and the template's "optional" ("## 5. Bias, Risks, and
// Limitations" is "bias risks limitations").
func normalizeHeading(s string) string {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := words[:0]
	for _, w := range words {
		switch {
		case w == "and" || w == "optional":
		case len(out) == 0 && strings.Trim(w, "0123456789") == "":
		default:
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// capture collects the text under a heading that names a section.
type capture struct {
	level   int
	heading sectionHeading
	text    strings.Builder
	blank   bool // the last line added was blank
}

func (c *capture) add(line string) {
	if c.text.Len() > 2*maxSection {
		return // clipped later anyway
	}
	if strings.TrimSpace(line) == "" {
		c.blank = c.text.Len() > 0
		return
	}
	if c.blank {
		c.text.WriteString("\n")
		c.blank = false
	}
	c.text.WriteString(line)
	c.text.WriteString("\n")
}

// readSections finds the body's sections: the text under an ATX heading
// (# to ######) that names one, up to the next heading of the same or a
// higher level or the next heading, at any level, that names a section (so
// "### Limitations and bias" under "## Intended uses & limitations" ends
// the intended use and is not part of it). Setext headings (text
// underlined with === or ---) are not read: the template and the popular
// cards use ATX. Headings inside fenced code blocks and HTML comments do
// not count; HTML comments and the template's "[More Information Needed]"
// are dropped from the text, and a section left with nothing but
// subheadings is empty.
func readSections(body []byte) Sections {
	var (
		s       Sections
		fields  = sectionFields(&s)
		ranks   [numSections]int
		open    *capture
		fence   string // the open code fence's marker, "" outside one
		comment bool   // inside an HTML comment
	)
	finish := func() {
		if open == nil {
			return
		}
		f, c := open.heading.section, open
		open = nil
		if *fields[f] != "" && ranks[f] <= c.heading.rank {
			return
		}
		if t := sectionText(c.text.String()); t != "" {
			*fields[f], ranks[f] = t, c.heading.rank
		}
	}
	for rest := string(body); rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimRight(line, " \t\r")
		if fence != "" {
			if closesFence(line, fence) {
				fence = ""
			}
		} else {
			hadText := line != ""
			if line, comment = stripComments(line, comment); hadText && line == "" {
				continue // all comment: no blank line either
			}
			if f := opensFence(line); f != "" {
				fence = f
			} else if level, text, ok := atxHeading(line); ok {
				h, known := headings[normalizeHeading(text)]
				if known || open != nil && level <= open.level {
					finish()
				}
				if known {
					open = &capture{level: level, heading: h}
					continue
				}
			}
		}
		if open != nil {
			open.add(line)
		}
	}
	finish()
	return s
}

// sectionText is a captured section's text, or "" when it says nothing:
// only subheadings and the template's placeholder.
func sectionText(raw string) string {
	var b strings.Builder
	says := false
	for rest := raw; rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		if placeholder(line) {
			continue
		}
		if _, _, ok := atxHeading(line); !ok && strings.IndexFunc(line, func(r rune) bool {
			return unicode.IsLetter(r) || unicode.IsDigit(r)
		}) >= 0 {
			says = true
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	if !says {
		return ""
	}
	// Dropping placeholders may leave blank lines in a row.
	t := strings.TrimSpace(b.String())
	for strings.Contains(t, "\n\n\n") {
		t = strings.ReplaceAll(t, "\n\n\n", "\n\n")
	}
	return multiLine(t, maxSection)
}

// placeholder reports whether a line is the template's "[More Information
// Needed]", alone or after a label ("- **Model type:** [More Information
// Needed]"), or the Trainer's "More information needed".
func placeholder(line string) bool {
	const text = "more information needed"
	l := strings.ToLower(line)
	if !strings.Contains(l, text) {
		return false
	}
	rest := strings.Trim(strings.ReplaceAll(l, "["+text+"]", ""), " \t*_-+>")
	if rest == "" || strings.HasSuffix(rest, ":") {
		return true
	}
	rest = strings.Trim(rest, "[]. ")
	return rest == text
}

// stripComments removes HTML comments from a line; in says whether the
// line starts inside one, and the result whether the next line does.
func stripComments(line string, in bool) (out string, stillIn bool) {
	var b strings.Builder
	for {
		if in {
			_, after, ok := strings.Cut(line, "-->")
			if !ok {
				return b.String(), true
			}
			line, in = after, false
		}
		before, after, ok := strings.Cut(line, "<!--")
		b.WriteString(before)
		if !ok {
			return strings.TrimRight(b.String(), " \t"), false
		}
		line, in = after, true
	}
}

// atxHeading parses an ATX heading: up to three spaces, one to six '#',
// then a space, a tab or the end of the line. The text loses its closing
// '#'s.
func atxHeading(line string) (level int, text string, ok bool) {
	i := 0
	for i < 3 && i < len(line) && line[i] == ' ' {
		i++
	}
	j := i
	for j < len(line) && line[j] == '#' {
		j++
	}
	if level = j - i; level < 1 || level > 6 {
		return 0, "", false
	}
	if j < len(line) && line[j] != ' ' && line[j] != '\t' {
		return 0, "", false
	}
	text = strings.TrimSpace(line[j:])
	if t := strings.TrimRight(text, "#"); t == "" || strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t") {
		text = strings.TrimSpace(t)
	}
	return level, text, true
}

// opensFence returns the marker of a code fence the line opens (three or
// more '`' or '~' after up to three spaces), "" when it opens none.
func opensFence(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 || len(t) < 3 || t[0] != '`' && t[0] != '~' {
		return ""
	}
	n := len(t) - len(strings.TrimLeft(t, t[:1]))
	if n < 3 || t[0] == '`' && strings.Contains(t[n:], "`") {
		return ""
	}
	return t[:n]
}

// closesFence reports whether a line closes the fence opened by marker: the
// same character, at least as many, nothing after but spaces.
func closesFence(line, marker string) bool {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return false
	}
	rest := strings.TrimLeft(t, marker[:1])
	return len(t)-len(rest) >= len(marker) && strings.TrimSpace(rest) == ""
}
