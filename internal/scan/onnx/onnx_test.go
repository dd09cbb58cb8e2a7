package onnx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	"github.com/mlguard/mlguard/internal/scan/scantest"
)

func scanBytes(t *testing.T, b []byte) *modelfile.Report {
	t.Helper()
	rep, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return rep
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	ext := func(loc string) got {
		return got{finding.ONNXExternalDataPath, finding.Critical, fmt.Sprintf("location: %q", loc)}
	}
	custom := func(ev string) got { return got{finding.ONNXCustomOperator, finding.Medium, ev} }
	tests := []struct {
		file   string
		want   []got
		arch   string
		params int64
	}{
		{file: "benign_mlp.onnx", want: []got{}, arch: "mlp", params: 16*32 + 32 + 32*4 + 4},
		{file: "benign_control_flow.onnx", want: []got{}, arch: "control_flow"},
		{file: "benign_external.onnx", want: []got{}, arch: "mlp", params: 16*32 + 32 + 32*4 + 4},
		{file: "benign_contrib.onnx", want: []got{}, arch: "contrib"},
		{file: "benign_function.onnx", want: []got{}, arch: "uses_function"},
		{file: "benign_llm_io.onnx", want: []got{}, arch: "decoder", params: 64*8 + 8 + 1 + 1},
		{file: "benign_ir3_inputs.onnx", want: []got{}, arch: "mlp_ir3", params: 16*32 + 32 + 32*4 + 4},
		{file: "benign_fp16.onnx", want: []got{}, arch: "half", params: 32*32 + 32 + 4},
		{file: "benign_classifier.onnx", want: []got{}, arch: "classifier"},
		{file: "malicious_custom_op.onnx", want: []got{custom(`"com.evil.ops": "EvilOp"`)}, arch: "custom"},
		{file: "malicious_ext_traversal.onnx", want: []got{ext("../../etc/passwd")}, arch: "mlp", params: 676},
		{file: "malicious_ext_absolute.onnx", want: []got{ext("/etc/shadow")}, arch: "mlp", params: 676},
		{file: "malicious_ext_subdir.onnx", want: []got{ext("weights/../../../home/user/.aws/credentials")}, arch: "mlp", params: 676},
		{file: "malicious_ext_ort_mem.onnx", want: []got{ext("*/_ORT_MEM_ADDR_/*")}, arch: "mlp", params: 676},
		{file: "malicious_loop_body_ext.onnx", want: []got{ext("../../../root/.ssh/id_rsa")}, arch: "control_flow"},
		{file: "malicious_function_custom_op.onnx", want: []got{custom(`"com.evil.ops": "Exfiltrate"`)}, arch: "uses_function"},
		{file: "malicious_function_ext.onnx", want: []got{ext("/proc/self/environ")}, arch: "uses_function"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			rep := scanBytes(t, b)
			if diff := cmp.Diff(tt.want, summarize(rep.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if rep.Format != "onnx" || rep.Architecture != tt.arch || rep.Parameters != tt.params {
				t.Errorf("report = %q %q %d, want onnx %q %d", rep.Format, rep.Architecture, rep.Parameters, tt.arch, tt.params)
			}
			for _, f := range rep.Findings {
				if f.Offset <= 0 || f.Offset >= int64(len(b)) || f.Message == "" {
					t.Errorf("finding without a place or message: %+v", f)
				}
			}
		})
	}
}

func TestMessages(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "malicious_loop_body_ext.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	rep := scanBytes(t, b)
	want := `tensor(s) "stolen" (first in attribute "value" of Constant node "leak_const" in the graph in attribute "body" of Loop node "repeat" in the main graph) load external data from "../../../root/.ssh/id_rsa", which climbs out of the model's folder with '..': loading the model reads that file`
	if len(rep.Findings) != 1 || rep.Findings[0].Message != want {
		t.Errorf("got %+v\nwant message %s", rep.Findings, want)
	}
	b, err = os.ReadFile(filepath.Join("testdata", "malicious_function_custom_op.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	rep = scanBytes(t, b)
	want = `1 node(s) use operator(s) "Exfiltrate" of domain "com.evil.ops", which neither ONNX nor ONNX Runtime implements (first in function "MyRelu"): running the model needs a custom operator library, native code loaded by the application`
	if len(rep.Findings) != 1 || rep.Findings[0].Message != want {
		t.Errorf("got %+v\nwant message %s", rep.Findings, want)
	}
}

func TestLocationRisk(t *testing.T) {
	t.Parallel()
	tests := []struct {
		loc  string
		want string // a word of the reason, "" for safe
	}{
		{"weights.bin", ""},
		{"model.onnx.data", ""},
		{"sub/dir/w.bin", ""},
		{"a/../w.bin", ""},
		{"./w.bin", ""},
		{"..weights", ""},
		{"w..bin", ""},
		{"", ""},
		{"../w.bin", "climbs"},
		{"..", "climbs"},
		{"sub/../../w.bin", "climbs"},
		{"sub/./../x/../../w", "climbs"},
		{`..\..\Windows\win.ini`, "climbs"},
		{`sub\..\..\x`, "climbs"},
		{"/etc/passwd", "absolute"},
		{`\Windows\win.ini`, "absolute"},
		{`C:\Windows\win.ini`, "drive"},
		{"c:relative", "drive"},
		{`\\server\share\x`, "UNC"},
		{"//server/share/x", "UNC"},
		{`\\?\C:\x`, "UNC"},
		{"w.bin\x00.txt", "NUL"},
		{"*/_ORT_MEM_ADDR_/*", "memory address"},
	}
	for _, tt := range tests {
		got := LocationRisk(tt.loc)
		if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
			t.Errorf("LocationRisk(%q) = %q, want it to say %q", tt.loc, got, tt.want)
		}
	}
}

func TestSynthetic(t *testing.T) {
	t.Parallel()
	ext := func(loc string) got {
		return got{finding.ONNXExternalDataPath, finding.Critical, fmt.Sprintf("location: %q", loc)}
	}
	tests := []struct {
		name   string
		model  enc
		want   []got
		params int64
	}{
		{
			name:   "windows drive and UNC in one graph, two tensors sharing a location",
			model:  modelProto(graphField(graphProto("g", initializer(tensorProto("a", []uint64{2, 3}, `C:\secrets.bin`)), initializer(tensorProto("b", []uint64{4}, `\\evil\share\x`)), initializer(tensorProto("c", []uint64{5}, `C:\secrets.bin`))))),
			want:   []got{ext(`C:\secrets.bin`), ext(`\\evil\share\x`)},
			params: 6 + 4 + 5,
		},
		{
			name:   "NUL byte",
			model:  modelProto(graphField(graphProto("g", initializer(tensorProto("a", nil, "w.bin\x00/../../etc/passwd"))))),
			want:   []got{ext("w.bin\x00/../../etc/passwd")},
			params: 1, // a scalar
		},
		{
			name: "external data in a Constant attribute's tensors list",
			model: modelProto(graphField(graphProto("g", nodeField("k", "Constant", "",
				enc{}.str(1, "value").msg(10, tensorProto("t", nil, "/etc/hosts")))))),
			want: []got{ext("/etc/hosts")},
		},
		{
			name: "Scan body inside an If branch inside a Loop body",
			model: modelProto(graphField(graphProto("g", nodeField("loop", "Loop", "", graphAttr("body",
				graphProto("body", nodeField("if", "If", "", graphAttr("then_branch",
					graphProto("then", nodeField("scan", "Scan", "", graphAttr("body",
						graphProto("scan_body", nodeField("x", "Frob", "org.example"))))))))))))),
			want: []got{{finding.ONNXCustomOperator, finding.Medium, `"org.example": "Frob"`}},
		},
		{
			name:  "training graph",
			model: modelProto(graphField(graphProto("g")), enc{}.msg(20, enc{}.msg(2, graphProto("algo", nodeField("u", "Update", "com.vendor.train"))))),
			want:  []got{{finding.ONNXCustomOperator, finding.Medium, `"com.vendor.train": "Update"`}},
		},
		{
			name: "domain written twice: the last one counts, as in protobuf",
			model: modelProto(graphField(graphProto("g",
				enc{}.msg(1, enc{}.str(3, "n").str(4, "Relu").str(7, "com.evil").str(7, ""))))),
			want: []got{},
		},
		{
			name: "a custom domain with many operators is one finding",
			model: modelProto(graphField(graphProto("g",
				nodeField("a", "A", "x.y"), nodeField("b", "B", "x.y"), nodeField("a2", "A", "x.y"), nodeField("r", "Relu", "ai.onnx")))),
			want: []got{{finding.ONNXCustomOperator, finding.Medium, `"x.y": "A", "B"`}},
		},
		{
			name: "a node calling a function of another domain than the one defined is custom",
			model: modelProto(graphField(graphProto("g", nodeField("c", "F", "lib.a"))),
				enc{}.msg(25, enc{}.str(1, "F").str(10, "lib.b").msg(7, enc{}.str(4, "Relu")))),
			want: []got{{finding.ONNXCustomOperator, finding.Medium, `"lib.a": "F"`}},
		},
		{
			name: "fields of the wrong wire type are ignored, as protobuf parsers do",
			model: modelProto(enc{}.varint(7, 1), graphField(graphProto("g",
				enc{}.msg(1, enc{}.varint(7, 3).str(4, "Relu"))))),
			want: []got{},
		},
		{
			name:   "sparse initializer counts its stored values",
			model:  modelProto(graphField(graphProto("g", enc{}.msg(15, enc{}.msg(1, tensorProto("v", []uint64{7})).msg(2, tensorProto("i", []uint64{7, 2})).varint(3, 100).varint(3, 100))))),
			want:   []got{},
			params: 7,
		},
		{
			name:   "packed dims",
			model:  modelProto(graphField(graphProto("g", initializer(enc{}.bytes(1, []byte{3, 4, 5}).str(8, "p"))))),
			want:   []got{},
			params: 60,
		},
		{
			name:   "a location key other than location is not a path",
			model:  modelProto(graphField(graphProto("g", initializer(enc{}.str(8, "t").msg(13, enc{}.str(1, "checksum").str(2, "../../x")))))),
			want:   []got{},
			params: 1,
		},
		{
			name:  "not an ONNX model",
			model: enc{}.str(3, "hello"),
			want:  []got{{finding.ScanIncomplete, finding.High, ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := scanBytes(t, tt.model)
			if diff := cmp.Diff(tt.want, summarize(rep.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if rep.Parameters != tt.params {
				t.Errorf("parameters = %d, want %d", rep.Parameters, tt.params)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	deep := graphProto("leaf")
	for range 40 {
		deep = graphProto("g", nodeField("n", "If", "", graphAttr("then_branch", deep)))
	}
	tests := []struct {
		name     string
		in       []byte
		evidence string
	}{
		{"truncated inside the graph", modelProto(graphField(graphProto("g", nodeField("a", "Relu", ""))))[:20], "runs past the end"},
		{"length past its parent", append(enc{}.varint(1, 8), 0x3a, 0x05, 0x0a, 0x7f, 0, 0, 0), "runs past the end"},
		{"group", append(enc{}.varint(1, 8), 0x3b), "groups"},
		{"wire type 7", append(enc{}.varint(1, 8), 0x3f), "invalid wire type"},
		{"field number 0", append(enc{}.varint(1, 8), 0x02, 0x00), "invalid field number"},
		{"overlong varint", append(enc{}.tag(1, 0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), "varint"},
		{"If nested 40 deep", modelProto(graphField(deep)), "nested more than 100 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := scanBytes(t, tt.in)
			var found bool
			for _, f := range rep.Findings {
				if f.Rule == finding.ScanIncomplete && strings.Contains(f.Evidence, tt.evidence) {
					found = true
				}
			}
			if !found {
				t.Errorf("no scan/incomplete finding saying %q: %+v", tt.evidence, rep.Findings)
			}
		})
	}
}

// TestTruncatedFixtures cuts every fixture at many lengths: no panic, and a
// cut inside a message is reported.
func TestTruncatedFixtures(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*.onnx")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			step := max(1, len(b)/500)
			cuts, incomplete := 0, 0
			for n := 0; n < len(b); n += step {
				cuts++
				rep := scanBytes(t, b[:n])
				for _, f := range rep.Findings {
					if f.Rule == finding.ScanIncomplete {
						incomplete++
						break
					}
				}
			}
			// Cuts between top-level fields decode as a shorter model; most cuts do not.
			if incomplete < cuts*9/10 {
				t.Errorf("only %d of %d cuts reported as incomplete", incomplete, cuts)
			}
		})
	}
}

// TestReadsLittle scans a 4 GiB model whose initializers are mostly raw
// data and checks that only the structure is read.
func TestReadsLittle(t *testing.T) {
	t.Parallel()
	const big = 2 << 30
	head := func(name string, dims ...uint64) []byte {
		t := enc{}
		for _, d := range dims {
			t = t.varint(1, d)
		}
		t = t.varint(2, 1).str(8, name)
		t = binaryAppendLen(t.tag(9, 2), big) // raw_data header; the data follows
		return t
	}
	t1, t2 := head("w1", 1<<14, 1<<15), head("w2", 1<<15, 1<<14)
	node := nodeField("n", "MatMul", "")
	custom := nodeField("evil", "Evil", "com.evil")
	// graph = node, initializer{t1 + data}, initializer{t2 + data}, custom node
	initLen := func(t []byte) int64 { return int64(len(t)) + big }
	graphLen := int64(len(node)) + int64(len(custom)) + 2*int64(len(binaryAppendLen(enc{}.tag(5, 2), uint64(initLen(t1))))) + initLen(t1) + initLen(t2)
	pre := binaryAppendLen(enc{}.varint(1, 8).str(2, "big").tag(7, 2), uint64(graphLen))
	pre = append(pre, node...)
	pre = append(binaryAppendLen(append(pre, enc{}.tag(5, 2)...), uint64(initLen(t1))), t1...)
	mid := append(binaryAppendLen(enc{}.tag(5, 2), uint64(initLen(t2))), t2...)
	f := &scantest.VirtualFile{Segs: []scantest.Segment{{Data: pre}, {Zeros: big}, {Data: mid}, {Zeros: big}, {Data: custom}}}
	rep, err := Scan(context.Background(), f, f.Size(), modelfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]got{{finding.ONNXCustomOperator, finding.Medium, `"com.evil": "Evil"`}}, summarize(rep.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if rep.Parameters != 2<<29 {
		t.Errorf("parameters = %d, want %d", rep.Parameters, 2<<29)
	}
	if n := f.Read(); n > 64<<10 {
		t.Errorf("read %d bytes of a %d-byte file", n, f.Size())
	}
}

func binaryAppendLen(e enc, n uint64) enc {
	for n >= 0x80 {
		e = append(e, byte(n)|0x80)
		n >>= 7
	}
	return append(e, byte(n))
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A graph of many nodes, so the scan reaches a context check.
	g := enc{}
	for range 70000 {
		g = append(g, nodeField("", "Relu", "")...)
	}
	m := modelProto(graphField(graphProto("g", g)))
	rep, err := Scan(ctx, bytes.NewReader(m), int64(len(m)), modelfile.Options{})
	if !errors.Is(err, context.Canceled) || rep == nil {
		t.Errorf("Scan = %v, %v; want a report and context.Canceled", rep, err)
	}
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

func TestReadError(t *testing.T) {
	t.Parallel()
	rep, err := Scan(context.Background(), failingReader{}, 100, modelfile.Options{})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || rep == nil {
		t.Errorf("Scan = %v, %v; want a report and the read error", rep, err)
	}
}
