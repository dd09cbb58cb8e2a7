package tensorflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	"github.com/mlguard/mlguard/internal/scan/scantest"
)

func TestSavedModelSynthetic(t *testing.T) {
	t.Parallel()
	save := func(prefix string) enc {
		return nodeEnc("save", "SaveV2", []string{prefix, "names", "slices", "v"})
	}
	tests := []struct {
		name string
		in   enc
		want []got
	}{
		{
			name: "prefix from a placeholder through string ops",
			in: savedModelEnc([]enc{
				nodeEnc("p", "Placeholder", nil), constNode("suffix", "/../../../etc/x"),
				nodeEnc("join", "StringJoin", []string{"p", "suffix"}), save("join:0"),
			}, nil),
			want: []got{},
		},
		{
			name: "prefix from constants through string ops",
			in: savedModelEnc([]enc{
				constNode("a", "/etc/cron.d/"), constNode("b", "job"),
				nodeEnc("join", "StringJoin", []string{"a", "b", "^ctrl"}), save("join"),
			}, nil),
			want: []got{op(finding.High, `SaveV2 path "/etc/cron.d/"`)},
		},
		{
			name: "prefix from a function argument",
			in:   savedModelEnc(nil, map[string][]enc{"f": {save("arg")}}),
			want: []got{},
		},
		{
			name: "prefix from a function's constant, with an output index",
			in:   savedModelEnc(nil, map[string][]enc{"f": {constNode("c", "/tmp/x"), save("c:output:0")}}),
			want: []got{op(finding.High, `SaveV2 path "/tmp/x"`)},
		},
		{
			name: "a cycle of constants does not hang",
			in: savedModelEnc([]enc{
				constNode("c", "/tmp/y"),
				nodeEnc("m", "Merge", []string{"c", "n"}), nodeEnc("n", "NextIteration", []string{"m"}), save("m"),
			}, nil),
			want: []got{op(finding.High, `SaveV2 path "/tmp/y"`)},
		},
		{
			name: "TF1 asset bound by the loader",
			in: savedModelEnc([]enc{
				constNode("asset", "/abs/vocab.txt"), nodeEnc("init", "InitializeTableFromTextFileV2", []string{"t", "asset"}),
			}, nil, "asset:0"),
			want: []got{},
		},
		{
			name: "the same constant path without the asset binding",
			in: savedModelEnc([]enc{
				constNode("asset", "/abs/vocab.txt"), nodeEnc("init", "InitializeTableFromTextFileV2", []string{"t", "asset"}),
			}, nil),
			want: []got{op(finding.High, `InitializeTableFromTextFileV2 path "/abs/vocab.txt"`)},
		},
		{
			name: "MergeV2Checkpoints to a constant destination",
			in: savedModelEnc([]enc{
				nodeEnc("p", "Placeholder", nil), constNode("dst", "/var/www/html/shell"),
				nodeEnc("merge", "MergeV2Checkpoints", []string{"p", "dst"}),
			}, nil),
			want: []got{op(finding.High, `MergeV2Checkpoints path "/var/www/html/shell"`)},
		},
		{
			name: "an op missing its path input stays silent",
			in:   savedModelEnc([]enc{nodeEnc("s", "SaveV2", nil)}, nil),
			want: []got{},
		},
		{
			name: "many nodes of one op in one function are one finding",
			in: savedModelEnc(nil, map[string][]enc{"f": {
				nodeEnc("r1", "ReadFile", []string{"arg"}), nodeEnc("r2", "ReadFile", []string{"arg"}), nodeEnc("r3", "ReadFile", []string{"arg"}),
			}}),
			want: []got{op(finding.High, "ReadFile")},
		},
		{
			name: "PrintV2 to the log is ordinary",
			in: savedModelEnc([]enc{nodeEnc("p", "PrintV2", []string{"x"}, attrEntry("output_stream", enc{}.str(2, "log(info)")))},
				nil),
			want: []got{},
		},
		{
			name: "debug op with an empty URL list",
			in: savedModelEnc([]enc{nodeEnc("d", "DebugIdentityV2", []string{"x"}, attrEntry("debug_urls", enc{}.msg(1, enc{}.str(2, ""))))},
				nil),
			want: []got{},
		},
		{
			name: "debug op dumping to a file",
			in: savedModelEnc([]enc{nodeEnc("d", "DebugNanCount", []string{"x"}, attrEntry("debug_urls", enc{}.msg(1, enc{}.str(2, "file:///tmp/dump"))))},
				nil),
			want: []got{op(finding.High, `DebugNanCount debug_urls="file:///tmp/dump"`)},
		},
		{
			name: "RPC server",
			in:   savedModelEnc([]enc{nodeEnc("s", "RpcServer", []string{"addr"})}, nil),
			want: []got{op(finding.Critical, "RpcServer")},
		},
		{
			name: "not a SavedModel",
			in:   enc{}.varint(1, 1),
			want: []got{{finding.ScanIncomplete, finding.High, ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := scanBytes(t, ScanSavedModel, tt.in)
			if diff := cmp.Diff(tt.want, summarize(rep.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGraphDef(t *testing.T) {
	t.Parallel()
	g := enc{}.msg(1, nodeEnc("x", "Placeholder", nil)).msg(1, constNode("f", "/etc/passwd")).msg(1, nodeEnc("r", "ReadFile", []string{"f"})).
		msg(1, nodeEnc("ok", "ReadFile", []string{"x"}))
	rep := scanBytes(t, ScanGraphDef, g)
	if diff := cmp.Diff([]got{op(finding.High, `ReadFile path "/etc/passwd"`)}, summarize(rep.Findings)); diff != "" || rep.Format != FormatGraphDef {
		t.Errorf("findings (-want +got):\n%s\nformat %q", diff, rep.Format)
	}
	rep = scanBytes(t, ScanGraphDef, enc{}.varint(3, 5))
	if diff := cmp.Diff([]got{{finding.ScanIncomplete, finding.High, ""}}, summarize(rep.Findings)); diff != "" {
		t.Errorf("empty graph (-want +got):\n%s", diff)
	}
}

func TestKerasSynthetic(t *testing.T) {
	t.Parallel()
	meta := func(path, json string) enc {
		return enc{}.msg(1, enc{}.varint(2, 0).str(3, path).str(4, "_tf_keras_layer").str(5, json))
	}
	lambda := func(name string) got {
		return got{finding.KerasLambdaLayer, finding.High, fmt.Sprintf("Lambda %q", name)}
	}
	tests := []struct {
		name string
		in   enc
		want []got
		msg  string // a part of the first finding's message
	}{
		{
			name: "named function (function_type raw)",
			in:   meta("root.l", `{"class_name": "Lambda", "config": {"name": "l", "function": "my_module.scale", "function_type": "raw"}}`),
			want: []got{{finding.KerasLambdaLayer, finding.High, `Lambda "l": "my_module.scale"`}},
			msg:  "a reference to the Python function my_module.scale",
		},
		{
			name: "bytecode list",
			in:   meta("root.l", `{"class_name": "Lambda", "config": {"name": "l", "function": ["4wEA", null, null], "function_type": "lambda"}}`),
			want: []got{lambda("l")},
			msg:  "Python bytecode",
		},
		{
			name: "deeply nested in a model config, reported once",
			in: append(meta("root", `{"class_name": "Sequential", "config": {"layers": [{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "inner", "function": {"class_name": "__lambda__", "config": {"code": "x"}}}}]}}]}}`),
				meta("root.layer-0.layer-0", `{"class_name": "Lambda", "name": "inner", "config": {"name": "inner"}}`)...),
			want: []got{lambda("inner")},
			msg:  "Python bytecode",
		},
		{
			name: "TFOpLambda calling py_function",
			in:   meta("root.l", `{"class_name": "TFOpLambda", "config": {"name": "tf.py_function", "function": "py_function"}}`),
			want: []got{{finding.KerasTFOpLambda, finding.Critical, `TFOpLambda "tf.py_function": tf.py_function`}},
		},
		{
			name: "TFOpLambda arithmetic",
			in:   meta("root.l", `{"class_name": "TFOpLambda", "config": {"name": "tf.math.multiply", "function": "math.multiply"}}`),
			want: []got{},
		},
		{
			name: "class_name that is not a string",
			in:   meta("root.l", `{"class_name": {"x": [1, 2]}, "config": {"name": "l"}}`),
			want: []got{},
		},
		{
			name: "invalid JSON",
			in:   meta("root.l", `{"class_name": "Lambda", "config": {`),
			want: []got{{finding.ScanIncomplete, finding.High, "EOF"}},
		},
		{
			name: "JSON nested too deep",
			in:   meta("root.l", strings.Repeat("[", 300)+strings.Repeat("]", 300)),
			want: []got{{finding.ScanIncomplete, finding.High, "JSON nested more than 256 deep"}},
		},
		{
			name: "two JSON values",
			in:   meta("root.l", `{} {}`),
			want: []got{{finding.ScanIncomplete, finding.High, "data after the JSON value"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := scanBytes(t, ScanKerasMetadata, tt.in)
			if diff := cmp.Diff(tt.want, summarize(rep.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if tt.msg != "" && (len(rep.Findings) == 0 || !strings.Contains(rep.Findings[0].Message, tt.msg)) {
				t.Errorf("first message does not say %q: %+v", tt.msg, rep.Findings)
			}
		})
	}
}

func TestFlexStrings(t *testing.T) {
	t.Parallel()
	// flexbuffers.Builder's Vector of "ReadFile" and "x", widths of 1 byte
	// (from the reference Python implementation).
	ref := []byte{8, 'R', 'e', 'a', 'd', 'F', 'i', 'l', 'e', 0, 1, 'x', 0, 2, 13, 4, 20, 20, 4, 40, 1}
	got, err := flexStrings(ref)
	if err != nil || !cmp.Equal(got, []string{"ReadFile", "x"}) {
		t.Errorf("flexStrings(reference) = %q, %v", got, err)
	}
	bad := [][]byte{
		nil, {1, 2}, {0, 40, 1},
		{8, 'R', 0, 2, 13, 4, 20, 20, 4, 40, 1}, // offsets before the start
		{1, 'x', 0, 1, 3, 4, 4, 40, 1},          // an int element
		{1, 'x', 0, 200, 3, 20, 4, 40, 1},       // size past the end
		{1, 'x', 0, 1, 3, 20, 4, 4, 1},          // root is not a vector
		{1, 'x', 0, 1, 3, 20, 4, 40, 3},         // bad root width
		{9, 'x', 0, 1, 3, 20, 4, 40, 1},         // string longer than the buffer
	}
	for _, b := range bad {
		if s, err := flexStrings(b); err == nil {
			t.Errorf("flexStrings(% x) = %q, want an error", b, s)
		}
	}
}

func TestTFLiteSynthetic(t *testing.T) {
	t.Parallel()
	code := func(dep uint8, builtin int32, custom string) tbl {
		c := tbl{{0, fU8(dep)}, {3, fI32(builtin)}}
		if custom != "" {
			c = append(c, fbField{1, fStr(custom)})
		}
		return c
	}
	empty := fTables{&tbl{}}
	tests := []struct {
		name string
		in   []byte
		want []got
	}{
		{
			name: "extended builtin code above 127 is not custom",
			in:   tfliteModel([]tbl{code(127, 150, "")}, nil, []tfOp{{opcode: 0}}, empty),
			want: []got{},
		},
		{
			name: "deprecated code only (old converters)",
			in:   tfliteModel([]tbl{code(32, 0, "Legacy")}, nil, []tfOp{{opcode: 0}, {opcode: 0}}, empty),
			want: []got{{finding.TFLiteCustomOp, finding.Medium, `custom_code: "Legacy"`}},
		},
		{
			name: "custom code listed but unused",
			in:   tfliteModel([]tbl{code(32, 32, "Unused")}, nil, nil, empty),
			want: []got{},
		},
		{
			name: "opcode index out of range",
			in:   tfliteModel([]tbl{code(0, 0, "")}, nil, []tfOp{{opcode: 5}}, empty),
			want: []got{{finding.ScanIncomplete, finding.High, "operator uses opcode 5 of 1"}},
		},
		{
			name: "flex op with unreadable options",
			in:   tfliteModel([]tbl{code(32, 32, "FlexPyFunc")}, nil, []tfOp{{opcode: 0, options: []byte{1, 2, 3}}}, empty),
			want: []got{{finding.ScanIncomplete, finding.High, "bad FlexBuffers root width 3"}, op(finding.Critical, "PyFunc")},
		},
		{
			name: "flex op without options",
			in:   tfliteModel([]tbl{code(32, 32, "FlexEagerPyFunc")}, nil, []tfOp{{opcode: 0}}, empty),
			want: []got{{finding.ScanIncomplete, finding.High, "flex options shorter than a FlexBuffers root"}, op(finding.Critical, "EagerPyFunc")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := scanBytes(t, ScanTFLite, tt.in)
			if diff := cmp.Diff(tt.want, summarize(rep.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTFLiteReadsLittle scans a TFLite model with a 3 GiB weight buffer.
func TestTFLiteReadsLittle(t *testing.T) {
	t.Parallel()
	const huge = 3 << 30
	codes := []tbl{{{0, fU8(9)}, {3, fI32(9)}}, {{0, fU8(32)}, {3, fI32(32)}, {1, fStr("Vendor")}}}
	tensors := []tbl{{{0, fI32s{1 << 15, 1 << 13}}, {2, fU32(1)}}, {{0, fI32s{4}}}}
	head := tfliteModel(codes, tensors, []tfOp{{opcode: 0, inputs: []int32{1, 0}}, {opcode: 1}}, fTables{&tbl{}, &tbl{{0, fHuge(huge)}}})
	f := &scantest.VirtualFile{Segs: []scantest.Segment{{Data: head}, {Zeros: huge}}}
	rep, err := ScanTFLite(context.Background(), f, f.Size(), modelfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]got{{finding.TFLiteCustomOp, finding.Medium, `custom_code: "Vendor"`}}, summarize(rep.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if rep.Parameters != 1<<28 {
		t.Errorf("parameters = %d, want %d", rep.Parameters, 1<<28)
	}
	if n := f.Read(); n > 64<<10 {
		t.Errorf("read %d bytes of a %d-byte file", n, f.Size())
	}
}

// TestSavedModelReadsLittle scans a frozen-style graph whose Const holds
// 2 GiB of tensor_content.
func TestSavedModelReadsLittle(t *testing.T) {
	t.Parallel()
	const huge = 2 << 30
	// Const node: value attr -> TensorProto {dtype 1, tensor_content 4 (huge)}.
	tensorHead := enc{}.varint(1, 1).tag(4, 2)
	tensorHead = appendUvarint(tensorHead, huge)
	tensorLen := uint64(len(tensorHead)) + huge
	attrValHead := appendUvarint(enc{}.tag(8, 2), tensorLen) // AttrValue.tensor
	attrValLen := uint64(len(attrValHead)) + tensorLen
	entryHead := appendUvarint(enc{}.str(1, "value").tag(2, 2), attrValLen)
	entryLen := uint64(len(entryHead)) + attrValLen
	nodeHead := appendUvarint(enc{}.str(1, "weights").str(2, "Const").tag(5, 2), entryLen)
	nodeLen := uint64(len(nodeHead)) + entryLen
	tail := enc{}.msg(1, nodeEnc("r", "ReadFile", []string{"p"}))
	graphHead := appendUvarint(enc{}.tag(1, 2), nodeLen)
	graphLen := uint64(len(graphHead)) + nodeLen + uint64(len(tail))
	metaHead := appendUvarint(enc{}.tag(2, 2), graphLen)
	metaLen := uint64(len(metaHead)) + graphLen
	top := appendUvarint(enc{}.varint(1, 1).tag(2, 2), metaLen)
	var head []byte
	for _, p := range []enc{top, metaHead, graphHead, nodeHead, entryHead, attrValHead, tensorHead} {
		head = append(head, p...)
	}
	f := &scantest.VirtualFile{Segs: []scantest.Segment{{Data: head}, {Zeros: huge}, {Data: tail}}}
	rep, err := ScanSavedModel(context.Background(), f, f.Size(), modelfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]got{op(finding.High, "ReadFile")}, summarize(rep.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if n := f.Read(); n > 64<<10 {
		t.Errorf("read %d bytes of a %d-byte file", n, f.Size())
	}
}

func appendUvarint(e enc, v uint64) enc {
	for v >= 0x80 {
		e = append(e, byte(v)|0x80)
		v >>= 7
	}
	return append(e, byte(v))
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

func TestReadErrors(t *testing.T) {
	t.Parallel()
	for name, scan := range map[string]scanFunc{"savedmodel": ScanSavedModel, "keras": ScanKerasMetadata, "tflite": ScanTFLite} {
		rep, err := scan(context.Background(), failingReader{}, 100, modelfile.Options{})
		if err == nil || !strings.Contains(err.Error(), "disk on fire") || rep == nil {
			t.Errorf("%s: scan = %v, %v; want a report and the read error", name, rep, err)
		}
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	nodes := make([]enc, 0, 70000)
	for range 70000 {
		nodes = append(nodes, nodeEnc("n", "Relu", nil))
	}
	b := savedModelEnc(nodes, nil)
	rep, err := ScanSavedModel(ctx, bytes.NewReader(b), int64(len(b)), modelfile.Options{})
	if !errors.Is(err, context.Canceled) || rep == nil {
		t.Errorf("ScanSavedModel = %v, %v; want a report and context.Canceled", rep, err)
	}
}
