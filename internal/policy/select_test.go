package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	t.Parallel()
	write := func(t *testing.T, dir, name, s string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	repo := t.TempDir() // a repository with its own policy
	write(t, repo, ".mlguard.yaml", "version: 1\nextends: strict\n")
	yml := t.TempDir() // the other spelling
	write(t, yml, ".mlguard.yml", "version: 1\nfail-on: {models: low}\n")
	both := t.TempDir()
	write(t, both, ".mlguard.yaml", "version: 1\n")
	write(t, both, ".mlguard.yml", "version: 1\n")
	bare := t.TempDir() // no policy
	bad := t.TempDir()
	write(t, bad, ".mlguard.yaml", "version: 1\nfail-on: {models: severe}\n")
	other := write(t, t.TempDir(), "team.yaml", "version: 1\nextends: audit\n")
	folder := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, flag, dir string
		source          string // of the result, or
		err             string // a part of the error
	}{
		{"no flag, the repository's file", "", repo, filepath.Join(repo, ".mlguard.yaml") + " extends builtin:strict", ""},
		{"no flag, .mlguard.yml", "", yml, filepath.Join(yml, ".mlguard.yml"), ""},
		{"no flag, no file: default", "", bare, "builtin:default", ""},
		{"a built-in name wins over the file", "strict", repo, "builtin:strict", ""},
		{"a built-in name, spaces trimmed", " audit ", bare, "builtin:audit extends builtin:default", ""},
		{"any other value is a file", other, repo, other + " extends builtin:audit extends builtin:default", ""},
		{"a missing file", filepath.Join(bare, "nope.yaml"), repo, "", "no such file"},
		{"a folder", folder, repo, "", "is a folder"},
		{"both spellings", "", both, "", "keep one"},
		{"an invalid file", "", bad, "", filepath.Join(bad, ".mlguard.yaml") + `:2: fail-on.models: "severe" is not a severity`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Select(tt.flag, tt.dir)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Source != tt.source || p.Extends != "" {
				t.Errorf("Source = %q, want %q", p.Source, tt.source)
			}
		})
	}

	var errs Errors
	if _, err := Select("", bad); !errors.As(err, &errs) {
		t.Errorf("an invalid file's error %v is not Errors", err)
	}
}

// TestLoadTooLarge checks that a file past MaxSize is refused without being
// read whole.
func TestLoadTooLarge(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, []byte("version: 1\n#"+strings.Repeat("x", 3*MaxSize)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "is 1048577 bytes, more than") {
		t.Errorf("err = %v", err)
	}
}
