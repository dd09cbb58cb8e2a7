package scan

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/internal/benchdata"
)

// BenchmarkTorchZip scans a 1 GiB PyTorch zip (64 storages of 16 MiB):
// only the central directory and data.pkl are read.
func BenchmarkTorchZip(b *testing.B) {
	path := filepath.Join(b.TempDir(), "model.pt")
	if err := benchdata.TorchZip(path, 64, 16<<20); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	e := New(Options{})
	for b.Loop() {
		file, skip, findings := e.ScanFile(context.Background(), path, "model.pt")
		if skip != nil || len(findings) != 0 || file.Format != "pytorch-zip" {
			b.Fatalf("unexpected result %+v %+v %+v", file, skip, findings)
		}
	}
}
