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
