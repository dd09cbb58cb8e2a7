package goproxy_test

import (
	"net/http"
	"testing"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/goproxy"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
)

// FuzzFacts serves the fuzzed bytes, with a status from fake.Codes, as the
// answer to every request and checks fake.CheckFacts's invariants for a
// pinned and an unpinned module.
//
//	go test ./internal/registry/goproxy -run='^$' -fuzz=FuzzFacts -fuzztime=60s
func FuzzFacts(f *testing.F) {
	fake.Seed(f, "testdata/*",
		`{"Version":"v1.2.0","Time":"9999-12-31T23:00:00-05:00"}`,
		"v1.0.0-\x1b[31m\nv1.2.0 2022-06-01\nnot-a-version\n",
		`{"Version":"v1.2.0","Time":"2022-06-01T00:00:00Z"}`,
		"v1.2.0\nv1.3.0-rc.1\n")
	pkgs := []deps.Package{
		{Ecosystem: deps.Go, Name: "github.com/BurntSushi/toml", Version: "v1.2.0"},
		{Ecosystem: deps.Go, Name: "github.com/BurntSushi/toml"},
	}
	build := func(hc *http.Client, opts ...httpx.Option) (registry.Source, error) {
		return goproxy.New(fake.FuzzBase, hc, nil, opts...)
	}
	f.Fuzz(func(t *testing.T, code uint8, body []byte) {
		fake.Fuzz(t, fake.Code(code), body, build, pkgs...)
	})
}
