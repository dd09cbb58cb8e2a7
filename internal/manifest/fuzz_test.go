package manifest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzPaths are the names Parse and ModelRefs dispatch on; the fuzzer picks
// one with its first input.
var fuzzPaths = []string{
	"requirements.txt", "pyproject.toml", "Pipfile", "environment.yml", "package.json", "go.mod",
	"poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "package-lock.json", "yarn.lock",
	"pnpm-lock.yaml", "bun.lock", "Cargo.lock", "train.py", "config.json", "README.md",
	"pom.xml", "gradle.lockfile", "gradle/verification-metadata.xml", "libs.versions.toml", "pylock.toml",
	"Cargo.toml", "setup.py", "setup.cfg",
}

// fuzzSeedPaths are the testdata files whose names do not start or end with
// the path they seed.
var fuzzSeedPaths = map[string]string{
	"pep621.pyproject.toml":     "pyproject.toml",
	"adapter_config.json":       "config.json",
	"verification-metadata.xml": "gradle/verification-metadata.xml",
}

func FuzzParse(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	seed := func(dir string, entries []os.DirEntry) {
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			for i, p := range fuzzPaths {
				if strings.HasPrefix(strings.TrimSuffix(e.Name(), ".txt"), p) || strings.HasSuffix(e.Name(), p) ||
					fuzzSeedPaths[e.Name()] == p || strings.HasSuffix(e.Name(), ".py") && p == "setup.py" {
					f.Add(uint8(i), b)
				}
			}
		}
	}
	seed("testdata", entries)
	refs, err := os.ReadDir("testdata/refs")
	if err != nil {
		f.Fatal(err)
	}
	seed("testdata/refs", refs)
	f.Fuzz(func(t *testing.T, which uint8, content []byte) {
		p := fuzzPaths[int(which)%len(fuzzPaths)]
		pkgs, err := Parse(context.Background(), p, content)
		if err != nil && pkgs != nil {
			t.Fatalf("%s: packages and an error", p)
		}
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("%s: a parser panicked: %v", p, err) // Parse recovers, the fuzzer must not
		}
		for _, pkg := range pkgs {
			if pkg.Name == "" || pkg.Ecosystem == "" || pkg.Manifest != p {
				t.Fatalf("%s: bad package %+v", p, pkg)
			}
			_ = pkg.PURL()
		}
		_ = ModelRefs(p, content)
		_ = Includes(p, content)
		_ = Diff(pkgs, pkgs[:len(pkgs)/2])
	})
}
