package zipx

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// seedArchives are small archives covering the reader's paths, for the fuzzer.
func seedArchives(tb testing.TB) [][]byte {
	two := []testMember{
		{name: "archive/data.pkl", data: pickleA},
		{name: "archive/data/0", data: textB, method: MethodDeflate},
	}
	dd := []testMember{
		{name: "a.pkl", data: pickleA, descriptor: true},
		{name: "b", data: textB, method: MethodDeflate, descriptor: true},
		{name: "c", data: textB[:100], descriptor: true, zip64: true},
	}
	specs := []testZip{
		{members: two},
		{members: two, comment: []byte("PK\x05\x06 a comment")},
		{members: two, prefix: []byte("#!/bin/sh\n"), relative: true},
		{members: two, noCentral: true},
		{members: dd},
		{members: dd, noCentral: true},
		{members: dd, zip64EOCD: true},
		{members: []testMember{{name: "x", localName: "y", data: pickleA, flags: FlagEncrypted | FlagPatched}}},
		{members: []testMember{{name: "z", data: pickleA, zip64: true}}, zip64EOCD: true, prefix: []byte("stub"), relative: true},
		{members: []testMember{{name: "b", data: textB, method: MethodBzip2}}},
		{members: two, truncate: 40},
		{},
	}
	var out [][]byte
	for _, s := range specs {
		out = append(out, s.build(tb))
	}
	return out
}

// FuzzOpen opens arbitrary bytes and reads every member; it must neither
// panic nor hang.
func FuzzOpen(f *testing.F) {
	for _, b := range seedArchives(f) {
		f.Add(b)
	}
	for _, c := range corpusZips {
		if b, err := os.ReadFile(filepath.Join(corpusDir, c.file)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Open(bytes.NewReader(data), int64(len(data)), Limits{MaxEntries: 1000, MaxDirectorySize: 1 << 20})
		if a == nil {
			if err == nil {
				t.Fatal("nil archive without an error")
			}
			return
		}
		budget := int64(4 << 20) // total bytes read from members
		for i := range a.Entries {
			e := &a.Entries[i]
			if e.DataOffset > int64(len(data)) {
				t.Fatalf("entry %d: DataOffset %d past the end of %d bytes", i, e.DataOffset, len(data))
			}
			if r := a.Raw(e); r.Size() < 0 || e.DataOffset >= 0 && e.DataOffset+r.Size() > int64(len(data)) {
				t.Fatalf("entry %d: Raw spans past the end of the file", i)
			}
			rc, err := a.OpenIgnoringEncryption(e)
			if err != nil {
				continue
			}
			n, _ := io.Copy(io.Discard, io.LimitReader(rc, budget))
			rc.Close()
			if budget -= n; budget <= 0 {
				break
			}
		}
	})
}

// TestHostileInputs checks that inputs built to make a scan slow (signatures
// everywhere, members without sizes) are handled in bounded time.
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	header := func(flags, method uint16) []byte {
		var w le
		w.u32(sigLocal)
		w.u16(20)
		w.u16(flags)
		w.u16(method)
		w.Write(make([]byte, 16))
		w.u16(1)
		w.u16(0)
		w.WriteString("a")
		return w.Bytes()
	}
	commented := append(testZip{members: []testMember{{name: "a", data: pickleA}}}.build(t), bytes.Repeat([]byte("PK\x05\x06"), 16000)...)
	tests := []struct {
		name string
		data []byte
	}{
		{"local signatures", bytes.Repeat([]byte("PK\x03\x04"), 1<<18)},
		{"end signatures", bytes.Repeat([]byte("PK\x05\x06"), 1<<18)},
		{"central signatures", bytes.Repeat([]byte("PK\x01\x02"), 1<<18)},
		{"descriptor signatures", append(header(FlagDataDescriptor, MethodStore), bytes.Repeat([]byte("PK\x07\x08"), 1<<18)...)},
		{"descriptor signatures, deflate", append(header(FlagDataDescriptor, MethodDeflate), bytes.Repeat([]byte("PK\x07\x08"), 1<<18)...)},
		{"members without sizes", bytes.Repeat(append(header(FlagDataDescriptor, MethodStore), "PK\x07\x08"...), 1<<15)},
		{"tiny members", bytes.Repeat(header(0, MethodStore), 1<<15)},
		{"noise", bytes.Repeat(noisy, 256)},
		{"comment of end signatures", commented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)), Limits{MaxEntries: 20000})
			if a == nil {
				return
			}
			if len(a.Entries) > 20000 || len(a.Notes) > maxNotes+1 {
				t.Errorf("%d entries, %d notes (err %v)", len(a.Entries), len(a.Notes), err)
			}
			for i := range a.Entries {
				if rc, err := a.OpenIgnoringEncryption(&a.Entries[i]); err == nil {
					_, _ = io.Copy(io.Discard, io.LimitReader(rc, 1<<16))
					rc.Close()
				}
			}
		})
	}
}
