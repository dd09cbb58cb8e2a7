package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanPolicy: the decision of mlguard scan comes from the policy: the
// repository's .mlguard.yaml (with a waiver), a built-in by --policy, and
// --fail-on over either; a bad policy file is an error naming its line.
func TestScanPolicy(t *testing.T) {
	evil, err := os.ReadFile(filepath.Join("..", "..", "testdata", "models", "malicious", "joblib_eval.joblib"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("legacy/old.joblib", evil)
	write("models/config.pkl", []byte("\x80\x02cmymod\nConfig\nq\x00.")) // a medium finding only
	t.Chdir(dir)

	type result struct {
		Decision string `json:"decision"`
		Findings []struct {
			Rule string `json:"rule"`
		} `json:"findings"`
		Waived []struct {
			Finding struct {
				Rule string `json:"rule"`
				Path string `json:"path"`
			} `json:"finding"`
			Reason string `json:"reason"`
		} `json:"waived"`
	}
	scan := func(args ...string) (int, result, string) {
		t.Helper()
		code, out, stderr := run(t, append([]string{"scan", "--offline", "--format", "json"}, append(args, ".")...)...)
		var r result
		if code != ExitError {
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		}
		return code, r, stderr
	}

	if code, r, _ := scan(); code != ExitFail || r.Decision != "fail" {
		t.Errorf("default policy: exit %d, %s", code, r.Decision)
	}
	if code, r, _ := scan("--policy", "audit"); code != ExitPass || len(r.Findings) == 0 {
		t.Errorf("audit: exit %d, %d findings", code, len(r.Findings))
	}
	if code, _, _ := scan("--fail-on", "never"); code != ExitPass {
		t.Errorf("--fail-on never: exit %d", code)
	}

	// The repository's policy waives the legacy file; the medium finding
	// passes under default thresholds and fails under strict.
	write(".mlguard.yaml", []byte(`version: 1
extends: default
ignore:
  - rule: "pickle/*"
    path: "legacy/**"
    reason: "archived lab models, never loaded"
    expires: 2999-12-31
`))
	code, r, stderr := scan()
	if code != ExitPass || len(r.Waived) == 0 || r.Waived[0].Finding.Path != "legacy/old.joblib" || r.Waived[0].Reason == "" {
		t.Errorf(".mlguard.yaml waiver: exit %d, %+v, %s", code, r, stderr)
	}
	for _, f := range r.Findings {
		if strings.HasPrefix(f.Rule, "pickle/dangerous") {
			t.Errorf("a waived finding is still among the findings: %+v", r.Findings)
		}
	}
	if code, _, _ := scan("--policy", "strict"); code != ExitFail {
		t.Errorf("strict fails on the medium finding (and ignores .mlguard.yaml's waiver): exit %d", code)
	}

	// An expired waiver no longer applies and is reported.
	write(".mlguard.yaml", []byte("version: 1\nignore:\n  - rule: \"pickle/*\"\n    path: \"legacy/**\"\n    reason: old\n    expires: 2001-01-01\n"))
	code, r, _ = scan()
	expired := false
	for _, f := range r.Findings {
		expired = expired || f.Rule == "policy/waiver-expired"
	}
	if code != ExitFail || !expired || len(r.Waived) != 0 {
		t.Errorf("expired waiver: exit %d, %+v", code, r)
	}

	write(".mlguard.yaml", []byte("version: 1\nfail-on:\n  modles: high\n"))
	if code, _, stderr := scan(); code != ExitError || !strings.Contains(stderr, ".mlguard.yaml:3") {
		t.Errorf("a bad policy: exit %d, %s", code, stderr)
	}
}
