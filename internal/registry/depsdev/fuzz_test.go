package depsdev_test

import (
	"net/http"
	"testing"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/depsdev"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
)

// FuzzFacts serves the fuzzed bytes, with a status from fake.Codes, as the
// answer to every request and checks fake.CheckFacts's invariants for a
// pinned and an unpinned package of npm and of Maven (where deps.dev also
// gives the release times).
//
//	go test ./internal/registry/depsdev -run='^$' -fuzz=FuzzFacts -fuzztime=60s
func FuzzFacts(f *testing.F) {
	fake.Seed(f, "testdata/*",
		`{"versions":[{"versionKey":{"version":"1"},"publishedAt":"9999-12-31T23:00:00-05:00","isDefault":true}],"publishedAt":"9999-12-31T23:00:00-05:00","licenses":[" "],"relatedProjects":[{"projectKey":{"id":"github.com/o/r"},"relationType":"SOURCE_REPO"}],"scorecard":{"overallScore":-1}}`,
		`{"versions":[{"versionKey":{"version":"1.0"},"publishedAt":"2020-01-01T00:00:00Z","isDefault":true}],"relatedProjects":[{"projectKey":{"id":"github.com/o/r"},"relationType":"SOURCE_REPO"}],"scorecard":{"overallScore":7.5}}`)
	pkgs := []deps.Package{
		{Ecosystem: deps.NPM, Name: "@colors/colors", Version: "1.6.0"},
		{Ecosystem: deps.NPM, Name: "@colors/colors"},
		{Ecosystem: deps.Maven, Name: "org.apache.commons:commons-lang3", Version: "3.14.0"},
		{Ecosystem: deps.Maven, Name: "org.apache.commons:commons-lang3"},
	}
	build := func(hc *http.Client, opts ...httpx.Option) (registry.Source, error) {
		return depsdev.New(fake.FuzzBase, hc, nil, opts...)
	}
	f.Fuzz(func(t *testing.T, code uint8, body []byte) {
		fake.Fuzz(t, fake.Code(code), body, build, pkgs...)
	})
}
