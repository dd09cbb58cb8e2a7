package tensorflow

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

type scanFunc func(context.Context, io.ReaderAt, int64, modelfile.Options) (*modelfile.Report, error)

// got is what the tests compare of a finding.
type got struct {
	Rule     string
	Severity finding.Severity
	Evidence string
}

func summarize(fs []finding.Finding) []got {
	out := []got{}
	for _, f := range fs {
		out = append(out, got{f.Rule, f.Severity, f.Evidence})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].Evidence < out[j].Evidence
	})
	return out
}

func scanFile(t *testing.T, scan scanFunc, name string) (*modelfile.Report, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return scanBytes(t, scan, b), b
}

func scanBytes(t *testing.T, scan scanFunc, b []byte) *modelfile.Report {
	t.Helper()
	rep, err := scan(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return rep
}

func op(sev finding.Severity, evidence string) got {
	return got{finding.TensorFlowDangerousOp, sev, evidence}
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		scan   scanFunc
		format string
		want   []got
		arch   string
		params int64
	}{
		{file: "benign_saved_model.pb", scan: ScanSavedModel, format: FormatSavedModel, want: []got{}, params: 4*8 + 8},
		{file: "benign_tf1_saved_model.pb", scan: ScanSavedModel, format: FormatSavedModel, want: []got{}, params: 30},
		{file: "malicious_pyfunc.pb", scan: ScanSavedModel, format: FormatSavedModel, params: 40,
			want: []got{op(finding.Critical, "EagerPyFunc")}},
		{file: "malicious_file_io.pb", scan: ScanSavedModel, format: FormatSavedModel, params: 40,
			want: []got{op(finding.High, `ReadFile path "/etc/passwd"`), op(finding.Critical, `WriteFile path "/etc/cron.d/backdoor"`)}},
		{file: "malicious_save_const.pb", scan: ScanSavedModel, format: FormatSavedModel, params: 40,
			want: []got{op(finding.High, `SaveV2 path "/home/user/.bashrc"`)}},
		{file: "malicious_print_file.pb", scan: ScanSavedModel, format: FormatSavedModel, params: 40,
			want: []got{op(finding.High, `PrintV2 output_stream="file:///tmp/leak.txt"`)}},
		{file: "malicious_misc.pb", scan: ScanSavedModel, format: FormatSavedModel, params: 40,
			want: []got{
				op(finding.High, `DebugIdentity debug_urls="grpc://attacker.example:6064"`),
				op(finding.High, `ImmutableConst memory_region_name="/proc/self/environ"`),
				op(finding.High, `InitializeTableFromTextFileV2 path "/etc/passwd"`),
				op(finding.High, `MatchingFiles path "/home/*/.ssh/*"`),
				op(finding.High, "RpcClient"),
			}},
		{file: "benign_keras_metadata.pb", scan: ScanKerasMetadata, format: FormatKerasMetadata, want: []got{}, arch: "Functional"},
		{file: "malicious_keras_metadata.pb", scan: ScanKerasMetadata, format: FormatKerasMetadata, arch: "Functional",
			want: []got{
				{finding.KerasLambdaLayer, finding.High, `Lambda "lambda"`},
				{finding.KerasLambdaLayer, finding.High, `Lambda "lambda_1"`},
				{finding.KerasTFOpLambda, finding.Critical, `TFOpLambda "tf.io.write_file": tf.io.write_file`},
			}},
		{file: "benign.tflite", scan: ScanTFLite, format: FormatTFLite, want: []got{}, arch: "tiny classifier", params: 48},
		{file: "benign_detection.tflite", scan: ScanTFLite, format: FormatTFLite, want: []got{}, arch: "tiny classifier", params: 56},
		{file: "benign_flex.tflite", scan: ScanTFLite, format: FormatTFLite, want: []got{}, arch: "tiny classifier", params: 48},
		{file: "malicious_custom_op.tflite", scan: ScanTFLite, format: FormatTFLite, arch: "tiny classifier", params: 48,
			want: []got{{finding.TFLiteCustomOp, finding.Medium, `custom_code: "MyVendorOp"`}}},
		{file: "malicious_flex_readfile.tflite", scan: ScanTFLite, format: FormatTFLite, arch: "tiny classifier", params: 49,
			want: []got{op(finding.High, `ReadFile path "/etc/passwd"`)}},
		{file: "malicious_flex_disguised.tflite", scan: ScanTFLite, format: FormatTFLite, arch: "tiny classifier", params: 50,
			want: []got{op(finding.Critical, `WriteFile path "/root/.ssh/authorized_keys"`)}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			rep, b := scanFile(t, tt.scan, tt.file)
			if diff := cmp.Diff(tt.want, summarize(rep.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if rep.Format != tt.format || rep.Architecture != tt.arch || rep.Parameters != tt.params {
				t.Errorf("report = %q %q %d, want %q %q %d", rep.Format, rep.Architecture, rep.Parameters, tt.format, tt.arch, tt.params)
			}
			for _, f := range rep.Findings {
				if f.Offset <= 0 || f.Offset >= int64(len(b)) || f.Message == "" {
					t.Errorf("finding without a place or message: %+v", f)
				}
			}
		})
	}
}

func TestMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		scan scanFunc
		want []string
	}{
		{"malicious_save_const.pb", ScanSavedModel, []string{
			`SaveV2 (node "SaveV2" in function "__inference_call_31") writes files at a path fixed in the graph: path "/home/user/.bashrc"`,
		}},
		{"malicious_flex_disguised.tflite", ScanTFLite, []string{
			`WriteFile (node "WriteFile" in flex operator "FlexAddV2" of subgraph 0) writes a file whose name and contents the graph chooses: path "/root/.ssh/authorized_keys"`,
		}},
		{"malicious_custom_op.tflite", ScanTFLite, []string{
			`custom operator "MyVendorOp" (1 operator(s)) is not built into TensorFlow Lite: the interpreter runs it only with a native op resolver that the application registers`,
		}},
	}
	for _, tt := range tests {
		rep, _ := scanFile(t, tt.scan, tt.file)
		var msgs []string
		for _, f := range rep.Findings {
			msgs = append(msgs, f.Message)
		}
		if diff := cmp.Diff(tt.want, msgs); diff != "" {
			t.Errorf("%s: messages (-want +got):\n%s", tt.file, diff)
		}
	}
}

// TestTruncated cuts every fixture at many lengths: no panic, no error, and
// a cut inside the structure is reported.
func TestTruncated(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*")
	for _, file := range files {
		var scan scanFunc
		switch {
		case strings.HasSuffix(file, ".tflite"):
			scan = ScanTFLite
		case strings.HasSuffix(file, "keras_metadata.pb"):
			scan = ScanKerasMetadata
		case strings.HasSuffix(file, ".pb"):
			scan = ScanSavedModel
		default:
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			step := max(1, len(b)/1000)
			cuts, incomplete := 0, 0
			for n := 0; n < len(b); n += step {
				cuts++
				rep := scanBytes(t, scan, b[:n])
				for _, f := range rep.Findings {
					if f.Rule == finding.ScanIncomplete {
						incomplete++
						break
					}
				}
			}
			if incomplete < cuts*9/10 {
				t.Errorf("only %d of %d cuts reported as incomplete", incomplete, cuts)
			}
		})
	}
}
