// Package modelcard reads Hugging Face model cards: a README.md whose YAML
// front matter carries the model's metadata (licence, base models, datasets,
// evaluation results) and whose Markdown body has the template's sections on
// intended use, limitations, bias and training.
//
// A card is untrusted text: it is parsed statically, every string is clipped
// and made valid UTF-8, every list is capped, and a field of an unexpected
// shape is skipped rather than failing the card.
package modelcard

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a card contributes. Bytes beyond maxCard are ignored;
// longer strings are clipped (free text) or dropped (ids, whose prefix
// would name something else); lists stop at maxList items.
const (
	maxCard        = 8 << 20   // bytes of a card examined
	maxFrontMatter = 256 << 10 // bytes of YAML front matter (real cards have a few KiB; hostile YAML costs time)
	maxList        = 256       // items of BaseModels, Datasets, Tags, Languages
	maxMetrics     = 256       // metrics over the whole model-index
	maxName        = 256       // bytes of an id, a name, a tag, a metric value
	maxLicence     = 1024      // bytes of a licence expression
	maxLink        = 2048      // bytes of license_link
	maxSection     = 4096      // bytes of a section's text
)

// Card is what a model card says about its model. Empty fields were absent,
// or of a shape that could not be read.
type Card struct {
	// License is the `license:` value: an SPDX id in the SPDX list's case
	// ("apache-2.0" becomes "Apache-2.0"), an SPDX expression with its known
	// ids so spelt, or the Hub's own id as written ("llama3", "openrail",
	// "other"). A list of licences is joined with AND: all of them apply.
	License     string
	LicenseName string // `license_name:`, given with License "other"
	LicenseLink string // `license_link:`

	BaseModels  []string // `base_model:`, Hub ids
	Datasets    []string // `datasets:`, Hub ids or dataset names
	PipelineTag string   // `pipeline_tag:`, the Hub task ("text-generation")
	LibraryName string   // `library_name:` ("transformers", "peft")
	Tags        []string // `tags:`
	Languages   []string // `language:`

	ModelName string   // the first `model-index:` entry's name
	Metrics   []Metric // the `model-index:` results, flattened

	Sections Sections // from the Markdown body
}

// Metric is one evaluation result of the card's model-index.
type Metric struct {
	Task          string // task type ("text-classification")
	TaskName      string // task display name
	DatasetName   string
	DatasetType   string // the dataset's Hub id
	DatasetConfig string
	DatasetSplit  string
	Type          string // metric id ("accuracy")
	Name          string // metric display name
	Value         string // as written: "0.87", "87.1", a list "0.5, 0.6"
	Verified      bool   // verified by the Hub's evaluation service
}

// Sections is the text, as Markdown, under the body's headings that mean
// these things; "" when the card has no such heading or only the template's
// placeholder under it.
type Sections struct {
	Limitations string // "Limitations", "Bias, Risks, and Limitations", ...
	Bias        string // "Bias", "Bias and Fairness"
	Ethical     string // "Ethical Considerations"
	IntendedUse string // "Intended Uses & Limitations", "Intended Use", "Direct Use"
	OutOfScope  string // "Out-of-Scope Use"
	Training    string // "Training Data", "Training Details"
}

// IsCard reports whether a file of this name is a model card: README.md or
// MODEL_CARD.md in any case. name may be a path with / or \ separators.
func IsCard(name string) bool {
	base := name[strings.LastIndexAny(name, `/\`)+1:]
	return strings.EqualFold(base, "README.md") || strings.EqualFold(base, "MODEL_CARD.md")
}

// Parse reads a model card, its first 8 MiB. It always returns a Card,
// with the body's sections even when the card has no front matter. The error is about the
// front matter only, and then the Card has no metadata: front matter that
// is not closed by a "---" line, is larger than maxFrontMatter, or is not a
// YAML mapping. Fields of the wrong shape inside good YAML are no error;
// they are left empty.
func Parse(content []byte) (*Card, error) {
	if len(content) > maxCard {
		content = content[:maxCard]
	}
	content = bytes.TrimPrefix(content, []byte("\uFEFF"))
	fm, body, err := split(content)
	c := &Card{}
	if err == nil && fm != nil {
		err = c.readMeta(fm)
	}
	c.Sections = readSections(body)
	if err != nil {
		return c, fmt.Errorf("reading model card front matter: %w", err)
	}
	return c, nil
}

var (
	errUnclosed = errors.New(`no closing "---" line`)
	errTooLarge = fmt.Errorf("larger than %d bytes", maxFrontMatter)
)

// split separates the front matter, the lines between a first line "---"
// and the next line "---", from the body. fm is nil when the card has none.
// Front matter that is not closed or too large is an error, and the body is
// then the whole card or the text after the front matter.
func split(content []byte) (fm, body []byte, err error) {
	first, rest, _ := cutLine(content)
	if !isFence(first) {
		return nil, content, nil
	}
	start := len(content) - len(rest)
	for off := start; off < len(content); {
		line, next, _ := cutLine(content[off:])
		if isFence(line) {
			fm, body = content[start:off], content[len(content)-len(next):]
			if len(fm) > maxFrontMatter {
				return nil, body, errTooLarge
			}
			return fm, body, nil
		}
		off = len(content) - len(next)
	}
	return nil, content, errUnclosed
}

// cutLine returns the first line of b without its line ending, and the rest.
func cutLine(b []byte) (line, rest []byte, found bool) {
	line, rest, found = bytes.Cut(b, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), rest, found
}

// isFence reports whether a line is a front matter delimiter.
func isFence(line []byte) bool {
	return string(bytes.TrimRight(line, " \t")) == "---"
}

// oneLine makes s a one-line text of at most max bytes: valid UTF-8, no
// control or bidirectional formatting characters, runs of white space as
// one space.
func oneLine(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range s { // an invalid byte ranges as U+FFFD
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case hidden(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		if b.Len() > max {
			break
		}
	}
	return clip(b.String(), max)
}

// multiLine makes s a text of at most max bytes: valid UTF-8, lines ending
// in "\n", no control or bidirectional formatting characters but "\n" and
// "\t".
func multiLine(s string, max int) string {
	var b strings.Builder
	for _, r := range s { // an invalid byte ranges as U+FFFD
		if hidden(r) && r != '\n' && r != '\t' {
			continue
		}
		b.WriteRune(r)
		if b.Len() > max {
			break
		}
	}
	return clip(b.String(), max)
}

// hidden reports whether r is a control character or a bidirectional
// formatting character, which could make text display other than it reads.
func hidden(r rune) bool {
	return unicode.IsControl(r) || r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069'
}

// clip cuts valid UTF-8 s to at most max bytes on a rune boundary, ending
// a cut text in "…".
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const more = "…"
	n := max - len(more)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimRightFunc(s[:n], unicode.IsSpace) + more
}
