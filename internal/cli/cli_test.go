package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mlguard/mlguard/internal/finding"
)

var update = flag.Bool("update", false, "rewrite golden files")

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestCorpusLabels runs the scanner over a peer's public test corpus and
// requires every label to hold: malicious fails, benign passes, suspicious
// may do either but never errors.
func TestCorpusLabels(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "picklescan")
	raw, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if os.IsNotExist(err) {
		t.Skip("corpus not present: ", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	var labels map[string]string
	if err := json.Unmarshal(raw, &labels); err != nil {
		t.Fatal(err)
	}
	if len(labels) < 40 {
		t.Fatalf("only %d labels", len(labels))
	}
	for file, label := range labels {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			code, out, stderr := run(t, "scan", filepath.Join(dir, file))
			ok := map[string]bool{
				"malicious":  code == ExitFail,
				"benign":     code == ExitPass,
				"suspicious": code == ExitPass || code == ExitFail,
			}[label]
			if !ok {
				t.Errorf("%s labelled %s: exit %d\n%s%s", file, label, code, out, stderr)
			}
		})
	}
}

// TestFixtures checks real files made by PyTorch, NumPy, joblib and
// scikit-learn (testdata/models/make_fixtures.py): no false alarm on the
// ordinary ones, every malicious one caught.
func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want int
	}{{"benign", ExitPass}, {"malicious", ExitFail}} {
		files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "models", tc.dir, "*"))
		if err != nil || len(files) < 8 {
			t.Fatalf("%s fixtures: %v (%d files)", tc.dir, err, len(files))
		}
		for _, f := range files {
			t.Run(tc.dir+"/"+filepath.Base(f), func(t *testing.T) {
				t.Parallel()
				// For benign files nothing at all may be reported, not even below the threshold.
				code, out, stderr := run(t, "scan", "--format", "json", "--fail-on", map[int]string{ExitPass: "info", ExitFail: "critical"}[tc.want], f)
				if code != tc.want {
					t.Errorf("exit %d, want %d\n%s%s", code, tc.want, out, stderr)
				}
			})
		}
	}
}

func TestGoldenOutputs(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	dir := filepath.Join("testdata", "models")
	for _, format := range []string{"text", "json", "sarif"} {
		t.Run(format, func(t *testing.T) {
			code, out, stderr := run(t, "scan", "--format", format, dir)
			if code != ExitFail {
				t.Fatalf("exit %d, want 1: %s", code, stderr)
			}
			golden := filepath.Join("testdata", "golden."+format)
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), out); diff != "" {
				t.Errorf("output differs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSONContract(t *testing.T) {
	code, out, _ := run(t, "scan", "--format", "json", filepath.Join("testdata", "models"))
	if code != ExitFail {
		t.Fatalf("exit %d", code)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "tool", "decision", "files", "skipped", "findings", "packages"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
	var res struct {
		Schema   string            `json:"schema"`
		Files    []finding.File    `json:"files"`
		Skipped  []finding.Skipped `json:"skipped"`
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Schema != finding.Schema {
		t.Errorf("schema %q", res.Schema)
	}
	for _, f := range res.Files {
		if len(f.SHA256) != 64 || f.Size <= 0 || f.Format == "" {
			t.Errorf("file entry incomplete: %+v", f)
		}
	}
	if len(res.Skipped) == 0 || !strings.Contains(res.Skipped[0].Reason, "text") {
		t.Errorf("the README should be skipped as text: %+v", res.Skipped)
	}
	for _, f := range res.Findings {
		if !strings.HasPrefix(f.Help, "docs/rules.md#") || f.Path == "" || f.Message == "" {
			t.Errorf("finding incomplete: %+v", f)
		}
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{nil, ExitError, ""},
		{[]string{"nope"}, ExitError, ""},
		{[]string{"scan"}, ExitError, ""},
		{[]string{"scan", "--format", "xml", "."}, ExitError, ""},
		{[]string{"scan", "--fail-on", "severe", "."}, ExitError, ""},
		{[]string{"scan", "does/not/exist"}, ExitError, ""},
		{[]string{"scan", "-h"}, ExitPass, ""},
		{[]string{"version"}, ExitPass, "mlguard " + Version},
		{[]string{"rules"}, ExitPass, "pickle/dangerous-global"},
	} {
		code, out, _ := run(t, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) {
			t.Errorf("%v: exit %d (want %d), output %q", tc.args, code, tc.code, out)
		}
	}
}

func TestFlagsAfterPaths(t *testing.T) {
	code, out, _ := run(t, "scan", filepath.Join("testdata", "models"), "--format", "json", "--fail-on", "critical")
	if code != ExitFail || !strings.HasPrefix(out, "{") {
		t.Errorf("exit %d, output %.40q", code, out)
	}
}

func TestRulesJSON(t *testing.T) {
	code, out, _ := run(t, "rules", "--format", "json")
	var rows []map[string]string
	if code != ExitPass || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != len(finding.Rules()) {
		t.Fatalf("exit %d, %d rows: %s", code, len(rows), out)
	}
}
