package onnx

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// FuzzScan feeds arbitrary bytes to Scan and Plausible: no panic, no hang,
// a report every time, and only known rules.
func FuzzScan(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.onnx")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(modelProto(graphField(graphProto("g", initializer(tensorProto("a", []uint64{2}, `C:\x`)))))))
	f.Fuzz(func(t *testing.T, b []byte) {
		Plausible(b)
		rep, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{})
		if err != nil || rep == nil {
			t.Fatalf("Scan = %v, %v", rep, err)
		}
		for _, f := range rep.Findings {
			if _, ok := finding.Lookup(f.Rule); !ok || f.Message == "" {
				t.Fatalf("bad finding %+v", f)
			}
		}
		if rep.Parameters < 0 {
			t.Fatalf("negative parameter count %d", rep.Parameters)
		}
	})
}
