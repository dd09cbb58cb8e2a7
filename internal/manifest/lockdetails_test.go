package manifest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLockDetails: digests and the resolved dependency graph from npm, poetry
// and uv lock files, matched onto the packages by name and version.
func TestLockDetails(t *testing.T) {
	t.Parallel()
	type detail struct {
		Hashes    []string
		DependsOn []string
	}
	for _, tt := range []struct {
		path, content string
		want          map[string]detail // by purl
	}{
		{"package-lock.json", `{"lockfileVersion": 3, "packages": {
			"": {"name": "app", "dependencies": {"a": "^1", "b": "^1"}},
			"node_modules/a": {"version": "1.0.0", "integrity": "sha512-AA== sha1-BB", "dependencies": {"c": "^2"}},
			"node_modules/a/node_modules/c": {"version": "2.0.0", "integrity": "sha512-CC"},
			"node_modules/b": {"version": "1.1.0", "dependencies": {"c": "^1", "missing": "*"}, "optionalDependencies": {"a": "*"}},
			"node_modules/c": {"version": "1.5.0"},
			"node_modules/linked": {"link": true, "resolved": "packages/linked"}}}`,
			map[string]detail{
				"pkg:npm/a@1.0.0": {Hashes: []string{"sha512-AA==", "sha1-BB"}, DependsOn: []string{"pkg:npm/c@2.0.0"}},
				"pkg:npm/b@1.1.0": {DependsOn: []string{"pkg:npm/a@1.0.0", "pkg:npm/c@1.5.0"}},
				"pkg:npm/c@1.5.0": {},
				"pkg:npm/c@2.0.0": {Hashes: []string{"sha512-CC"}},
			}},
		{"poetry.lock", `
[[package]]
name = "requests"
version = "2.32.3"
files = [{file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:aa"}, {file = "requests-2.32.3.tar.gz", hash = "sha256:bb"}]
[package.dependencies]
urllib3 = ">=1.21.1,<3"
Charset_Normalizer = ">=2,<4"

[[package]]
name = "urllib3"
version = "2.2.3"
files = [{file = "urllib3-2.2.3-py3-none-any.whl", hash = "sha256:cc"}]

[[package]]
name = "charset-normalizer"
version = "3.4.0"
files = []
`, map[string]detail{
			"pkg:pypi/requests@2.32.3":          {Hashes: []string{"sha256:aa", "sha256:bb"}, DependsOn: []string{"pkg:pypi/charset-normalizer@3.4.0", "pkg:pypi/urllib3@2.2.3"}},
			"pkg:pypi/urllib3@2.2.3":            {Hashes: []string{"sha256:cc"}},
			"pkg:pypi/charset-normalizer@3.4.0": {},
		}},
		{"uv.lock", `version = 1
requires-python = ">=3.11"

[[package]]
name = "torch"
version = "2.5.1"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "filelock" }, { name = "sympy", marker = "python_full_version >= '3.12'" }]
wheels = [{ url = "https://x/torch.whl", hash = "sha256:11", size = 1 }]

[[package]]
name = "filelock"
version = "3.16.1"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://x/filelock.tar.gz", hash = "sha256:22", size = 1 }

[[package]]
name = "sympy"
version = "1.13.1"
source = { registry = "https://pypi.org/simple" }
`, map[string]detail{
			"pkg:pypi/torch@2.5.1":     {Hashes: []string{"sha256:11"}, DependsOn: []string{"pkg:pypi/filelock@3.16.1", "pkg:pypi/sympy@1.13.1"}},
			"pkg:pypi/filelock@3.16.1": {Hashes: []string{"sha256:22"}},
			"pkg:pypi/sympy@1.13.1":    {},
		}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			pkgs, err := Parse(context.Background(), tt.path, []byte(tt.content))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]detail{}
			for _, p := range pkgs {
				got[p.PURL()] = detail{p.Hashes, p.DependsOn}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
	// Content the extractor accepts but the details reader cannot read adds nothing.
	for _, format := range []string{"package-lock.json", "poetry.lock", "uv.lock"} {
		lockDetails(format, []byte("\x00garbage"), nil)
	}
}
