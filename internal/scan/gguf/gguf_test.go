package gguf

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

// builder writes GGUF files for the table tests, as make_fixtures.py does.
type builder struct {
	version uint32
	order   binary.AppendByteOrder
	kvs     [][]byte
	tensors [][]byte
	data    []byte
	align   int
	// counts override the real counts when set
	nKV, nTensors *uint64
}

func gguf(version uint32) *builder {
	return &builder{version: version, order: binary.LittleEndian, align: 32}
}

func (b *builder) u32(v uint32) []byte { return b.order.AppendUint32(nil, v) }
func (b *builder) u64(v uint64) []byte { return b.order.AppendUint64(nil, v) }

func (b *builder) count(n uint64) []byte {
	if b.version == 1 {
		return b.u32(uint32(n))
	}
	return b.u64(n)
}

func (b *builder) str(s string) []byte { return append(b.count(uint64(len(s))), s...) }

// kv adds a pair whose value bytes are raw.
func (b *builder) kv(key string, typ uint32, raw []byte) *builder {
	b.kvs = append(b.kvs, slicesConcat(b.str(key), b.u32(typ), raw))
	return b
}

func (b *builder) kvStr(key, v string) *builder { return b.kv(key, tString, b.str(v)) }

// array is the raw value of an array of elem with the given raw items.
func (b *builder) array(elem uint32, items ...[]byte) []byte {
	out := slicesConcat(b.u32(elem), b.count(uint64(len(items))))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

// tensor adds a tensor info with data of nbytes (padded), at offset (or
// where it belongs when offset < 0).
func (b *builder) tensor(name string, dims []uint64, typ uint32, nbytes int, offset int64) *builder {
	off := uint64(len(b.data))
	if offset >= 0 {
		off = uint64(offset)
	}
	t := slicesConcat(b.str(name), b.u32(uint32(len(dims))))
	for _, d := range dims {
		t = append(t, b.count(d)...)
	}
	t = slicesConcat(t, b.u32(typ), b.u64(off))
	b.tensors = append(b.tensors, t)
	b.data = append(b.data, make([]byte, nbytes)...)
	for len(b.data)%b.align != 0 {
		b.data = append(b.data, 0)
	}
	return b
}

func (b *builder) bytes() []byte {
	nT, nKV := uint64(len(b.tensors)), uint64(len(b.kvs))
	if b.nTensors != nil {
		nT = *b.nTensors
	}
	if b.nKV != nil {
		nKV = *b.nKV
	}
	out := slicesConcat([]byte(Magic), b.u32(b.version), b.count(nT), b.count(nKV))
	for _, kv := range b.kvs {
		out = append(out, kv...)
	}
	for _, t := range b.tensors {
		out = append(out, t...)
	}
	if len(b.tensors) > 0 {
		for len(out)%b.align != 0 {
			out = append(out, 0)
		}
	}
	return append(out, b.data...)
}

func slicesConcat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func scanBytes(t testing.TB, b []byte) *modelfile.Report {
	t.Helper()
	rep, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return rep
}

type got struct {
	Rule   string
	Member string
}

func summary(rep *modelfile.Report) []got {
	var out []got
	for _, f := range rep.Findings {
		g := got{f.Rule, f.Member}
		if len(out) == 0 || out[len(out)-1] != g {
			out = append(out, g)
		}
	}
	return out
}

const (
	bad      = finding.GGUFInvalid
	cut      = finding.ScanIncomplete
	unknownT = finding.GGUFUnknownTensorType
	escape   = finding.TemplateSandboxEscape
)

func u64p(v uint64) *uint64 { return &v }

func TestScan(t *testing.T) {
	t.Parallel()
	be := func(b *builder) *builder { b.order = binary.BigEndian; return b }
	u8 := []byte{7}
	payload := "{{ cycler.__init__.__globals__.os.popen('id').read() }}"
	tpl := "metadata:" + templateKey
	tests := []struct {
		name   string
		in     []byte
		want   []got
		arch   string
		params int64
	}{
		{name: "empty v3", in: gguf(3).bytes()},
		{name: "architecture v2", in: gguf(2).kvStr("general.architecture", "llama").bytes(), arch: "llama"},
		{name: "v1 counts", in: gguf(1).kvStr("general.architecture", "gpt2").tensor("w", []uint64{32, 2}, 0, 256, -1).bytes(), arch: "gpt2", params: 64},
		{name: "big-endian v3", in: be(gguf(3)).kvStr("general.architecture", "falcon").tensor("w", []uint64{32}, 1, 64, -1).bytes(), arch: "falcon", params: 32},
		{name: "all scalar types", in: gguf(3).kv("a", tUint8, u8).kv("b", tInt8, u8).kv("c", tUint16, []byte{1, 2}).kv("d", tInt16, []byte{1, 2}).
			kv("e", tUint32, make([]byte, 4)).kv("f", tInt32, make([]byte, 4)).kv("g", tFloat32, make([]byte, 4)).kv("h", tBool, u8).
			kv("i", tUint64, make([]byte, 8)).kv("j", tInt64, make([]byte, 8)).kv("k", tFloat64, make([]byte, 8)).bytes()},
		{name: "nested arrays", in: func() []byte {
			b := gguf(3)
			return b.kv("n", tArray, b.array(tArray, b.array(tString, b.str("x"), b.str("y")), b.array(tUint8, u8), b.array(tArray))).bytes()
		}()},
		{name: "arrays 8 deep", in: func() []byte {
			b := gguf(3)
			v := b.array(tUint8, u8)
			for range 7 {
				v = b.array(tArray, v)
			}
			return b.kv("n", tArray, v).bytes()
		}()},
		{name: "parameters", in: gguf(3).tensor("a", []uint64{32, 4}, 0, 512, -1).tensor("b", []uint64{256, 2}, 12, 288, -1).tensor("c", nil, 0, 4, -1).bytes(), params: 128 + 512 + 1},
		{name: "custom alignment", in: func() []byte {
			b := gguf(3).kv("general.alignment", tUint32, []byte{64, 0, 0, 0})
			b.align = 64
			return b.tensor("a", []uint64{4}, 0, 16, -1).tensor("b", []uint64{4}, 0, 16, -1).bytes()
		}(), params: 8},

		{name: "template analysed", in: gguf(3).kvStr(templateKey, payload).bytes(), want: []got{{escape, tpl}}},
		{name: "named template analysed", in: gguf(3).kvStr(templateKey+".rag", payload).bytes(), want: []got{{escape, tpl + ".rag"}}},
		{name: "look-alike key ignored", in: gguf(3).kvStr("tokenizer.chat_templates", payload).kvStr("general.chat_template", payload).bytes()},
		{name: "template in an array", in: func() []byte {
			b := gguf(3)
			return b.kv(templateKey, tArray, b.array(tString, b.str("{{ x }}"), b.str(payload))).bytes()
		}(), want: []got{{bad, ""}, {escape, tpl + "[1]"}}},
		{name: "template of another type", in: gguf(3).kv(templateKey, tUint32, make([]byte, 4)).bytes(), want: []got{{bad, ""}}},
		{name: "duplicate template", in: gguf(3).kvStr(templateKey, "{{ x }}").kvStr(templateKey, payload).bytes(), want: []got{{bad, ""}, {escape, tpl}}},
		{name: "over-long template key", in: gguf(3).kvStr(templateKey+"."+strings.Repeat("x", maxKey), payload).bytes(), want: []got{{escape, "metadata:tokenizer.chat_template.…"}}},
		{name: "unparseable template", in: gguf(3).kvStr(templateKey, "{% for %}").bytes(), want: []got{{finding.TemplateUnparseable, tpl}}},

		{name: "bad magic", in: []byte("GGUG\x03\x00\x00\x00" + strings.Repeat("\x00", 16)), want: []got{{bad, ""}}},
		{name: "version 0", in: gguf(0).bytes(), want: []got{{bad, ""}}},
		{name: "version 4", in: gguf(4).bytes(), want: []got{{cut, ""}}},
		{name: "short header", in: []byte("GGUF\x03\x00\x00\x00\x00"), want: []got{{cut, ""}}},
		{name: "counts beyond the file", in: func() []byte { b := gguf(3); b.nKV = u64p(1 << 40); return b.bytes() }(), want: []got{{bad, ""}}},
		{name: "tensor count overflow", in: func() []byte { b := gguf(3); b.nTensors = u64p(1 << 62); return b.bytes() }(), want: []got{{bad, ""}}},
		{name: "empty key", in: gguf(3).kvStr("", "x").bytes(), want: []got{{bad, ""}}},
		{name: "duplicate key", in: gguf(3).kvStr("a", "x").kvStr("a", "y").kvStr("general.architecture", "llama").bytes(), want: []got{{bad, ""}}, arch: "llama"},
		{name: "unknown value type", in: gguf(3).kv("a", 13, u8).bytes(), want: []got{{bad, ""}}},
		{name: "array of unknown type", in: func() []byte { b := gguf(3); return b.kv("a", tArray, b.array(99, u8)).bytes() }(), want: []got{{bad, ""}}},
		{name: "arrays 9 deep", in: func() []byte {
			b := gguf(3)
			v := b.array(tUint8, u8)
			for range 8 {
				v = b.array(tArray, v)
			}
			return b.kv("n", tArray, v).bytes()
		}(), want: []got{{bad, ""}}},
		{name: "array larger than the file", in: func() []byte {
			b := gguf(3)
			return b.kv("a", tArray, slicesConcat(b.u32(tUint64), b.u64(1<<61))).bytes()
		}(), want: []got{{bad, ""}}},
		{name: "string array larger than the file", in: func() []byte {
			b := gguf(3)
			return b.kv("a", tArray, slicesConcat(b.u32(tString), b.u64(1<<40))).bytes()
		}(), want: []got{{bad, ""}}},
		{name: "string longer than the file", in: gguf(3).kv("a", tString, slicesConcat(gguf(3).u64(1<<50), []byte("x"))).bytes(), want: []got{{bad, ""}}},
		{name: "string cut short", in: func() []byte {
			b := gguf(3).kvStr("general.name", strings.Repeat("x", 100)).bytes()
			return b[:len(b)-50]
		}(), want: []got{{cut, ""}}},
		{name: "array cut short", in: func() []byte {
			b := gguf(3)
			out := b.kv("a", tArray, b.array(tUint32, make([]byte, 4), make([]byte, 4))).bytes()
			return out[:len(out)-3]
		}(), want: []got{{cut, ""}}},
		{name: "alignment not a power of two", in: gguf(3).kv("general.alignment", tUint32, []byte{48, 0, 0, 0}).bytes(), want: []got{{bad, ""}}},
		{name: "alignment of another type", in: gguf(3).kv("general.alignment", tUint64, make([]byte, 8)).bytes(), want: []got{{bad, ""}}},
		{name: "architecture of another type", in: gguf(3).kv("general.architecture", tUint32, make([]byte, 4)).bytes(), want: []got{{bad, ""}}},

		{name: "tensor name too long", in: gguf(3).tensor(strings.Repeat("n", 64), []uint64{4}, 0, 16, -1).bytes(), want: []got{{bad, ""}}},
		{name: "duplicate tensor", in: gguf(3).tensor("w", []uint64{4}, 0, 16, -1).tensor("w", []uint64{4}, 0, 16, -1).bytes(), want: []got{{bad, ""}}},
		{name: "five dimensions", in: gguf(3).tensor("w", []uint64{1, 1, 1, 1, 1}, 0, 4, -1).bytes(), want: []got{{bad, ""}}},
		{name: "negative dimension", in: gguf(3).tensor("w", []uint64{1 << 63}, 0, 4, -1).bytes(), want: []got{{bad, ""}}},
		{name: "element count overflow", in: gguf(3).tensor("w", []uint64{1 << 32, 1 << 32}, 0, 4, -1).bytes(), want: []got{{bad, ""}}},
		{name: "unaligned offset", in: gguf(3).tensor("a", []uint64{4}, 0, 16, -1).tensor("b", []uint64{4}, 0, 16, 36).bytes(), want: []got{{bad, ""}}, params: 8},
		{name: "gap", in: gguf(3).tensor("a", []uint64{4}, 0, 16, -1).tensor("b", []uint64{4}, 0, 16, 64).bytes(), want: []got{{bad, ""}}, params: 8},
		{name: "row not a multiple of the block", in: gguf(3).tensor("q", []uint64{16}, 2, 18, -1).bytes(), want: []got{{bad, ""}}, params: 16},
		{name: "data beyond the file", in: gguf(3).tensor("a", []uint64{1024}, 0, 16, -1).bytes(), want: []got{{bad, ""}}, params: 1024},
		{name: "unknown tensor types", in: gguf(3).tensor("a", []uint64{4}, 77, 16, -1).tensor("b", []uint64{4}, 78, 16, -1).tensor("c", []uint64{4}, 0, 16, -1).bytes(), want: []got{{unknownT, ""}}, params: 12},
		{name: "removed tensor type", in: gguf(3).tensor("a", []uint64{32}, 31, 18, -1).bytes(), want: []got{{unknownT, ""}}, params: 32},
		{name: "unknown type then overlap", in: gguf(3).tensor("a", []uint64{4}, 77, 64, -1).tensor("b", []uint64{4}, 0, 16, 0).bytes(), want: []got{{bad, ""}, {unknownT, ""}}, params: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := scanBytes(t, tt.in)
			if rep.Format != Format {
				t.Errorf("Format = %q", rep.Format)
			}
			if diff := cmp.Diff(tt.want, summary(rep)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%+v", diff, rep.Findings)
			}
			if rep.Architecture != tt.arch || rep.Parameters != tt.params {
				t.Errorf("Architecture, Parameters = %q, %d; want %q, %d", rep.Architecture, rep.Parameters, tt.arch, tt.params)
			}
		})
	}
}

// TestTemplateOffsets: findings in a template point at their byte in the file.
func TestTemplateOffsets(t *testing.T) {
	t.Parallel()
	file := gguf(3).kvStr("general.architecture", "llama").kvStr(templateKey, "hi\n{{ x.__class__ }}").bytes()
	rep := scanBytes(t, file)
	if len(rep.Findings) != 1 {
		t.Fatalf("findings %+v", rep.Findings)
	}
	f := rep.Findings[0]
	if got := string(file[f.Offset : f.Offset+len64(".__class__")]); got != ".__class__" || f.Line != 2 || f.Evidence != "{{ x.__class__ }}" {
		t.Errorf("offset %d points at %q, line %d, evidence %q", f.Offset, got, f.Line, f.Evidence)
	}
}

func len64(s string) int64 { return int64(len(s)) }

// TestFixtures pins the reports of the files make_fixtures.py writes;
// benign ones have no finding.
func TestFixtures(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("testdata", "*", "*.gguf"))
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
			fmt.Fprintf(&b, "\t%s %s", f.Severity, f.Rule)
			if f.Member != "" {
				fmt.Fprintf(&b, " %s", f.Member)
			}
			fmt.Fprintf(&b, " offset %d: %s\n", f.Offset, f.Message)
		}
		benign := strings.HasPrefix(rel, "benign/")
		if benign != (len(rep.Findings) == 0) {
			t.Errorf("%s: %d findings: %+v", rel, len(rep.Findings), rep.Findings)
		}
		if strings.HasPrefix(rel, "malicious/") && !hasCritical(rep) {
			t.Errorf("%s: no critical finding", rel)
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
		t.Errorf("reports changed; run go test ./internal/scan/gguf -run TestFixtures -update (-want +got):\n%s", diff)
	}
}

func hasCritical(rep *modelfile.Report) bool {
	for _, f := range rep.Findings {
		if f.Severity == finding.Critical {
			return true
		}
	}
	return false
}

// TestHeaderOnly: a GGUF file whose tensors take 5 GB, with a real
// tokenizer's worth of metadata (a tokens array, scores, token types), is
// scanned by reading less than 1 MB.
func TestHeaderOnly(t *testing.T) {
	t.Parallel()
	b := gguf(3).kvStr("general.architecture", "llama")
	var tokens, scores, types [][]byte
	for i := range 32000 {
		tokens = append(tokens, b.str(fmt.Sprintf("tok%d", i)))
		scores = append(scores, make([]byte, 4))
		types = append(types, make([]byte, 4))
	}
	b.kv("tokenizer.ggml.tokens", tArray, b.array(tString, tokens...))
	b.kv("tokenizer.ggml.scores", tArray, b.array(tFloat32, scores...))
	b.kv("tokenizer.ggml.token_type", tArray, b.array(tInt32, types...))
	b.kvStr(templateKey, "{% for m in messages %}{{ m.content }}{% endfor %}")
	const tensorBytes = 512 << 20 // ten F16 tensors of 16384 x 16384
	for i := range 10 {
		name := fmt.Sprintf("blk.%d.ffn_up.weight", i)
		b.tensors = append(b.tensors, slicesConcat(b.str(name), b.u32(2), b.u64(16384), b.u64(16384), b.u32(1), b.u64(uint64(i)*tensorBytes)))
	}
	head := b.bytes()
	for len(head)%32 != 0 {
		head = append(head, 0)
	}
	s := scantest.Sparse(head, int64(len(head))+10*tensorBytes)
	start := time.Now()
	rep, err := Scan(context.Background(), s, s.Size(), modelfile.Options{})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 || rep.Parameters != 10*16384*16384 || rep.Architecture != "llama" {
		t.Errorf("report %+v", rep)
	}
	if got := s.Read(); got >= 1<<20 {
		t.Errorf("read %d bytes of a %d-byte file", got, s.Size())
	}
	if elapsed > time.Second {
		t.Errorf("took %v", elapsed)
	}
	t.Logf("read %d of %d bytes (header %d) in %v", s.Read(), s.Size(), len(head), elapsed)
}

// TestLargeTemplateSkipped: a template over MaxTemplate is reported and
// skipped without being read.
func TestLargeTemplateSkipped(t *testing.T) {
	t.Parallel()
	b := gguf(3)
	head := slicesConcat(b.str(templateKey), b.u32(tString), b.u64(MaxTemplate+1))
	b.kvs = [][]byte{head}
	h := b.bytes()
	s := scantest.Sparse(h, int64(len(h))+MaxTemplate+1)
	rep, err := Scan(context.Background(), s, s.Size(), modelfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]got{{cut, "metadata:" + templateKey}}, summary(rep)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if s.Read() > bufSize {
		t.Errorf("read %d bytes", s.Read())
	}
}

type failing struct{ head []byte }

func (f failing) ReadAt(p []byte, off int64) (int, error) {
	if off < int64(len(f.head)) {
		n := copy(p, f.head[off:])
		if n < len(p) {
			return n, errors.New("disk on fire")
		}
		return n, nil
	}
	return 0, errors.New("disk on fire")
}

func TestReadError(t *testing.T) {
	t.Parallel()
	head := gguf(3).kvStr("general.architecture", "llama").bytes()
	if _, err := Scan(context.Background(), failing{head[:20]}, 1000, modelfile.Options{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Scan error = %v", err)
	}
}

func TestCanceled(t *testing.T) {
	t.Parallel()
	b := gguf(3)
	var items [][]byte
	for range 200_000 {
		items = append(items, b.str("t"))
	}
	in := b.kv("tokenizer.ggml.tokens", tArray, b.array(tString, items...)).bytes()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, bytes.NewReader(in), int64(len(in)), modelfile.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan error = %v", err)
	}
}
