package osv_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/cache"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/osv"
)

// fakeOSV answers querybatch from a table keyed "ecosystem/name@version",
// paging when page is set, and /v1/vulns from testdata.
type fakeOSV struct {
	vulns   map[string][]string
	batches atomic.Int32
	details atomic.Int32
}

func (f *fakeOSV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/querybatch":
		f.batches.Add(1)
		var req struct {
			Queries []struct {
				Package   struct{ Name, Ecosystem string }
				Version   string
				PageToken string `json:"page_token"`
			}
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var out strings.Builder
		out.WriteString(`{"results":[`)
		for i, q := range req.Queries {
			if i > 0 {
				out.WriteString(",")
			}
			ids := f.vulns[q.Package.Ecosystem+"/"+q.Package.Name+"@"+q.Version]
			// Page: one id per page for the "paged" package.
			if q.Package.Name == "paged" {
				k := 0
				if q.PageToken != "" {
					k = 1
				}
				ids = ids[k : k+1]
				if k == 0 {
					out.WriteString(`{"vulns":[{"id":"` + ids[0] + `","modified":"2024-06-10T18:31:12Z"}],"next_page_token":"p2"}`)
					continue
				}
			}
			if len(ids) == 0 {
				out.WriteString(`{}`)
				continue
			}
			out.WriteString(`{"vulns":[`)
			for j, id := range ids {
				if j > 0 {
					out.WriteString(",")
				}
				out.WriteString(`{"id":"` + id + `","modified":"2024-06-10T18:31:12Z"}`)
			}
			out.WriteString(`]}`)
		}
		out.WriteString(`]}`)
		_, _ = w.Write([]byte(out.String()))
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/vulns/"):
		f.details.Add(1)
		b, err := os.ReadFile("testdata/" + strings.TrimPrefix(r.URL.Path, "/v1/vulns/") + ".json")
		if err != nil {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

var (
	ghsa = registry.Advisory{
		ID:       "GHSA-9wx4-h78v-vm56",
		Aliases:  []string{"CVE-2024-35195"},
		Summary:  "Requests `Session` object does not verify requests after making first request with verify=False",
		Severity: "MODERATE",
		CVSS:     "CVSS:4.0/AV:L/AC:H/AT:N/PR:H/UI:P/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N",
	}
	mal = registry.Advisory{
		ID:        "MAL-2024-1234",
		Summary:   "Malicious code in reqeusts (PyPI)",
		Malicious: true,
	}
)

func newFake() *fakeOSV {
	return &fakeOSV{vulns: map[string][]string{
		"PyPI/requests@2.31.0": {"GHSA-9wx4-h78v-vm56"},
		"PyPI/reqeusts@1.0.0":  {"MAL-2024-1234"},
		"PyPI/paged@1.0":       {"GHSA-9wx4-h78v-vm56", "MAL-2024-1234"},
		"PyPI/ghost@1.0":       {"GHSA-0000-0000-0000"},
	}}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	f := newFake()
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := osv.New(srv.URL, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := []deps.Package{
		{Ecosystem: deps.PyPI, Name: "Requests", Version: "2.31.0"},
		{Ecosystem: deps.PyPI, Name: "reqeusts", Version: "1.0.0"},
		{Ecosystem: deps.PyPI, Name: "numpy", Version: "2.0.0"},
		{Ecosystem: deps.HuggingFace, Name: "org/model"},
		{Ecosystem: deps.PyPI, Name: "paged", Version: "1.0"},
	}
	got, err := c.Query(t.Context(), pkgs)
	if err != nil {
		t.Fatal(err)
	}
	want := []*registry.Facts{
		{Advisories: registry.Some([]registry.Advisory{ghsa})},
		{Advisories: registry.Some([]registry.Advisory{mal})},
		{Advisories: registry.Some([]registry.Advisory{})},
		{}, // OSV has no Hugging Face ecosystem: unknown
		{Advisories: registry.Some([]registry.Advisory{ghsa, mal})},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	if n := f.batches.Load(); n != 2 { // the first batch, then the second page of "paged"
		t.Errorf("%d querybatch requests, want 2", n)
	}
	if n := f.details.Load(); n != 2 {
		t.Errorf("%d vuln requests, want 2 (each id once)", n)
	}
}

func TestFactsErrors(t *testing.T) {
	t.Parallel()
	f := newFake()
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := osv.New(srv.URL, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// An id whose details are missing is an error, not a silent "no advisories".
	if got, err := c.Facts(t.Context(), deps.Package{Ecosystem: deps.PyPI, Name: "ghost", Version: "1.0"}); err == nil {
		t.Errorf("got %+v, want an error", got)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"results":[]}`))
	}))
	defer bad.Close()
	c2, _ := osv.New(bad.URL, bad.Client(), nil, httpx.WithRetries(0))
	if got, err := c2.Facts(t.Context(), deps.Package{Ecosystem: deps.PyPI, Name: "x", Version: "1"}); err == nil {
		t.Errorf("a short results list gave %+v", got)
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	f := newFake()
	srv := httptest.NewServer(f)
	defer srv.Close()
	cc, err := cache.Open(t.TempDir(), "osv", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := osv.New(srv.URL, srv.Client(), cc)
	p := deps.Package{Ecosystem: deps.PyPI, Name: "requests", Version: "2.31.0"}
	first, err := c.Facts(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Facts(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("(-fetched +cached):\n%s", diff)
	}
	if f.batches.Load() != 1 || f.details.Load() != 1 {
		t.Errorf("requests: %d batches, %d details; want 1, 1", f.batches.Load(), f.details.Load())
	}
	// Another package with the same advisory reuses the cached details.
	if _, err := c.Facts(t.Context(), deps.Package{Ecosystem: deps.PyPI, Name: "paged", Version: "1.0"}); err != nil {
		t.Fatal(err)
	}
	if f.details.Load() != 2 {
		t.Errorf("%d detail requests, want 2 (GHSA from cache, MAL fetched)", f.details.Load())
	}
}

func TestEcosystem(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	for _, e := range []string{deps.PyPI, deps.NPM, deps.Go, deps.Cargo, deps.Maven, deps.HuggingFace} {
		got[e] = osv.Ecosystem(e)
	}
	want := map[string]string{"pypi": "PyPI", "npm": "npm", "golang": "Go", "cargo": "crates.io", "maven": "Maven", "huggingface": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
