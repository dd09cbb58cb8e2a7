package pickle

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
)

const models = "../../../testdata/models"

func scanFile(t *testing.T, path string, opt Options) *Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Scan(context.Background(), f, opt)
}

// TestBenignFiles: real pickles written by Python, NumPy, scikit-learn,
// joblib and torch's legacy format produce no finding at all.
func TestBenignFiles(t *testing.T) {
	t.Parallel()
	var files []string
	for _, pattern := range []string{"plain_data_p*.pkl", "collections*.pkl", "numpy_pickle_p*.pkl", "sklearn_model.pkl", "sklearn_forest.joblib", "joblib_arrays.joblib", "torch_legacy.pt"} {
		m, err := filepath.Glob(filepath.Join(models, "benign", pattern))
		if err != nil || len(m) == 0 {
			t.Fatalf("no file matches %s", pattern)
		}
		files = append(files, m...)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			opt := Options{}
			if filepath.Base(path) == "torch_legacy.pt" {
				opt.MaxPickles = 5 // the storages' raw bytes follow
			}
			res := scanFile(t, path, opt)
			if len(res.Findings) != 0 || res.Err != nil {
				t.Errorf("findings %v, Err %v", summarize(res.Findings), res.Err)
			}
			if res.Pickles == 0 {
				t.Errorf("no pickle decoded")
			}
		})
	}
}

// TestMaliciousFiles: real malicious pickles are critical.
func TestMaliciousFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		opt  Options
		want []string // the dangerous globals, resolved
	}{
		{"pickle_runpy_p0.pkl", Options{}, []string{"runpy._run_code", "importlib.import_module"}},
		{"pickle_runpy_p5.pkl", Options{}, []string{"runpy._run_code", "importlib.import_module"}},
		{"pickle_os_system_handwritten.pkl", Options{}, []string{"os.system"}},
		{"joblib_eval.joblib", Options{}, []string{"builtins.eval"}},
		{"torch_legacy_exec.pt", Options{MaxPickles: 5}, []string{"__builtin__.exec"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			res := scanFile(t, filepath.Join(models, "malicious", tc.file), tc.opt)
			found := map[string]bool{}
			for _, f := range res.Findings {
				if f.Rule == finding.PickleDangerousGlobal && f.Severity == finding.Critical {
					found[f.Evidence] = true
					for _, g := range tc.want {
						if len(f.Evidence) >= len(g) && f.Evidence[:len(g)] == g {
							found[g] = true
						}
					}
				}
			}
			for _, g := range tc.want {
				if !found[g] {
					t.Errorf("no critical pickle/dangerous-global for %s in %v", g, summarize(res.Findings))
				}
			}
			if hasRule(res.Findings, finding.ScanIncomplete) {
				t.Errorf("incomplete: %v", summarize(res.Findings))
			}
		})
	}
}

// TestPicklescanCorpus runs the public corpus when it is present: every
// malicious .pkl file gets a critical or high finding, every benign one none
// at or above high.
func TestPicklescanCorpus(t *testing.T) {
	t.Parallel()
	dir := "/work/shared/corpus/picklescan"
	raw, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Skip("corpus not present")
	}
	var labels map[string]string
	if err := json.Unmarshal(raw, &labels); err != nil {
		t.Fatal(err)
	}
	for name, label := range labels {
		if ext := filepath.Ext(name); ext != ".pkl" && ext != ".pickle" {
			continue // archives are the engine's business
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := scanFile(t, filepath.Join(dir, name), Options{})
			worst := finding.Info
			for _, f := range res.Findings {
				worst = max(worst, f.Severity)
			}
			switch label {
			case "malicious":
				if len(res.Findings) == 0 || worst < finding.High {
					t.Errorf("malicious file passes: %v", summarize(res.Findings))
				}
			case "benign":
				if worst >= finding.High {
					t.Errorf("benign file fails: %v", summarize(res.Findings))
				}
			}
		})
	}
}
