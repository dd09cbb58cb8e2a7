package pypi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
	"github.com/mlguard/mlguard/internal/registry/pypi"
)

// FuzzFacts serves the fuzzed bytes, with a status from fake.Codes, as the
// answer to every request and checks fake.CheckFacts's invariants for a
// pinned and an unpinned package.
//
//	go test ./internal/registry/pypi -run='^$' -fuzz=FuzzFacts -fuzztime=60s
func FuzzFacts(f *testing.F) {
	fake.Seed(f, "testdata/*",
		// Times JSON cannot hold once in UTC, or before any registry.
		`{"releases":{"1.0":[{"upload_time_iso_8601":"9999-12-31T23:00:00-05:00"}],"0.1":[{"upload_time_iso_8601":"0001-01-01T00:00:01Z"}]}}`,
		// Files yanked with a reason, the version not; blank classifiers.
		`{"urls":[{"upload_time_iso_8601":"2024-01-01T00:00:00Z","yanked":true,"yanked_reason":"r"}],"info":{"yanked":false,"classifiers":["License :: ","Development Status :: "]}}`,
		// An organisation's project with no roles; a licence text cut at 200 bytes.
		`{"ownership":{"roles":[]},"info":{"license":"a`+strings.Repeat("é", 150)+`"}}`)
	pkgs := []deps.Package{
		{Ecosystem: deps.PyPI, Name: "requests", Version: "2.32.3"},
		{Ecosystem: deps.PyPI, Name: "requests"},
	}
	build := func(hc *http.Client, opts ...httpx.Option) (registry.Source, error) {
		return pypi.New(fake.FuzzBase, hc, nil, opts...)
	}
	f.Fuzz(func(t *testing.T, code uint8, body []byte) {
		fake.Fuzz(t, fake.Code(code), body, build, pkgs...)
	})
}
