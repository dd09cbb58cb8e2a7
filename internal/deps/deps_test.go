package deps

import "testing"

func TestPURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Package
		want string
	}{
		{Package{Ecosystem: PyPI, Name: "Scikit_Learn", Version: "1.5.0"}, "pkg:pypi/scikit-learn@1.5.0"},
		{Package{Ecosystem: PyPI, Name: "torch"}, "pkg:pypi/torch"},
		{Package{Ecosystem: NPM, Name: "@types/node", Version: "20.1.0"}, "pkg:npm/%40types/node@20.1.0"},
		{Package{Ecosystem: NPM, Name: "left-pad", Version: "1.3.0"}, "pkg:npm/left-pad@1.3.0"},
		{Package{Ecosystem: Go, Name: "github.com/google/go-github/v82", Version: "v82.0.0"}, "pkg:golang/github.com/google/go-github/v82@v82.0.0"},
		{Package{Ecosystem: Maven, Name: "org.apache.commons:commons-lang3", Version: "3.14.0"}, "pkg:maven/org.apache.commons/commons-lang3@3.14.0"},
		{Package{Ecosystem: HuggingFace, Name: "meta-llama/Llama-3.1-8B"}, "pkg:huggingface/meta-llama/Llama-3.1-8B"},
		{Package{Ecosystem: PyPI, Name: "a", Version: "1.0+local"}, "pkg:pypi/a@1.0%2Blocal"},
	}
	for _, tt := range tests {
		if got := tt.p.PURL(); got != tt.want {
			t.Errorf("%+v: PURL = %q, want %q", tt.p, got, tt.want)
		}
	}
}
