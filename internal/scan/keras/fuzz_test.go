package keras

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

func seed(f *testing.F, patterns ...string) {
	f.Helper()
	for _, pat := range patterns {
		files, err := filepath.Glob(pat)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// nested stands in for the engine: it reads what it is given.
func nested(ctx context.Context, name string, r io.ReaderAt, size int64) []finding.Finding {
	io.Copy(io.Discard, io.NewSectionReader(r, 0, size))
	return nil
}

func FuzzAnalyzeConfig(f *testing.F) {
	seed(f, "testdata/*/*.json")
	f.Add([]byte(`{"class_name": "Lambda", "config": {"function": ["YwAAAA==", null, null], "function_type": "lambda", "module": "os"}}`))
	f.Add([]byte(`{"class_name": "TorchModuleWrapper", "config": {"module": "UEsDBA=="}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep := AnalyzeConfigOpt(context.Background(), b, "config.json", modelfile.Options{Nested: nested})
		for _, fd := range rep.Findings {
			if fd.Rule == "" || fd.Message == "" || len(fd.Evidence) > 2*maxEvidence {
				t.Fatalf("malformed finding %+v", fd)
			}
		}
	})
}

func FuzzScanH5(f *testing.F) {
	seed(f, "testdata/*/*.h5", "../hdf5/testdata/*.h5")
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ScanH5(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{Nested: nested})
		if err != nil || rep == nil {
			t.Fatalf("%v %v", rep, err)
		}
	})
}

func FuzzBytecode(f *testing.F) {
	seed(f, "testdata/bytecode/*.b64")
	f.Fuzz(func(t *testing.T, b []byte) {
		info := analyzeMarshal(b)
		info.assess()
		decodeFuncDump(string(b))
	})
}
