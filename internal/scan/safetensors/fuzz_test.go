package safetensors

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// FuzzScan: any file is scanned without error or panic (the reader never
// fails), and every finding names a rule.
func FuzzScan(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*", "*.safetensors"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(file(`{"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]},"__metadata__":{"k":"v"}}`, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		if rep.Format != Format || rep.Parameters < 0 {
			t.Fatalf("report %+v", rep)
		}
		for _, fd := range rep.Findings {
			if _, ok := finding.Lookup(fd.Rule); !ok || fd.Offset < 0 || fd.Offset > int64(len(b)) {
				t.Fatalf("finding %+v", fd)
			}
		}
	})
}
