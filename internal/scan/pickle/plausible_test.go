package pickle

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/internal/scan/pickle/pickleop"
)

func TestPlausible(t *testing.T) {
	t.Parallel()
	pickles := map[string][]byte{
		"protocol 0": p().mark().dict().put(0).unicodeLine("a").put(1).int_(1).setItem().
			unicodeLine("b").put(2).mark().list().put(3).int_(1).append_().int_(2).append_().setItem().stop().bytes(),
		"protocol 1": p().emptyDict().binPut(0).mark().binUnicode("a").binPut(1).binInt1(1).
			binUnicode("b").binPut(2).emptyList().binPut(3).mark().binInt1(1).binInt1(2).appends().setItems().stop().bytes(),
		"protocol 2": p().proto(2).global("collections", "OrderedDict").emptyTuple().reduce().binPut(0).
			mark().binUnicode("weight").binFloat(1).setItems().stop().bytes(),
		"protocol 3": p().proto(3).emptyDict().binPut(0).binUnicode("data").shortBinBytes("\x00\x01\x02").setItem().stop().bytes(),
		"protocol 4": p().proto(4).frame(40).emptyDict().memoize().mark().str("a").memoize().binInt1(1).str("b").memoize().
			emptyList().memoize().mark().binInt1(1).binInt1(2).appends().setItems().stop().bytes(),
		"protocol 5": p().proto(5).frame(20).byteArray8("abc").memoize().nextBuffer().readOnlyBuffer().tuple2().stop().bytes(),
		"malicious":  p().global("os", "system").string_("id").tuple1().reduce().stop().bytes(),
		"scalar":     p().none().stop().bytes(),
	}
	files, _ := filepath.Glob("../../../testdata/models/benign/*.pkl")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pickles[filepath.Base(f)] = b
	}
	for name, b := range pickles {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if !Plausible(b, true) {
				t.Errorf("Plausible(whole file) = false")
			}
			if !Plausible(b, false) {
				t.Errorf("Plausible(whole head) = false")
			}
			// Heads cut anywhere after the first opcodes: after PROTO, or after
			// four opcodes without it.
			from := 3
			if b[0] != pickleop.Proto {
				for from = 1; from < len(b) && !Plausible(b[:from], false); from++ {
				}
				if from > 40 {
					t.Errorf("no head shorter than 40 bytes is plausible")
				}
			}
			for n := from; n < len(b); n += 1 + n/64 {
				if !Plausible(b[:n], false) {
					t.Errorf("Plausible(head of %d bytes) = false", n)
					break
				}
			}
		})
	}
}

func TestNotPlausible(t *testing.T) {
	t.Parallel()
	texts := map[string]string{
		"empty":         "",
		"text":          "Hello, world!\nThis is a README.\n",
		"json object":   `{"a": [1, 2, 3], "b": null}`,
		"json array":    `[1, 2, 3]`,
		"python import": "import os\nos.system('id')\n",
		"python def":    "def f():\n    return 1\n",
		"python print":  "print('hello')\n",
		"python class":  "class Net(nn.Module):\n    pass\n",
		"shebang":       "#!/usr/bin/env python3\n",
		"yaml":          "model:\n  name: bert\n",
		"lorem":         "Lorem ipsum dolor sit amet\n",
		"number":        "12345\n",
		"csv":           "a,b,c\n1,2,3\n",
		"7-byte file":   "cmod\n\xf8\n",
		"zip":           "PK\x03\x04\x14\x00\x00\x00",
		"gguf":          "GGUF\x03\x00\x00\x00",
		"proto 6":       "\x80\x06N.",
		"STOP only":     ".",
	}
	for name, s := range texts {
		for _, complete := range []bool{true, false} {
			if Plausible([]byte(s), complete) {
				t.Errorf("%s: Plausible(%q, %v) = true", name, s, complete)
			}
		}
	}
	// Five MARKs could start a pickle, but they do not end one.
	if Plausible([]byte("((((("), true) {
		t.Errorf("Plausible(MARKs, complete) = true")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		b := make([]byte, 512)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if Plausible(b, true) {
			t.Errorf("random buffer %d: Plausible(complete) = true: %q", i, b[:16])
		}
	}
}

func TestPlausibleSized(t *testing.T) {
	t.Parallel()
	text := []byte("Benchmarks\n==========\n\n`fnv-plus` was benchmarked against several node modules")
	lcov := []byte("TN:\nSF:/home/x/seedrandom.js\nFN:25,(anonymous_0)\n")
	small := []byte("B\x03\x00\x00\x00abc.") // BINBYTES of 3 bytes, then STOP (no PROTO: odd but loadable)
	tests := []struct {
		name string
		head []byte
		size int64
		want bool
	}{
		{"README starting with B", text, 4805, false},
		{"lcov starting with TN:", lcov, 10055, false},
		{"a real first string", small, int64(len(small)), true},
		{"size unknown: as Plausible", text, -1, Plausible(text, false)},
	}
	for _, tt := range tests {
		if got := PlausibleSized(tt.head, false, tt.size); got != tt.want {
			t.Errorf("%s: PlausibleSized = %v, want %v", tt.name, got, tt.want)
		}
	}
}
