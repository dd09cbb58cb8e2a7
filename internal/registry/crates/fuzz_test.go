package crates_test

import (
	"net/http"
	"testing"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/crates"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
)

// FuzzFacts serves the fuzzed bytes, with a status from fake.Codes, as the
// answer to every request and checks fake.CheckFacts's invariants for a
// pinned and an unpinned crate.
//
//	go test ./internal/registry/crates -run='^$' -fuzz=FuzzFacts -fuzztime=60s
func FuzzFacts(f *testing.F) {
	fake.Seed(f, "testdata/*.json",
		`{"crate":{"created_at":"9999-12-31T23:00:00-05:00"},"versions":[{"num":"1.0.210","created_at":"9999-12-31T23:00:00-05:00","license":" / "}],"users":[{"login":" "}]}`,
		`{"crate":{"name":"serde","created_at":"2014-12-05T20:20:39Z","repository":"https://github.com/serde-rs/serde"},"versions":[{"num":"1.0.210","created_at":"2024-09-06T20:40:12Z","yanked":true,"yank_message":"x","license":"MIT/Apache-2.0"}],"users":[{"login":"dtolnay","kind":"user"}]}`)
	pkgs := []deps.Package{
		{Ecosystem: deps.Cargo, Name: "serde", Version: "1.0.210"},
		{Ecosystem: deps.Cargo, Name: "serde"},
	}
	build := func(hc *http.Client, opts ...httpx.Option) (registry.Source, error) {
		return crates.New(fake.FuzzBase, hc, nil, opts...)
	}
	f.Fuzz(func(t *testing.T, code uint8, body []byte) {
		fake.Fuzz(t, fake.Code(code), body, build, pkgs...)
	})
}
