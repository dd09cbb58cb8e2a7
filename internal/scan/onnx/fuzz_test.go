package onnx

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// FuzzScan feeds arbitrary bytes to Scan and Plausible: no panic, no hang,
// a report every time, only known rules, and model facts of bounded size in
// valid UTF-8.
func FuzzScan(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.onnx")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(modelProto(graphField(graphProto("g", initializer(tensorProto("a", []uint64{2}, `C:\x`)))))))
	zipmap := enc{}.msg(4, enc{}.msg(1, enc{}.msg(5, enc{}.varint(1, 7).msg(2, tensorType(1, nil)))))
	f.Add([]byte(modelProto(graphField(graphProto("g",
		initializer(typedTensor("w", 10, 2, 2)),
		graphInput(valueInfo("w", tensorType(10, []enc{dimValue(2), dimValue(2)}))),
		graphInput(valueInfo("ids", tensorType(7, []enc{dimParam("batch"), {}}))),
		graphOutput(valueInfo("p", zipmap)))))))
	f.Fuzz(func(t *testing.T, b []byte) {
		Plausible(b)
		rep, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{})
		if err != nil || rep == nil {
			t.Fatalf("Scan = %v, %v", rep, err)
		}
		for _, f := range rep.Findings {
			if _, ok := finding.Lookup(f.Rule); !ok || f.Message == "" {
				t.Fatalf("bad finding %+v", f)
			}
		}
		if rep.Parameters < 0 {
			t.Fatalf("negative parameter count %d", rep.Parameters)
		}
		checkText(t, rep.Producer, 203)
		checkText(t, rep.DType, 300)
		for _, l := range [][]finding.Tensor{rep.Inputs, rep.Outputs} {
			if len(l) > maxIO+1 {
				t.Fatalf("%d inputs or outputs", len(l))
			}
			for _, x := range l {
				checkText(t, x.Name, 203)
				checkText(t, x.DType, 300)
				if len(x.Shape) > maxDims+1 {
					t.Fatalf("%d dimensions", len(x.Shape))
				}
				for _, d := range x.Shape {
					checkText(t, d, maxDimText+3)
				}
			}
		}
	})
}

func checkText(t *testing.T, s string, n int) {
	t.Helper()
	if len(s) > n || !utf8.ValidString(s) {
		t.Fatalf("text of %d bytes (at most %d), valid UTF-8 %v: %q", len(s), n, utf8.ValidString(s), s)
	}
}
