package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEExample: the policy the README shows is valid.
func TestREADMEExample(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "```yaml\n# .mlguard.yaml")
	if i < 0 {
		t.Fatal("README.md has no .mlguard.yaml example")
	}
	example, _, _ := strings.Cut(string(b)[i+len("```yaml\n"):], "```")
	p, err := Parse("README.md", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(p); err != nil {
		t.Fatal(err)
	}
}
