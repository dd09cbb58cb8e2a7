package torchstate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzRead: any bytes, read as a data.pkl and as a legacy file, are read or
// refused without a panic, within the deadline, and never give a negative
// count. Seeds are the fixtures' pickles and a few hostile ones.
func FuzzRead(f *testing.F) {
	for name, exp := range loadExpected(f) {
		path := filepath.Join("testdata", name)
		if exp.Format == "zip" {
			f.Add(dataPkl(f, path))
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, h := range hostile() {
		if len(h.b) < 4096 {
			f.Add(h.b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, read := range []func(context.Context, *bytes.Reader, int64) (Info, error){
			func(ctx context.Context, r *bytes.Reader, n int64) (Info, error) { return Read(ctx, r, n) },
			func(ctx context.Context, r *bytes.Reader, n int64) (Info, error) { return ReadLegacy(ctx, r, n) },
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			start := time.Now()
			info, err := read(ctx, bytes.NewReader(b), 1<<20)
			cancel()
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v (err %v)", d, err)
			}
			if info.Parameters < 0 || info.Tensors < 0 || err != nil && info != (Info{}) {
				t.Fatalf("info %+v, err %v", info, err)
			}
			if err == nil && info.Parameters > 0 && info.Tensors == 0 {
				t.Fatalf("info %+v", info)
			}
		}
	})
}
