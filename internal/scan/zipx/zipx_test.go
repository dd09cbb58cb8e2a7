package zipx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

var (
	pickleA = []byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x05hello\x94.")
	textB   = bytes.Repeat([]byte("tensor bytes, compressible. "), 40)
	noisy   = func() []byte {
		b := make([]byte, 4000)
		x := uint32(1)
		for i := range b {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b[i] = byte(x)
		}
		return b
	}()
)

func ptr[T any](v T) *T { return &v }

// want describes what reading one member should give.
type want struct {
	name      string
	data      []byte // expected content (a prefix when partial is set)
	partial   bool   // reading stops early with io.ErrUnexpectedEOF
	openErr   error  // Open fails with this
	encrypted bool
	localName string
}

func TestOpen(t *testing.T) {
	t.Parallel()
	two := []testMember{
		{name: "archive/data.pkl", data: pickleA},
		{name: "archive/data/0", data: textB, method: MethodDeflate},
	}
	wantTwo := []want{{name: "archive/data.pkl", data: pickleA}, {name: "archive/data/0", data: textB}}
	full := testZip{members: two}.build(t)
	many := make([]testMember, 50)
	for i := range many {
		many[i] = testMember{name: fmt.Sprintf("m%02d", i), data: pickleA}
	}
	fakeEOCD := func() []byte {
		var w le
		w.u32(sigEOCD)
		w.u16(0)
		w.u16(0)
		w.u16(7)
		w.u16(7)
		w.u32(1000)
		w.u32(12345)
		w.u16(0)
		return append([]byte("see "), w.Bytes()...)
	}

	tests := []struct {
		name      string
		data      []byte
		lim       Limits
		wantErr   error
		want      []want
		notes     []string // substrings each found in some Note
		noNotes   bool
		recovered bool
		comment   string
	}{
		{
			name:    "stored and deflated",
			data:    full,
			want:    wantTwo,
			noNotes: true,
		},
		{
			name:    "bad crc is ignored",
			data:    testZip{members: []testMember{{name: "a.pkl", data: pickleA, badCRC: true}, {name: "b", data: textB, method: MethodDeflate, badCRC: true}}}.build(t),
			want:    []want{{name: "a.pkl", data: pickleA}, {name: "b", data: textB}},
			noNotes: true,
		},
		{
			name:  "flag bit 0 on plaintext",
			data:  testZip{members: []testMember{{name: "model/config.pkl", data: pickleA, flags: FlagEncrypted}}}.build(t),
			want:  []want{{name: "model/config.pkl", data: pickleA, encrypted: true, openErr: ErrEncrypted}},
			notes: []string{"probably plaintext"},
		},
		{
			name:  "flag bit 0 on deflated",
			data:  testZip{members: []testMember{{name: "x", data: textB, method: MethodDeflate, flags: FlagEncrypted}}}.build(t),
			want:  []want{{name: "x", data: textB, encrypted: true, openErr: ErrEncrypted}},
			notes: nil,
		},
		{
			name:  "flag bit 5",
			data:  testZip{members: []testMember{{name: "a.pkl", data: pickleA, flags: FlagPatched}}}.build(t),
			want:  []want{{name: "a.pkl", data: pickleA}},
			notes: []string{"bit 5"},
		},
		{
			name:  "flag bit 6 alone",
			data:  testZip{members: []testMember{{name: "a.pkl", data: pickleA, flags: FlagStrongEncryption}}}.build(t),
			want:  []want{{name: "a.pkl", data: pickleA}},
			notes: []string{"bit 6"},
		},
		{
			name: "flag bits 6 and 0",
			data: testZip{members: []testMember{{name: "a.pkl", data: pickleA, flags: FlagStrongEncryption | FlagEncrypted}}}.build(t),
			want: []want{{name: "a.pkl", data: pickleA, encrypted: true, openErr: ErrEncrypted}},
		},
		{
			name:  "reserved and masked flag bits",
			data:  testZip{members: []testMember{{name: "a.pkl", data: pickleA, flags: 1<<13 | 1<<15 | FlagUTF8}}}.build(t),
			want:  []want{{name: "a.pkl", data: pickleA}},
			notes: []string{"bit 13", "reserved flag bits 0x8000"},
		},
		{
			name:  "local name differs",
			data:  testZip{members: []testMember{{name: "data.pkl", localName: "datap.kl", data: pickleA}}}.build(t),
			want:  []want{{name: "data.pkl", localName: "datap.kl", data: pickleA}},
			notes: []string{`local header name "datap.kl" differs`},
		},
		{
			name:  "prepended bytes, absolute offsets",
			data:  testZip{prefix: []byte("#!/bin/sh\nexit 0\n"), members: two}.build(t),
			want:  wantTwo,
			notes: []string{"17 bytes before the first local header"},
		},
		{
			name:  "prepended bytes, relative offsets",
			data:  testZip{prefix: bytes.Repeat([]byte{0xEE}, 1000), relative: true, members: two}.build(t),
			want:  wantTwo,
			notes: []string{"1000 bytes from its declared offset", "1000 bytes before the first local header"},
		},
		{
			name:  "leading bytes stripped, offsets too large",
			data:  testZip{prefix: bytes.Repeat([]byte{1}, 5000), members: two}.build(t)[5000:],
			want:  wantTwo,
			notes: []string{"-5000 bytes from its declared offset"},
		},
		{
			name:      "missing central directory",
			data:      testZip{members: two, noCentral: true}.build(t),
			want:      wantTwo,
			recovered: true,
			notes:     []string{"end of central directory record not found", "recovered 2 entries"},
		},
		{
			name: "missing central directory, data descriptors",
			data: testZip{noCentral: true, members: []testMember{
				{name: "a.pkl", data: pickleA, descriptor: true},
				{name: "b", data: textB, method: MethodDeflate, descriptor: true},
				{name: "c", data: textB, descriptor: true},
			}}.build(t),
			want:      []want{{name: "a.pkl", data: pickleA}, {name: "b", data: textB}, {name: "c", data: textB}},
			recovered: true,
			notes:     []string{"recovered 3 entries"},
		},
		{
			name: "missing central directory, prepended bytes",
			data: testZip{prefix: []byte("garbage PK garbage"), members: two, noCentral: true}.build(t),
			want: wantTwo, recovered: true,
		},
		{
			name: "data descriptors with central directory",
			data: testZip{members: []testMember{
				{name: "archive/data.pkl", data: pickleA, descriptor: true, flags: FlagUTF8},
				{name: "archive/data/0", data: textB, method: MethodDeflate, descriptor: true, flags: FlagUTF8},
			}}.build(t),
			want:    wantTwo,
			noNotes: true,
		},
		{
			name: "zip64",
			data: testZip{zip64EOCD: true, members: []testMember{
				{name: "archive/data.pkl", data: pickleA, zip64: true},
				{name: "archive/data/0", data: textB, method: MethodDeflate, zip64: true, descriptor: true},
			}}.build(t),
			want:    wantTwo,
			noNotes: true,
		},
		{
			name:      "zip64 without central directory",
			data:      testZip{noCentral: true, members: []testMember{{name: "a", data: pickleA, zip64: true}, {name: "b", data: textB, zip64: true, descriptor: true}}}.build(t),
			want:      []want{{name: "a", data: pickleA}, {name: "b", data: textB}},
			recovered: true,
		},
		{
			name:    "zip64 end records with relative offsets",
			data:    testZip{zip64EOCD: true, prefix: []byte("stub stub stub"), relative: true, members: two}.build(t),
			want:    wantTwo,
			notes:   []string{"14 bytes from its declared offset"},
			comment: "",
		},
		{
			name:  "pickle appended after the end record",
			data:  append(bytes.Clone(full), pickleA...),
			want:  wantTwo,
			notes: []string{fmt.Sprintf("%d bytes after the end of central directory record", len(pickleA))},
		},
		{
			name:    "comment length past the end",
			data:    testZip{members: two, comment: []byte("abc"), truncate: 2}.build(t),
			want:    wantTwo,
			notes:   []string{"archive comment runs 2 bytes past the end of the file"},
			comment: "a",
		},
		{
			name:    "comment with a fake end record",
			data:    testZip{members: two, comment: fakeEOCD()}.build(t),
			want:    wantTwo,
			notes:   []string{"ignored 1 end of central directory signatures"},
			comment: string(fakeEOCD()),
		},
		{
			name: "comment with a fake empty end record",
			data: func() []byte {
				var w le
				w.WriteString("x")
				w.u32(sigEOCD)
				w.Write(make([]byte, 18))
				return testZip{members: two, comment: w.Bytes()}.build(t)
			}(),
			want: wantTwo,
		},
		{
			name:      "truncated archive",
			data:      testZip{members: []testMember{{name: "a", data: pickleA}, {name: "b", data: noisy, method: MethodDeflate}}}.build(t)[:len(pickleA)+600],
			want:      []want{{name: "a", data: pickleA}, {name: "b", partial: true}},
			recovered: true,
			notes:     []string{"data runs past the end of the file"},
		},
		{
			name: "truncated stored member",
			data: testZip{members: []testMember{{name: "a", data: pickleA}, {name: "b", data: textB}}, noCentral: true, truncate: 100}.build(t),
			want: []want{
				{name: "a", data: pickleA},
				{name: "b", data: textB[:len(textB)-100], partial: true},
			},
			recovered: true,
		},
		{
			name:      "end record cut off",
			data:      full[:len(full)-30],
			want:      wantTwo,
			recovered: true,
			notes:     []string{"recovered 2 entries"},
		},
		{
			name: "central directory breaks off",
			data: func() []byte {
				b := bytes.Clone(full)
				i := bytes.LastIndex(b, []byte("PK\x01\x02"))
				copy(b[i:], "XX")
				return b
			}(),
			want:      wantTwo,
			recovered: true,
			notes:     []string{"breaks off", "central directory corrupt: recovered 1 entries"},
		},
		{
			name: "directory size too small",
			data: testZip{members: two, cdSize: ptr[uint32](10)}.build(t),
			want: wantTwo,
		},
		{
			name:  "directory count too small",
			data:  testZip{members: two, count: ptr[uint16](1)}.build(t),
			want:  wantTwo,
			notes: []string{"declares 1 entries, central directory holds 2"},
		},
		{
			name: "stored with a larger uncompressed size",
			data: testZip{members: []testMember{{name: "a", data: append(append([]byte{}, pickleA...), "tail"...), usize: ptr(uint64(len(pickleA) + 4))}}}.build(t),
			want: []want{{name: "a", data: append(append([]byte{}, pickleA...), "tail"...)}},
		},
		{
			name:  "unsupported method",
			data:  testZip{members: []testMember{{name: "a", data: pickleA, method: 14}}}.build(t),
			want:  []want{{name: "a", openErr: ErrUnsupportedMethod}},
			notes: []string{"unsupported compression method 14"},
		},
		{
			name: "aes",
			data: testZip{members: []testMember{{name: "a", data: pickleA, method: MethodAES}}}.build(t),
			want: []want{{name: "a", openErr: ErrEncrypted, encrypted: true}},
		},
		{
			name:  "duplicate names",
			data:  testZip{members: []testMember{{name: "data.pkl", data: pickleA}, {name: "data.pkl", data: textB}}}.build(t),
			want:  []want{{name: "data.pkl", data: pickleA}, {name: "data.pkl", data: textB}},
			notes: []string{`name "data.pkl" used by 2 entries`},
		},
		{
			name:    "too many entries",
			data:    testZip{members: many}.build(t),
			lim:     Limits{MaxEntries: 10},
			wantErr: ErrTooManyEntries,
			want: func() []want {
				w := make([]want, 10)
				for i := range w {
					w[i] = want{name: fmt.Sprintf("m%02d", i), data: pickleA}
				}
				return w
			}(),
		},
		{
			name:    "directory too large",
			data:    testZip{members: many}.build(t),
			lim:     Limits{MaxDirectorySize: 60},
			wantErr: ErrDirectoryTooLarge,
			want:    []want{{name: "m00", data: pickleA}},
		},
		{
			name:    "empty archive",
			data:    testZip{}.build(t),
			noNotes: true,
		},
		{
			name:    "not a zip",
			data:    []byte("\x80\x04K\x01."),
			wantErr: ErrNotZip,
		},
		{
			name:    "empty file",
			data:    nil,
			wantErr: ErrNotZip,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)), tt.lim)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open() error = %v, want %v", err, tt.wantErr)
			}
			if a == nil {
				if tt.want != nil {
					t.Fatalf("Open() = nil archive")
				}
				return
			}
			if len(a.Entries) != len(tt.want) {
				t.Fatalf("got %d entries %v, want %d; notes %q", len(a.Entries), entryNames(a), len(tt.want), a.Notes)
			}
			for i, w := range tt.want {
				checkMember(t, a, &a.Entries[i], w)
			}
			for _, s := range tt.notes {
				if !hasNote(a, s) {
					t.Errorf("no note containing %q in %q", s, a.Notes)
				}
			}
			if tt.noNotes && len(a.Notes) > 0 {
				t.Errorf("unexpected notes %q", a.Notes)
			}
			if a.Recovered != tt.recovered {
				t.Errorf("Recovered = %v, want %v; notes %q", a.Recovered, tt.recovered, a.Notes)
			}
			if tt.comment != "" && a.Comment != tt.comment {
				t.Errorf("Comment = %q, want %q", a.Comment, tt.comment)
			}
		})
	}
}

func checkMember(t *testing.T, a *Archive, e *Entry, w want) {
	t.Helper()
	if e.Name != w.name {
		t.Errorf("entry name %q, want %q", e.Name, w.name)
	}
	if e.LocalName != w.localName {
		t.Errorf("%s: LocalName %q, want %q", w.name, e.LocalName, w.localName)
	}
	if e.Encrypted != w.encrypted {
		t.Errorf("%s: Encrypted %v, want %v", w.name, e.Encrypted, w.encrypted)
	}
	rc, err := a.Open(e)
	if w.openErr != nil {
		if !errors.Is(err, w.openErr) {
			t.Errorf("%s: Open() error = %v, want %v", w.name, err, w.openErr)
		}
		if !errors.Is(w.openErr, ErrEncrypted) || w.data == nil {
			return
		}
		rc, err = a.OpenIgnoringEncryption(e)
	}
	if err != nil {
		t.Errorf("%s: open: %v", w.name, err)
		return
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	switch {
	case w.partial:
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: read error = %v, want io.ErrUnexpectedEOF", w.name, err)
		}
		if !bytes.HasPrefix(got, w.data) {
			t.Errorf("%s: read %q, want a prefix %q", w.name, got, w.data)
		}
	case err != nil:
		t.Errorf("%s: read: %v", w.name, err)
	case !bytes.Equal(got, w.data):
		t.Errorf("%s: read %q, want %q", w.name, got, w.data)
	}
}

func entryNames(a *Archive) []string {
	var n []string
	for _, e := range a.Entries {
		n = append(n, e.Name)
	}
	return n
}

func hasNote(a *Archive, s string) bool {
	for _, n := range a.Notes {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// countingReaderAt records how many bytes were read and the furthest offset
// read below a watermark.
type countingReaderAt struct {
	r    io.ReaderAt
	read int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.read += int64(n)
	return n, err
}

func TestOpenReadsOnlyMetadata(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte{0x5a}, 8<<20)
	data := testZip{members: []testMember{
		{name: "archive/data.pkl", data: pickleA},
		{name: "archive/data/0", data: big},
		{name: "archive/data/1", data: big},
		{name: "archive/version", data: []byte("3\n")},
	}}.build(t)
	c := &countingReaderAt{r: bytes.NewReader(data)}
	a, err := Open(c, int64(len(data)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Entries) != 4 {
		t.Fatalf("got %d entries", len(a.Entries))
	}
	if c.read > 70<<10 {
		t.Errorf("Open read %d bytes of a %d-byte archive; want only the tail and headers", c.read, len(data))
	}
	raw := a.Raw(&a.Entries[1])
	if raw.Size() != int64(len(big)) {
		t.Errorf("Raw size %d, want %d", raw.Size(), len(big))
	}
	var b [4]byte
	if _, err := raw.ReadAt(b[:], 1000); err != nil || b != [4]byte{0x5a, 0x5a, 0x5a, 0x5a} {
		t.Errorf("Raw ReadAt = %x, %v", b, err)
	}
}

func TestOpenBadArguments(t *testing.T) {
	t.Parallel()
	if _, err := Open(nil, 10, Limits{}); err == nil {
		t.Error("Open(nil) succeeded")
	}
	data := testZip{members: []testMember{{name: "a", data: pickleA}}}.build(t)
	a, err := Open(bytes.NewReader(data), int64(len(data)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Open(nil); err == nil {
		t.Error("Archive.Open(nil) succeeded")
	}
	bad := a.Entries[0]
	bad.DataOffset = -1
	if _, err := a.Open(&bad); !errors.Is(err, ErrLocalHeader) {
		t.Errorf("Open(bad offset) error = %v, want ErrLocalHeader", err)
	}
	bad.DataOffset = int64(len(data)) + 5
	if _, err := a.Open(&bad); !errors.Is(err, ErrLocalHeader) {
		t.Errorf("Open(offset past end) error = %v, want ErrLocalHeader", err)
	}
	if n := a.Raw(&bad).Size(); n != 0 {
		t.Errorf("Raw(bad) size %d, want 0", n)
	}
	bad = a.Entries[0]
	bad.CompressedSize, bad.UncompressedSize = 1<<63, 1<<63
	rc, err := a.Open(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rc); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading an oversized member: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestMissingLocalHeader(t *testing.T) {
	t.Parallel()
	data := testZip{members: []testMember{{name: "a", data: pickleA}, {name: "b", data: pickleA}}}.build(t)
	data = bytes.Clone(data)
	copy(data[0:4], "XXXX") // break the first local header
	a, err := Open(bytes.NewReader(data), int64(len(data)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Entries) != 2 {
		t.Fatalf("got %d entries", len(a.Entries))
	}
	if a.Entries[0].DataOffset != -1 {
		t.Errorf("DataOffset = %d, want -1", a.Entries[0].DataOffset)
	}
	if _, err := a.Open(&a.Entries[0]); !errors.Is(err, ErrLocalHeader) {
		t.Errorf("Open error = %v, want ErrLocalHeader", err)
	}
	if !hasNote(a, "no local file header") {
		t.Errorf("notes %q", a.Notes)
	}
	checkMember(t, a, &a.Entries[1], want{name: "b", data: pickleA})
}
