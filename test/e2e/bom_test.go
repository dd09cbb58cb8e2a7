package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cdxValidator is the folder of the CycloneDX schema validator: the
// official @cyclonedx/cyclonedx-library's strict JSON validator, pinned in
// its package-lock.json and installed with npm ci.
func cdxValidator(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot, "test", "e2e", "cyclonedx")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@cyclonedx", "cyclonedx-library")); err != nil {
		t.Skip("the CycloneDX validator is not installed: (cd test/e2e/cyclonedx && npm ci)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	return dir
}

// validateBOM checks a BOM against the CycloneDX schema of its specVersion
// and returns the document.
func validateBOM(t *testing.T, file, spec string) map[string]any {
	t.Helper()
	dir := cdxValidator(t)
	out, err := exec.Command("node", filepath.Join(dir, "validate.mjs"), file).CombinedOutput()
	if err != nil {
		t.Fatalf("%s is not a valid CycloneDX document: %v\n%s", file, err, out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["specVersion"] != spec {
		t.Errorf("%s: specVersion %v, want %s", file, doc["specVersion"], spec)
	}
	return doc
}

// TestBOMCommand runs mlguard bom over a project with a PyTorch checkpoint,
// a Hugging Face folder, an ONNX file, a GGUF file and two manifests, for
// both supported spec versions, and validates each BOM with the official
// schema validator.
func TestBOMCommand(t *testing.T) {
	if mlguard == "" {
		if buildErr != nil {
			t.Fatal(buildErr)
		}
		t.Skip("no binary: set " + envAPI)
	}
	for _, spec := range []string{"1.6", "1.7"} {
		t.Run(spec, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bom.json")
			cmd := exec.Command(mlguard, "bom", "--offline", "--spec", spec, "-o", file, ".")
			cmd.Dir = filepath.Join(repoRoot, "testdata", "bomproject")
			cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("mlguard bom: %v\n%s", err, out)
			}
			doc := validateBOM(t, file, spec)
			types := map[string]int{}
			for _, c := range doc["components"].([]any) {
				types[c.(map[string]any)["type"].(string)]++
			}
			// Models: mlp.pt, hf-model/, classifier.onnx, qwen2.gguf, the card's base model and the
			// Hub model hf-model's config.json was loaded from; the card's dataset; torch, numpy,
			// requests, express and cookie.
			if types["machine-learning-model"] != 6 || types["data"] != 1 || types["library"] < 5 {
				t.Errorf("component types: %v", types)
			}
			if !strings.Contains(mustRead(t, file), `"modelCard"`) {
				t.Error("no model card in the BOM")
			}
		})
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
