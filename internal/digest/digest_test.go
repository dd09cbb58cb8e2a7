package digest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestReaderMatchesSHA256(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 63, 64, bufSize - 1, bufSize, bufSize + 1, 3*bufSize + 17} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		want := sha256.Sum256(data)
		got, size, err := Reader(iotest.HalfReader(bytes.NewReader(data)))
		if err != nil || size != int64(n) || got != hex.EncodeToString(want[:]) {
			t.Errorf("%d bytes: %s, %d, %v; want %x", n, got, size, err, want)
		}
	}
}

func TestFileErrors(t *testing.T) {
	t.Parallel()
	if _, _, err := File(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file hashed")
	}
	if _, _, err := Reader(iotest.ErrReader(os.ErrClosed)); err == nil {
		t.Error("a read error was not returned")
	}
}

// BenchmarkFile1GB hashes a 1 GiB file with File and with the system's
// sha256sum, both from the page cache, and reports the ratio of their
// times (sha256sum-time/file-time; at least 1 means File is as fast):
//
//	go test -run '^$' -bench File1GB -benchtime 3x ./internal/digest
func BenchmarkFile1GB(b *testing.B) {
	sum, err := exec.LookPath("sha256sum")
	if err != nil {
		b.Skip("sha256sum is not installed")
	}
	name := filepath.Join(b.TempDir(), "big")
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	chunk := make([]byte, 1<<20)
	for range 1024 {
		for i := 0; i < len(chunk); i += 8 {
			v := rng.Uint64()
			for j := range 8 {
				chunk[i+j] = byte(v >> (8 * j))
			}
		}
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	var ours, theirs time.Duration
	b.SetBytes(1 << 30)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		got, _, err := File(name)
		if err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		b.StopTimer() // b's own figures are File's alone
		start = time.Now()
		out, err := exec.Command(sum, name).Output()
		if err != nil {
			b.Fatal(err)
		}
		theirs += time.Since(start)
		b.StartTimer()
		if want, _, _ := strings.Cut(string(out), " "); want != got {
			b.Fatalf("File = %s, sha256sum = %s", got, want)
		}
	}
	b.ReportMetric(float64(theirs)/float64(ours), "sha256sum/ours")
	b.ReportMetric(float64(theirs.Nanoseconds())/float64(b.N), "sha256sum-ns/op")
}
