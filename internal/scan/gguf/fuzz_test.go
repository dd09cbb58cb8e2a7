package gguf

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
	paths, err := filepath.Glob(filepath.Join("testdata", "*", "*.gguf"))
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
	b := gguf(1)
	f.Add(b.kv("n", tArray, b.array(tArray, b.array(tString, b.str("x")))).tensor("w", []uint64{32}, 2, 18, -1).bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		rep, err := Scan(context.Background(), bytes.NewReader(in), int64(len(in)), modelfile.Options{})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		if rep.Format != Format || rep.Parameters < 0 {
			t.Fatalf("report %+v", rep)
		}
		for _, fd := range rep.Findings {
			if _, ok := finding.Lookup(fd.Rule); !ok || fd.Offset < 0 || fd.Offset > int64(len(in)) {
				t.Fatalf("finding %+v", fd)
			}
		}
	})
}
