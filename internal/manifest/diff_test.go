package manifest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	pkg := func(eco, name, version, rng string) deps.Package {
		return deps.Package{Ecosystem: eco, Name: name, Version: version, Range: rng, Manifest: "requirements.txt"}
	}
	tests := []struct {
		name       string
		base, head []deps.Package
		want       []deps.Change
	}{
		{"nothing", nil, nil, nil},
		{"unchanged, name spelled differently", []deps.Package{pkg(deps.PyPI, "Scikit_Learn", "1.5.2", "Scikit_Learn==1.5.2")},
			[]deps.Package{pkg(deps.PyPI, "scikit-learn", "1.5.2", "scikit-learn==1.5.2")}, nil},
		{"unpinned range respelled", []deps.Package{pkg(deps.PyPI, "Scikit_Learn", "", "Scikit_Learn >= 1.3")},
			[]deps.Package{pkg(deps.PyPI, "scikit-learn", "", "scikit-learn>=1.3")}, nil},
		{"added, changed, removed",
			[]deps.Package{pkg(deps.PyPI, "torch", "2.4.1", ""), pkg(deps.PyPI, "requests", "", "requests>=2"), pkg(deps.PyPI, "flask", "3.0.0", ""), pkg(deps.NPM, "react", "18.2.0", "")},
			[]deps.Package{pkg(deps.PyPI, "torch", "2.5.1", ""), pkg(deps.PyPI, "requests", "", "requests>=2.32"), pkg(deps.PyPI, "transformers", "4.44.2", ""), pkg(deps.NPM, "react", "18.2.0", "")},
			[]deps.Change{
				{Package: pkg(deps.PyPI, "flask", "3.0.0", ""), Kind: deps.Removed},
				{Package: pkg(deps.PyPI, "requests", "", "requests>=2.32"), Kind: deps.Changed, Previous: "requests>=2"},
				{Package: pkg(deps.PyPI, "torch", "2.5.1", ""), Kind: deps.Changed, Previous: "2.4.1"},
				{Package: pkg(deps.PyPI, "transformers", "4.44.2", ""), Kind: deps.Added},
			}},
		{"pinned to unpinned is a change", []deps.Package{pkg(deps.PyPI, "numpy", "1.26.4", "numpy==1.26.4")},
			[]deps.Package{pkg(deps.PyPI, "numpy", "", "numpy")},
			[]deps.Change{{Package: pkg(deps.PyPI, "numpy", "", "numpy"), Kind: deps.Changed, Previous: "1.26.4"}}},
		{"same name in two ecosystems is two packages", []deps.Package{pkg(Conda, "numpy", "1.26.4", "")},
			[]deps.Package{pkg(deps.PyPI, "numpy", "1.26.4", "")},
			[]deps.Change{
				{Package: pkg(Conda, "numpy", "1.26.4", ""), Kind: deps.Removed},
				{Package: pkg(deps.PyPI, "numpy", "1.26.4", ""), Kind: deps.Added},
			}},
		{"several versions of one name", []deps.Package{pkg(deps.NPM, "ms", "2.0.0", ""), pkg(deps.NPM, "ms", "2.1.3", "")},
			[]deps.Package{pkg(deps.NPM, "ms", "2.1.3", ""), pkg(deps.NPM, "ms", "2.1.2", ""), pkg(deps.NPM, "ms", "3.0.0", "")},
			[]deps.Change{
				{Package: pkg(deps.NPM, "ms", "3.0.0", ""), Kind: deps.Added},
				{Package: pkg(deps.NPM, "ms", "2.1.2", ""), Kind: deps.Changed, Previous: "2.0.0"},
			}},
		{"npm and hugging face names ignore case", []deps.Package{pkg(deps.HuggingFace, "Org/Model", "", "*")},
			[]deps.Package{pkg(deps.HuggingFace, "org/model", "", "*")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Diff(tt.base, tt.head)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			if again := Diff(tt.base, tt.head); !cmp.Equal(got, again) {
				t.Errorf("Diff is not deterministic")
			}
		})
	}
}
