package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestActionMetadata checks action.yml against the contract of issue 3 and against what `mlguard ci` reads.
// It needs no mock.
func TestActionMetadata(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{
		"\nruns:\n  using: docker\n  image: Dockerfile\n  args:\n    - ci\n",
		"\nbranding:\n  icon: shield\n",
		"default: ${{ github.token }}\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("action.yml lacks %q", want)
		}
	}
	inputs := actionInputs(t)
	want := map[string]string{
		"policy": "", "scope": "changed", "paths": "", "exclude": "", "fail-on": "", "comment": "true", "check-run": "true",
		"sarif-file": "mlguard.sarif", "bom-file": "mlguard.cdx.json", "bom-spec": "1.6", "github-token": "${{ github.token }}", "offline": "false",
		"pypi-url": "", "npm-url": "", "osv-url": "", "depsdev-url": "", "crates-url": "", "hf-url": "", "cache-dir": "",
	}
	for name, def := range want {
		got, ok := inputs[name]
		if !ok {
			t.Errorf("action.yml has no input %s", name)
		} else if got != def {
			t.Errorf("input %s defaults to %q, want %q", name, got, def)
		}
	}
	for name := range inputs {
		if _, ok := want[name]; !ok {
			t.Errorf("action.yml input %s is not in this test's list: add it here and to the e2e runs", name)
		}
	}
	// Every input is read by mlguard ci (internal/ci reads INPUT_<NAME> by the input's name).
	src, err := os.ReadFile(filepath.Join(repoRoot, "internal", "ci", "inputs.go"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range inputs {
		if !strings.Contains(string(src), `"`+name+`"`) {
			t.Errorf("input %s is declared in action.yml but internal/ci/inputs.go never names it", name)
		}
	}
	// Every input and output has a description.
	var outputs []string
	section := ""
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if regexp.MustCompile(`^[a-z]`).MatchString(line) {
			section, _, _ = strings.Cut(line, ":")
			continue
		}
		m := regexp.MustCompile(`^  ([a-z][a-z0-9-]*):\s*$`).FindStringSubmatch(line)
		if m == nil || (section != "inputs" && section != "outputs") {
			continue
		}
		if section == "outputs" {
			outputs = append(outputs, m[1])
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "    description:") {
			t.Errorf("%s %s: the first key should be its description", section, m[1])
		}
	}
	slices.Sort(outputs)
	if want := []string{"bom-file", "decision", "findings", "sarif-file"}; !slices.Equal(outputs, want) {
		t.Errorf("outputs %v, want %v", outputs, want)
	}
}
