package pickle

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/internal/benchdata"
)

// BenchmarkDense scans an opcode-dense pickle of small records (about 13 MB
// here; scripts/bench.sh measures the 130 MB one with peak memory).
func BenchmarkDense(b *testing.B) {
	var buf bytes.Buffer
	if _, err := benchdata.DensePickle(&buf, 13<<20); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		res := Scan(context.Background(), bytes.NewReader(data), Options{})
		if len(res.Findings) != 0 || res.Err != nil {
			b.Fatalf("unexpected findings %v %v", res.Findings, res.Err)
		}
	}
}

// BenchmarkInBandTensors scans a pickle holding 256 MiB of in-band tensor
// bytes from a file, which the decoder seeks over.
func BenchmarkInBandTensors(b *testing.B) {
	path := filepath.Join(b.TempDir(), "tensors.pkl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := benchdata.TensorPickle(f, 16, 16<<20); err != nil {
		b.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		res := Scan(context.Background(), f, Options{})
		f.Close()
		if len(res.Findings) != 0 || res.Pickles != 1 {
			b.Fatalf("unexpected result %+v", res)
		}
	}
}
