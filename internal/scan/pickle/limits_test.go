package pickle

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
)

func TestTooManyGlobals(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("\x80\x02]q\x00(")
	for i := range maxGlobals + 50 {
		fmt.Fprintf(&b, "cmod%d\nName\n", i)
	}
	b.WriteString("e.")
	res := Scan(context.Background(), bytes.NewReader(b.Bytes()), Options{})
	bombs := 0
	for _, f := range res.Findings {
		if f.Rule == finding.PickleResourceBomb {
			bombs++
		}
	}
	if bombs != 1 || res.Err == nil || len(res.Globals) > maxGlobals+1 {
		t.Errorf("bombs=%d err=%v globals=%d", bombs, res.Err, len(res.Globals))
	}
}

// Bytes that joblib reads as array data are opcodes to a plain pickle.load:
// a payload hidden there must be found, and ordinary numbers must not alarm.
func TestJoblibArrayBytesAsOpcodes(t *testing.T) {
	t.Parallel()
	hidden := []byte("cos\nsystem\nX\x02\x00\x00\x00id\x85R.")
	for _, tc := range []struct {
		name string
		data []byte
		want int
	}{
		{"hidden payload", append(hidden, make([]byte, 64-len(hidden))...), 1},
		{"zeros", make([]byte, 64), 0},
		{"floats", bytes.Repeat([]byte{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f}, 4), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := p().proto(2)
			joblibStream(t, b, "f8", []int{8}, false, tc.data)
			b.stop()
			res := Scan(context.Background(), bytes.NewReader(b.bytes()), Options{})
			n := 0
			for _, f := range res.Findings {
				if f.Rule == finding.PickleDangerousGlobal {
					n++
				}
			}
			if n != tc.want || res.Err != nil {
				t.Errorf("%d dangerous findings (want %d), err %v: %+v", n, tc.want, res.Err, res.Findings)
			}
		})
	}
}
