package hf_test

import (
	"net/http"
	"testing"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/hf"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
)

// FuzzFacts serves the fuzzed bytes, with a status from fake.Codes, as the
// answer to every request and checks fake.CheckFacts's invariants for a
// pinned and an unpinned model reference.
//
//	go test ./internal/registry/hf -run='^$' -fuzz=FuzzFacts -fuzztime=60s
func FuzzFacts(f *testing.F) {
	fake.Seed(f, "testdata/*",
		`{"id":" /x","createdAt":"9999-12-31T23:00:00-05:00","lastModified":"2000-01-01T00:00:00Z","downloads":-1,"likes":-5,"author":" ","cardData":{"license":[" ",""]}}`)
	pkgs := []deps.Package{
		{Ecosystem: deps.HuggingFace, Name: "google-bert/bert-base-uncased", Version: "86b5e0934494bd15c9632b12f734a8a67f723594"},
		{Ecosystem: deps.HuggingFace, Name: "google-bert/bert-base-uncased"},
	}
	build := func(hc *http.Client, opts ...httpx.Option) (registry.Source, error) {
		return hf.New(fake.FuzzBase, hc, nil, opts...)
	}
	f.Fuzz(func(t *testing.T, code uint8, body []byte) {
		fake.Fuzz(t, fake.Code(code), body, build, pkgs...)
	})
}
