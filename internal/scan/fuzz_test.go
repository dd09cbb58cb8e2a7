package scan

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlguard/mlguard/internal/finding"
)

// fuzzLimits keep one input's work small: a bomb hits a limit quickly.
var fuzzLimits = Limits{MaxDepth: 4, MaxEntries: 64, MaxDecompressed: 1 << 20, MaxRatio: 100, RatioFloor: 64 << 10}

func FuzzScanFile(f *testing.F) {
	for _, dir := range []string{"../../testdata/models/benign", "../../testdata/models/malicious", "testdata"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || e.Name() == "make.sh" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(evil))
	f.Add([]byte(zipOf(f, member{name: "a/data.pkl", data: benign}, member{name: "a/data/0", data: evil, stored: true}, member{name: "a/x.pkl", data: evil})))
	f.Add([]byte(gz(f, tarOf(f, member{name: "m.zip", data: zipOf(f, member{name: "x.pkl", data: evil})}))))
	f.Add([]byte(legacyTar(f, "", "")))
	f.Add([]byte(npy("'|O'", "(1,)", evil)))
	f.Add([]byte(zf(f, evil, false)))
	f.Add([]byte(xzOf(f, evil)))
	f.Add([]byte(lzmaOf(f, evil)))
	f.Add([]byte(lz4Of(f, evil)))
	f.Add([]byte(zstdOf(f, evil)))
	e := New(Options{Limits: fuzzLimits, Jobs: 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		for _, name := range []string{"x.pkl", "x.zip"} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			start := time.Now()
			file, skip, findings := e.ScanFile(ctx, p, name)
			cancel()
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("%s: ScanFile took %v", name, d)
			}
			if skip != nil {
				if skip.Path != name || skip.Reason == "" || len(findings) > 0 {
					t.Fatalf("%s: skipped %+v with findings %+v", name, skip, findings)
				}
				continue
			}
			if file.Path != name || file.Size != int64(len(data)) {
				t.Fatalf("%s: file %+v", name, file)
			}
			for _, fd := range findings {
				if _, ok := finding.Lookup(fd.Rule); !ok || fd.Path != name || fd.Message == "" {
					t.Fatalf("%s: bad finding %+v", name, fd)
				}
			}
		}
	})
}
