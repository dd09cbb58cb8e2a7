package sniff_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
	"github.com/mlguard/mlguard/internal/scan/pickle"
	"github.com/mlguard/mlguard/internal/sniff"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

const models = "../../testdata/models"

// payload is something worth compressing: a small protocol-2 pickle.
var payload = []byte("\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type writeCloser = interface {
	Write([]byte) (int, error)
	Close() error
}

// compress writes payload a few times through a compressor.
func compress(t testing.TB, newWriter func(*bytes.Buffer) (writeCloser, error)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat(payload, 20)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarOf(t testing.TB, format tar.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "x.pkl", Mode: 0o644, Size: int64(len(payload)), Format: format, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// v7Tar builds a pre-POSIX tar header: no magic, only a valid checksum.
func v7Tar(name string) []byte {
	h := make([]byte, 1024)
	copy(h, name)
	copy(h[100:], "0000644\x00")
	copy(h[108:], "0000000\x00")
	copy(h[116:], "0000000\x00")
	copy(h[124:], "00000000000\x00")
	copy(h[136:], "00000000000\x00")
	copy(h[148:], "        ")
	var sum int
	for _, c := range h[:512] {
		sum += int(c)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

func safetensors(meta string) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(meta)))
	return append(b, meta...)
}

func joblibZF(t testing.TB) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(payload)
	zw.Close()
	hdr := fmt.Sprintf("ZF%-19s", fmt.Sprintf("%#x", len(payload)))
	return append([]byte(hdr), z.Bytes()...)
}

type detectCase struct {
	name     string
	head     []byte
	complete bool
	file     string
	want     sniff.Result
}

func TestDetect(t *testing.T) {
	t.Parallel()
	p0 := readFile(t, filepath.Join(models, "benign", "plain_data_p0.pkl"))
	zlibbed := compress(t, func(b *bytes.Buffer) (writeCloser, error) { return zlib.NewWriter(b), nil })
	tests := []detectCase{
		{name: "pytorch legacy magic", head: readFile(t, filepath.Join(models, "benign", "torch_legacy.pt")), complete: true, want: sniff.Result{Format: sniff.PyTorchLegacy}},
		{name: "zip local header", head: readFile(t, filepath.Join(models, "benign", "torch_state_dict.pt")), want: sniff.Result{Format: sniff.Zip}},
		{name: "empty zip", head: []byte("PK\x05\x06" + strings.Repeat("\x00", 18)), complete: true, want: sniff.Result{Format: sniff.Zip}},
		{name: "npy", head: readFile(t, filepath.Join(models, "benign", "numpy_array.npy")), complete: true, want: sniff.Result{Format: sniff.NumPy}},
		{name: "7z", head: readFile(t, "../scan/testdata/sevenzip_pickle.7z"), complete: true, want: sniff.Result{Format: sniff.SevenZip}},
		{name: "gzip", head: compress(t, func(b *bytes.Buffer) (writeCloser, error) { return gzip.NewWriter(b), nil }), complete: true, want: sniff.Result{Format: sniff.Gzip}},
		{name: "bzip2", head: readFile(t, "../scan/testdata/pickle.pkl.bz2"), complete: true, want: sniff.Result{Format: sniff.Bzip2}},
		{name: "bzip2 of nothing", head: []byte("BZh9\x17rE8P\x90\x00\x00\x00\x00"), complete: true, want: sniff.Result{Format: sniff.Bzip2}},
		{name: "xz", head: compress(t, func(b *bytes.Buffer) (writeCloser, error) { return xz.NewWriter(b) }), complete: true, want: sniff.Result{Format: sniff.Xz}},
		{name: "lz4", head: compress(t, func(b *bytes.Buffer) (writeCloser, error) { return lz4.NewWriter(b), nil }), complete: true, want: sniff.Result{Format: sniff.Lz4}},
		{name: "zstd", head: compress(t, func(b *bytes.Buffer) (writeCloser, error) { return zstd.NewWriter(b) }), complete: true, want: sniff.Result{Format: sniff.Zstd}},
		{name: "joblib ZF", head: joblibZF(t), complete: true, want: sniff.Result{Format: sniff.JoblibZF}},
		{name: "zlib", head: zlibbed, complete: true, want: sniff.Result{Format: sniff.Zlib}},
		{name: "zlib, head cut short", head: zlibbed[:len(zlibbed)/2], want: sniff.Result{Format: sniff.Zlib}},
		{name: "zlib, best compression", head: compress(t, func(b *bytes.Buffer) (writeCloser, error) { return zlib.NewWriterLevel(b, zlib.BestCompression) }), complete: true, want: sniff.Result{Format: sniff.Zlib}},
		{name: "lzma", head: compress(t, func(b *bytes.Buffer) (writeCloser, error) { return lzma.NewWriter(b) }), complete: true, want: sniff.Result{Format: sniff.Lzma}},
		{name: "gguf", head: []byte("GGUF\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), complete: true, want: sniff.Result{Format: sniff.GGUF, Reason: "GGUF model"}},
		{name: "hdf5", head: []byte("\x89HDF\r\n\x1a\n\x00\x00\x00\x00"), want: sniff.Result{Format: sniff.HDF5, Reason: "HDF5 file (Keras .h5)"}},
		{name: "tflite", head: []byte("\x1c\x00\x00\x00TFL3\x14\x00\x20\x00"), want: sniff.Result{Format: sniff.TFLite, Reason: "TFLite model"}},
		{name: "tar ustar", head: tarOf(t, tar.FormatUSTAR), complete: true, want: sniff.Result{Format: sniff.Tar}},
		{name: "tar gnu", head: tarOf(t, tar.FormatGNU), complete: true, want: sniff.Result{Format: sniff.Tar}},
		{name: "tar pax", head: tarOf(t, tar.FormatPAX), complete: true, want: sniff.Result{Format: sniff.Tar}},
		{name: "tar v7 checksum", head: v7Tar("weights.bin"), complete: true, want: sniff.Result{Format: sniff.Tar}},
		{name: "v7-like header with a bad checksum", head: append(append([]byte{}, v7Tar("a")[:148]...), make([]byte, 876)...), complete: true, file: "a.tar", want: sniff.Result{Format: sniff.Unknown, Reason: "not a recognised model or archive format"}},
		{name: "safetensors", head: safetensors(`{"__metadata__":{"format":"pt"}}`), complete: true, want: sniff.Result{Format: sniff.Safetensors, Reason: "safetensors model"}},
		{name: "safetensors, no metadata", head: safetensors(`{}`), complete: true, want: sniff.Result{Format: sniff.Safetensors, Reason: "safetensors model"}},
		{name: "png", head: []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), file: "a.png", want: sniff.Result{Format: sniff.Image, Reason: "PNG image (named .png)"}},
		{name: "jpeg", head: []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), file: "cat.pkl", want: sniff.Result{Format: sniff.Image, Reason: "JPEG image (named .pkl)"}},
		{name: "gif", head: []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), complete: true, want: sniff.Result{Format: sniff.Image, Reason: "GIF image"}},
		{name: "webp", head: []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), want: sniff.Result{Format: sniff.Image, Reason: "WebP image"}},
		{name: "pdf", head: []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), file: "paper.pdf", want: sniff.Result{Format: sniff.PDF, Reason: "PDF document (named .pdf)"}},
		{name: "elf", head: []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"), file: "lib.so", want: sniff.Result{Format: sniff.Exec, Reason: "executable or object code (named .so)"}},
		{name: "text", head: []byte("# Model card\n\nThis model was trained on ...\n"), complete: true, file: "README.md", want: sniff.Result{Format: sniff.Text, Reason: "text file (named .md)"}},
		{name: "text with a rune cut at the end of head", head: []byte("na\xc3\xafve caf\xc3"), want: sniff.Result{Format: sniff.Text, Reason: "text file"}},
		// Text whose first two bytes pass the zlib header check.
		{name: "text that starts like zlib", head: []byte("XGBoost model, trained 2024-01-01\n"), complete: true, file: "notes.txt", want: sniff.Result{Format: sniff.Text, Reason: "text file (named .txt)"}},
		{name: "registry file that starts like zlib", head: []byte("HKEY_LOCAL_MACHINE\\SOFTWARE\\x\n"), complete: true, want: sniff.Result{Format: sniff.Text, Reason: "text file"}},
		{name: "long text that starts like zlib", head: []byte("x^2 + y^2 = r^2 " + strings.Repeat("is the circle; ", 300)), want: sniff.Result{Format: sniff.Text, Reason: "text file"}},
		{name: "empty", head: nil, complete: true, file: "a.pkl", want: sniff.Result{Format: sniff.Empty, Reason: "empty file"}},
		{name: "unknown binary", head: []byte("\x00\x00\x00\x00\xde\xad\xbe\xef\x01\x02\x03"), complete: true, file: "weights.bin", want: sniff.Result{Format: sniff.Unknown, Reason: "not a recognised model or archive format"}},
		{name: "pickle-like start of random bytes", head: []byte("\x80\x02\xff\xfe\xfd"), complete: true, want: sniff.Result{Format: sniff.Unknown, Reason: "not a recognised model or archive format"}},
		{name: "protocol 0 pickle, head only", head: p0[:64], want: sniff.Result{Format: sniff.Pickle}},
		{name: "handwritten pickle", head: readFile(t, filepath.Join(models, "malicious", "pickle_os_system_handwritten.pkl")), complete: true, file: "x.bin", want: sniff.Result{Format: sniff.Pickle}},
		{name: "npy with an object array", head: readFile(t, filepath.Join(models, "malicious", "numpy_object_payload.npy")), complete: true, want: sniff.Result{Format: sniff.NumPy}},
	}
	for proto := range 6 {
		b := readFile(t, filepath.Join(models, "benign", fmt.Sprintf("plain_data_p%d.pkl", proto)))
		tests = append(tests,
			detectCase{name: fmt.Sprintf("pickle protocol %d, whole", proto), head: b, complete: true, want: sniff.Result{Format: sniff.Pickle}},
			detectCase{name: fmt.Sprintf("pickle protocol %d, head of a longer file", proto), head: b[:len(b)/2], want: sniff.Result{Format: sniff.Pickle}},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			head := tt.head
			if len(head) > sniff.HeadSize {
				head, tt.complete = head[:sniff.HeadSize], false
			}
			got := sniff.Detect(head, tt.complete, tt.file, pickle.Plausible)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Detect(%q...) (-want +got):\n%s", head[:min(len(head), 16)], diff)
			}
		})
	}
}

func TestDetectWithoutPlausible(t *testing.T) {
	t.Parallel()
	// Without a pickle decoder, a pickle is only known by its name later on.
	got := sniff.Detect(payload, true, "x.pkl", nil)
	want := sniff.Result{Format: sniff.Unknown, Reason: "not a recognised model or archive format"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPickleExtension(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"model.pkl", true},
		{"MODEL.PKL", true},
		{"a/b/data.pickle", true},
		{"x.pk", true},
		{"x.pt", true},
		{"x.pth", true},
		{"last.ckpt", true},
		{"forest.joblib", true},
		{"f.dill", true},
		{"f.sav", true},
		{"f.dat", true},
		{"f.p", true},
		{"model.safetensors", false},
		{"model.pkl.gz", false},
		{"pkl", false},
		{"README.md", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sniff.PickleExtension(tt.name); got != tt.want {
				t.Errorf("PickleExtension(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func FuzzDetect(f *testing.F) {
	for _, dir := range []string{filepath.Join(models, "benign"), filepath.Join(models, "malicious"), "../scan/testdata"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				b := readFile(f, filepath.Join(dir, e.Name()))
				f.Add(b[:min(len(b), sniff.HeadSize)], len(b) <= sniff.HeadSize, e.Name())
			}
		}
	}
	f.Add(v7Tar("a"), true, "a.tar")
	f.Add(joblibZF(f), true, "a.z")
	f.Add([]byte("XGBoost"), true, "")
	f.Fuzz(func(t *testing.T, head []byte, complete bool, name string) {
		if len(head) > sniff.HeadSize {
			head = head[:sniff.HeadSize]
		}
		got := sniff.Detect(head, complete, name, pickle.Plausible)
		if got.Format == "" {
			t.Fatalf("Detect returned no format")
		}
		if (got.Format == sniff.Empty) != (len(head) == 0) {
			t.Fatalf("Detect(%d bytes) = %v", len(head), got.Format)
		}
		if again := sniff.Detect(head, complete, name, pickle.Plausible); again != got {
			t.Fatalf("Detect is not deterministic: %v then %v", got, again)
		}
	})
}
