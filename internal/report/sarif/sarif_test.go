package sarif

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// schema is the official SARIF 2.1.0 schema, compiled once (see testdata/README.md).
var schema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join("testdata", "sarif-2.1.0-rtm.5.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://json.schemastore.org/sarif-2.1.0-rtm.5.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
})

// validate checks out against the SARIF schema.
func validate(t *testing.T, out []byte) {
	t.Helper()
	sch, err := schema()
	if err != nil {
		t.Fatalf("compiling the SARIF schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("output does not follow the SARIF 2.1.0 schema: %v", err)
	}
}

func write(t *testing.T, r *finding.Result, opts Options) ([]byte, *log) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r, opts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	var l log
	if err := json.Unmarshal(buf.Bytes(), &l); err != nil {
		t.Fatalf("decoding output: %v", err)
	}
	if len(l.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(l.Runs))
	}
	return buf.Bytes(), &l
}

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		result *finding.Result
	}{
		{"empty.sarif", reporttest.Empty()},
		{"full.sarif", reporttest.Full()},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			got, l := write(t, tt.result, Options{})
			reporttest.Golden(t, tt.golden, got, *update)
			validate(t, got)
			checkRun(t, tt.result, l.Runs[0])

			again, _ := write(t, tt.result, Options{})
			if !bytes.Equal(got, again) {
				t.Errorf("two writes of the same result differ")
			}
		})
	}
}

// checkRun checks what GitHub relies on beyond the schema.
func checkRun(t *testing.T, in *finding.Result, rn run) {
	t.Helper()
	rules := rn.Tool.Driver.Rules
	for i, want := range finding.Rules() {
		got := rules[i]
		if got.ID != want.ID || got.HelpURI != want.HelpURL() || got.Properties.SecuritySeverity == "" ||
			got.FullDescription == nil || got.Help == nil || got.Help.Markdown == "" {
			t.Errorf("rule %d = %+v, incomplete for %s", i, got, want.ID)
		}
	}
	if len(rn.Results) != len(in.Findings) {
		t.Fatalf("%d results for %d findings", len(rn.Results), len(in.Findings))
	}
	incomplete := 0
	for i, res := range rn.Results {
		f := in.Findings[i]
		if rules[res.RuleIndex].ID != res.RuleID || res.RuleID != f.Rule {
			t.Errorf("result %d: ruleId %s, ruleIndex %d names %s", i, res.RuleID, res.RuleIndex, rules[res.RuleIndex].ID)
		}
		if res.PartialFingerprints[Fingerprint] == "" {
			t.Errorf("result %d has no %s fingerprint", i, Fingerprint)
		}
		if f.Member != "" && res.Properties.Member != f.Member {
			t.Errorf("result %d: properties.member = %q, want %q", i, res.Properties.Member, f.Member)
		}
		if f.Rule == finding.ScanIncomplete {
			incomplete++
		}
	}
	inv := rn.Invocations[0]
	if !inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != incomplete {
		t.Errorf("invocation = %+v, want success and %d notifications", inv, incomplete)
	}
	if rn.OriginalURIBaseIDs != nil {
		t.Errorf("originalUriBaseIds written without Options.SrcRoot")
	}
}

func TestWriteOptions(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	got, l := write(t, reporttest.Empty(), Options{
		SrcRoot:   "/home/runner/work/my repo",
		StartTime: start,
		EndTime:   start.Add(1500 * time.Millisecond),
	})
	validate(t, got)
	rn := l.Runs[0]
	want := map[string]artifactLocation{SrcRootID: {URI: "file:///home/runner/work/my%20repo/"}}
	if diff := cmp.Diff(want, rn.OriginalURIBaseIDs); diff != "" {
		t.Errorf("originalUriBaseIds (-want +got):\n%s", diff)
	}
	inv := rn.Invocations[0]
	if inv.StartTimeUTC != "2026-01-02T03:04:05Z" || inv.EndTimeUTC != "2026-01-02T03:04:06.5Z" {
		t.Errorf("invocation times = %q, %q", inv.StartTimeUTC, inv.EndTimeUTC)
	}
}

func TestUnknownRule(t *testing.T) {
	t.Parallel()
	r := reporttest.Empty()
	r.Findings = []finding.Finding{{Rule: "future/rule", Severity: finding.Medium, Path: "x.bin", Message: "m"}}
	got, l := write(t, r, Options{})
	validate(t, got)
	res := l.Runs[0].Results[0]
	if rule := l.Runs[0].Tool.Driver.Rules[res.RuleIndex]; rule.ID != "future/rule" || rule.Name != "FutureRule" {
		t.Errorf("result points at rule %+v, want a descriptor for future/rule", rule)
	}
}

func TestLocation(t *testing.T) {
	t.Parallel()
	off := int64(42)
	tests := []struct {
		name string
		f    finding.Finding
		want location
	}{
		{
			name: "file with offset",
			f:    finding.Finding{Path: "models/a.pkl", Offset: 42},
			want: location{PhysicalLocation: physicalLocation{
				ArtifactLocation: artifactLocation{URI: "models/a.pkl", URIBaseID: SrcRootID},
				Region:           region{StartLine: 1, ByteOffset: &off},
			}},
		},
		{
			name: "line kept",
			f:    finding.Finding{Path: "config.json", Line: 7},
			want: location{PhysicalLocation: physicalLocation{
				ArtifactLocation: artifactLocation{URI: "config.json", URIBaseID: SrcRootID},
				Region:           region{StartLine: 7},
			}},
		},
		{
			name: "member offset is not a file offset",
			f:    finding.Finding{Path: "a.pt", Member: "archive/data.pkl", Offset: 42},
			want: location{
				PhysicalLocation: physicalLocation{
					ArtifactLocation: artifactLocation{URI: "a.pt", URIBaseID: SrcRootID},
					Region:           region{StartLine: 1},
				},
				LogicalLocations: []logicalLocation{{Name: "data.pkl", FullyQualifiedName: "a.pt!archive/data.pkl"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, locate(tt.f)); diff != "" {
				t.Errorf("locate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestArtifactURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, uri, base string
	}{
		{"models/a.pt", "models/a.pt", SrcRootID},
		{"models/my model.pkl", "models/my%20model.pkl", SrcRootID},
		{"a#b?c%d.pt", "a%23b%3Fc%25d.pt", SrcRootID},
		{"c:weird.pt", "c%3Aweird.pt", SrcRootID},
		{"modèle.pt", "mod%C3%A8le.pt", SrcRootID},
		{"bad\xff.pt", "bad%FF.pt", SrcRootID},
		{"../up.pt", "../up.pt", SrcRootID},
		{"/abs/a b.pt", "file:///abs/a%20b.pt", ""},
		{"D:/models/a.pt", "file:///D:/models/a.pt", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			uri, base := artifactURI(tt.path)
			if uri != tt.uri || base != tt.base {
				t.Errorf("artifactURI(%q) = %q, %q; want %q, %q", tt.path, uri, base, tt.uri, tt.base)
			}
		})
	}
}

func TestRootURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"/src", "file:///src/", true},
		{"/src/", "file:///src/", true},
		{"file:///src", "file:///src/", true},
		{"C:/work/my repo", "file:///C:/work/my%20repo/", true},
		{"relative/dir", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := rootURI(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("rootURI(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fn       func(string) string
		in, want string
	}{
		{camelCase, "pickle/dangerous-global", "PickleDangerousGlobal"},
		{camelCase, "archive/limit-exceeded", "ArchiveLimitExceeded"},
		{camelCase, "scan/incomplete", "ScanIncomplete"},
		{semanticVersion, "0.1.0", "0.1.0"},
		{semanticVersion, "v1.2.3-rc.1+abc", "1.2.3-rc.1+abc"},
		{semanticVersion, "dev", ""},
		{semanticVersion, "(devel)", ""},
		{escapeBrackets, "plain", "plain"},
		{escapeBrackets, "[x](https://e)", `\[x\](https://e)`},
		{escapeBrackets, `a\[b`, `a\\\[b`},
		{escapeBrackets, `C:\dir`, `C:\dir`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := tt.fn(tt.in); got != tt.want {
				t.Errorf("(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	base := finding.New(finding.PickleDangerousGlobal, "pickle calls os.system")
	base.Path, base.Member, base.Offset, base.Evidence = "a.pt", "archive/data.pkl", 42, "os.system('x')"
	fp := fingerprint(base)

	same := base
	same.Offset, same.Message, same.Severity = 99, "reworded", finding.High
	if fingerprint(same) != fp {
		t.Errorf("fingerprint changed with offset, message or severity")
	}
	for name, change := range map[string]func(*finding.Finding){
		"rule":     func(f *finding.Finding) { f.Rule = finding.PickleUnknownCallable },
		"path":     func(f *finding.Finding) { f.Path = "b.pt" },
		"member":   func(f *finding.Finding) { f.Member = "archive/other.pkl" },
		"evidence": func(f *finding.Finding) { f.Evidence = "os.system('y')" },
		"joined":   func(f *finding.Finding) { f.Path, f.Member = "a.pt\x00archive", "data.pkl" },
	} {
		f := base
		change(&f)
		if fingerprint(f) == fp {
			t.Errorf("fingerprint ignores a change of %s", name)
		}
	}
	noEvidence := base
	noEvidence.Evidence = ""
	other := noEvidence
	other.Message = "another problem"
	if fingerprint(noEvidence) == fingerprint(other) {
		t.Errorf("without evidence, findings with different messages share a fingerprint")
	}
}

func TestResultText(t *testing.T) {
	t.Parallel()
	f := finding.New(finding.PickleDangerousGlobal, "calls [os.system]")
	f.Member, f.Offset, f.Evidence = "archive/data.pkl", 42, "line1\n\x1b[31mline2\xff"
	want := "calls \\[os.system\\] (in archive/data.pkl at offset 42)\n\nEvidence:\nline1\n\\x1b\\[31mline2\\xff"
	if diff := cmp.Diff(want, resultText(f)); diff != "" {
		t.Errorf("resultText (-want +got):\n%s", diff)
	}
	if strings.ContainsRune(resultText(f), 0x1b) {
		t.Errorf("result text keeps an ESC")
	}
}

// TestWaived: a finding the policy waived is a result with an accepted
// external suppression that carries the waiver and its reason.
func TestWaived(t *testing.T) {
	t.Parallel()
	r := reporttest.Full()
	w := finding.New(finding.PickleUnknownGlobal, "pickle imports mylab.Net")
	w.Path = "legacy/old.pkl"
	r.Waived = []finding.Waived{{Finding: w, Waiver: "pickle/* for path legacy/**", Reason: "reviewed lab models", Expires: "2027-01-31"}}
	got, l := write(t, r, Options{})
	validate(t, got)
	res := l.Runs[0].Results
	if len(res) != len(r.Findings)+1 {
		t.Fatalf("%d results for %d findings and 1 waived", len(res), len(r.Findings))
	}
	last := res[len(res)-1]
	want := []suppression{{Kind: "external", Status: "accepted", Justification: "waived by the policy (pickle/* for path legacy/**): reviewed lab models; expires 2027-01-31"}}
	if last.RuleID != finding.PickleUnknownGlobal || len(last.Suppressions) != 1 || last.Suppressions[0] != want[0] {
		t.Errorf("waived result: %+v", last)
	}
	for _, x := range res[:len(res)-1] {
		if len(x.Suppressions) != 0 {
			t.Errorf("a finding that was not waived is suppressed: %+v", x)
		}
	}
}
