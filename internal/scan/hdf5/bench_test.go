package hdf5

import (
	"bytes"
	"testing"
)

// BenchmarkWalk opens each fixture and reads all its groups' attributes and
// links, to a small depth, as the fuzz target does.
func BenchmarkWalk(b *testing.B) {
	for _, name := range fixtures {
		data := readFixture(b, name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				f, err := Open(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					b.Fatal(err)
				}
				if err := walkErr(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
