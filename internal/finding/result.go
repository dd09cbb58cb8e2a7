package finding

import (
	"cmp"
	"slices"

	"github.com/mlguard/mlguard/internal/deps"
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
	// ModelInfo is what the file's format says about the model; its fields
	// appear in JSON next to the file's own.
	ModelInfo
}

// ModelInfo is what a model file's headers say about the model, for the
// report and the ML-BOM's model card. Every field is empty where the format
// does not say it.
type ModelInfo struct {
	// Architecture: GGUF general.architecture, a Keras model's class, the
	// ONNX graph name, a config's model class...
	Architecture string `json:"architecture,omitempty"`
	// Parameters counts the weights, from the tensor shapes.
	Parameters int64 `json:"parameters,omitempty"`
	// DType is the element type holding most of the parameters, spelled as
	// the format spells it ("BF16", "F16", "Q4_K", "FLOAT", "float32").
	DType string `json:"dtype,omitempty"`
	// Producer is the tool that wrote the file, with its version when given
	// ("pytorch 2.3.0" from ONNX producer_name and producer_version).
	Producer string `json:"producer,omitempty"`
	// Inputs and Outputs are the graph's, where the format declares them
	// (ONNX graph inputs that are not initializers, and outputs).
	Inputs  []Tensor `json:"inputs,omitempty"`
	Outputs []Tensor `json:"outputs,omitempty"`
}

// Tensor is one declared graph input or output.
type Tensor struct {
	Name  string `json:"name"`
	DType string `json:"dtype,omitempty"` // "FLOAT", "INT64"...
	// Shape has one entry per dimension: a number, a symbolic name
	// ("batch"), or "?" when unknown. nil when the rank is unknown.
	Shape []string `json:"shape"`
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
	// Waived are the findings the policy's waivers accepted, each with the
	// waiver: not part of the decision, never hidden.
	Waived []Waived `json:"waived,omitempty"`
}

// Waived is a finding a waiver accepted.
type Waived struct {
	Finding Finding `json:"finding"`
	Waiver  string  `json:"waiver"`            // the waiver's rule and target: "pickle/* for path legacy/**"
	Reason  string  `json:"reason"`            // the waiver's reason
	Expires string  `json:"expires,omitempty"` // its last day, YYYY-MM-DD
}

// Package is one dependency checked: its purl, how the change touched it,
// what the registries said (unknown facts absent) and what was found.
type Package struct {
	PURL     string    `json:"purl"`
	Change   string    `json:"change"`
	Facts    any       `json:"facts"`
	Findings []Finding `json:"findings"`
	// Dep is the package as its manifest names it (for the ML-BOM).
	Dep deps.Package `json:"-"`
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
	slices.SortStableFunc(r.Waived, func(a, b Waived) int {
		return cmp.Or(cmp.Compare(a.Finding.Path, b.Finding.Path), cmp.Compare(a.Finding.Member, b.Finding.Member),
			cmp.Compare(a.Finding.Offset, b.Finding.Offset), cmp.Compare(a.Finding.Rule, b.Finding.Rule))
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
