package scan

// Builders for the archives and streams the engine tests scan. Everything is
// made in memory with Go's writers; only what Go cannot write (bzip2, 7z,
// sparse tar) comes from testdata/, made by testdata/make.sh.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// evil is a protocol-2 pickle that calls posix.system('id').
const evil = "\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."

// benign is a protocol-2 pickle of [1, 2].
const benign = "\x80\x02]q\x00(K\x01K\x02e."

// member is one file in an archive built by zipOf or tarOf.
type member struct {
	name   string
	data   string
	stored bool   // zip: method Store instead of Deflate
	flags  uint16 // zip: extra general purpose bits
}

func zipOf(t testing.TB, members ...member) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		h := &zip.FileHeader{Name: m.name, Method: zip.Deflate, Flags: m.flags}
		if m.stored {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func tarOf(t testing.TB, members ...member) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

type writeCloser = interface {
	io.Writer
	Close() error
}

func through(t testing.TB, data string, newWriter func(io.Writer) (writeCloser, error)) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := newWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func gz(t testing.TB, data string) string {
	return through(t, data, func(w io.Writer) (writeCloser, error) { return gzip.NewWriter(w), nil })
}

func zl(t testing.TB, data string) string {
	return through(t, data, func(w io.Writer) (writeCloser, error) { return zlib.NewWriter(w), nil })
}

func xzOf(t testing.TB, data string) string {
	return through(t, data, func(w io.Writer) (writeCloser, error) { return xz.NewWriter(w) })
}

func lzmaOf(t testing.TB, data string) string {
	return through(t, data, func(w io.Writer) (writeCloser, error) { return lzma.NewWriter(w) })
}

func lz4Of(t testing.TB, data string) string {
	return through(t, data, func(w io.Writer) (writeCloser, error) { return lz4.NewWriter(w), nil })
}

func zstdOf(t testing.TB, data string) string {
	return through(t, data, func(w io.Writer) (writeCloser, error) { return zstd.NewWriter(w) })
}

// zf writes joblib's old ZF format as numpy_pickle_compat.write_zfile does:
// "ZF", the length as "0x..." left-justified in 19 bytes, then zlib. extra
// adds the space Python 2 writers put before the zlib stream.
func zf(t testing.TB, data string, extra bool) string {
	hdr := fmt.Sprintf("ZF%-19s", fmt.Sprintf("%#x", len(data)))
	if extra {
		hdr += " "
	}
	return hdr + zl(t, data)
}

// npy is an .npy file: a version 1.0 header for descr and shape, then data.
func npy(descr, shape, data string) string {
	dict := fmt.Sprintf("{'descr': %s, 'fortran_order': False, 'shape': %s, }", descr, shape)
	n := len(dict) + 1
	if pad := (10 + n) % 64; pad != 0 {
		n += 64 - pad
	}
	hdr := dict + strings.Repeat(" ", n-len(dict)-1) + "\n"
	return "\x93NUMPY\x01\x00" + string(binary.LittleEndian.AppendUint16(nil, uint16(n))) + hdr + data
}

// pickle2 wraps protocol-2 opcodes in PROTO 2 ... STOP.
func pickle2(body string) string { return "\x80\x02" + body + "." }

// str is a BINUNICODE opcode pushing s.
func str(s string) string {
	return "X" + string(binary.LittleEndian.AppendUint32(nil, uint32(len(s)))) + s
}

func i64(n int64) string { return string(binary.LittleEndian.AppendUint64(nil, uint64(n))) }
func i32(n int32) string { return string(binary.LittleEndian.AppendUint32(nil, uint32(n))) }

// legacyTar builds torch's legacy tar layout (see pytorch.go): sys_info,
// pickle, storages and tensors members. record2 replaces the second storage
// record's pickle and views the storage_views pickle, when not empty.
func legacyTar(t testing.TB, record2, views string) string {
	t.Helper()
	if record2 == "" {
		record2 = pickle2(str("k2") + str("cpu") + "ctorch\nFloatStorage\n\x87")
	}
	if views == "" {
		views = pickle2("]")
	}
	// Raw storage bytes that happen to look like the start of a pickle: torch
	// never unpickles them, and neither may the scanner.
	raw1 := "\x80\x02cposix\nsystem\n" + strings.Repeat("\xff", 8) // 6 floats
	storages := pickle2("K\x02") +
		pickle2(str("k1")+str("cpu")+"ctorch\nFloatStorage\n\x87") + i64(6) + raw1 +
		record2 + i64(2) + "\x80\x02\xff\xfe\xfd\xfc\xfb\xfa" +
		views
	tensors := pickle2("K\x01") +
		pickle2(str("t1")+str("k1")+"ctorch\nFloatTensor\n\x87") + i32(1) + "\x00\x00\x00\x00" + i64(6) + i64(1) + i64(0)
	return tarOf(t,
		member{name: "sys_info", data: pickle2("}q\x00" + str("little_endian") + "\x88s")},
		member{name: "pickle", data: pickle2("}q\x00" + str("w") + "(" + str("storage") + "ctorch\nFloatStorage\n" + str("k1") + str("cpu") + "K\x06NtQs")},
		member{name: "storages", data: storages},
		member{name: "tensors", data: tensors},
	)
}

// writeTree creates files under dir; values are contents.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hit is a finding reduced to what the tests compare.
type hit struct {
	Rule     string
	Severity string
	Path     string // relative to the scanned folder
	Member   string
}

func hits(rep *Report, dir string) []hit {
	var out []hit
	for _, f := range rep.Findings {
		out = append(out, hit{f.Rule, f.Severity.String(), rel(f.Path, dir), f.Member})
	}
	slices.SortFunc(out, func(a, b hit) int {
		return strings.Compare(a.Path+"\x00"+a.Member+"\x00"+a.Rule, b.Path+"\x00"+b.Member+"\x00"+b.Rule)
	})
	return out
}

func rel(p, dir string) string {
	if dir == "" {
		return p
	}
	return strings.TrimPrefix(p, filepath.ToSlash(dir)+"/")
}

// formats maps each scanned file to its format.
func formats(rep *Report, dir string) map[string]string {
	out := map[string]string{}
	for _, f := range rep.Files {
		out[rel(f.Path, dir)] = f.Format
	}
	return out
}

func skipped(rep *Report, dir string) []finding.Skipped {
	var out []finding.Skipped
	for _, s := range rep.Skipped {
		out = append(out, finding.Skipped{Path: rel(s.Path, dir), Reason: s.Reason})
	}
	slices.SortFunc(out, func(a, b finding.Skipped) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Shorthands for expected findings.
func critical(path, member string) hit {
	return hit{finding.PickleDangerousGlobal, "critical", path, member}
}

func limit(path, member string) hit {
	return hit{finding.ArchiveLimit, "high", path, member}
}

func incomplete(path, member string) hit {
	return hit{finding.ScanIncomplete, "high", path, member}
}
