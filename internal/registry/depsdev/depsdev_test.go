package depsdev_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/depsdev"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
)

func TestFacts(t *testing.T) {
	t.Parallel()
	const pkg = "/v3/systems/NPM/packages/@colors%2Fcolors"
	srv := fake.New(t, map[string]fake.Route{
		pkg:                     {File: "testdata/package.json"},
		pkg + "/versions/1.6.0": {File: "testdata/version.json"},
		"/v3/projects/github.com%2Fdabh%2Fcolors.js":    {File: "testdata/project.json"},
		"/v3/systems/PYPI/packages/norepo/versions/1.0": {Body: `{"versionKey":{"system":"PYPI","name":"norepo","version":"1.0"},"publishedAt":"2025-01-01T00:00:00Z","licenses":[],"links":[]}`},
		"/v3/systems/PYPI/packages/bad/versions/1.0":    {Body: `[`},
	})
	c, err := depsdev.New(srv.URL, srv.Client(), nil, httpx.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	published, _ := time.Parse(time.RFC3339, "2023-07-10T18:49:49Z")
	tests := []struct {
		name    string
		pkg     deps.Package
		want    *registry.Facts
		wantErr error
		anyErr  bool
	}{
		{name: "pinned", pkg: deps.Package{Ecosystem: deps.NPM, Name: "@colors/colors", Version: "1.6.0"}, want: &registry.Facts{
			VersionRelease: registry.Some(published),
			License:        registry.Some("MIT"),
			SourceRepo:     registry.Some("https://github.com/dabh/colors.js"),
			Scorecard:      registry.Some(4.3),
		}},
		{name: "unpinned uses the default version", pkg: deps.Package{Ecosystem: deps.NPM, Name: "@colors/colors"}, want: &registry.Facts{
			Versions:   registry.Some(2),
			License:    registry.Some("MIT"),
			SourceRepo: registry.Some("https://github.com/dabh/colors.js"),
			Scorecard:  registry.Some(4.3),
		}},
		{name: "no repository", pkg: deps.Package{Ecosystem: deps.PyPI, Name: "norepo", Version: "1.0"}, want: &registry.Facts{
			VersionRelease: registry.Some(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		}},
		{name: "Hugging Face is not covered", pkg: deps.Package{Ecosystem: deps.HuggingFace, Name: "org/m"}, want: &registry.Facts{}},
		{name: "unknown package", pkg: deps.Package{Ecosystem: deps.NPM, Name: "nope", Version: "1"}, wantErr: httpx.ErrNotFound},
		{name: "malformed", pkg: deps.Package{Ecosystem: deps.PyPI, Name: "bad", Version: "1.0"}, anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Facts(t.Context(), tt.pkg)
			if tt.wantErr != nil || tt.anyErr {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || got != nil {
					t.Fatalf("got %v, %v; want error %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

// Maven has no registry client of its own: deps.dev's version list gives
// its release times and version count, for pinned and unpinned packages.
func TestMavenReleases(t *testing.T) {
	t.Parallel()
	const pkg = "/v3/systems/MAVEN/packages/org.apache.commons:commons-lang3"
	srv := fake.New(t, map[string]fake.Route{
		pkg:                      {File: "testdata/maven-package.json"},
		pkg + "/versions/3.14.0": {File: "testdata/maven-version.json"},
		pkg + "/versions/3.17.0": {File: "testdata/maven-version.json"},
		"/v3/projects/github.com%2Fapache%2Fcommons-lang": {Body: `{"projectKey":{"id":"github.com/apache/commons-lang"},"scorecard":{"overallScore":11}}`},
	})
	c, err := depsdev.New(srv.URL, srv.Client(), nil, httpx.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	ts := func(s string) registry.Known[time.Time] {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return registry.Some(v)
	}
	unpinned := registry.Facts{
		FirstRelease:  ts("2011-07-19T09:53:02Z"),
		LatestRelease: ts("2024-08-29T13:54:15Z"),
		Versions:      registry.Some(5), // 3.15.0 without a time still counts
		License:       registry.Some("Apache-2.0"),
		SourceRepo:    registry.Some("https://github.com/apache/commons-lang"),
		// A Scorecard of 11 is no Scorecard: unknown, not 11.
	}
	pinned := unpinned
	pinned.VersionRelease = ts("2023-11-18T15:28:51Z")
	for _, tt := range []struct {
		name string
		pkg  deps.Package
		want *registry.Facts
	}{
		{"pinned", deps.Package{Ecosystem: deps.Maven, Name: "org.apache.commons:commons-lang3", Version: "3.14.0"}, &pinned},
		{"unpinned", deps.Package{Ecosystem: deps.Maven, Name: "org.apache.commons:commons-lang3"}, &unpinned},
	} {
		got, err := c.Facts(t.Context(), tt.pkg)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: facts (-want +got):\n%s", tt.name, diff)
		}
	}
	if n := srv.Hits(pkg); n != 2 {
		t.Errorf("the version list was fetched %d times for two lookups, want once each", n)
	}
}

// Ecosystems with a registry client of their own get their release times
// from it: a pinned npm package costs deps.dev no version-list request.
func TestPinnedSkipsVersionList(t *testing.T) {
	t.Parallel()
	const pkg = "/v3/systems/NPM/packages/@colors%2Fcolors"
	srv := fake.New(t, map[string]fake.Route{
		pkg:                     {File: "testdata/package.json"},
		pkg + "/versions/1.6.0": {File: "testdata/version.json"},
		"/v3/projects/github.com%2Fdabh%2Fcolors.js": {File: "testdata/project.json"},
	})
	c, err := depsdev.New(srv.URL, srv.Client(), nil, httpx.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Facts(t.Context(), deps.Package{Ecosystem: deps.NPM, Name: "@colors/colors", Version: "1.6.0"})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Hits(pkg); n != 0 {
		t.Errorf("version list fetched %d times for a pinned npm package", n)
	}
	if f.FirstRelease.OK || f.LatestRelease.OK || f.Versions.OK {
		t.Errorf("release times or count from deps.dev for npm: %+v", f)
	}
}
