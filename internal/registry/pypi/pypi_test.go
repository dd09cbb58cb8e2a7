package pypi_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/cache"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
	"github.com/mlguard/mlguard/internal/registry/pypi"
)

func ts(s string) registry.Known[time.Time] {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return registry.Some(t.UTC())
}

var routes = map[string]fake.Route{
	"/pypi/requests/json":        {File: "testdata/requests.json"},
	"/pypi/requests/2.32.3/json": {File: "testdata/requests.json"},
	"/pypi/requests/2.32.0/json": {File: "testdata/requests-2.32.0.json"},
	"/pypi/acme-ml/json":         {File: "testdata/acme-ml.json"},
	"/pypi/acme-ml/0.1.0/json":   {File: "testdata/acme-ml.json"},
	"/pypi/broken/json":          {Body: `{"info": {"name": "broken"`},
	"/pypi/flaky/json":           {Body: `oops`, Code: 500},
}

func TestFacts(t *testing.T) {
	t.Parallel()
	srv := fake.New(t, routes)
	c, err := pypi.New(srv.URL, srv.Client(), nil, httpx.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	owners := []string{"Lukasa", "nateprewitt", "graffatcolmingov"}
	project := registry.Facts{
		Maintainers:     registry.Some(3),
		MaintainerNames: registry.Some(owners),
		FirstRelease:    ts("2011-02-14T00:37:21.443389Z"),
		LatestRelease:   ts("2024-05-29T15:37:49.536347Z"),
		Versions:        registry.Some(3), // 0.0.2 has no files
	}
	withInfo := func(f registry.Facts, lic string) registry.Facts {
		f.License = registry.Some(lic)
		f.DevStatus = registry.Some("5 - Production/Stable")
		f.SourceRepo = registry.Some("https://github.com/psf/requests")
		return f
	}
	pinned := withInfo(project, "Apache-2.0")
	pinned.VersionRelease = ts("2024-05-29T15:37:47.027493Z")
	pinned.Yanked = registry.Some(false)
	yanked := withInfo(project, "Apache 2.0")
	yanked.VersionRelease = ts("2024-05-20T15:14:10.197329Z")
	yanked.Yanked = registry.Some(true)
	yanked.YankedReason = registry.Some("Yanked due to conflicts with CVE-2024-35195 mitigation")

	tests := []struct {
		name    string
		pkg     deps.Package
		want    *registry.Facts
		wantErr error
		anyErr  bool
	}{
		{name: "pinned", pkg: deps.Package{Ecosystem: deps.PyPI, Name: "Requests", Version: "2.32.3"}, want: &pinned},
		{name: "yanked version", pkg: deps.Package{Ecosystem: deps.PyPI, Name: "requests", Version: "2.32.0"}, want: &yanked},
		{name: "unpinned", pkg: deps.Package{Ecosystem: deps.PyPI, Name: "requests"}, want: ptr(withInfo(project, "Apache-2.0"))},
		{name: "version PyPI lacks", pkg: deps.Package{Ecosystem: deps.PyPI, Name: "requests", Version: "9.9.9"}, want: &project},
		{name: "organisation, no public roles", pkg: deps.Package{Ecosystem: deps.PyPI, Name: "acme_ml", Version: "0.1.0"}, want: &registry.Facts{
			FirstRelease:   ts("2025-05-30T08:00:00Z"),
			LatestRelease:  ts("2025-05-30T08:00:00Z"),
			VersionRelease: ts("2025-05-30T08:00:00Z"),
			Versions:       registry.Some(1),
			Yanked:         registry.Some(false),
			License:        registry.Some("MIT OR Apache-2.0"),
			DevStatus:      registry.Some("3 - Alpha"),
			SourceRepo:     registry.Some("https://gitlab.com/acme/acme-ml"),
		}},
		{name: "unknown package", pkg: deps.Package{Ecosystem: deps.PyPI, Name: "no-such-thing"}, wantErr: httpx.ErrNotFound},
		{name: "malformed JSON", pkg: deps.Package{Ecosystem: deps.PyPI, Name: "broken"}, anyErr: true},
		{name: "server error", pkg: deps.Package{Ecosystem: deps.PyPI, Name: "flaky"}, anyErr: true},
		{name: "wrong ecosystem", pkg: deps.Package{Ecosystem: deps.NPM, Name: "requests"}, anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Facts(t.Context(), tt.pkg)
			switch {
			case tt.wantErr != nil || tt.anyErr:
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("facts %+v alongside an error", got)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestCache(t *testing.T) {
	t.Parallel()
	srv := fake.New(t, routes)
	cc, err := cache.Open(t.TempDir(), "pypi", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pypi.New(srv.URL, srv.Client(), cc)
	if err != nil {
		t.Fatal(err)
	}
	p := deps.Package{Ecosystem: deps.PyPI, Name: "requests", Version: "2.32.3"}
	first, err := c.Facts(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	n := srv.Total()
	second, err := c.Facts(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Total() != n {
		t.Errorf("a cache hit made %d requests", srv.Total()-n)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("cached facts differ (-fetched +cached):\n%s", diff)
	}
	// Expired: fetched again.
	cc.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	if _, err := c.Facts(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if srv.Total() == n {
		t.Error("an expired entry was used")
	}
}
