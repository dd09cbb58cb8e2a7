package osv_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
	"github.com/mlguard/mlguard/internal/registry/osv"
)

// FuzzFacts serves the fuzzed bytes, with a status from fake.Codes, as the
// answer to every request and checks fake.CheckFacts's invariants for a
// pinned and an unpinned package.
//
//	go test ./internal/registry/osv -run='^$' -fuzz=FuzzFacts -fuzztime=60s
func FuzzFacts(f *testing.F) {
	fake.Seed(f, "testdata/*",
		`{"results":[{"vulns":[{"id":"X-1"}]}],"id":"X-1","details":"a`+strings.Repeat("é", 150)+`"}`,
		`{"results":[{"vulns":[{"id":"GHSA-9wx4-h78v-vm56","modified":"2024-06-10T18:31:12Z"}]}]}`,
		`{"results":[{"vulns":[{"id":"MAL-2024-1234"}],"next_page_token":"p"}],"id":"MAL-2024-1234","details":"malicious"}`)
	pkgs := []deps.Package{
		{Ecosystem: deps.PyPI, Name: "requests", Version: "2.32.0"},
		{Ecosystem: deps.PyPI, Name: "requests"},
	}
	build := func(hc *http.Client, opts ...httpx.Option) (registry.Source, error) {
		return osv.New(fake.FuzzBase, hc, nil, opts...)
	}
	f.Fuzz(func(t *testing.T, code uint8, body []byte) {
		fake.Fuzz(t, fake.Code(code), body, build, pkgs...)
	})
}
