package registry_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/cache"
	"github.com/mlguard/mlguard/internal/registry/pypi"
)

// BenchmarkFacts500 checks 500 pinned PyPI packages (two requests each)
// against a fake index that takes 50 ms per answer, 32 at a time, then the
// same with a warm cache. Budgets (issue 5): cold < 5 s, warm < 0.5 s.
//
//	go test -run '^$' -bench Facts500 -benchtime 1x ./internal/registry/
func BenchmarkFacts500(b *testing.B) {
	const (
		n       = 500
		latency = 50 * time.Millisecond
		limit   = 32
	)
	body, err := os.ReadFile("pypi/testdata/requests.json")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: limit}}
	pkgs := make([]deps.Package, n)
	for i := range pkgs {
		pkgs[i] = deps.Package{Ecosystem: deps.PyPI, Name: fmt.Sprintf("pkg-%03d", i), Version: "2.32.3"}
	}
	run := func(b *testing.B, c *cache.Cache) time.Duration {
		client, err := pypi.New(srv.URL, hc, c)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := registry.Collect(b.Context(), client, pkgs, limit)
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil || !r.Facts.Maintainers.OK {
				b.Fatalf("%s: %v", r.Package.Name, r.Err)
			}
		}
		return d
	}
	for b.Loop() {
		c, err := cache.Open(b.TempDir(), "pypi", time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		cold := run(b, c)
		warm := run(b, c)
		b.ReportMetric(cold.Seconds(), "cold-s")
		b.ReportMetric(warm.Seconds(), "warm-s")
		fmt.Fprintf(os.Stderr, "BenchmarkFacts500: %d packages, %s/answer, %d at once: cold %s, warm cache %s\n",
			n, latency, limit, cold.Round(time.Millisecond), warm.Round(time.Millisecond))
		if cold > 5*time.Second || warm > 500*time.Millisecond {
			b.Errorf("over budget: cold %s (< 5s), warm %s (< 0.5s)", cold, warm)
		}
	}
}
