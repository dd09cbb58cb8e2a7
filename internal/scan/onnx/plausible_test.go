package onnx

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestPlausible(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*.onnx")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{len(b), min(len(b), 4096), min(len(b), 40), min(len(b), 12)} {
			if !Plausible(b[:n]) {
				t.Errorf("%s: Plausible(first %d bytes) = false", file, n)
			}
		}
	}
	tests := []struct {
		name string
		head []byte
		want bool
	}{
		{"ir_version then graph", append(enc{}.varint(1, 7), enc{}.msg(7, enc{}.msg(1, enc{}.str(4, "Relu")))...), true},
		{"node with a binary name", append(enc{}.varint(1, 7), enc{}.msg(7, enc{}.msg(1, enc{}.str(4, "Re\x00lu")))...), false},
		{"graph cut short by the head", append(enc{}.varint(1, 9), 0x3a, 0xff, 0xff, 0x01, 0x0a), true},
		{"opset first, producer cut mid-rune", append(enc{}.varint(1, 8).msg(8, enc{}.str(1, "").varint(2, 17)), 0x12, 0x10, 'p', 0xc3), true},
		{"ir_version alone", enc{}.varint(1, 8), false},
		{"ir_version 0", append(enc{}.varint(1, 0), enc{}.str(2, "x")...), false},
		{"ir_version too large", append(enc{}.varint(1, 200), enc{}.str(2, "x")...), false},
		{"producer with control characters", append(enc{}.varint(1, 8), enc{}.str(2, "a\x01b")...), false},
		{"producer too long", append(enc{}.varint(1, 8), 0x12, 0x80, 0x10), false},
		{"unknown field", append(enc{}.varint(1, 8), enc{}.str(9, "x")...), false},
		{"graph as varint", append(enc{}.varint(1, 8), enc{}.varint(7, 1)...), false},
		{"graph not starting with a graph field", append(enc{}.varint(1, 8), enc{}.msg(7, enc{}.varint(3, 1))...), false},
		{"bad opset", append(enc{}.varint(1, 8), enc{}.msg(8, enc{}.varint(5, 1))...), false},
		// A TensorFlow SavedModel: schema version 1, then a MetaGraphDef.
		{"saved model", append(enc{}.varint(1, 1), enc{}.msg(2, enc{}.msg(1, enc{}.str(4, "serve")))...), false},
		{"saved model, big meta graph", append(enc{}.varint(1, 1), 0x12, 0xc0, 0x84, 0x3d, 0x0a, 0x20), false},
		// CoreML: specificationVersion 4, then a ModelDescription.
		{"coreml", append(enc{}.varint(1, 4), enc{}.msg(2, enc{}.msg(1, enc{}.str(1, "image")))...), false},
		{"frozen graph", enc{}.msg(1, enc{}.str(1, "x").str(2, "Placeholder")), false},
		{"text", []byte("hello world, this is text"), false},
		{"pickle", []byte("\x80\x04\x95\x10\x00\x00\x00"), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		if got := Plausible(tt.head); got != tt.want {
			t.Errorf("%s: Plausible(% x) = %v, want %v", tt.name, tt.head, got, tt.want)
		}
	}
}

// TestPlausibleRandom measures how often random bytes that start with the
// ir_version tag pass: the first byte alone is 1 in 256 of random input.
func TestPlausibleRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	head := make([]byte, 4096)
	const n = 20_000
	pass := 0
	for range n {
		for i := 0; i < len(head); i += 8 {
			binary.LittleEndian.PutUint64(head[i:], rng.Uint64())
		}
		head[0] = 0x08
		head[1] = byte(1 + rng.IntN(32))
		if Plausible(head) {
			pass++
		}
	}
	// With the first two bytes forced, fewer than 1 in 10^5 pass (1 in
	// 200000 when written); with them random (1 in 2048 more), about 1 in 10^9.
	if pass > n/20000 {
		t.Errorf("%d of %d random heads with an ir_version passed", pass, n)
	}
	t.Logf("%d of %d random heads starting with an ir_version passed", pass, n)
}
