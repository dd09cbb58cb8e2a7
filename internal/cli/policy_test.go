package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlguard/mlguard/internal/policy"
)

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "version: 1\nextends: strict\n")
	bad := write("bad.yaml", "version: 1\nfail-on:\n  model: high\nignore:\n  - rule: pickle/*\n    path: legacy/**\n")
	missing := filepath.Join(dir, "missing.yaml")
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr []string // parts each must hold
	}{
		{"valid", []string{"check", good}, ExitPass, []string{good + ": valid\n"}, nil},
		{"invalid: every error", []string{"check", bad}, ExitFail, []string{
			bad + `:3: fail-on.model: unknown key (did you mean "models"?)` + "\n",
			bad + ":5: ignore[0].reason: missing: say why the finding is accepted\n",
		}, nil},
		{"valid and invalid", []string{"check", good, bad}, ExitFail, []string{good + ": valid", bad + ":3:"}, nil},
		{"unreadable", []string{"check", missing, good}, ExitError, []string{good + ": valid"}, []string{"missing.yaml: no such file"}},
		{"no file", []string{"check"}, ExitError, nil, []string{"name at least one policy file"}},
		{"bad flag", []string{"check", "--nope", good}, ExitError, nil, []string{"flag provided but not defined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := runPolicy(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, &stdout, &stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout %q lacks %q", &stdout, s)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr %q lacks %q", &stderr, s)
				}
			}
		})
	}
}

func TestPolicyPrint(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "team.yaml")
	if err := os.WriteFile(file, []byte("version: 1\nextends: audit\npickle: {allow: [\"mylab.*\"]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		header string // the first line, or a part of stderr on an error
	}{
		{"built-in", []string{"print", "--policy", "strict"}, ExitPass, "# Effective policy: builtin:strict"},
		{"file", []string{"print", "--policy=" + file}, ExitPass, "# Effective policy: " + file + " extends builtin:audit extends builtin:default"},
		{"missing file", []string{"print", "--policy", file + ".nope"}, ExitError, "no such file"},
		{"argument", []string{"print", "strict"}, ExitError, `unexpected argument "strict"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := runPolicy(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tt.code, &stderr)
			}
			if code != ExitPass {
				if !strings.Contains(stderr.String(), tt.header) {
					t.Errorf("stderr %q lacks %q", &stderr, tt.header)
				}
				return
			}
			first, _, _ := strings.Cut(stdout.String(), "\n")
			if first != tt.header {
				t.Errorf("first line %q, want %q", first, tt.header)
			}
			p, err := policy.Parse("printed", stdout.Bytes())
			if err != nil {
				t.Fatalf("the printed policy does not parse: %v\n%s", err, &stdout)
			}
			if p.Extends != "" || p.FailOn.Models == "" || p.Packages.MinMaintainers == nil {
				t.Errorf("printed policy is not the effective one:\n%s", &stdout)
			}
		})
	}
}

// TestPolicyPrintRepository prints the policy of the working folder: its
// .mlguard.yaml, else the default. It changes the working folder, so it
// does not run in parallel.
func TestPolicyPrintRepository(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	print := func() (string, int) {
		var stdout, stderr bytes.Buffer
		code := runPolicy(context.Background(), []string{"print"}, &stdout, &stderr)
		return stdout.String() + stderr.String(), code
	}
	if out, code := print(); code != ExitPass || !strings.HasPrefix(out, "# Effective policy: builtin:default\nversion: 1\n") {
		t.Errorf("no .mlguard.yaml: exit %d\n%s", code, out)
	}
	if err := os.WriteFile(filepath.Join(dir, ".mlguard.yaml"), []byte("version: 1\nfail-on: {models: low}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := print(); code != ExitPass || !strings.HasPrefix(out, "# Effective policy: .mlguard.yaml\n") || !strings.Contains(out, "models: low") {
		t.Errorf(".mlguard.yaml: exit %d\n%s", code, out)
	}
	if err := os.WriteFile(filepath.Join(dir, ".mlguard.yaml"), []byte("version: 1\nfail-on: {models: lo}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := print(); code != ExitError || !strings.Contains(out, `.mlguard.yaml:2: fail-on.models: "lo" is not a severity`) {
		t.Errorf("invalid .mlguard.yaml: exit %d\n%s", code, out)
	}
}

func TestPolicyUsage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		code int
	}{
		{nil, ExitError},
		{[]string{"lint"}, ExitError},
		{[]string{"help"}, ExitPass},
		{[]string{"check", "-h"}, ExitPass},
		{[]string{"print", "-h"}, ExitPass},
	} {
		var stdout, stderr bytes.Buffer
		if code := runPolicy(context.Background(), tt.args, &stdout, &stderr); code != tt.code {
			t.Errorf("%q: exit %d, want %d", tt.args, code, tt.code)
		}
		if !strings.Contains(stdout.String()+stderr.String(), "mlguard policy check FILE...") {
			t.Errorf("%q: no usage:\n%s%s", tt.args, &stdout, &stderr)
		}
	}
}
