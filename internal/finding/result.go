package finding

import (
	"cmp"
	"slices"
)

// Schema is the identifier of the JSON result format (DESIGN.md, "Contracts").
const Schema = "mlguard/result/v1"

// Tool names the program that produced a result.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// File is one file that was scanned as a model.
type File struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	// Architecture and Parameters are the model's, where its format says
	// them (GGUF general.architecture, the shapes of safetensors or ONNX
	// tensors); empty and 0 otherwise.
	Architecture string `json:"architecture,omitempty"`
	Parameters   int64  `json:"parameters,omitempty"`
}

// Skipped is a file that was looked at and is not a model (text, image, source).
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Decision values.
const (
	Pass = "pass"
	Fail = "fail"
)

// Result is everything one run found; reporters render it.
type Result struct {
	Tool     Tool      `json:"tool"`
	Decision string    `json:"decision"`
	Files    []File    `json:"files"`
	Skipped  []Skipped `json:"skipped"`
	Findings []Finding `json:"findings"`
	// Packages are the dependencies checked, each with its registry facts
	// and findings (also listed in Findings).
	Packages []Package `json:"packages"`
}

// Package is one dependency checked: its purl, how the change touched it,
// what the registries said (unknown facts absent) and what was found.
type Package struct {
	PURL     string    `json:"purl"`
	Change   string    `json:"change"`
	Facts    any       `json:"facts"`
	Findings []Finding `json:"findings"`
}

// Sort puts files, skipped entries and findings in a stable order: by path,
// then (for findings) by member, offset, severity (highest first) and rule.
func (r *Result) Sort() {
	slices.SortFunc(r.Files, func(a, b File) int { return cmp.Compare(a.Path, b.Path) })
	slices.SortFunc(r.Skipped, func(a, b Skipped) int { return cmp.Compare(a.Path, b.Path) })
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Member, b.Member),
			cmp.Compare(a.Offset, b.Offset),
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// Max returns the highest severity among the findings, and false when there are none.
func (r *Result) Max() (Severity, bool) {
	if len(r.Findings) == 0 {
		return Info, false
	}
	m := Info
	for _, f := range r.Findings {
		m = max(m, f.Severity)
	}
	return m, true
}

// Decide sets Decision: fail when any finding is at or above threshold.
func (r *Result) Decide(threshold Severity) {
	r.Decision = Pass
	if m, ok := r.Max(); ok && m >= threshold {
		r.Decision = Fail
	}
}
