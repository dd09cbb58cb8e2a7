package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBOMGolden writes the ML-BOM of testdata/bomproject (a PyTorch
// checkpoint, a Hugging Face folder with a model card, an ONNX file, a GGUF
// file, a requirements.txt and a package-lock.json; made by its
// make_fixtures.py) for both spec versions and compares it with the golden
// files. The checkout's own name and commit, and the serial number derived
// from them, are replaced by placeholders first (and the keys sorted).
func TestBOMGolden(t *testing.T) {
	project, err := filepath.Abs(filepath.Join("..", "..", "testdata", "bomproject"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(project)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	for _, spec := range []string{"1.6", "1.7"} {
		t.Run(spec, func(t *testing.T) {
			code, out, stderr := run(t, "bom", "--offline", "--spec", spec, ".")
			if code != ExitPass {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			// The checkout's name and commit (none outside git) and the serial
			// number derived from them vary; the rest must not.
			meta := doc["metadata"].(map[string]any)
			root := meta["component"].(map[string]any)
			ref := root["bom-ref"]
			meta["component"] = map[string]any{"bom-ref": "repository:REPO", "type": "application", "name": "REPO", "properties": root["properties"]}
			doc["serialNumber"] = "urn:uuid:SERIAL"
			for _, d := range doc["dependencies"].([]any) {
				if d := d.(map[string]any); d["ref"] == ref {
					d["ref"] = "repository:REPO"
				}
			}
			norm, err := json.MarshalIndent(doc, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got := string(norm) + "\n"
			golden := filepath.Join(project, "..", "..", "internal", "cli", "testdata", "bom-"+spec+".golden.json")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("BOM differs from %s (-want +got; go test ./internal/cli -run TestBOMGolden -update rewrites it):\n%s", golden, diff)
			}
			// Deterministic: a second run gives the same bytes.
			if _, again, _ := run(t, "bom", "--offline", "--spec", spec, "."); again != out {
				t.Error("two runs with SOURCE_DATE_EPOCH differ")
			}
		})
	}
}

func TestBOMUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bom"},
		{"bom", "--spec", "1.5", "."},
		{"bom", "--no-such-flag", "."},
	} {
		if code, _, _ := run(t, args...); code != ExitError {
			t.Errorf("%v: exit %d, want %d", args, code, ExitError)
		}
	}
	t.Run("bad SOURCE_DATE_EPOCH", func(t *testing.T) {
		t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
		if code, _, stderr := run(t, "bom", "--offline", "."); code != ExitError {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
}
