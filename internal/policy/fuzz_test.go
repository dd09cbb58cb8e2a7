package policy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/policies"
)

// FuzzParse feeds arbitrary bytes to Parse: no panic; an error is Errors,
// each with its source and a line; a policy that parses resolves, prints,
// and reads back.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	for _, name := range policies.Names() {
		b, _ := policies.Read(name)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %v (%T) is not Errors", err, err)
			}
			for _, e := range errs {
				if e.Line < 1 || e.Source != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("error without a place: %+v", e)
				}
			}
			return
		}
		r, err := Resolve(p)
		if err != nil {
			return // a custom rule id repeated along the chain, say
		}
		out, err := Marshal(r)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		if _, err := Parse("printed", out); err != nil {
			t.Fatalf("the printed policy does not parse: %v\n%s", err, out)
		}
	})
}
