package glob

import "testing"

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		glob, path string
		want       bool
	}{
		{"*.pt", "a/b/c.pt", true},
		{"*.pt", "a/b/c.pth", false},
		{"models/", "models/x/y.bin", true},
		{"models/", "other/models.bin", false},
		{"models", "models/x.bin", true},
		{"models/*.pt", "models/x.pt", true},
		{"models/*.pt", "models/sub/x.pt", false},
		{"models/**/*.pt", "models/x.pt", true},
		{"models/**/*.pt", "models/a/b/x.pt", true},
		{"./models/**", "models/a/b", true},
		{"/models/*.pt", "models/x.pt", true},
		{"m?.pt", "m1.pt", true},
		{"m?.pt", "m12.pt", false},
		{"m[0-9].pt", "m7.pt", true},
		{"m[!0-9].pt", "m7.pt", false},
		{"m[!0-9].pt", "mx.pt", true},
		{`m[\].pt`, `m\.pt`, true},
		{"a.b", "axb", false},
		{"tests/**", "tests/fixtures/evil.pkl", true},
		{"tests/**", "src/tests.pkl", false},
		{"legacy/**", "legacy", false},
	}
	for _, tt := range tests {
		g, err := Compile(tt.glob)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.glob, err)
		}
		if got := g.Match(tt.path); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.glob, tt.path, got, tt.want)
		}
		if g.String() != tt.glob {
			t.Errorf("String() = %q, want %q", g.String(), tt.glob)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	for bad, want := range map[string]string{
		"":        "empty pattern",
		"  ":      "empty pattern",
		"./":      "empty pattern",
		"a[b":     "unclosed [",
		"m[z-a]":  "invalid class [z-a]",
		"[]a]":    "invalid class []",
		"x/[!]/y": "invalid class [!]",
	} {
		_, err := Compile(bad)
		if err == nil || err.Error() != want {
			t.Errorf("Compile(%q) = %v, want %q", bad, err, want)
		}
	}
}

// FuzzCompile compiles arbitrary globs against arbitrary paths: no panic.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"models/**/*.pt", "*.pkl", "a[!b]c?", "./x/", "[", "**", "[z-a]"} {
		f.Add(s, "models/a/b.pt")
	}
	f.Fuzz(func(t *testing.T, glob, path string) {
		if g, err := Compile(glob); err == nil {
			_ = g.Match(path)
		}
	})
}
