package safetensors

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	"github.com/mlguard/mlguard/internal/scan/scantest"
)

var update = flag.Bool("update", false, "rewrite testdata/scan.golden")

// file is a safetensors file with header text hdr and data bytes of zeros.
func file(hdr string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	b = append(b, hdr...)
	return append(b, make([]byte, data)...)
}

func scanBytes(t testing.TB, b []byte) *modelfile.Report {
	t.Helper()
	rep, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return rep
}

func rules(rep *modelfile.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.Rule)
	}
	return out
}

const (
	badHeader = finding.SafetensorsInvalidHeader
	offsets   = finding.SafetensorsInvalidOffsets
	metadata  = finding.SafetensorsInvalidMetadata
	dtype     = finding.SafetensorsUnknownDtype
)

func TestScan(t *testing.T) {
	t.Parallel()
	w := func(dtype, shape string, b, e int) string {
		return fmt.Sprintf(`{"dtype":%q,"shape":[%s],"data_offsets":[%d,%d]}`, dtype, shape, b, e)
	}
	tests := []struct {
		name   string
		in     []byte
		rules  []string
		params int64
		arch   string
	}{
		{name: "one tensor", in: file(`{"w":`+w("F32", "2,3", 0, 24)+`}`, 24), params: 6},
		{name: "padded with spaces", in: file(`{"w":`+w("F16", "4", 0, 8)+`}      `, 8), params: 4},
		{name: "trailing newline and tab", in: file("{\"w\":"+w("U8", "1", 0, 1)+"}\n\t ", 1), params: 1},
		{name: "metadata null", in: file(`{"__metadata__":null,"w":`+w("U8", "1", 0, 1)+`}`, 1), params: 1},
		{name: "architecture", in: file(`{"__metadata__":{"format":"pt","architecture":"mistral"}}`, 0), arch: "mistral"},
		{name: "modelspec wins", in: file(`{"__metadata__":{"architecture":"x","modelspec.architecture":"stable-diffusion-xl-v1-base"}}`, 0), arch: "stable-diffusion-xl-v1-base"},
		{name: "unknown field ignored", in: file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":{"a":[1,{"b":null}]}}}`, 1), params: 1},
		{name: "scalar and empty", in: file(`{"s":`+w("F64", "", 0, 8)+`,"e":`+w("F32", "0,5", 8, 8)+`}`, 8), params: 1},
		{name: "sub-byte", in: file(`{"a":`+w("F4", "2,3", 0, 3)+`,"b":`+w("F6_E3M2", "4", 3, 6)+`}`, 6), params: 10},
		{name: "unordered entries", in: file(`{"b":`+w("U8", "2", 2, 4)+`,"a":`+w("U8", "2", 0, 2)+`}`, 4), params: 4},
		{name: "no tensors", in: file(`{}`, 0)},

		{name: "empty file", in: nil, rules: []string{badHeader}},
		{name: "seven bytes", in: make([]byte, 7), rules: []string{badHeader}},
		{name: "zero length", in: file(``, 0), rules: []string{badHeader}},
		{name: "length beyond the file", in: append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), rules: []string{badHeader}},
		{name: "length over the cap", in: append(binary.LittleEndian.AppendUint64(nil, MaxHeader+1), "{}"...), rules: []string{badHeader}},
		{name: "huge length", in: append(binary.LittleEndian.AppendUint64(nil, 1<<63), "{}"...), rules: []string{badHeader}},
		{name: "leading space", in: file(` {}`, 0), rules: []string{badHeader}},
		{name: "not an object", in: file(`[1]`, 0), rules: []string{badHeader}},
		{name: "truncated JSON", in: file(`{"w":{"dtype":"U8"`, 0), rules: []string{badHeader}},
		{name: "trailing data in header", in: file(`{} {}`, 0), rules: []string{badHeader}},
		{name: "NUL padding", in: file("{}\x00\x00", 0), rules: []string{badHeader}},
		{name: "invalid UTF-8", in: file("{\"\xc3\":"+w("U8", "1", 0, 1)+"}", 1), rules: []string{badHeader}},
		{name: "truncated UTF-8 at the end", in: file("{}  \xe2\x82", 0), rules: []string{badHeader}},
		{name: "duplicate tensor", in: file(`{"w":`+w("U8", "1", 0, 1)+`,"w":`+w("U8", "1", 0, 1)+`}`, 1), rules: []string{badHeader}},
		{name: "duplicate field", in: file(`{"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}`, 1), rules: []string{badHeader}},
		{name: "duplicate metadata key", in: file(`{"__metadata__":{"a":"1","a":"2"}}`, 0), rules: []string{badHeader}},
		{name: "entry not an object", in: file(`{"w":[1]}`, 0), rules: []string{badHeader}},
		{name: "missing dtype", in: file(`{"w":{"shape":[1],"data_offsets":[0,1]}}`, 1), rules: []string{badHeader}},
		{name: "dtype not a string", in: file(`{"w":{"dtype":3,"shape":[1],"data_offsets":[0,1]}}`, 1), rules: []string{badHeader}},
		{name: "float in shape", in: file(`{"w":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}`, 1), rules: []string{badHeader}},
		{name: "negative offset", in: file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[-1,1]}}`, 1), rules: []string{badHeader}},
		{name: "three offsets", in: file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, 1), rules: []string{badHeader}},
		{name: "offset over 64 bits", in: file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551616]}}`, 1), rules: []string{badHeader}},
		{name: "nested too deep", in: file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`}}`, 1), rules: []string{badHeader}},

		{name: "metadata value not a string", in: file(`{"__metadata__":{"a":1,"b":{"c":"d"},"format":"pt"}}`, 0), rules: []string{metadata}},
		{name: "metadata not an object", in: file(`{"__metadata__":["a"]}`, 0), rules: []string{metadata}},

		{name: "overlap", in: file(`{"a":`+w("U8", "4", 0, 4)+`,"b":`+w("U8", "4", 2, 6)+`}`, 6), rules: []string{offsets}, params: 8},
		{name: "gap", in: file(`{"a":`+w("U8", "4", 0, 4)+`,"b":`+w("U8", "4", 6, 10)+`}`, 10), rules: []string{offsets}, params: 8},
		{name: "not from zero", in: file(`{"a":`+w("U8", "4", 2, 6)+`}`, 6), rules: []string{offsets}, params: 4},
		{name: "end before begin", in: file(`{"a":`+w("U8", "0", 4, 0)+`}`, 4), rules: []string{offsets}},
		{name: "size mismatch", in: file(`{"a":`+w("F32", "4", 0, 8)+`}`, 8), rules: []string{offsets}, params: 4},
		{name: "misaligned sub-byte", in: file(`{"a":`+w("F4", "3", 0, 2)+`}`, 2), rules: []string{offsets}, params: 3},
		{name: "shape overflow", in: file(`{"a":`+w("U8", "4294967296,4294967296", 0, 0)+`}`, 0), rules: []string{offsets}, params: 1<<63 - 1},
		{name: "bytes after the buffer", in: file(`{"a":`+w("U8", "4", 0, 4)+`}`, 40), rules: []string{offsets}, params: 4},
		{name: "buffer beyond the file", in: file(`{"a":`+w("U8", "400", 0, 400)+`}`, 40), rules: []string{offsets}, params: 400},

		{name: "unknown dtypes, one finding", in: file(`{"a":`+w("Q4_K", "32", 0, 18)+`,"b":`+w("Q4_K", "32", 18, 36)+`,"c":`+w("f32", "1", 36, 40)+`}`, 40), rules: []string{dtype}, params: 65},
		{name: "unknown dtype still ordered", in: file(`{"a":`+w("X", "1", 0, 4)+`,"b":`+w("X", "1", 2, 6)+`}`, 6), rules: []string{offsets, dtype}, params: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := scanBytes(t, tt.in)
			if rep.Format != Format {
				t.Errorf("Format = %q", rep.Format)
			}
			if diff := cmp.Diff(tt.rules, rules(rep)); diff != "" {
				t.Errorf("rules (-want +got):\n%s\n%+v", diff, rep.Findings)
			}
			if rep.Parameters != tt.params || rep.Architecture != tt.arch {
				t.Errorf("Parameters, Architecture = %d, %q; want %d, %q", rep.Parameters, rep.Architecture, tt.params, tt.arch)
			}
		})
	}
}

// TestFixtures pins the reports of the files make_fixtures.py writes;
// benign ones have no finding.
func TestFixtures(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("testdata", "*", "*.safetensors"))
	if err != nil || len(paths) < 10 {
		t.Fatalf("fixtures: %v, %d", err, len(paths))
	}
	var b strings.Builder
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rep := scanBytes(t, data)
		rel := filepath.ToSlash(strings.TrimPrefix(p, "testdata"+string(filepath.Separator)))
		fmt.Fprintf(&b, "%s: format=%s architecture=%q parameters=%d dtype=%q\n", rel, rep.Format, rep.Architecture, rep.Parameters, rep.DType)
		for _, f := range rep.Findings {
			fmt.Fprintf(&b, "\t%s %s offset %d: %s", f.Severity, f.Rule, f.Offset, f.Message)
			if f.Evidence != "" {
				fmt.Fprintf(&b, " [%s]", f.Evidence)
			}
			b.WriteString("\n")
		}
		benign := strings.HasPrefix(rel, "benign/")
		if benign != (len(rep.Findings) == 0) {
			t.Errorf("%s: %d findings: %+v", rel, len(rep.Findings), rep.Findings)
		}
	}
	path := filepath.Join("testdata", "scan.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("reports changed; run go test ./internal/scan/safetensors -run TestFixtures -update (-want +got):\n%s", diff)
	}
}

// TestHeaderOnly: a file whose header describes 5 GB of tensors is
// scanned by reading its header alone.
func TestHeaderOnly(t *testing.T) {
	t.Parallel()
	const gb5 = 5 << 30
	var hdr strings.Builder
	hdr.WriteString(`{"__metadata__":{"format":"pt"}`)
	per := int64(gb5 / 1000)
	per -= per % 2
	for i := range 1000 {
		fmt.Fprintf(&hdr, `,"model.layers.%d.weight":{"dtype":"BF16","shape":[%d],"data_offsets":[%d,%d]}`, i, per/2, int64(i)*per, int64(i+1)*per)
	}
	hdr.WriteString("}")
	head := file(hdr.String(), 0)
	s := scantest.Sparse(head, int64(len(head))+1000*per)
	start := time.Now()
	rep, err := Scan(context.Background(), s, s.Size(), modelfile.Options{})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 || rep.Parameters != 1000*per/2 {
		t.Errorf("report %+v", rep)
	}
	if got := s.Read(); got > int64(len(head)) || got >= 1<<20 {
		t.Errorf("read %d bytes of a %d-byte file (header %d)", got, s.Size(), len(head))
	}
	if elapsed > time.Second {
		t.Errorf("took %v", elapsed)
	}
}

type failing struct{}

func (failing) ReadAt(p []byte, off int64) (int, error) {
	if off == 0 {
		return copy(p, file(`{"w":{"dtype":"U8"`, 0)), nil
	}
	return 0, errors.New("disk on fire")
}

func TestReadError(t *testing.T) {
	t.Parallel()
	if _, err := Scan(context.Background(), failing{}, 1000, modelfile.Options{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Scan error = %v", err)
	}
}

func TestCanceled(t *testing.T) {
	t.Parallel()
	var hdr strings.Builder
	hdr.WriteString("{")
	for i := range 5000 {
		if i > 0 {
			hdr.WriteString(",")
		}
		fmt.Fprintf(&hdr, `"t%d":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`, i)
	}
	hdr.WriteString("}")
	b := file(hdr.String(), 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, bytes.NewReader(b), int64(len(b)), modelfile.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan error = %v", err)
	}
}
