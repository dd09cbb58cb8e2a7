package ci

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadInputs(t *testing.T) {
	t.Parallel()
	defaults, err := ReadInputs(env(map[string]string{"GITHUB_TOKEN": "tok"}))
	must(t, err)
	want := Inputs{Scope: "changed", Comment: "true", CheckRun: true, Token: "tok", BOMSpec: "1.6"}
	if diff := cmp.Diff(want, defaults); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}

	set, err := ReadInputs(env(map[string]string{
		"INPUT_POLICY": "strict", "INPUT_SCOPE": "All", "INPUT_PATHS": "models/**\n# a comment\n  data/*.pkl, extra/ \n", "INPUT_EXCLUDE": "tests/",
		"INPUT_FAIL-ON": "medium", "INPUT_COMMENT": "Always", "INPUT_CHECK-RUN": "False", "INPUT_SARIF-FILE": "out.sarif",
		"INPUT_BOM-FILE": "bom.json", "INPUT_BOM-SPEC": "1.7", "INPUT_GITHUB-TOKEN": "input-token", "GITHUB_TOKEN": "env-token", "INPUT_OFFLINE": "TRUE",
		"INPUT_PYPI-URL": "https://pypi.example/", "INPUT_CACHE-DIR": ".cache/mlguard",
	}))
	must(t, err)
	want = Inputs{
		Policy: "strict", Scope: "all", Paths: []string{"models/**", "data/*.pkl", "extra/"}, Exclude: []string{"tests/"},
		FailOn: "medium", Comment: "always", CheckRun: false, SARIFFile: "out.sarif", BOMFile: "bom.json", BOMSpec: "1.7",
		Token: "input-token", Offline: true, PyPIURL: "https://pypi.example/", CacheDir: ".cache/mlguard",
	}
	if diff := cmp.Diff(want, set); diff != "" {
		t.Errorf("set (-want +got):\n%s", diff)
	}

	for _, bad := range []map[string]string{
		{"INPUT_CHECK-RUN": "yes"},
		{"INPUT_OFFLINE": "1"},
		{"INPUT_COMMENT": "sometimes"},
		{"INPUT_SCOPE": "everything"},
	} {
		if _, err := ReadInputs(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if c, err := ReadInputs(env(map[string]string{"INPUT_COMMENT": "FALSE"})); err != nil || c.Comment != "false" {
		t.Errorf("comment FALSE = %q, %v", c.Comment, err)
	}
}

// parseOutputs reads GITHUB_OUTPUT the way the runner does: name=value
// lines and name<<DELIMITER blocks.
func parseOutputs(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		name, delim, ok := strings.Cut(line, "<<")
		if !ok {
			t.Fatalf("line %q is not a heredoc", line)
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("delimiter %q never closed", delim)
		}
		if _, dup := out[name]; dup {
			t.Fatalf("output %s set twice", name)
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}

func TestWriteOutputs(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "out")
	must(t, os.WriteFile(file, []byte("earlier<<EOF\nkept\nEOF\n"), 0o644))
	hostile := "x.pt\nEOF\ndecision=pass\nghadelimiter_\n"
	must(t, WriteOutputs(file, [][2]string{{"decision", "fail"}, {"findings", "3"}, {"sarif-file", hostile}}))
	b, err := os.ReadFile(file)
	must(t, err)
	got := parseOutputs(t, string(b))
	want := map[string]string{"earlier": "kept", "decision": "fail", "findings": "3", "sarif-file": hostile}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	delims := regexp.MustCompile(`<<(ghadelimiter_[0-9a-f]{32})\n`).FindAllStringSubmatch(string(b), -1)
	if len(delims) != 3 || delims[0][1] == delims[1][1] {
		t.Errorf("delimiters %v: want three random ones", delims)
	}
	if err := WriteOutputs(file, [][2]string{{"bad\nname", "x"}}); err == nil {
		t.Error("a name with a newline was accepted")
	}
	if err := WriteOutputs("", [][2]string{{"a", "b"}}); err != nil {
		t.Errorf("no GITHUB_OUTPUT: %v", err)
	}
	if err := WriteOutputs(filepath.Join(t.TempDir(), "no", "such", "dir"), [][2]string{{"a", "b"}}); err == nil {
		t.Error("an unwritable file gave no error")
	}
}

func TestAppendSummary(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "summary")
	must(t, AppendSummary(file, "one\n"))
	must(t, AppendSummary(file, "two\n"))
	b, err := os.ReadFile(file)
	must(t, err)
	if string(b) != "one\ntwo\n" {
		t.Errorf("summary = %q", b)
	}
}
