package manifest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
)

func TestModelRefs(t *testing.T) {
	t.Parallel()
	hf := func(name, version, manifest string, line int) deps.Package {
		p := deps.Package{Ecosystem: deps.HuggingFace, Name: name, Version: version, Manifest: manifest, Line: line}
		if version == "" {
			p.Range = "*"
		}
		return p
	}
	tests := []struct {
		file string
		want []deps.Package
	}{
		{"refs/train.py", []deps.Package{
			hf("meta-llama/Llama-3.1-8B", "0e9e39f249a16976918f6564b8830bc894c89659", "refs/train.py", 7),
			hf("meta-llama/Llama-3.1-8B", "", "refs/train.py", 11),
			hf("TheBloke/Llama-2-7B-GGUF", "", "refs/train.py", 12),
			hf("datasets/org/data-repo", "", "refs/train.py", 13),
			hf("datasets/tatsu-lab/alpaca", "", "refs/train.py", 14),
		}},
		{"refs/adapter_config.json", []deps.Package{hf("mistralai/Mistral-7B-v0.1", "", "refs/adapter_config.json", 2)}},
		{"refs/README.md", []deps.Package{
			hf("mistralai/Mistral-7B-v0.1", "", "refs/README.md", 3),
			hf("datasets/tatsu-lab/alpaca", "", "refs/README.md", 5),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got := ModelRefs(tt.file, readTestdata(t, tt.file))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ModelRefs(%s) (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestModelRefsCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, src string
		want            []string // names
	}{
		{"single quotes, keyword", "a.py", `m = X.from_pretrained(pretrained_model_name_or_path='org/m')`, []string{"org/m"}},
		{"raw string", "a.py", `m = X.from_pretrained(r"org/m")`, []string{"org/m"}},
		{"f-string is not a literal", "a.py", `m = X.from_pretrained(f"org/{x}")`, nil},
		{"comment", "a.py", "# X.from_pretrained('org/m')\n", nil},
		{"string in triple quotes", "a.py", `s = '''from_pretrained("org/m")'''`, nil},
		{"local path", "a.py", `X.from_pretrained("./ckpt")`, nil},
		{"bare name skipped", "a.py", `X.from_pretrained("gpt2")`, nil},
		{"nested call before id kw", "a.py", `hf_hub_download(filename=f(1, 2), repo_id="org/m")`, []string{"org/m"}},
		{"space repo skipped", "a.py", `snapshot_download("org/s", repo_type="space")`, nil},
		{"pipeline model kw", "a.py", `pipeline("text-generation", model="org/m")`, []string{"org/m"}},
		{"definition is not a call", "a.py", `def from_pretrained("org/m"): pass`, nil},
		{"unterminated string", "a.py", `X.from_pretrained("org/m`, nil},
		{"config local path", "config.json", `{"_name_or_path": "/home/me/ckpt"}`, nil},
		{"config id", "config.json", `{"_name_or_path": "google/gemma-2b"}`, []string{"google/gemma-2b"}},
		{"card list base_model", "README.md", "---\nbase_model:\n- org/a\n- org/b\n---\n", []string{"org/a", "org/b"}},
		{"card without front matter", "README.md", "# base_model: org/a\n", nil},
		{"other file", "notes.txt", `from_pretrained("org/m")`, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range ModelRefs(tt.path, []byte(tt.src)) {
			got = append(got, p.Name)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}
