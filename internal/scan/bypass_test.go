package scan

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
)

// TestBypassRegressions: every file in testdata/bypass must fail the default
// gate (a finding at high or above).
func TestBypassRegressions(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(filepath.Join("testdata", "bypass"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Name() == "README.md" || e.Name() == "scripts" {
			continue
		}
		n++
		path := filepath.Join("testdata", "bypass", e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			rep, err := New(Options{}).Scan(context.Background(), []string{path})
			if err != nil {
				t.Fatal(err)
			}
			worst := finding.Info
			for _, f := range rep.Findings {
				worst = max(worst, f.Severity)
			}
			if worst < finding.High {
				t.Errorf("worst finding %v, want high or above: %+v", worst, rep.Findings)
			}
		})
	}
	if n < 20 {
		t.Fatalf("only %d bypass files", n)
	}
}
