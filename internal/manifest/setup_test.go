package manifest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
)

func TestParseSetupPy(t *testing.T) {
	t.Parallel()
	py := func(name, version, rng string, line int) deps.Package {
		return deps.Package{Ecosystem: deps.PyPI, Name: name, Version: version, Range: rng, Manifest: "setup.py", Line: line}
	}
	tests := []struct {
		name, content string
		want          []deps.Package
	}{
		{"literals", `from setuptools import setup
setup(
    install_requires=[
        'a==1.0', "b>=2", r"c", u'd~=1.1', b"e", R'f',
        """g==3""", '''h''', "i" "==4", "j" + "<5",
        f"k=={V}",  # formatted: not read
        "l" \
            ">=6",
    ],
)
`, []deps.Package{
			py("a", "1.0", "a==1.0", 4), py("b", "", "b>=2", 4), py("c", "", "c", 4), py("d", "", "d~=1.1", 4),
			py("e", "", "e", 4), py("f", "", "f", 4), py("g", "3", "g==3", 5), py("h", "", "h", 5),
			py("i", "4", "i==4", 5), py("j", "", "j<5", 5), py("l", "", "l>=6", 7),
		}},
		{"variables, sums and dicts", `import setuptools
BASE = ["torch==2.1.0"]
TEST = ("pytest",)
ALL = BASE + ["numpy>=1.24"]
ALL += TEST
EXTRAS = dict(gpu=["cupy"], docs=("sphinx",))
setuptools.setup(install_requires=ALL, tests_require=TEST, extras_require=EXTRAS)
`, []deps.Package{
			py("torch", "2.1.0", "torch==2.1.0", 2), py("numpy", "", "numpy>=1.24", 4), py("pytest", "", "pytest", 3),
			py("cupy", "", "cupy", 6), py("sphinx", "", "sphinx", 6),
		}},
		{"the last assignment before the call", `REQS = ["old"]
REQS = ["new"]
setup(install_requires=REQS)
REQS = ["later"]
`, []deps.Package{py("new", "", "new", 2)}},
		{"a string of requirements", `setup(install_requires="""
    torch>=2.1  # CUDA 12 wheels
    # pinned for the tokenizer fix
    transformers==4.44.2
""")
`, []deps.Package{py("torch", "", "torch>=2.1", 2), py("transformers", "4.44.2", "transformers==4.44.2", 4)}},
		{"computed values yield nothing", `setup(
    install_requires=open("requirements.txt").read().splitlines(),
    setup_requires=[r for r in REQS if r],
    tests_require=UNDEFINED,
    extras_require={k: v for k, v in X.items()},
)
def setup(install_requires=["not", "a", "call"]): pass
other(install_requires=["nope"])
`, nil},
		{"garbage", `setup(install_requires=["a==1", ] ] ) ) ( [ "unterminated`, []deps.Package{py("a", "1", "a==1", 1)}},
		{"self-referencing variables", "A = A + A\nB = B\nsetup(install_requires=A + B)\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(context.Background(), "setup.py", []byte(tt.content))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSetupPyHostile(t *testing.T) {
	t.Parallel()
	// Each variable is the previous one added to itself, twice or sixty
	// times: following them naively takes 2^60 or 60^8 steps.
	var deep, wide strings.Builder
	deep.WriteString("V0 = ['a']\n")
	wide.WriteString("V0 = ['a']\n")
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&deep, "V%d = V%d + V%d\n", i, i-1, i-1)
	}
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&wide, "V%d = %s\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("V%d + ", i-1), 60), " + "))
	}
	deep.WriteString("setup(install_requires=V60)\n")
	wide.WriteString("setup(install_requires=V8)\n")
	for name, content := range map[string]string{"deep": deep.String(), "wide": wide.String()} {
		start := time.Now()
		pkgs, err := Parse(context.Background(), "setup.py", []byte(content))
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
		if len(pkgs) > 1 || err != nil && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: got %d packages, %v; want at most one, or ErrTooLarge", name, len(pkgs), err)
		}
	}
}

func TestParseSetupCfg(t *testing.T) {
	t.Parallel()
	py := func(name, version, rng string, line int) deps.Package {
		return deps.Package{Ecosystem: deps.PyPI, Name: name, Version: version, Range: rng, Manifest: "setup.cfg", Line: line}
	}
	tests := []struct {
		name, content string
		want          []deps.Package
	}{
		{"one line, separated by ;", "[options]\ninstall_requires = a==1; b>=2\n", []deps.Package{
			py("a", "1", "a==1", 2), py("b", "", "b>=2", 2),
		}},
		{"a marker after ; on one line is not a package", "[options]\ninstall_requires = numpy; python_version<'3.8'\n", []deps.Package{
			py("numpy", "", "numpy", 2),
		}},
		{"several lines keep their markers", "[options]\ninstall-requires = first\n\tnumpy; python_version<'3.8'\n\n  ; a comment\n  torch\n", []deps.Package{
			py("first", "", "first", 2), py("numpy", "", "numpy", 3), py("torch", "", "torch", 6),
		}},
		{"colon delimiter and upper case", "[options]\nINSTALL_REQUIRES:\n  a==1\n", []deps.Package{py("a", "1", "a==1", 3)}},
		{"file: values and other sections", "[options]\ninstall_requires = file: requirements.txt\npython_requires = >=3.9\n[metadata]\ninstall_requires = nope\n[options.entry_points]\nconsole_scripts =\n  x = y:z\n", nil},
		{"garbage", "install_requires = a\n[options\n]]]\n=\n  \n[options]\ninstall_requires\n  b\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(context.Background(), "setup.cfg", []byte(tt.content))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}
