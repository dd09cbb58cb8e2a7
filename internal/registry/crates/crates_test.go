package crates_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/cache"
	"github.com/mlguard/mlguard/internal/registry/crates"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
)

func ts(s string) registry.Known[time.Time] {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return registry.Some(t.UTC())
}

func cargo(name, version string) deps.Package {
	return deps.Package{Ecosystem: deps.Cargo, Name: name, Version: version}
}

var routes = map[string]fake.Route{
	"/api/v1/crates/serde":              {File: "testdata/serde.json"},
	"/api/v1/crates/serde/owners":       {File: "testdata/serde-owners.json"},
	"/api/v1/crates/left-pad-rs":        {File: "testdata/abandoned.json"},
	"/api/v1/crates/left-pad-rs/owners": {Body: `{"users":[]}`},
	"/api/v1/crates/ownerless":          {File: "testdata/serde.json"}, // owners: 404
	"/api/v1/crates/owners-down":        {File: "testdata/serde.json"},
	"/api/v1/crates/owners-down/owners": {Body: `{"errors":[{"detail":"oops"}]}`, Code: 500},
	"/api/v1/crates/broken":             {Body: `{"crate": {"name": "broken"`},
	"/api/v1/crates/empty":              {Body: `{}`},
	"/api/v1/crates/flaky":              {Body: `{"errors":[{"detail":"internal error"}]}`, Code: 500},
}

func TestFacts(t *testing.T) {
	t.Parallel()
	srv := fake.New(t, routes)
	c, err := crates.New(srv.URL, srv.Client(), nil, httpx.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	serde := registry.Facts{
		Maintainers:     registry.Some(2), // a user and a team
		MaintainerNames: registry.Some([]string{"dtolnay", "github:serde-rs:publish"}),
		FirstRelease:    ts("2014-12-05T20:20:39.487502Z"),
		LatestRelease:   ts("2024-11-11T06:21:39.887766Z"), // 1.0.215: the newer 1.0.216 is yanked
		Versions:        registry.Some(6),
		SourceRepo:      registry.Some("https://github.com/serde-rs/serde"),
	}
	with := func(f registry.Facts, change func(*registry.Facts)) *registry.Facts {
		change(&f)
		return &f
	}
	abandoned := registry.Facts{
		Maintainers:     registry.Some(0),
		MaintainerNames: registry.Some([]string{}),
		FirstRelease:    ts("2019-03-01T10:00:00Z"),
		LatestRelease:   ts("2019-03-02T10:00:00Z"), // every version yanked: the last upload
		Versions:        registry.Some(2),
		SourceRepo:      registry.Some("https://gitlab.com/someone/left-pad-rs"), // from the home page
	}
	tests := []struct {
		name    string
		pkg     deps.Package
		want    *registry.Facts
		wantErr error
		anyErr  bool
	}{
		{name: "pinned", pkg: cargo("serde", "1.0.210"), want: with(serde, func(f *registry.Facts) {
			f.VersionRelease = ts("2024-09-06T20:40:12.998761Z")
			f.Yanked = registry.Some(false)
			f.License = registry.Some("MIT OR Apache-2.0")
		})},
		{name: "unpinned takes the latest release's licence", pkg: cargo("serde", ""), want: with(serde, func(f *registry.Facts) {
			f.License = registry.Some("MIT OR Apache-2.0") // 1.0.215's, not the yanked 1.0.216's MIT
		})},
		{name: "yanked with a message", pkg: cargo("serde", "1.0.216"), want: with(serde, func(f *registry.Facts) {
			f.VersionRelease = ts("2024-12-11T03:55:42.114377Z")
			f.Yanked = registry.Some(true)
			f.YankedReason = registry.Some("published from the wrong branch")
			f.License = registry.Some("MIT")
		})},
		{name: "yanked without a message", pkg: cargo("serde", "1.0.204-rc.1"), want: with(serde, func(f *registry.Facts) {
			f.VersionRelease = ts("2024-07-06T01:02:03Z")
			f.Yanked = registry.Some(true)
			f.License = registry.Some("MIT OR Apache-2.0")
		})},
		{name: "legacy licence separator", pkg: cargo("serde", "0.1.0"), want: with(serde, func(f *registry.Facts) {
			f.VersionRelease = ts("2014-12-05T20:20:39.487502Z")
			f.Yanked = registry.Some(false)
			f.License = registry.Some("MIT OR Apache-2.0") // "MIT/Apache-2.0"
		})},
		{name: "version crates.io lacks", pkg: cargo("serde", "9.9.9"), want: &serde},
		{name: "every version yanked, no owners", pkg: cargo("left-pad-rs", ""), want: &abandoned},
		{name: "yanked, no licence on the latest", pkg: cargo("left-pad-rs", "0.1.0"), want: with(abandoned, func(f *registry.Facts) {
			f.VersionRelease = ts("2019-03-01T10:00:00Z")
			f.Yanked = registry.Some(true)
			f.YankedReason = registry.Some("unmaintained")
			f.License = registry.Some("MIT")
		})},
		{name: "owners unknown", pkg: cargo("ownerless", ""), want: with(serde, func(f *registry.Facts) {
			f.Maintainers, f.MaintainerNames = registry.Known[int]{}, registry.Known[[]string]{}
			f.License = registry.Some("MIT OR Apache-2.0")
		})},
		{name: "unknown crate", pkg: cargo("no-such-crate", "1.0.0"), wantErr: httpx.ErrNotFound},
		{name: "owners fail", pkg: cargo("owners-down", ""), anyErr: true},
		{name: "malformed JSON", pkg: cargo("broken", ""), anyErr: true},
		{name: "no crate in the answer", pkg: cargo("empty", ""), anyErr: true},
		{name: "server error", pkg: cargo("flaky", ""), anyErr: true},
		{name: "bad name", pkg: cargo("../serde", ""), anyErr: true},
		{name: "wrong ecosystem", pkg: deps.Package{Ecosystem: deps.NPM, Name: "serde"}, anyErr: true},
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
	if n := srv.Hits("/api/v1/crates/..%2Fserde"); n != 0 {
		t.Errorf("a bad name reached the registry %d times", n)
	}
}

// TestFaults: whatever goes wrong ends in an error and no facts, never a
// crash or a made-up value.
func TestFaults(t *testing.T) {
	t.Parallel()
	serde, err := os.ReadFile("testdata/serde.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		opts       []httpx.Option
		wantErr    error
		wantText   string
		wantSleeps []time.Duration
	}{
		{
			name: "timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			opts:    []httpx.Option{httpx.WithTimeout(50 * time.Millisecond)},
			wantErr: context.DeadlineExceeded,
		},
		{
			name:     "500",
			handler:  func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) },
			wantText: "HTTP 500",
		},
		{
			name: "429 with Retry-After",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "7")
				http.Error(w, "slow down", http.StatusTooManyRequests)
			},
			opts:       []httpx.Option{httpx.WithRetries(2)},
			wantText:   "HTTP 429",
			wantSleeps: []time.Duration{7 * time.Second, 7 * time.Second},
		},
		{
			name: "429 asking for too long a wait",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3600")
				http.Error(w, "slow down", http.StatusTooManyRequests)
			},
			opts:     []httpx.Option{httpx.WithRetries(2)},
			wantText: "more than",
		},
		{
			name:     "malformed JSON",
			handler:  func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(serde[:len(serde)/2]) },
			wantText: "decoding",
		},
		{
			name:    "oversized body",
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(serde) },
			opts:    []httpx.Option{httpx.WithMaxBody(1024)},
			wantErr: httpx.ErrTooLarge,
		},
		{
			name: "404",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, `{"errors":[{"detail":"Not Found"}]}`, 404)
			},
			wantErr: httpx.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			var mu sync.Mutex
			var slept []time.Duration
			opts := append([]httpx.Option{
				httpx.WithRetries(0),
				httpx.WithSleep(func(_ context.Context, d time.Duration) error {
					mu.Lock()
					defer mu.Unlock()
					slept = append(slept, d)
					return nil
				}),
			}, tt.opts...)
			c, err := crates.New(srv.URL, srv.Client(), nil, opts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Facts(t.Context(), cargo("serde", "1.0.210"))
			switch {
			case err == nil:
				t.Fatalf("no error; facts %+v", got)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			case tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText):
				t.Errorf("err = %v, want it to say %q", err, tt.wantText)
			}
			if got != nil {
				t.Errorf("facts %+v alongside the error", got)
			}
			if diff := cmp.Diff(tt.wantSleeps, slept); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

// crates.io asks for a User-Agent naming the client and a way to reach its
// authors, and for one request a second; a mirror is not spaced.
func TestPoliteness(t *testing.T) {
	t.Parallel()
	if !strings.Contains(httpx.DefaultUserAgent, "mlguard") || !strings.Contains(httpx.DefaultUserAgent, "https://") {
		t.Errorf("DefaultUserAgent %q names no client or contact", httpx.DefaultUserAgent)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ua := r.Header.Get("User-Agent"); ua != httpx.DefaultUserAgent {
			t.Errorf("User-Agent = %q, want %q", ua, httpx.DefaultUserAgent)
		}
		http.ServeFile(w, r, "testdata/serde.json")
	}))
	defer srv.Close()

	for _, tt := range []struct {
		base      string
		hc        *http.Client
		wantPaced bool
	}{
		{base: srv.URL, hc: srv.Client()},
		// The public crates.io, answered in memory: no request leaves.
		{base: registry.DefaultCratesURL, hc: fake.HTTPClient(http.StatusOK, []byte(`{"crate":{"name":"serde"},"users":[]}`)), wantPaced: true},
	} {
		var slept []time.Duration
		c, err := crates.New(tt.base, tt.hc, nil, httpx.WithSleep(func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Facts(t.Context(), cargo("serde", "")); err != nil {
			t.Fatalf("%s: %v", tt.base, err)
		}
		switch {
		case !tt.wantPaced && len(slept) > 0:
			t.Errorf("%s: waited %v between requests", tt.base, slept)
		case tt.wantPaced && (len(slept) != 1 || slept[0] <= 0 || slept[0] > crates.PublicInterval):
			t.Errorf("%s: waits %v for two requests, want one of up to %s", tt.base, slept, crates.PublicInterval)
		}
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	srv := fake.New(t, routes)
	cc, err := cache.Open(t.TempDir(), "crates", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := crates.New(srv.URL, srv.Client(), cc)
	if err != nil {
		t.Fatal(err)
	}
	p := cargo("left-pad-rs", "0.1.0") // known-empty owners must stay known through the cache
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
}

func TestLicense(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"MIT OR Apache-2.0": "MIT OR Apache-2.0",
		"MIT/Apache-2.0":    "MIT OR Apache-2.0",
		" MIT / Unlicense ": "MIT OR Unlicense",
		"/":                 "",
		"":                  "",
	} {
		if got := crates.License(in); got != want {
			t.Errorf("License(%q) = %q, want %q", in, got, want)
		}
	}
}
