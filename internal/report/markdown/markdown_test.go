package markdown

import (
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
)

func TestLinkEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f        func(string) string
		in, want string
	}{
		{EscapePath, "models/a.pt", "models/a.pt"},
		{EscapePath, "models/my model.pkl", "models/my%20model.pkl"},
		{EscapePath, "../../x/./y", "%2E%2E/%2E%2E/x/%2E/y"},
		{EscapePath, "a(b)[c]#?%.pt", "a%28b%29%5Bc%5D%23%3F%25.pt"},
		{EscapePath, "a\nb\x1b\xff", "a%0Ab%1B%FF"},
		{SafeURL, "https://github.com/o/r/actions/runs/1", "https://github.com/o/r/actions/runs/1"},
		{SafeURL, "https://ghe.example/o/r?x=(1)&y=[2] z", "https://ghe.example/o/r?x=%281%29&y=%5B2%5D%20z"},
		{SafeURL, "javascript:alert(1)", ""},
		{SafeURL, "/relative", ""},
		{SafeURL, "https://user:pw@github.com/", ""},
		{SafeURL, "", ""},
	}
	for _, tt := range tests {
		if got := tt.f(tt.in); got != tt.want {
			t.Errorf("%q -> %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSafeURLGitLab(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://gitlab.com/a/b":        "https://gitlab.com/a/b",
		"https://gitlab.com/a b)[x](y)": "https://gitlab.com/a%20b%29%5Bx%5D%28y%29",
		"javascript:alert(1)":           "",
		"https://u:p@gitlab.com/":       "",
		"/relative":                     "",
	} {
		if got := SafeURL(in); got != want {
			t.Errorf("SafeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCounts(t *testing.T) {
	t.Parallel()
	r := &finding.Result{
		Findings: []finding.Finding{{Severity: finding.Critical}, {Severity: finding.Low}},
		Files:    []finding.File{{}},
		Skipped:  []finding.Skipped{{}, {}},
		Waived:   []finding.Waived{{}},
	}
	if got, want := Counts(r, false), "**2 findings** (1 critical, 1 low) in 1 scanned file; 2 files skipped.\n"; got != want {
		t.Errorf("Counts(r, false) = %q, want %q", got, want)
	}
	if got, want := Counts(r, true), "**2 findings** (1 critical, 1 low) in 1 scanned file; 2 files skipped; 1 finding waived.\n"; got != want {
		t.Errorf("Counts(r, true) = %q, want %q", got, want)
	}
	if got, want := Counts(&finding.Result{}, true), "No findings in 0 scanned files.\n"; got != want {
		t.Errorf("Counts(empty) = %q, want %q", got, want)
	}
}
