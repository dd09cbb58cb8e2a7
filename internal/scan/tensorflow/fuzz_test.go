package tensorflow

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

func seed(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	if len(files) == 0 {
		f.Fatalf("no fixtures match %s", pattern)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// fuzz runs scan on b: no panic, no hang, no error from a bytes.Reader, a
// report every time, only known rules, no negative counts.
func fuzz(t *testing.T, scan scanFunc, b []byte) {
	rep, err := scan(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{})
	if err != nil || rep == nil {
		t.Fatalf("scan = %v, %v", rep, err)
	}
	for _, f := range rep.Findings {
		if _, ok := finding.Lookup(f.Rule); !ok || f.Message == "" {
			t.Fatalf("bad finding %+v", f)
		}
	}
	if rep.Parameters < 0 {
		t.Fatalf("negative parameter count %d", rep.Parameters)
	}
}

func FuzzSavedModel(f *testing.F) {
	seed(f, "*saved_model.pb")
	seed(f, "malicious_[!k]*.pb")
	f.Fuzz(func(t *testing.T, b []byte) { fuzz(t, ScanSavedModel, b) })
}

func FuzzKerasMetadata(f *testing.F) {
	seed(f, "*keras_metadata.pb")
	f.Fuzz(func(t *testing.T, b []byte) { fuzz(t, ScanKerasMetadata, b) })
}

func FuzzTFLite(f *testing.F) {
	seed(f, "*.tflite")
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzz(t, ScanTFLite, b)
		flexStrings(b)
	})
}
