package onnx

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
)

// TestModelInfoFixtures compares the report's model facts with what the onnx
// library reads in the same files: gen.py writes them to modelinfo.json.
func TestModelInfoFixtures(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "modelinfo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]finding.ModelInfo
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/*.onnx")
	if len(files) != len(want) {
		t.Errorf("%d fixtures, %d in modelinfo.json: run gen.py", len(files), len(want))
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w, ok := want[name]
			if !ok {
				t.Fatalf("%s is not in modelinfo.json: run gen.py", name)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w, scanBytes(t, b).ModelInfo); diff != "" {
				t.Errorf("model info (-onnx library +scanner):\n%s", diff)
			}
		})
	}
}

func TestModelInfoSynthetic(t *testing.T) {
	t.Parallel()
	float := func(shape ...enc) enc { return tensorType(1, shape) }
	tensor := func(name, dtype string, shape ...string) finding.Tensor {
		return finding.Tensor{Name: name, DType: dtype, Shape: shape}
	}
	seq := func(inner enc) enc { return enc{}.msg(4, enc{}.msg(1, inner)) }
	many := func(field func(enc) enc, n int) enc {
		g := enc{}
		for i := range n {
			g = append(g, field(valueInfo(fmt.Sprintf("t%d", i), float(dimValue(1))))...)
		}
		return g
	}
	listed := func(n, more int) []finding.Tensor {
		out := []finding.Tensor{}
		for i := range n {
			out = append(out, tensor(fmt.Sprintf("t%d", i), "FLOAT", "1"))
		}
		if more > 0 {
			out = append(out, finding.Tensor{Name: fmt.Sprintf("… %d more", more)})
		}
		return out
	}
	deep := tensorType(1, nil)
	for range 10 {
		deep = seq(deep)
	}
	tests := []struct {
		name  string
		model enc
		want  finding.ModelInfo // Architecture and Parameters are not compared
	}{
		{
			name: "shapes: symbols, numbers, unknown dimensions, a scalar, an unknown rank",
			model: modelProto(graphField(graphProto("g",
				graphInput(valueInfo("ids", tensorType(7, []enc{dimParam("batch"), dimValue(128), {}, dimParam(""), dimValue(-1)}))),
				graphInput(valueInfo("scalar", tensorType(9, []enc{}))),
				graphInput(valueInfo("any_rank", tensorType(1, nil))),
				graphInput(valueInfo("untyped", nil)),
				graphOutput(valueInfo("out", float(enc{}.varint(1, 4).str(2, "n")))), // a oneof: the last one wins
			))),
			want: finding.ModelInfo{Producer: "test 1",
				Inputs: []finding.Tensor{
					tensor("ids", "INT64", "batch", "128", "?", "?", "-1"),
					{Name: "scalar", DType: "BOOL", Shape: []string{}},
					{Name: "any_rank", DType: "FLOAT"},
					{Name: "untyped"},
				},
				Outputs: []finding.Tensor{tensor("out", "FLOAT", "n")},
			},
		},
		{
			name: "element types: new, unknown, missing",
			model: modelProto(graphField(graphProto("g",
				graphInput(valueInfo("e8m0", tensorType(24, []enc{}))),
				graphInput(valueInfo("int2", tensorType(26, []enc{}))),
				graphInput(valueInfo("future", tensorType(99, []enc{}))),
				graphInput(valueInfo("negative", tensorType(1<<64-1, []enc{}))),
				graphInput(valueInfo("missing", enc{}.msg(1, enc{}))),
			))),
			want: finding.ModelInfo{Producer: "test 1", Inputs: []finding.Tensor{
				{Name: "e8m0", DType: "FLOAT8E8M0", Shape: []string{}},
				{Name: "int2", DType: "INT2", Shape: []string{}},
				{Name: "future", DType: "DataType(99)", Shape: []string{}},
				{Name: "negative", DType: "DataType(-1)", Shape: []string{}},
				{Name: "missing", DType: "UNDEFINED"},
			}},
		},
		{
			name: "other kinds of type",
			model: modelProto(graphField(graphProto("g",
				graphInput(valueInfo("zipmap", seq(enc{}.msg(5, enc{}.varint(1, 8).msg(2, float()))))),
				graphInput(valueInfo("opt", enc{}.msg(9, enc{}.msg(1, tensorType(7, nil))))),
				graphInput(valueInfo("sparse", enc{}.msg(8, enc{}.varint(1, 1).msg(2, enc{}.msg(1, dimValue(1000)))))),
				graphInput(valueInfo("opaque", enc{}.msg(7, enc{}.str(1, "d").str(2, "n")))),
				graphInput(valueInfo("empty_seq", enc{}.msg(4, enc{}))),
				graphInput(valueInfo("empty_map", enc{}.msg(5, enc{}))),
				graphInput(valueInfo("deep", deep)),
			))),
			want: finding.ModelInfo{Producer: "test 1", Inputs: []finding.Tensor{
				{Name: "zipmap", DType: "sequence(map(STRING,FLOAT))"},
				{Name: "opt", DType: "optional(INT64)"},
				{Name: "sparse", DType: "sparse_tensor(FLOAT)", Shape: []string{"1000"}},
				{Name: "opaque", DType: "opaque"},
				{Name: "empty_seq", DType: "sequence(?)"},
				{Name: "empty_map", DType: "map(UNDEFINED,?)"},
				{Name: "deep", DType: strings.Repeat("sequence(", maxTypeDepth) + "…" + strings.Repeat(")", maxTypeDepth)},
			}},
		},
		{
			name: "initializers listed as inputs, before and after them",
			model: modelProto(graphField(graphProto("g",
				initializer(typedTensor("w", 1, 4, 4)),
				graphInput(valueInfo("w", float(dimValue(4), dimValue(4)))),
				graphInput(valueInfo("x", float(dimValue(4)))),
				graphInput(valueInfo("late", float(dimValue(4)))),
				graphInput(valueInfo("sparse", float(dimValue(4)))),
				initializer(typedTensor("late", 1, 4)),
				enc{}.msg(15, enc{}.msg(1, typedTensor("sparse", 1, 2)).msg(2, typedTensor("i", 7, 2)).varint(3, 4)),
			))),
			want: finding.ModelInfo{Producer: "test 1", DType: "FLOAT", Inputs: []finding.Tensor{tensor("x", "FLOAT", "4")}},
		},
		{
			name: "inputs and outputs of nested graphs and functions are not the model's",
			model: modelProto(graphField(graphProto("g",
				nodeField("if", "If", "", graphAttr("then_branch", graphProto("then", graphOutput(valueInfo("then_out", float()))))),
				graphOutput(valueInfo("y", float())),
			)), enc{}.msg(20, enc{}.msg(1, graphProto("init", graphInput(valueInfo("train_in", float())))))),
			want: finding.ModelInfo{Producer: "test 1", Outputs: []finding.Tensor{{Name: "y", DType: "FLOAT"}}},
		},
		{
			name: "at most maxIO inputs and outputs",
			model: modelProto(graphField(graphProto("g",
				many(graphInput, maxIO+6), graphInput(valueInfo("w", float())), initializer(typedTensor("w", 1)),
				many(graphOutput, maxIO+1),
			))),
			// The w input comes past the limit, before its initializer: it is counted.
			want: finding.ModelInfo{Producer: "test 1", DType: "FLOAT", Inputs: listed(maxIO, 7), Outputs: listed(maxIO, 1)},
		},
		{
			name: "inputs past the limit named by an earlier initializer are not counted",
			model: modelProto(graphField(graphProto("g",
				initializer(typedTensor("w", 1)), many(graphInput, maxIO), graphInput(valueInfo("w", float())),
			))),
			want: finding.ModelInfo{Producer: "test 1", DType: "FLOAT", Inputs: listed(maxIO, 0)},
		},
		{
			name: "at most maxDims dimensions",
			model: modelProto(graphField(graphProto("g",
				graphOutput(valueInfo("y", float(dims(maxDims+3)...))),
			))),
			want: finding.ModelInfo{Producer: "test 1", Outputs: []finding.Tensor{{Name: "y", DType: "FLOAT",
				Shape: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "… 3 more"}}}},
		},
		{
			name: "names from the file are made printable UTF-8 and clipped",
			model: enc{}.varint(1, 8).str(2, " \xffbad\x1b[31m ").str(3, "").msg(7, graphProto("g",
				graphInput(valueInfo("in\x00put", float(dimParam(strings.Repeat("d", 100)), dimParam("a\nb")))),
				graphOutput(valueInfo(strings.Repeat("é", 150), float())),
			)),
			want: finding.ModelInfo{Producer: "\uFFFDbad\uFFFD[31m",
				Inputs:  []finding.Tensor{tensor("in\uFFFDput", "FLOAT", strings.Repeat("d", 64)+"…", "a\uFFFDb")},
				Outputs: []finding.Tensor{{Name: strings.Repeat("é", 100) + "…", DType: "FLOAT"}},
			},
		},
		{
			name:  "producer version alone, no graph",
			model: enc{}.varint(1, 8).str(3, "2.1"),
			want:  finding.ModelInfo{Producer: "2.1"},
		},
		{
			name:  "long producer",
			model: enc{}.varint(1, 8).str(2, strings.Repeat("p", 300)).str(3, "1"),
			want:  finding.ModelInfo{Producer: strings.Repeat("p", 200) + "…"},
		},
		{
			name: "dtype: most parameters, every graph, sparse values, UNDEFINED ignored",
			model: modelProto(graphField(graphProto("g",
				initializer(typedTensor("a", 1, 10)),       // FLOAT 10
				initializer(typedTensor("b", 10, 4)),       // FLOAT16 4
				initializer(typedTensor("u", 0, 1000)),     // UNDEFINED
				initializer(tensorProto("f", []uint64{3})), // FLOAT 3
				enc{}.msg(15, enc{}.msg(1, typedTensor("s", 10, 5)).msg(2, typedTensor("i", 7, 5)).varint(3, 100)), // FLOAT16 5
				nodeField("if", "If", "", graphAttr("then_branch", graphProto("then", initializer(typedTensor("n", 10, 5))))),
			))), // FLOAT16 14 > FLOAT 13
			want: finding.ModelInfo{Producer: "test 1", DType: "FLOAT16"},
		},
		{
			name: "dtype: a tie goes to the smaller type",
			model: modelProto(graphField(graphProto("g",
				initializer(typedTensor("a", 16, 6)), initializer(typedTensor("b", 11, 2, 3)),
			))),
			want: finding.ModelInfo{Producer: "test 1", DType: "DOUBLE"},
		},
		{
			name:  "dtype: an unknown type",
			model: modelProto(graphField(graphProto("g", initializer(typedTensor("a", 1000, 6)), initializer(typedTensor("b", 1, 2))))),
			want:  finding.ModelInfo{Producer: "test 1", DType: "DataType(1000)"},
		},
		{
			name:  "dtype: no parameters",
			model: modelProto(graphField(graphProto("g", initializer(typedTensor("a", 1, 0, 5))))),
			want:  finding.ModelInfo{Producer: "test 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := scanBytes(t, tt.model)
			if len(rep.Findings) > 0 {
				t.Errorf("findings in a well-formed model: %+v", rep.Findings)
			}
			got := rep.ModelInfo
			got.Architecture, got.Parameters = "", 0
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("model info (-want +got):\n%s", diff)
			}
		})
	}
}

// TestModelInfoBounded: a graph with two hundred inputs, each with a
// thousand dimensions and a long name, gives a report of bounded size.
func TestModelInfoBounded(t *testing.T) {
	t.Parallel()
	shape := dims(1000)
	one := graphInput(valueInfo(strings.Repeat("n", 1000), tensorType(1, shape)))
	g := enc{}
	for range 200 {
		g = append(g, one...)
	}
	rep := scanBytes(t, modelProto(graphField(graphProto("g", g))))
	if len(rep.Inputs) != maxIO+1 || rep.Inputs[maxIO].Name != "… 136 more" {
		t.Fatalf("%d inputs, last %+v", len(rep.Inputs), rep.Inputs[len(rep.Inputs)-1])
	}
	for _, in := range rep.Inputs[:maxIO] {
		if len(in.Shape) != maxDims+1 || in.Shape[maxDims] != "… 984 more" || len(in.Name) > 204 {
			t.Fatalf("input %q with %d dims, last %q", in.Name, len(in.Shape), in.Shape[len(in.Shape)-1])
		}
	}
}

func TestDataTypeName(t *testing.T) {
	t.Parallel()
	for v, want := range map[int32]string{0: "UNDEFINED", 1: "FLOAT", 7: "INT64", 10: "FLOAT16", 16: "BFLOAT16",
		17: "FLOAT8E4M3FN", 20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1", 24: "FLOAT8E8M0",
		25: "UINT2", 26: "INT2", 27: "DataType(27)", -3: "DataType(-3)"} {
		if got := DataTypeName(v); got != want {
			t.Errorf("DataTypeName(%d) = %q, want %q", v, got, want)
		}
	}
}
