package gather

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
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

// crates.io is Cargo's own registry; OSV and deps.dev are asked as for
// every ecosystem, and deps.dev's version list is not needed.
func TestGatherCargo(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	asked := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/api/v1/crates/serde":
			http.ServeFile(w, r, "../crates/testdata/serde.json")
		case "/api/v1/crates/serde/owners":
			http.ServeFile(w, r, "../crates/testdata/serde-owners.json")
		case "/v1/querybatch":
			_, _ = w.Write([]byte(`{"results":[{}]}`))
		case "/v3/systems/CARGO/packages/serde/versions/1.0.210":
			_, _ = w.Write([]byte(`{"licenses":["MIT OR Apache-2.0"],"relatedProjects":[{"projectKey":{"id":"github.com/serde-rs/serde"},"relationType":"SOURCE_REPO"}]}`))
		case "/v3/projects/github.com/serde-rs/serde": // the path as decoded
			_, _ = w.Write([]byte(`{"scorecard":{"overallScore":6.8}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	g, err := New(Config{CratesURL: srv.URL, OSVURL: srv.URL, DepsDevURL: srv.URL, HTTPClient: srv.Client(),
		Options: []httpx.Option{httpx.WithRetries(0)}})
	if err != nil {
		t.Fatal(err)
	}
	facts, err := g.Facts(t.Context(), deps.Package{Ecosystem: deps.Cargo, Name: "serde", Version: "1.0.210"})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := facts.Maintainers.Get(); !ok || n != 2 {
		t.Errorf("maintainers = %+v, want crates.io's 2", facts.Maintainers)
	}
	if y, ok := facts.Yanked.Get(); !ok || y {
		t.Errorf("yanked = %+v, want known false", facts.Yanked)
	}
	if advs, ok := facts.Advisories.Get(); !ok || len(advs) != 0 {
		t.Errorf("advisories = %+v, want known none", facts.Advisories)
	}
	if s, ok := facts.Scorecard.Get(); !ok || s != 6.8 {
		t.Errorf("scorecard = %+v, want deps.dev's 6.8", facts.Scorecard)
	}
	if n := asked["/v3/systems/CARGO/packages/serde"]; n != 0 {
		t.Errorf("deps.dev's version list asked %d times for a pinned crate", n)
	}
}

// Maven has no registry of its own: no "no registry" error, and deps.dev's
// version list gives the release times.
func TestGatherMaven(t *testing.T) {
	t.Parallel()
	const pkg = "/v3/systems/MAVEN/packages/org.apache.commons:commons-lang3"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case pkg:
			http.ServeFile(w, r, "../depsdev/testdata/maven-package.json")
		case pkg + "/versions/3.14.0":
			http.ServeFile(w, r, "../depsdev/testdata/maven-version.json")
		case "/v1/querybatch":
			_, _ = w.Write([]byte(`{"results":[{}]}`))
		case "/v3/projects/github.com/apache/commons-lang":
			_, _ = w.Write([]byte(`{"scorecard":{"overallScore":7.2}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	g, err := New(Config{OSVURL: srv.URL, DepsDevURL: srv.URL, HTTPClient: srv.Client(),
		Options: []httpx.Option{httpx.WithRetries(0)}})
	if err != nil {
		t.Fatal(err)
	}
	facts, err := g.Facts(t.Context(), deps.Package{Ecosystem: deps.Maven, Name: "org.apache.commons:commons-lang3", Version: "3.14.0"})
	if err != nil {
		t.Fatal(err)
	}
	if !facts.FirstRelease.OK || !facts.LatestRelease.OK || !facts.VersionRelease.OK || !facts.Versions.OK {
		t.Errorf("release facts missing: %+v", facts)
	}
}
