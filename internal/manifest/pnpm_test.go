package manifest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/pnpmlock"

	"github.com/mlguard/mlguard/internal/deps"
)

// scalibrPNPM is osv-scalibr's own pnpm-lock.yaml extractor, which the
// reader in pnpm.go replaces and must agree with.
var scalibrPNPM = scalibrParser(pnpmlock.New)

// comparePNPM runs both readers and reports a disagreement: both fail, or
// both give the same packages. errPNPMYAMLFeature (aliases, merge keys) is
// a refusal of ours where scalibr may read the file; it is not compared.
func comparePNPM(content []byte) error {
	ctx := context.Background()
	ours, err := parsePNPMLock(ctx, "pnpm-lock.yaml", content)
	if errors.Is(err, errPNPMYAMLFeature) {
		return nil
	}
	theirs, theirErr := scalibrPNPM(ctx, "pnpm-lock.yaml", content)
	switch {
	case (err == nil) != (theirErr == nil):
		return fmt.Errorf("ours: %v; scalibr: %v", err, theirErr)
	case err != nil:
		return nil
	}
	if diff := cmp.Diff(theirs, ours); diff != "" {
		return fmt.Errorf("packages differ (-scalibr +ours):\n%s", diff)
	}
	return nil
}

// pnpmCases are lock files of every layout and the ways the extractor
// fails, each with the outcome both readers must give.
var pnpmCases = []struct {
	name    string
	content string
	want    []deps.Package // nil with wantErr
	wantErr bool
}{
	{name: "5.4 paths, peers and a scope", content: "lockfileVersion: 5.4\npackages:\n  /left-pad/1.3.0:\n    resolution: {integrity: sha512-x}\n  /@babel/core/7.24.0_react@18.0.0:\n    dev: true\n",
		want: []deps.Package{{Ecosystem: deps.NPM, Name: "@babel/core", Version: "7.24.0", Line: 5}, {Ecosystem: deps.NPM, Name: "left-pad", Version: "1.3.0", Line: 3}}},
	{name: "6.0 name@version(peers)", content: "lockfileVersion: '6.0'\npackages:\n  /react-dom@18.3.1(react@18.3.1):\n    dev: false\n  /@types/node@20.1.0:\n    resolution: {integrity: sha512-y}\n",
		want: []deps.Package{{Ecosystem: deps.NPM, Name: "@types/node", Version: "20.1.0", Line: 5}, {Ecosystem: deps.NPM, Name: "react-dom", Version: "18.3.1", Line: 3}}},
	{name: "9.0 keys and snapshots", content: "lockfileVersion: '9.0'\npackages:\n  '@scope/a@1.0.0':\n    resolution: {integrity: sha512-z}\n  b@2.0.0: {}\nsnapshots:\n  b@2.0.0: {}\n",
		want: []deps.Package{{Ecosystem: deps.NPM, Name: "@scope/a", Version: "1.0.0", Line: 3}, {Ecosystem: deps.NPM, Name: "b", Version: "2.0.0", Line: 5}}},
	{name: "name and version fields win over the key", content: "lockfileVersion: 5.4\npackages:\n  github.com/x/y/abc:\n    name: y\n    version: 1.0.0\n",
		want: []deps.Package{{Ecosystem: deps.NPM, Name: "y", Version: "1.0.0", Line: 3}}},
	{name: "a git dependency is not an npm package", content: "lockfileVersion: '6.0'\npackages:\n  /z@1.0.0:\n    resolution: {tarball: 'https://codeload.github.com/o/z/tar.gz/0123abc'}\n  /w@1.0.0:\n    resolution: {commit: 0123abc, repo: 'https://github.com/o/w'}\n"},
	{name: "file: keys and versions that are not numbers give nothing", content: "lockfileVersion: '6.0'\npackages:\n  file:../local: {}\n  /x/latest: {}\n"},
	{name: "two documents", content: "lockfileVersion: '6.0'\n---\nlockfileVersion: '9.0'\npackages:\n  c@3.0.0: {}\n",
		want: []deps.Package{{Ecosystem: deps.NPM, Name: "c", Version: "3.0.0", Line: 5}}},
	{name: "empty", content: ""},
	{name: "no lockfileVersion", content: "packages:\n  a@1.0.0: {}\n", wantErr: true},
	{name: "lockfileVersion not a number", content: "lockfileVersion: next\n", wantErr: true},
	{name: "duplicate package key", content: "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {}\n  a@1.0.0: {}\n", wantErr: true},
	{name: "duplicate top-level key", content: "lockfileVersion: '9.0'\nlockfileVersion: '9.0'\n", wantErr: true},
	{name: "a package that is a string", content: "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: yes\n", wantErr: true},
	{name: "dev not a boolean", content: "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {dev: maybe}\n", wantErr: true},
	{name: "version a mapping", content: "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {version: {x: 1}}\n", wantErr: true},
	{name: "a path without a slash before 9.0", content: "lockfileVersion: 5.4\npackages:\n  left-pad: {}\n", wantErr: true},
	{name: "not YAML", content: "lockfileVersion: [\n", wantErr: true},
	{name: "dev as yaml.v3 reads a bool: YAML 1.1 words, plain or quoted", content: "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {dev: yes}\n  b@1.0.0: {dev: 'off'}\n  c@1.0.0: {dev: True}\n",
		want: []deps.Package{{Ecosystem: deps.NPM, Name: "a", Version: "1.0.0", Line: 3}, {Ecosystem: deps.NPM, Name: "b", Version: "1.0.0", Line: 4}, {Ecosystem: deps.NPM, Name: "c", Version: "1.0.0", Line: 5}}},
	{name: "dev a quoted true is not a bool to yaml.v3", content: "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {dev: 'true'}\n", wantErr: true},
	{name: "a name and version at two keys: the first line", content: "lockfileVersion: 5.4\npackages:\n  /a/1.0.0_x: {}\n  /a/1.0.0_y: {}\n  /a/1.0.0_z: {}\n",
		want: []deps.Package{{Ecosystem: deps.NPM, Name: "a", Version: "1.0.0", Line: 3}}},
}

func TestPNPMLock(t *testing.T) {
	t.Parallel()
	for _, tt := range pnpmCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePNPMLock(context.Background(), "pnpm-lock.yaml", []byte(tt.content))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if err := comparePNPM([]byte(tt.content)); err != nil {
				t.Errorf("disagrees with scalibr's extractor: %v", err)
			}
		})
	}
	for _, name := range []string{"testdata/pnpm-lock.yaml.v6", "testdata/pnpm-lock.yaml.v9"} {
		content, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := comparePNPM(content); err != nil {
			t.Errorf("%s: disagrees with scalibr's extractor: %v", name, err)
		}
	}
}

func TestPNPMRefusesAliases(t *testing.T) {
	t.Parallel()
	for _, content := range []string{
		"lockfileVersion: '9.0'\npackages:\n  a@1.0.0: &x {}\n  b@1.0.0: *x\n",
		"lockfileVersion: '9.0'\npackages:\n  a@1.0.0: &x {name: q}\n  b@1.0.0: {<<: *x}\n",
		"lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {name: !!null foo}\n",
		"lockfileVersion: !!float 9.0\n",
		"lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {dev: !!bool yes}\n",
	} {
		if _, err := parsePNPMLock(context.Background(), "pnpm-lock.yaml", []byte(content)); !errors.Is(err, errPNPMYAMLFeature) {
			t.Errorf("%q: err = %v, want errPNPMYAMLFeature", content, err)
		}
	}
}

// TestPNPMLinear: reading four times the packages takes about four times as
// long, where scalibr's extractor took sixteen (10 s for 40,000 packages).
// The best of five runs of each size, compared in the same run.
func TestPNPMLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	lock := func(n int) []byte {
		var b strings.Builder
		b.WriteString("lockfileVersion: '9.0'\npackages:\n")
		for i := range n {
			fmt.Fprintf(&b, "  p%d@1.0.0: {}\n", i)
		}
		return []byte(b.String())
	}
	small, large := lock(5_000), lock(20_000)
	parse := func(content []byte) time.Duration {
		start := time.Now()
		pkgs, err := parsePNPMLock(context.Background(), "pnpm-lock.yaml", content)
		if err != nil || len(pkgs) == 0 {
			t.Fatalf("%d packages, %v", len(pkgs), err)
		}
		return time.Since(start)
	}
	// Interleaved, the best of five of each: a busy machine slows some runs,
	// not the best ones.
	ts, tl := time.Duration(1<<62), time.Duration(1<<62)
	for range 5 {
		ts, tl = min(ts, parse(small)), min(tl, parse(large))
	}
	if ratio := float64(tl) / float64(ts); ratio > 10 {
		t.Errorf("5,000 packages in %v, 20,000 in %v: %.1f times as long, want about 4 (quadratic would be 16)", ts, tl, ratio)
	} else {
		t.Logf("5,000 packages in %v, 20,000 in %v (%.1fx)", ts, tl, ratio)
	}
}

// FuzzPNPMLock checks the reader against scalibr's extractor on the same
// input (small inputs: the extractor is quadratic).
//
//	go test ./internal/manifest -run='^$' -fuzz=FuzzPNPMLock -fuzztime=60s
func FuzzPNPMLock(f *testing.F) {
	for _, tt := range pnpmCases {
		f.Add([]byte(tt.content))
	}
	for _, name := range []string{"testdata/pnpm-lock.yaml.v6", "testdata/pnpm-lock.yaml.v9"} {
		content, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(content)
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		if len(content) > 4<<10 {
			return
		}
		done := make(chan error, 1)
		go func() { done <- comparePNPM(content) }()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no answer within 10 s")
		}
	})
}
