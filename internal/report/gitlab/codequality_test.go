package gitlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/reporttest"
)

func writeCodeQuality(t *testing.T, r *finding.Result) ([]byte, []codeQualityIssue) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCodeQuality(&buf, r); err != nil {
		t.Fatalf("WriteCodeQuality: %v", err)
	}
	validateCodeQuality(t, buf.Bytes())
	var issues []codeQualityIssue
	if err := json.Unmarshal(buf.Bytes(), &issues); err != nil {
		t.Fatalf("decoding output: %v", err)
	}
	return buf.Bytes(), issues
}

func TestWriteCodeQualityGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		result *finding.Result
	}{
		{"codequality-full.json", reporttest.Full()},
		{"codequality-empty.json", reporttest.Empty()},
		{"codequality-mixed.json", mixed()},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			out, _ := writeCodeQuality(t, tt.result)
			reporttest.Golden(t, tt.golden, out, *update)
		})
	}
}

func TestWriteCodeQualityFields(t *testing.T) {
	t.Parallel()
	_, issues := writeCodeQuality(t, reporttest.Full())
	if len(issues) != 6 {
		t.Fatalf("%d issues, want 6", len(issues))
	}
	seen := map[string]bool{}
	for _, is := range issues {
		if seen[is.Fingerprint] {
			t.Errorf("fingerprint %s repeated", is.Fingerprint)
		}
		seen[is.Fingerprint] = true
		if strings.ContainsAny(is.Description, "\x1b\n\r\u009b") {
			t.Errorf("description not sanitized: %q", is.Description)
		}
	}
	dangerous := issues[0] // models/a.pt sorts first; its critical finding
	want := codeQualityIssue{
		Description: dangerous.Description,
		CheckName:   finding.PickleDangerousGlobal,
		Fingerprint: dangerous.Fingerprint,
		Severity:    "blocker",
		Location:    codeQualityLocation{Path: "models/a.pt", Lines: codeQualityLines{Begin: 1}},
	}
	if diff := cmp.Diff(want, dangerous); diff != "" {
		t.Errorf("critical finding (-want +got):\n%s", diff)
	}
	if !strings.Contains(dangerous.Description, "(in archive/data.pkl at offset 42)") {
		t.Errorf("description lacks the member and offset: %q", dangerous.Description)
	}
}

func TestCodeQualitySeverity(t *testing.T) {
	t.Parallel()
	for s, want := range map[finding.Severity]string{
		finding.Info: "info", finding.Low: "minor", finding.Medium: "major", finding.High: "critical", finding.Critical: "blocker",
	} {
		if got := codeQualitySeverity(s); got != want {
			t.Errorf("codeQualitySeverity(%s) = %s, want %s", s, got, want)
		}
	}
}

func TestWriteCodeQualityLeavesOut(t *testing.T) {
	t.Parallel()
	r := mixed()
	_, issues := writeCodeQuality(t, r)
	var names []string
	for _, is := range issues {
		names = append(names, is.CheckName+" "+is.Location.Path)
	}
	want := []string{
		finding.PickleDangerousGlobal + " models/a.pt",
		finding.PickleDangerousGlobal + " models/a.pt",
		finding.PackageTyposquat + " requirements.txt", // dependency findings point at the manifest line
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("issues (-want +got), waived and path-less findings left out:\n%s", diff)
	}
	if issues[2].Location.Lines.Begin != 7 {
		t.Errorf("manifest line %d, want 7", issues[2].Location.Lines.Begin)
	}
	if issues[0].Fingerprint == issues[1].Fingerprint {
		t.Error("identical findings share a fingerprint")
	}
}

func TestWriteCodeQualityBounded(t *testing.T) {
	t.Parallel()
	f := finding.New(finding.PickleUnknownGlobal, strings.Repeat("\x1b", 100_000))
	f.Path = "./big.pkl"
	f.Member = strings.Repeat("m", 100_000)
	_, issues := writeCodeQuality(t, &finding.Result{Findings: []finding.Finding{f}})
	if n := len(issues[0].Description); n > maxDescription {
		t.Errorf("description of %d bytes, want at most %d", n, maxDescription)
	}
	if issues[0].Location.Path != "big.pkl" {
		t.Errorf("path %q, want the ./ stripped", issues[0].Location.Path)
	}
}

func TestWriteCodeQualityErrors(t *testing.T) {
	t.Parallel()
	if err := WriteCodeQuality(&bytes.Buffer{}, nil); err == nil {
		t.Error("nil result: no error")
	}
	if err := WriteCodeQuality(failingWriter{}, reporttest.Full()); err == nil || !errors.Is(err, errWrite) {
		t.Errorf("failing writer: %v", err)
	}
}

var errWrite = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

// mixed is a result with what the reports treat apart: two identical
// findings, a dependency finding, a waived finding and a finding without a
// path.
func mixed() *finding.Result {
	dup := finding.New(finding.PickleDangerousGlobal, "pickle calls posix.system")
	dup.Path = "./models/a.pt"
	dup.Member = "archive/data.pkl"
	dup.Offset = 10
	dup.Evidence = "posix.system('id')"

	typo := finding.New(finding.PackageTyposquat, "reqeusts looks like requests")
	typo.Path = "requirements.txt"
	typo.Line = 7

	waived := finding.New(finding.PickleUnknownGlobal, "pickle imports legacy.Model")
	waived.Path = "legacy/old.pkl"

	nowhere := finding.New(finding.PolicyRuleNotEvaluated, "custom rule x was not evaluated")

	return &finding.Result{
		Tool:     finding.Tool{Name: "mlguard", Version: "0.1.0"},
		Decision: finding.Fail,
		Files:    []finding.File{{Path: "models/a.pt", Format: "pytorch-zip", Size: 10}},
		Findings: []finding.Finding{dup, dup, typo, nowhere},
		Packages: []finding.Package{{PURL: "pkg:pypi/reqeusts@1.0", Change: "added", Findings: []finding.Finding{typo}}},
		Waived:   []finding.Waived{{Finding: waived, Waiver: "pickle/* for legacy/**", Reason: "reviewed by @alice #12", Expires: "2099-01-01"}},
	}
}
