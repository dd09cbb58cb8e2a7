package manifest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDetect(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"requirements.txt": true, "ml/requirements-dev.txt": true, "requirements_gpu.txt": true,
		"dev-requirements.txt": true, "requirements.in": true, "pyproject.toml": true, "a/poetry.lock": true,
		"Pipfile": true, "Pipfile.lock": true, "uv.lock": true, "pdm.lock": true, "environment.yml": true,
		"environment.yaml": true, "web/package.json": true, "package-lock.json": true, "npm-shrinkwrap.json": true,
		"yarn.lock": true, "pnpm-lock.yaml": true, "bun.lock": true, "go.mod": true, "Cargo.lock": true,
		`win\dir\go.mod`: true, "Cargo.toml": true, "crates/x/Cargo.toml": true, "setup.py": true, "setup.cfg": true,
		"pylock.toml": true, "pylock.gpu.toml": true, "pom.xml": true, "java/svc/pom.xml": true,
		"m2/ai/djl/api/0.30.0/api-0.30.0.pom": true, "gradle.lockfile": true, "app/buildscript-gradle.lockfile": true,
		"gradle/verification-metadata.xml": true, `sub\gradle\verification-metadata.xml`: true,
		"libs.versions.toml": true, "gradle/libs.versions.toml": true, "gradle/tools.versions.toml": true,
		"README.md": false, "go.sum": false, "requirements.py": false, "train.py": false, "config.json": false,
		"package.json.bak": false, "verification-metadata.xml": false, "config/verification-metadata.xml": false,
		"tools.versions.toml": false, "gradle/.versions.toml": false, "pylock.txt": false, "mypylock.toml": false,
		"pom.xml.orig": false, ".pom": false, "build.gradle": false, "setup.cfg.in": false, "Cargo.toml.orig": false,
	} {
		if got := Detect(p); got != want {
			t.Errorf("Detect(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	py := func(name, version, rng, manifest string, line int) deps.Package {
		return deps.Package{Ecosystem: deps.PyPI, Name: name, Version: version, Range: rng, Manifest: manifest, Line: line}
	}
	mvn := func(name, version, rng, manifest string, line int) deps.Package {
		return deps.Package{Ecosystem: deps.Maven, Name: name, Version: version, Range: rng, Manifest: manifest, Line: line}
	}
	crate := func(name, version, rng string, line int) deps.Package {
		return deps.Package{Ecosystem: deps.Cargo, Name: name, Version: version, Range: rng, Manifest: "Cargo.toml", Line: line}
	}
	tests := []struct {
		file, path string
		want       []deps.Package
	}{
		{"requirements.txt", "ml/requirements.txt", []deps.Package{
			withHashes(py("torch", "2.5.1+cu121", "torch==2.5.1+cu121", "ml/requirements.txt", 7),
				"sha256:1111111111111111111111111111111111111111111111111111111111111111",
				"sha256:2222222222222222222222222222222222222222222222222222222222222222"),
			py("transformers", "", "transformers>=4.44,<5", "ml/requirements.txt", 10),
			py("Scikit_Learn", "", "Scikit_Learn~=1.5.2", "ml/requirements.txt", 11),
			py("numpy", "1.26.4", "numpy===1.26.4", "ml/requirements.txt", 12),
			py("accelerate", "", "accelerate", "ml/requirements.txt", 13),
			py("safetensors", "0.4.5", "safetensors== 0.4.5", "ml/requirements.txt", 14),
			py("tokenizers", "", "tokenizers>=0.19", "ml/requirements.txt", 15),
			py("sentence-transformers", "", "sentence-transformers==3.*", "ml/requirements.txt", 16),
			py("peft", "", "peft @ git+https://github.com/huggingface/peft.git@v0.13.0", "ml/requirements.txt", 17),
			py("internal_lib", "", "git+https://github.com/org/internal-lib.git@main#egg=internal_lib", "ml/requirements.txt", 18),
			py("torchvision", "", "https://download.pytorch.org/whl/cu121/torchvision-0.20.1%2Bcu121-cp311-cp311-linux_x86_64.whl", "ml/requirements.txt", 19),
			py("bitsandbytes", "", "bitsandbytes>=0.43", "ml/requirements.txt", 21),
		}},
		{"pyproject.toml", "pyproject.toml", []deps.Package{
			py("datasets", "2.21.0", "datasets==2.21.0", "pyproject.toml", 10),
			py("numpy", "", "numpy", "pyproject.toml", 12),
			py("peft", "", "peft @ https://github.com/huggingface/peft.git@v0.13.0", "pyproject.toml", 11),
			py("torch", "", "torch ^2.1.0", "pyproject.toml", 8),
			py("transformers", "4.44.2", "transformers==4.44.2", "pyproject.toml", 9),
			py("pytest", "", "pytest ^8.3", "pyproject.toml", 15),
		}},
		{"pep621.pyproject.toml", "svc/pyproject.toml", []deps.Package{
			py("torch", "", "torch>=2.1", "svc/pyproject.toml", 6),
			py("huggingface-hub", "0.25.1", "huggingface-hub==0.25.1", "svc/pyproject.toml", 7),
			py("onnxruntime", "", "onnxruntime", "svc/pyproject.toml", 8),
			py("bitsandbytes", "", "bitsandbytes>=0.43", "svc/pyproject.toml", 12),
			py("ruff", "", "ruff", "svc/pyproject.toml", 16),
			py("pytest", "8.3.3", "pytest==8.3.3", "svc/pyproject.toml", 15),
		}},
		{"Pipfile", "Pipfile", []deps.Package{
			py("mylib", "", "mylib @ https://github.com/org/mylib.git@v1.0", "Pipfile", 10),
			py("requests", "2.32.3", "requests==2.32.3", "Pipfile", 7),
			py("torch", "", "torch", "Pipfile", 8),
			py("transformers", "", "transformers>=4.40", "Pipfile", 9),
			py("pytest", "", "pytest>=8", "Pipfile", 13),
		}},
		{"environment.yml", "environment.yml", []deps.Package{
			{Ecosystem: Conda, Name: "python", Version: "3.11", Range: "python=3.11", Manifest: "environment.yml", Line: 7},
			{Ecosystem: Conda, Name: "pytorch", Version: "2.4.1", Range: "pytorch::pytorch=2.4.1=py3.11_cuda12.1_cudnn9.1.0_0", Manifest: "environment.yml", Line: 8},
			{Ecosystem: Conda, Name: "pytorch-cuda", Version: "12.1", Range: "pytorch-cuda=12.1", Manifest: "environment.yml", Line: 9},
			{Ecosystem: Conda, Name: "numpy", Range: "numpy>=1.26,<2", Manifest: "environment.yml", Line: 10},
			{Ecosystem: Conda, Name: "cudatoolkit", Range: "cudatoolkit 11.8.*", Manifest: "environment.yml", Line: 11},
			{Ecosystem: Conda, Name: "pip", Range: "pip", Manifest: "environment.yml", Line: 12},
			py("transformers", "4.44.2", "transformers==4.44.2", "environment.yml", 14),
			py("accelerate", "", "accelerate>=0.34", "environment.yml", 15),
		}},
		{"package.json", "web/package.json", []deps.Package{
			{Ecosystem: deps.NPM, Name: "@huggingface/transformers", Range: "^3.0.2", Manifest: "web/package.json", Line: 6},
			{Ecosystem: deps.NPM, Name: "onnxruntime-web", Version: "1.19.2", Range: "1.19.2", Manifest: "web/package.json", Line: 7},
			{Ecosystem: deps.NPM, Name: "react", Range: "~18.3.1", Manifest: "web/package.json", Line: 8},
			{Ecosystem: deps.NPM, Name: "typescript", Range: "latest", Manifest: "web/package.json", Line: 12},
			{Ecosystem: deps.NPM, Name: "vite", Version: "5.4.8", Range: "5.4.8", Manifest: "web/package.json", Line: 11},
			{Ecosystem: deps.NPM, Name: "react-dom", Range: ">=18", Manifest: "web/package.json", Line: 15},
		}},
		{"package-lock.json", "web/package-lock.json", []deps.Package{
			{Ecosystem: deps.NPM, Name: "loose-envify", Version: "1.4.0", Manifest: "web/package-lock.json", Line: 32, Hashes: []string{"sha512-CCCC"}},
			{Ecosystem: deps.NPM, Name: "onnxruntime-web", Version: "1.19.2", Manifest: "web/package-lock.json", Line: 18, Hashes: []string{"sha512-AAAA"}},
			{Ecosystem: deps.NPM, Name: "react", Version: "18.3.1", Manifest: "web/package-lock.json", Line: 24, Hashes: []string{"sha512-BBBB"},
				DependsOn: []string{"pkg:npm/loose-envify@1.4.0"}},
			{Ecosystem: deps.NPM, Name: "vite", Version: "5.4.8", Manifest: "web/package-lock.json", Line: 37, Hashes: []string{"sha512-DDDD"}},
		}},
		{"go.mod.txt", "go.mod", []deps.Package{
			{Ecosystem: deps.Go, Name: "github.com/fork/uuid", Version: "v1.6.1", Range: "github.com/google/uuid => github.com/fork/uuid v1.6.1", Manifest: "go.mod", Line: 6},
			{Ecosystem: deps.Go, Name: "github.com/yalue/onnxruntime_go", Version: "v1.12.1", Manifest: "go.mod", Line: 7},
			{Ecosystem: deps.Go, Name: "golang.org/x/sync", Version: "v0.8.0", Manifest: "go.mod", Line: 8},
			{Ecosystem: deps.Go, Name: "example.com/internal/tensor", Range: "=> ./tensor", Manifest: "go.mod", Line: 11},
		}},
		{"poetry.lock", "poetry.lock", []deps.Package{
			py("numpy", "1.26.4", "", "poetry.lock", 4),
			py("torch", "2.4.1", "", "poetry.lock", 12),
		}},
		{"Cargo.lock", "Cargo.lock", []deps.Package{
			{Ecosystem: deps.Cargo, Name: "candle-core", Version: "0.6.0", Manifest: "Cargo.lock", Line: 5},
			{Ecosystem: deps.Cargo, Name: "safetensors", Version: "0.4.5", Manifest: "Cargo.lock", Line: 11},
		}},
		{"yarn.lock", "yarn.lock", []deps.Package{
			{Ecosystem: deps.NPM, Name: "loose-envify", Version: "1.4.0", Manifest: "yarn.lock", Line: 12, Hashes: []string{"sha512-CCCC"}},
			{Ecosystem: deps.NPM, Name: "react", Version: "18.3.1", Manifest: "yarn.lock", Line: 5, Hashes: []string{"sha512-BBBB"},
				DependsOn: []string{"pkg:npm/loose-envify@1.4.0"}},
		}},
		{"pylock.toml", "pylock.toml", []deps.Package{
			withHashes(py("numpy", "2.1.2", "", "pylock.toml", 7), "sha256:8cafab480740e22f8d833acefed5cc87ce276f4ece12fdaa2e8903db2f82897a"),
			py("peft", "", "*", "pylock.toml", 23), // from git: no version
			withHashes(py("torch", "2.5.1", "", "pylock.toml", 15), "sha256:c3fd8e04e7e5bd0c7ab6e1a1c3a1b1a9d29e4c6ff8d1a3e1bd3b3f84e1a5b1c6"),
			// inference-service, the project itself (directory "."), is left out
		}},
		{"pom.xml", "svc/pom.xml", []deps.Package{
			mvn("ai.djl.huggingface:tokenizers", "", "${tokenizers.version}", "svc/pom.xml", 49), // dropped by scalibr
			mvn("ai.djl:api", "0.30.0", "", "svc/pom.xml", 44),
			mvn("com.example.ml:model-api", "1.4.0", "", "svc/pom.xml", 68),
			mvn("com.fasterxml.jackson.core:jackson-databind", "", "[2.15,2.18)", "svc/pom.xml", 58),
			mvn("com.google.guava:guava", "", "[32.0,)", "svc/pom.xml", 63),
			mvn("com.microsoft.onnxruntime:onnxruntime", "1.19.2", "", "svc/pom.xml", 54), // from dependencyManagement
			mvn("org.junit.jupiter:junit-jupiter", "5.11.2", "", "svc/pom.xml", 73),
			mvn("org.springframework.boot:spring-boot-starter-web", "", "*", "svc/pom.xml", 40), // managed by the parent
		}},
		{"gradle.lockfile", "gradle.lockfile", []deps.Package{
			mvn("ai.djl:api", "0.30.0", "", "gradle.lockfile", 4),
			mvn("com.google.code.gson:gson", "2.11.0", "", "gradle.lockfile", 5),
			mvn("com.microsoft.onnxruntime:onnxruntime", "1.19.2", "", "gradle.lockfile", 6),
			mvn("org.junit.jupiter:junit-jupiter", "5.11.2", "", "gradle.lockfile", 7),
		}},
		{"verification-metadata.xml", "gradle/verification-metadata.xml", []deps.Package{
			mvn("ai.djl:api", "0.30.0", "", "gradle/verification-metadata.xml", 8),
			mvn("com.google.code.gson:gson", "2.11.0", "", "gradle/verification-metadata.xml", 13),
		}},
		{"libs.versions.toml", "gradle/libs.versions.toml", []deps.Package{ // the extractor gives no lines
			mvn("ai.djl.pytorch:pytorch-engine", "0.30.0", "", "gradle/libs.versions.toml", 0),
			mvn("ai.djl:api", "0.30.0", "", "gradle/libs.versions.toml", 0),
			mvn("com.google.code.gson:gson", "2.11.0", "", "gradle/libs.versions.toml", 0),
			mvn("com.google.guava:guava", "", "[32.0, 34.0[", "gradle/libs.versions.toml", 0),
			mvn("com.microsoft.onnxruntime:onnxruntime", "1.19.2", "", "gradle/libs.versions.toml", 0),
			mvn("org.apache.commons:commons-lang3", "", "3.+", "gradle/libs.versions.toml", 0),
			mvn("org.junit.jupiter:junit-jupiter", "", "*", "gradle/libs.versions.toml", 0),
			mvn("org.junit:junit-bom", "5.11.2", "", "gradle/libs.versions.toml", 0),
			mvn("org.slf4j:slf4j-api", "2.0.16", "", "gradle/libs.versions.toml", 0), // "2.0.16!!"
		}},
		{"Cargo.toml", "Cargo.toml", []deps.Package{
			crate("anyhow", "", "1.0.89", 30),
			crate("candle-core", "", "0.6.0", 18), // ^0.6.0
			crate("candle-nn", "0.6.0", "=0.6.0", 19),
			crate("hf-hub", "", "0.3.2", 24),
			crate("safetensors", "", "~0.4.5", 20),
			crate("serde", "", "1.0.210", 32),
			crate("serde_json", "", "1", 25), // renamed serde_json_fork
			crate("tokenizers", "", ">=0.19, <0.21", 21),
			crate("criterion", "", "0.5", 37),
			crate("cc", "", "1.1", 40),
			crate("metal", "", "0.29", 43),
			crate("tokio", "", "1.40", 14),
			crate("tracing", "0.1.40", "=0.1.40", 15),
		}},
		{"setup.py", "setup.py", []deps.Package{
			py("torch", "2.4.1", "torch==2.4.1", "setup.py", 10),
			py("transformers", "", "transformers>=4.44,<5", "setup.py", 11),
			py("accelerate", "", "accelerate", "setup.py", 12),
			py("safetensors", "0.4.5", "safetensors==0.4.5", "setup.py", 13),
			py("numpy", "", "numpy>=1.24", "setup.py", 14),
			py("huggingface-hub", "", "huggingface-hub>=0.25", "setup.py", 16),
			py("setuptools_scm", "", "setuptools_scm>=8", "setup.py", 39),
			py("pytest-cov", "", "pytest-cov", "setup.py", 41),
			py("hypothesis", "6.112.1", "hypothesis==6.112.1", "setup.py", 42),
			py("timm", "1.0.9", "timm==1.0.9", "setup.py", 19),
			py("pillow", "", "pillow", "setup.py", 19),
			py("pytest", "", "pytest>=8", "setup.py", 21),
			py("ruff", "", "ruff", "setup.py", 23),
		}},
		{"setup.cfg", "pkg/setup.cfg", []deps.Package{
			py("datasets", "2.21.0", "datasets==2.21.0", "pkg/setup.cfg", 10),
			py("evaluate", "", "evaluate>=0.4", "pkg/setup.cfg", 11),
			py("scikit-learn", "", "scikit-learn~=1.5.2", "pkg/setup.cfg", 13),
			py("torch", "", "torch>=2.1", "pkg/setup.cfg", 14),
			py("setuptools", "", "setuptools>=61", "pkg/setup.cfg", 15),
			py("wheel", "", "wheel", "pkg/setup.cfg", 15),
			py("pytest", "8.3.3", "pytest==8.3.3", "pkg/setup.cfg", 17),
			py("onnxruntime", "1.19.2", "onnxruntime==1.19.2", "pkg/setup.cfg", 21),
			py("onnx", "", "onnx>=1.16", "pkg/setup.cfg", 22),
			py("matplotlib", "", "matplotlib", "pkg/setup.cfg", 23),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(context.Background(), tt.path, readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%s) (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func withHashes(p deps.Package, h ...string) deps.Package {
	p.Hashes = h
	return p
}

func TestParseRequirementLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line          string
		name, version string
		rng           string
	}{
		{"requests==2.32.3", "requests", "2.32.3", "requests==2.32.3"},
		{"requests[socks,security] == 2.32.3 ; python_version >= '3.8'", "requests", "2.32.3", "requests== 2.32.3"},
		{"torch>=2.1,<2.6", "torch", "", "torch>=2.1,<2.6"},
		{"torch==2.*", "torch", "", "torch==2.*"},
		{"torch!=2.0.0", "torch", "", "torch!=2.0.0"},
		{"Django===4.2.1", "Django", "4.2.1", "Django===4.2.1"},
		{"pkg @ https://example.com/pkg-1.0.tar.gz ; os_name == 'nt'", "pkg", "", "pkg @ https://example.com/pkg-1.0.tar.gz"},
		{"numpy==1.26.4 --hash=sha256:abcd --hash=sha256:ef01", "numpy", "1.26.4", "numpy==1.26.4"},
		{"flask # web", "flask", "", "flask"},
		{"--editable=git+https://github.com/a/b.git#egg=bee", "bee", "", "git+https://github.com/a/b.git#egg=bee"},
	}
	for _, tt := range tests {
		got, err := Parse(context.Background(), "requirements.txt", []byte(tt.line+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		want := []deps.Package{{Ecosystem: deps.PyPI, Name: tt.name, Version: tt.version, Range: tt.rng, Manifest: "requirements.txt", Line: 1}}
		if strings.Contains(tt.line, "--hash") {
			want[0].Hashes = []string{"sha256:abcd", "sha256:ef01"}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.line, diff)
		}
	}
	for _, line := range []string{"", "# only a comment", "-r other.txt", "--index-url https://x", ".", "./pkg", "/abs/path", "=== garbage", "name garbage"} {
		got, err := Parse(context.Background(), "requirements.txt", []byte(line))
		if err != nil || len(got) != 0 {
			t.Errorf("%q: got %v, %v; want nothing", line, got, err)
		}
	}
}

func TestIncludes(t *testing.T) {
	t.Parallel()
	got := Includes("ml/requirements.txt", []byte("-r base.txt\n--requirement=../shared/req.txt\n-cconstraints.txt\n-r https://x/req.txt\ntorch\n"))
	want := []Include{
		{Path: "ml/base.txt", Line: 1},
		{Path: "shared/req.txt", Line: 2},
		{Path: "ml/constraints.txt", Constraint: true, Line: 3},
		{Path: "https://x/req.txt", Line: 4},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Includes (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, err := Parse(ctx, "README.md", nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("README.md: err = %v, want ErrUnsupported", err)
	}
	if _, err := Parse(ctx, "requirements.txt", make([]byte, MaxContentSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: err = %v, want ErrTooLarge", err)
	}
	long := "torch==1 " + strings.Repeat("\\\n--hash=sha256:abcdef ", MaxLineLength/20)
	if _, err := Parse(ctx, "requirements.txt", []byte(long)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("long line: err = %v, want ErrTooLarge", err)
	}
	many := strings.Repeat("a\n", MaxPackages+1)
	if _, err := Parse(ctx, "requirements.txt", []byte(many)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("many packages: err = %v, want ErrTooLarge", err)
	}
	for _, p := range []string{"package.json", "package-lock.json", "pyproject.toml", "Pipfile", "environment.yml", "poetry.lock", "Cargo.lock",
		"Cargo.toml", "pylock.toml", "pom.xml", "gradle/verification-metadata.xml", "libs.versions.toml"} {
		if _, err := Parse(ctx, p, []byte("{{{ not [valid")); err == nil {
			t.Errorf("%s: malformed input parsed without error", p)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Parse(cctx, "requirements.txt", []byte("torch")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}
