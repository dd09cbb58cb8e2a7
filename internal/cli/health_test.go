package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeRegistry answers as PyPI and OSV do, from the registry clients'
// recorded fixtures; deps.dev knows nothing.
func fakeRegistry(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve := func(name string) {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Error(err)
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
		}
		switch {
		case r.URL.Path == "/pypi/requests/json":
			serve("../registry/pypi/testdata/requests.json")
		case r.URL.Path == "/pypi/requests/2.32.0/json":
			serve("../registry/pypi/testdata/requests-2.32.0.json")
		case r.URL.Path == "/v1/querybatch":
			_, _ = w.Write([]byte(`{"results":[{"vulns":[{"id":"GHSA-9wx4-h78v-vm56","modified":"2024-06-10T18:31:12Z"}]}]}`))
		case r.URL.Path == "/v1/vulns/GHSA-9wx4-h78v-vm56":
			serve("../registry/osv/testdata/GHSA-9wx4-h78v-vm56.json")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHealth(t *testing.T) {
	t.Parallel()
	srv := fakeRegistry(t)
	env := map[string]string{"MLGUARD_PYPI_URL": srv.URL, "MLGUARD_OSV_URL": srv.URL, "MLGUARD_DEPSDEV_URL": srv.URL}
	now := func() time.Time { return time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) }
	var out, errb bytes.Buffer
	code := runHealthEnv(context.Background(), []string{"--format", "json", "--fail-on", "medium", "pypi:requests@2.32.0"}, &out, &errb, func(k string) string { return env[k] }, now)
	if code != ExitFail {
		t.Fatalf("exit %d, want 1 (a moderate advisory, --fail-on medium)\n%s%s", code, out.String(), errb.String())
	}
	var doc struct {
		Packages []struct {
			PURL     string         `json:"purl"`
			Change   string         `json:"change"`
			Facts    map[string]any `json:"facts"`
			Findings []struct {
				Rule string `json:"rule"`
			} `json:"findings"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Packages) != 1 || doc.Packages[0].PURL != "pkg:pypi/requests@2.32.0" || doc.Packages[0].Change != "added" {
		t.Fatalf("packages = %+v", doc.Packages)
	}
	p := doc.Packages[0]
	if _, ok := p.Facts["maintainers"]; !ok {
		t.Errorf("facts without maintainers: %v", p.Facts)
	}
	var rules []string
	for _, f := range p.Findings {
		rules = append(rules, f.Rule)
	}
	if !strings.Contains(strings.Join(rules, " "), "package/vulnerable") {
		t.Errorf("rules %v, want package/vulnerable", rules)
	}

	// Text, offline: no request, the checks that need no registry.
	out.Reset()
	code = runHealthEnv(context.Background(), []string{"--offline", "pypi:reqeusts"}, &out, &errb, func(k string) string { return env[k] }, now)
	if code != ExitFail || !strings.Contains(out.String(), "package/typosquat") || !strings.Contains(out.String(), "package/unpinned") {
		t.Errorf("offline typosquat: exit %d\n%s", code, out.String())
	}
}

func TestHealthUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"torch"}, {"rubygems:rails"}, {"pypi:"}, {"pypi:torch@"}, {"--format", "sarif", "pypi:torch"}} {
		var out, errb bytes.Buffer
		if code := runHealthEnv(context.Background(), args, &out, &errb, func(string) string { return "" }, time.Now); code != ExitError {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	for _, tt := range []struct{ in, eco, name, version string }{
		{"pypi:torch@2.5.1", "pypi", "torch", "2.5.1"},
		{"npm:@types/node@20.1.0", "npm", "@types/node", "20.1.0"},
		{"npm:@types/node", "npm", "@types/node", ""},
		{"hf:meta-llama/Llama-3.1-8B", "huggingface", "meta-llama/Llama-3.1-8B", ""},
		{"go:github.com/x/y@v1.2.3", "golang", "github.com/x/y", "v1.2.3"},
		{"cargo:serde@1.0.210", "cargo", "serde", "1.0.210"},
		{"maven:org.slf4j:slf4j-api@2.0.9", "maven", "org.slf4j:slf4j-api", "2.0.9"},
	} {
		p, err := parsePackageArg(tt.in)
		if err != nil || p.Ecosystem != tt.eco || p.Name != tt.name || p.Version != tt.version {
			t.Errorf("%s: %+v, %v", tt.in, p, err)
		}
	}
}

// TestScanReadsManifests: mlguard scan checks the dependencies in the
// manifests it finds, and skips installed ones (node_modules, .venv).
func TestScanReadsManifests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(dir+"/requirements.txt", []byte("reqeusts==1.0\nnumpy==1.26.4\n"), 0o644))
	must(os.MkdirAll(dir+"/node_modules/x", 0o755))
	must(os.WriteFile(dir+"/node_modules/x/package.json", []byte(`{"dependencies":{"crossenv":"1.0.0"}}`), 0o644))
	code, out, stderr := run(t, "scan", "--offline", "--format", "json", dir)
	if code != ExitFail {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(out, `"purl": "pkg:pypi/reqeusts@1.0"`) || !strings.Contains(out, "package/typosquat") {
		t.Errorf("the typosquat in requirements.txt was not reported:\n%s", out)
	}
	if strings.Contains(out, "crossenv") {
		t.Errorf("an installed package's manifest was read:\n%s", out)
	}
}
