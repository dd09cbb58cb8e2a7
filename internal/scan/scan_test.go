package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mlguard/mlguard/internal/finding"
)

func scanDir(t *testing.T, dir string, opt Options) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := New(opt).Scan(ctx, []string{dir})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return rep
}

func TestScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   func(t *testing.T) map[string]string
		limits  Limits
		want    []hit
		formats map[string]string // checked when set
	}{
		// ---- compressed streams ----
		{
			name:    "gzip",
			files:   func(t *testing.T) map[string]string { return map[string]string{"m.pkl.gz": gz(t, evil)} },
			want:    []hit{critical("m.pkl.gz", "")},
			formats: map[string]string{"m.pkl.gz": "gzip/pickle"},
		},
		{
			name: "gzip with two members",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"m.pkl.gz": gz(t, benign) + gz(t, evil)}
			},
			want: []hit{critical("m.pkl.gz", "")},
		},
		{
			name: "bzip2",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"m.pkl.bz2": fixture(t, "pickle.pkl.bz2")}
			},
			want:    []hit{critical("m.pkl.bz2", "")},
			formats: map[string]string{"m.pkl.bz2": "bzip2/pickle"},
		},
		{
			name:  "bzip2 with two streams",
			files: func(t *testing.T) map[string]string { return map[string]string{"m.bz2": fixture(t, "pickle2.pkl.bz2")} },
			want:  []hit{critical("m.bz2", "")},
		},
		{
			name:    "xz",
			files:   func(t *testing.T) map[string]string { return map[string]string{"m.xz": xzOf(t, evil)} },
			want:    []hit{critical("m.xz", "")},
			formats: map[string]string{"m.xz": "xz/pickle"},
		},
		{
			name:    "lzma",
			files:   func(t *testing.T) map[string]string { return map[string]string{"m.lzma": lzmaOf(t, evil)} },
			want:    []hit{critical("m.lzma", "")},
			formats: map[string]string{"m.lzma": "lzma/pickle"},
		},
		{
			name:    "zlib",
			files:   func(t *testing.T) map[string]string { return map[string]string{"m.z": zl(t, evil)} },
			want:    []hit{critical("m.z", "")},
			formats: map[string]string{"m.z": "zlib/pickle"},
		},
		{
			name:    "lz4",
			files:   func(t *testing.T) map[string]string { return map[string]string{"m.lz4": lz4Of(t, evil)} },
			want:    []hit{critical("m.lz4", "")},
			formats: map[string]string{"m.lz4": "lz4/pickle"},
		},
		{
			name:    "zstd",
			files:   func(t *testing.T) map[string]string { return map[string]string{"m.zst": zstdOf(t, evil)} },
			want:    []hit{critical("m.zst", "")},
			formats: map[string]string{"m.zst": "zstd/pickle"},
		},
		{
			name:    "joblib ZF",
			files:   func(t *testing.T) map[string]string { return map[string]string{"m.pkl.z": zf(t, evil, false)} },
			want:    []hit{critical("m.pkl.z", "")},
			formats: map[string]string{"m.pkl.z": "joblib-zfile/pickle"},
		},
		{
			name:  "joblib ZF written by Python 2",
			files: func(t *testing.T) map[string]string { return map[string]string{"m.pkl.z": zf(t, evil, true)} },
			want:  []hit{critical("m.pkl.z", "")},
		},
		{
			name: "joblib ZF with a bad length",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"m.pkl.z": "ZF0xZZ" + strings.Repeat(" ", 15) + zl(t, evil)}
			},
			want: []hit{incomplete("m.pkl.z", "")},
		},
		{
			name:  "corrupt gzip",
			files: func(t *testing.T) map[string]string { return map[string]string{"m.gz": gz(t, evil)[:20]} },
			want:  []hit{incomplete("m.gz", "")},
		},
		{
			name: "compressed file named like a pickle holds random bytes",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"m.pkl.gz": gz(t, "\xff\xfe\x00\x01 random")}
			},
			want: []hit{incomplete("m.pkl.gz", "")},
		},
		// ---- zip ----
		{
			name: "zip, stored and deflated",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.zip": zipOf(t,
					member{name: "s.pkl", data: evil, stored: true},
					member{name: "d.pkl", data: evil},
					member{name: "ok.pkl", data: benign},
					member{name: "README.md", data: "# hello\n"},
				)}
			},
			want:    []hit{critical("a.zip", "d.pkl"), critical("a.zip", "s.pkl")},
			formats: map[string]string{"a.zip": "zip"},
		},
		{
			name: "zip in tar in gzip in zip",
			files: func(t *testing.T) map[string]string {
				inner := zipOf(t, member{name: "x.pkl", data: evil})
				return map[string]string{"bundle.zip": zipOf(t,
					member{name: "inner.tar.gz", data: gz(t, tarOf(t, member{name: "model.zip", data: inner}))},
				)}
			},
			want: []hit{critical("bundle.zip", "inner.tar.gz!model.zip!x.pkl")},
		},
		{
			name: "zip in zip, tar inside",
			files: func(t *testing.T) map[string]string {
				tarball := tarOf(t, member{name: "x.pkl", data: evil})
				return map[string]string{"pack.zip": zipOf(t,
					member{name: "outer.zip", data: zipOf(t, member{name: "inner.tar", data: tarball})},
				)}
			},
			want: []hit{critical("pack.zip", "outer.zip!inner.tar!x.pkl")},
		},
		{
			name: "zip member flagged encrypted but stored in plain",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.zip": zipOf(t, member{name: "x.pkl", data: evil, stored: true, flags: 1})}
			},
			want: []hit{
				{finding.ArchiveAnomaly, "low", "a.zip", ""},
				{finding.ArchiveEncrypted, "high", "a.zip", "x.pkl"},
				critical("a.zip", "x.pkl"),
			},
		},
		// ---- PyTorch layouts ----
		{
			name: "pytorch zip with any top folder name",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"m.pt": zipOf(t,
					member{name: "weird_name/data.pkl", data: benign, stored: true},
					member{name: "weird_name/byteorder", data: "little", stored: true},
					// Raw tensor bytes that start like a pickle: never unpickled.
					member{name: "weird_name/data/0", data: "\x80\x02\xff\xfe\xfd\xfc\x00\x00", stored: true},
					member{name: "weird_name/extra.pkl", data: evil},
					member{name: "weird_name/version", data: "3\n", stored: true},
				)}
			},
			want:    []hit{critical("m.pt", "weird_name/extra.pkl")},
			formats: map[string]string{"m.pt": "pytorch-zip"},
		},
		{
			name: "pytorch zip whose data.pkl does not sniff as a pickle",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"m.pt": zipOf(t,
					member{name: "archive/data.pkl", data: "\xff\xff garbage", stored: true},
					member{name: "archive/version", data: "3\n", stored: true},
				)}
			},
			want: []hit{incomplete("m.pt", "archive/data.pkl")},
		},
		{
			name: "torchscript",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"ts.pt": zipOf(t,
					member{name: "ts/data.pkl", data: benign},
					member{name: "ts/code/__torch__/m.py", data: "def forward(self, x):\n  return x\n"},
					member{name: "ts/constants.pkl", data: evil},
					member{name: "ts/data/0", data: "\x80\x02\xff\xfe", stored: true},
				)}
			},
			want:    []hit{critical("ts.pt", "ts/constants.pkl")},
			formats: map[string]string{"ts.pt": "torchscript"},
		},
		{
			name: "legacy torch tar, benign",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"old.pt": legacyTar(t, "", "")}
			},
			want:    nil,
			formats: map[string]string{"old.pt": "pytorch-legacy-tar"},
		},
		{
			name: "legacy torch tar, compressed",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"old.tgz": gz(t, legacyTar(t, "", ""))}
			},
			want:    nil,
			formats: map[string]string{"old.tgz": "gzip/pytorch-legacy-tar"},
		},
		{
			name: "legacy torch tar, payload in the second storage record",
			files: func(t *testing.T) map[string]string {
				// (key, location, storage_type, posix.system('id')): torch unpacks
				// three items, but only after the unpickler ran the call.
				record := pickle2("(" + str("k2") + str("cpu") + "ctorch\nFloatStorage\ncposix\nsystem\n" + str("id") + "\x85Rt")
				return map[string]string{"old.pt": legacyTar(t, record, "")}
			},
			want: []hit{critical("old.pt", "storages")},
		},
		{
			name: "legacy torch tar, payload in the storage views",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"old.pt": legacyTar(t, "", evil)}
			},
			want: []hit{critical("old.pt", "storages")},
		},
		{
			name: "legacy torch tar, record that is not a tuple",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"old.pt": legacyTar(t, pickle2("K\x05"), "")}
			},
			want: []hit{incomplete("old.pt", "storages")},
		},
		// ---- NumPy ----
		{
			name: "npz with an object array",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.npz": zipOf(t,
					member{name: "w.npy", data: npy("'<f4'", "(2,)", "\x00\x00\x80\x3f\x00\x00\x00\x40")},
					member{name: "obj.npy", data: npy("'|O'", "(1,)", evil)},
				)}
			},
			want: []hit{
				{finding.NumpyObjectArray, "low", "a.npz", "obj.npy"},
				critical("a.npz", "obj.npy"),
			},
			formats: map[string]string{"a.npz": "npz"},
		},
		{
			name: "npy with an object subarray descr",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.npy": npy("('|O', (1,))", "(1,)", evil)}
			},
			want: []hit{{finding.NumpyObjectArray, "low", "a.npy", ""}, critical("a.npy", "")},
		},
		{
			name: "numeric npy",
			files: func(t *testing.T) map[string]string {
				// Float bytes that start like a pickle are still numbers.
				return map[string]string{"a.npy": npy("'<f4'", "(3,)", "\x80\x02c\x00\x00\x00\x00\x00\x00\x00\x00\x00")}
			},
			want:    nil,
			formats: map[string]string{"a.npy": "numpy"},
		},
		{
			name: "npy with a broken header",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.npy": "\x93NUMPY\x01\x00\x10\x00{'descr': 'O'"}
			},
			want: []hit{incomplete("a.npy", "")},
		},
		// ---- 7z ----
		{
			name: "7z",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.7z": fixture(t, "sevenzip_pickle.7z")}
			},
			want:    []hit{critical("a.7z", "x.pkl")},
			formats: map[string]string{"a.7z": "7z"},
		},
		{
			name: "7z with an encrypted member",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.7z": fixture(t, "sevenzip_encrypted.7z")}
			},
			want: []hit{{finding.ArchiveEncrypted, "high", "a.7z", "x.pkl"}},
		},
		{
			name: "7z with encrypted headers",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.7z": fixture(t, "sevenzip_encrypted_hdr.7z")}
			},
			want: []hit{{finding.ArchiveEncrypted, "high", "a.7z", ""}},
		},
		{
			name: "7z in a zip",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.zip": zipOf(t, member{name: "b.7z", data: fixture(t, "sevenzip_pickle.7z")})}
			},
			want: []hit{critical("a.zip", "b.7z!x.pkl")},
		},
		// ---- limits ----
		{
			name: "nesting deeper than MaxDepth",
			files: func(t *testing.T) map[string]string {
				data := evil
				for range 6 {
					data = gz(t, data)
				}
				return map[string]string{"deep.gz": data}
			},
			want: []hit{limit("deep.gz", "")},
		},
		{
			name: "nesting up to MaxDepth",
			files: func(t *testing.T) map[string]string {
				data := evil
				for range 5 {
					data = gz(t, data)
				}
				return map[string]string{"deep.gz": data}
			},
			want: []hit{critical("deep.gz", "")},
		},
		{
			name: "zip with more members than MaxEntries",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.zip": zipOf(t,
					member{name: "1.pkl", data: benign}, member{name: "2.pkl", data: benign},
					member{name: "3.pkl", data: evil}, member{name: "4.pkl", data: evil})}
			},
			limits: Limits{MaxEntries: 2},
			want:   []hit{limit("a.zip", "")},
		},
		{
			name: "tar with more members than MaxEntries",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.tar": tarOf(t,
					member{name: "1.pkl", data: benign}, member{name: "2.pkl", data: benign},
					member{name: "3.pkl", data: evil})}
			},
			limits: Limits{MaxEntries: 2},
			want:   []hit{limit("a.tar", "")},
		},
		{
			name: "decompressed size over MaxDecompressed",
			files: func(t *testing.T) map[string]string {
				// BINBYTES8 with 8 MiB of zeros, then the payload: the scanner must
				// read through the zeros and stop at the limit.
				big := "\x80\x04\x8e" + i64(8<<20) + strings.Repeat("\x00", 8<<20) + "0" + evil[2:]
				return map[string]string{"big.pkl.gz": gz(t, big)}
			},
			limits: Limits{MaxDecompressed: 1 << 20},
			want:   []hit{limit("big.pkl.gz", ""), incomplete("big.pkl.gz", "")},
		},
		{
			name:   "decompressed size exactly MaxDecompressed",
			files:  func(t *testing.T) map[string]string { return map[string]string{"m.pkl.gz": gz(t, evil)} },
			limits: Limits{MaxDecompressed: int64(len(evil))},
			want:   []hit{critical("m.pkl.gz", "")},
		},
		{
			name: "compression ratio over MaxRatio",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"a.zip": zipOf(t, member{name: "zeros.pkl", data: benign[:len(benign)-1] + strings.Repeat("\x00", 1<<20)})}
			},
			limits: Limits{MaxRatio: 100, RatioFloor: 1 << 10},
			want:   []hit{limit("a.zip", "zeros.pkl")},
		},
		{
			name: "sparse tar member (GNU)",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"sparse.tar": fixture(t, "sparse_gnu.tar")}
			},
			limits: Limits{MaxDecompressed: 64 << 20},
			want:   []hit{limit("sparse.tar", ""), incomplete("sparse.tar", "big.pkl")},
		},
		{
			name: "sparse tar member (PAX)",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"sparse.tar": fixture(t, "sparse_pax.tar")}
			},
			limits: Limits{MaxDecompressed: 64 << 20},
			want:   []hit{limit("sparse.tar", ""), incomplete("sparse.tar", "big.pkl")},
		},
		// ---- what is not a model ----
		{
			name: "truncated safetensors and GGUF headers fail closed",
			files: func(t *testing.T) map[string]string {
				return map[string]string{
					"m.safetensors": "\x0e\x00\x00\x00\x00\x00\x00\x00{\"__meta\":{}}",
					"m.gguf":        "GGUF\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
				}
			},
			want: []hit{
				{finding.ScanIncomplete, "high", "m.gguf", ""},
				{finding.SafetensorsInvalidHeader, "high", "m.safetensors", ""},
			},
			formats: map[string]string{"m.gguf": "gguf", "m.safetensors": "safetensors"},
		},
		{
			name: "random bytes named .pkl",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"r.pkl": "\xff\x13\x9a\x00\x42\x17\xee\x01\x02\x03"}
			},
			want:    []hit{incomplete("r.pkl", "")},
			formats: map[string]string{"r.pkl": "pickle"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, tt.files(t))
			rep := scanDir(t, dir, Options{Limits: tt.limits})
			if diff := cmp.Diff(tt.want, hits(rep, dir)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
				for _, f := range rep.Findings {
					t.Logf("%s %s %s: %s [%s]", f.Rule, f.Path, f.Member, f.Message, f.Evidence)
				}
			}
			if tt.formats != nil {
				if diff := cmp.Diff(tt.formats, formats(rep, dir)); diff != "" {
					t.Errorf("formats (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestScanFindingDetails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inner := zipOf(t, member{name: "inner.tar", data: tarOf(t, member{name: "x.pkl", data: evil})})
	writeTree(t, dir, map[string]string{"top.zip": zipOf(t, member{name: "outer.zip", data: inner})})
	rep := scanDir(t, dir, Options{})
	if len(rep.Findings) != 1 {
		t.Fatalf("findings: %+v", rep.Findings)
	}
	f := rep.Findings[0]
	want := finding.Finding{
		Rule:     finding.PickleDangerousGlobal,
		Severity: finding.Critical,
		Path:     filepath.ToSlash(filepath.Join(dir, "top.zip")),
		Member:   "outer.zip!inner.tar!x.pkl",
		Offset:   int64(strings.Index(evil, "R")),
		Evidence: "posix.system('id')",
	}
	got := finding.Finding{Rule: f.Rule, Severity: f.Severity, Path: f.Path, Member: f.Member, Offset: f.Offset, Evidence: f.Evidence}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestScanWalk(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"evil.pkl": evil})
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		".git/objects/evil.pkl": evil,
		"sub/.git/x.pkl":        evil,
		"sub/evil2.pkl":         evil,
		"sub/ok.pkl":            benign,
		"README.md":             "# Models\n",
		"logo.png":              "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
		"empty.pkl":             "",
		"random.pkl":            "\xff\x00\xfe\x01\xfd\x02",
		"weights.bin":           "\x00\x01\x02\x03\xfa\xfb\xfc",
	})
	for link, target := range map[string]string{
		"link_out.pkl": filepath.Join(outside, "evil.pkl"),
		"link_in.pkl":  filepath.Join(dir, "sub", "evil2.pkl"),
		"link_rel.pkl": filepath.Join("sub", "ok.pkl"),
		"link_dir":     "sub",
		"broken.pkl":   filepath.Join(dir, "missing"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Skipf("symbolic links: %v", err)
		}
	}
	rep := scanDir(t, dir, Options{})
	wantHits := []hit{
		critical("link_in.pkl", ""),
		incomplete("random.pkl", ""),
		critical("sub/evil2.pkl", ""),
	}
	if diff := cmp.Diff(wantHits, hits(rep, dir)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	wantSkipped := []finding.Skipped{
		{Path: "README.md", Reason: "text file (named .md)"},
		{Path: "broken.pkl", Reason: "broken symbolic link"},
		{Path: "empty.pkl", Reason: "empty file"},
		{Path: "link_dir", Reason: "symbolic link to something other than a file, not followed"},
		{Path: "link_out.pkl", Reason: "symbolic link out of the scanned folder, not followed"},
		{Path: "logo.png", Reason: "PNG image (named .png)"},
		{Path: "weights.bin", Reason: "not a recognised model or archive format"},
	}
	if diff := cmp.Diff(wantSkipped, skipped(rep, dir)); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	wantFormats := map[string]string{
		"link_in.pkl":   "pickle",
		"link_rel.pkl":  "pickle",
		"random.pkl":    "pickle",
		"sub/evil2.pkl": "pickle",
		"sub/ok.pkl":    "pickle",
	}
	if diff := cmp.Diff(wantFormats, formats(rep, dir)); diff != "" {
		t.Errorf("formats (-want +got):\n%s", diff)
	}
}

func TestScanRootIsLinkToFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"real/x.pkl": evil})
	link := filepath.Join(dir, "models")
	if err := os.Symlink(filepath.Join(dir, "real"), link); err != nil {
		t.Skipf("symbolic links: %v", err)
	}
	rep := scanDir(t, link, Options{})
	want := []hit{critical(filepath.ToSlash(filepath.Join(link, "x.pkl")), "")}
	if diff := cmp.Diff(want, hits(rep, "")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestScanFileArgument(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"x.pkl": evil})
	rep, err := New(Options{}).Scan(context.Background(), []string{filepath.Join(dir, "x.pkl")})
	if err != nil {
		t.Fatal(err)
	}
	want := []hit{critical(filepath.ToSlash(filepath.Join(dir, "x.pkl")), "")}
	if diff := cmp.Diff(want, hits(rep, "")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := New(Options{}).Scan(context.Background(), []string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("Scan of a missing path: no error")
	}
}

func TestScanHash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{"x.pkl": evil, "a.zip": zipOf(t, member{name: "b.pkl", data: benign})}
	writeTree(t, dir, files)
	rep := scanDir(t, dir, Options{Hash: true})
	got := map[string]string{}
	for _, f := range rep.Files {
		got[rel(f.Path, dir)] = f.SHA256
	}
	want := map[string]string{}
	for name, data := range files {
		sum := sha256.Sum256([]byte(data))
		want[name] = hex.EncodeToString(sum[:])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Without the option, no hash.
	for _, f := range scanDir(t, dir, Options{}).Files {
		if f.SHA256 != "" {
			t.Errorf("%s hashed without Options.Hash", f.Path)
		}
	}
}

func TestScanCancelled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"x.pkl":    evil,
		"a.zip":    zipOf(t, member{name: "b.pkl", data: evil}),
		"m.pkl.gz": gz(t, evil),
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan struct{})
	var rep *Report
	var err error
	go func() {
		defer close(done)
		rep, err = New(Options{}).Scan(ctx, []string{dir})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Scan did not return after cancellation")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if rep == nil {
		t.Fatal("no report")
	}
	want := []hit{incomplete("a.zip", ""), incomplete("m.pkl.gz", ""), incomplete("x.pkl", "")}
	if diff := cmp.Diff(want, hits(rep, dir)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNewFillsLimits(t *testing.T) {
	t.Parallel()
	got := New(Options{Limits: Limits{MaxDecompressed: 10}}).opt.Limits
	want := DefaultLimits
	want.MaxDecompressed = 10
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDecompressedName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"model.pkl.gz", "model.pkl"},
		{"model.pkl.GZ", "model.pkl"},
		{"a.tgz", "a.tar"},
		{"w.pt.zst", "w.pt"},
		{"w.pt.bz2", "w.pt"},
		{"x.joblib", "x.joblib"},
		{"noext", "noext"},
	}
	for _, tt := range tests {
		if got := decompressedName(tt.in); got != tt.want {
			t.Errorf("decompressedName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
