package zipx

import (
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// writeLargeZip writes a stored archive of about 1 GiB: a pickle, four
// 256 MiB members left sparse (zeros), and 200 small members.
func writeLargeZip(tb testing.TB, path string) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	type member struct {
		name string
		data []byte
		size int64 // sparse size when data is nil
	}
	members := []member{{name: "archive/data.pkl", data: pickleA}}
	for i := range 4 {
		members = append(members, member{name: fmt.Sprintf("archive/data/%d", i), size: 256 << 20})
	}
	for i := range 200 {
		members = append(members, member{name: fmt.Sprintf("archive/small/%d", i), data: []byte("3\n")})
	}
	var offsets []int64
	var pos int64
	for _, m := range members {
		size := m.size
		if m.data != nil {
			size = int64(len(m.data))
		}
		offsets = append(offsets, pos)
		var w le
		w.u32(sigLocal)
		w.u16(20)
		w.u16(0)
		w.u16(0)
		w.u32(0x210000)
		w.u32(crc32.ChecksumIEEE(m.data))
		w.u32(uint32(size))
		w.u32(uint32(size))
		w.u16(uint16(len(m.name)))
		w.u16(0)
		w.WriteString(m.name)
		w.Write(m.data)
		if _, err := f.Write(w.Bytes()); err != nil {
			tb.Fatal(err)
		}
		pos += int64(w.Len())
		if m.data == nil {
			if pos, err = f.Seek(size, io.SeekCurrent); err != nil {
				tb.Fatal(err)
			}
		}
	}
	var w le
	for i, m := range members {
		size := m.size
		if m.data != nil {
			size = int64(len(m.data))
		}
		w.u32(sigCentral)
		w.u16(0x031e)
		w.u16(20)
		w.u16(0)
		w.u16(0)
		w.u32(0x210000)
		w.u32(crc32.ChecksumIEEE(m.data))
		w.u32(uint32(size))
		w.u32(uint32(size))
		w.u16(uint16(len(m.name)))
		w.Write(make([]byte, 12))
		w.u32(uint32(offsets[i]))
		w.WriteString(m.name)
	}
	cdSize := w.Len()
	w.u32(sigEOCD)
	w.u32(0)
	w.u16(uint16(len(members)))
	w.u16(uint16(len(members)))
	w.u32(uint32(cdSize))
	w.u32(uint32(pos))
	w.u16(0)
	if _, err := f.Write(w.Bytes()); err != nil {
		tb.Fatal(err)
	}
	return pos + int64(w.Len())
}

func BenchmarkOpenLarge(b *testing.B) {
	path := filepath.Join(b.TempDir(), "large.zip")
	size := writeLargeZip(b, path)
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ReportAllocs()
	for b.Loop() {
		a, err := Open(f, size, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if len(a.Entries) != 205 || len(a.Notes) != 0 {
			b.Fatalf("%d entries, notes %q", len(a.Entries), a.Notes)
		}
		if a.Raw(&a.Entries[1]).Size() != 256<<20 {
			b.Fatal("wrong member size")
		}
	}
	b.ReportMetric(float64(size)/(1<<30), "GiB")
}
