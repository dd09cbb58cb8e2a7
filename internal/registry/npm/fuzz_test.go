package npm_test

import (
	"net/http"
	"testing"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
	"github.com/mlguard/mlguard/internal/registry/npm"
)

// FuzzFacts serves the fuzzed bytes, with a status from fake.Codes, as the
// answer to every request and checks fake.CheckFacts's invariants for a
// pinned and an unpinned package.
//
//	go test ./internal/registry/npm -run='^$' -fuzz=FuzzFacts -fuzztime=60s
func FuzzFacts(f *testing.F) {
	fake.Seed(f, "testdata/*",
		`{"time":{"created":"9999-12-31T23:00:00-05:00","1.3.0":"2018-04-09T00:48:31.396Z","1.2.0":"2019-01-01T00:00:00Z"},"maintainers":[],"versions":{"1.3.0":{"deprecated":"gone","license":" "}}}`)
	pkgs := []deps.Package{
		{Ecosystem: deps.NPM, Name: "left-pad", Version: "1.3.0"},
		{Ecosystem: deps.NPM, Name: "@acme/native"},
	}
	build := func(hc *http.Client, opts ...httpx.Option) (registry.Source, error) {
		return npm.New(fake.FuzzBase, hc, nil, opts...)
	}
	f.Fuzz(func(t *testing.T, code uint8, body []byte) {
		fake.Fuzz(t, fake.Code(code), body, build, pkgs...)
	})
}
