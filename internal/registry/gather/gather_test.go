package gather

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/health"
	"github.com/mlguard/mlguard/internal/registry/httpx"
)

// fakeRegistries serves PyPI, OSV and deps.dev from the clients' own
// recorded answers; deps.dev knows nothing (404), as for a new package.
func fakeRegistries(t *testing.T) *httptest.Server {
	t.Helper()
	file := func(w http.ResponseWriter, name string) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Error(err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/pypi/requests/json":
			file(w, "../pypi/testdata/requests.json")
		case r.URL.Path == "/pypi/requests/2.32.0/json":
			file(w, "../pypi/testdata/requests-2.32.0.json")
		case r.Method == http.MethodPost && r.URL.Path == "/v1/querybatch":
			_, _ = w.Write([]byte(`{"results":[{"vulns":[{"id":"GHSA-9wx4-h78v-vm56","modified":"2024-06-10T18:31:12Z"}]}]}`))
		case r.URL.Path == "/v1/vulns/GHSA-9wx4-h78v-vm56":
			file(w, "../osv/testdata/GHSA-9wx4-h78v-vm56.json")
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"not found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestGatherAndCheck(t *testing.T) {
	t.Parallel()
	srv := fakeRegistries(t)
	g, err := New(Config{PyPIURL: srv.URL, OSVURL: srv.URL, DepsDevURL: srv.URL, HTTPClient: srv.Client(),
		CacheDir: t.TempDir(), Options: []httpx.Option{httpx.WithRetries(0)}})
	if err != nil {
		t.Fatal(err)
	}
	p := deps.Package{Ecosystem: deps.PyPI, Name: "requests", Version: "2.32.0", Manifest: "requirements.txt", Line: 3}
	facts, err := g.Facts(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "deps.dev") {
		t.Errorf("err = %v, want deps.dev's 404 reported", err)
	}
	if _, ok := facts.Maintainers.Get(); !ok {
		t.Error("PyPI's maintainers did not reach the merged facts")
	}
	if advs, ok := facts.Advisories.Get(); !ok || len(advs) != 1 {
		t.Fatalf("advisories = %+v", facts.Advisories)
	}
	findings := health.Check(deps.Change{Package: p, Kind: deps.Added}, health.FromRegistry(facts, p.Pinned()), health.DefaultThresholds(), time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	var vulnerable bool
	for _, f := range findings {
		vulnerable = vulnerable || (f.Rule == finding.PackageVulnerable && strings.Contains(f.Message, "CVE-2024-35195"))
		if f.Path != "requirements.txt" || f.Line != 3 {
			t.Errorf("finding %s at %s:%d, want requirements.txt:3", f.Rule, f.Path, f.Line)
		}
	}
	if !vulnerable {
		t.Errorf("no package/vulnerable finding naming CVE-2024-35195: %+v", findings)
	}

	// Unpinned: advisories of some version are not this package's, but a
	// malicious-package record would be.
	unpinned := health.FromRegistry(facts, false)
	if len(unpinned.Advisories) != 0 || !unpinned.AdvisoriesKnown {
		t.Errorf("unpinned advisories = %+v", unpinned.Advisories)
	}
}

func TestGatherUnknownEcosystem(t *testing.T) {
	t.Parallel()
	g, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Facts(context.Background(), deps.Package{Ecosystem: "conda", Name: "numpy"}); err == nil {
		t.Error("an ecosystem without a registry gave no error")
	}
}
