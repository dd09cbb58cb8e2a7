package npm_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
	"github.com/mlguard/mlguard/internal/registry/npm"
)

func ts(s string) registry.Known[time.Time] {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return registry.Some(t)
}

func TestFacts(t *testing.T) {
	t.Parallel()
	srv := fake.New(t, map[string]fake.Route{
		"/left-pad":       {File: "testdata/left-pad.json"},
		"/@acme%2fnative": {File: "testdata/scoped.json"},
		"/broken":         {Body: `{"name": 3}`},
		"/huge":           {Body: `{"name":"` + string(make([]byte, 5000)) + `"}`},
	})
	c, err := npm.New(srv.URL, srv.Client(), nil, httpx.WithMaxBody(4096))
	if err != nil {
		t.Fatal(err)
	}
	leftPad := registry.Facts{
		Maintainers:     registry.Some(1),
		MaintainerNames: registry.Some([]string{"stevemao"}),
		FirstRelease:    ts("2014-03-17T23:54:43.456Z"),
		LatestRelease:   ts("2018-04-09T00:48:31.396Z"),
		Versions:        registry.Some(2),
		SourceRepo:      registry.Some("https://github.com/stevemao/left-pad"),
		License:         registry.Some("WTFPL"),
	}
	deprecated := leftPad
	deprecated.VersionRelease = ts("2018-04-09T00:48:31.396Z")
	deprecated.Deprecated = registry.Some(true)
	deprecated.DeprecatedReason = registry.Some("use String.prototype.padStart()")
	deprecated.InstallScripts = registry.Some([]string{})
	older := leftPad
	older.VersionRelease = ts("2017-11-23T15:34:36.271Z")
	older.Deprecated = registry.Some(false)
	older.InstallScripts = registry.Some([]string{})

	tests := []struct {
		name    string
		pkg     deps.Package
		want    *registry.Facts
		wantErr error
		anyErr  bool
	}{
		{name: "unpinned", pkg: deps.Package{Ecosystem: deps.NPM, Name: "left-pad"}, want: &leftPad},
		{name: "deprecated version, no install scripts", pkg: deps.Package{Ecosystem: deps.NPM, Name: "left-pad", Version: "1.3.0"}, want: &deprecated},
		{name: "older version", pkg: deps.Package{Ecosystem: deps.NPM, Name: "left-pad", Version: "1.2.0"}, want: &older},
		{name: "version the registry lacks", pkg: deps.Package{Ecosystem: deps.NPM, Name: "left-pad", Version: "9.0.0"}, want: &leftPad},
		{name: "scoped, install scripts, gyp", pkg: deps.Package{Ecosystem: deps.NPM, Name: "@acme/native", Version: "2.0.1"}, want: &registry.Facts{
			Maintainers:     registry.Some(2),
			MaintainerNames: registry.Some([]string{"alice", "bob"}),
			FirstRelease:    ts("2025-05-01T10:00:00Z"),
			LatestRelease:   ts("2025-05-02T10:00:00Z"),
			VersionRelease:  ts("2025-05-02T10:00:00Z"),
			Versions:        registry.Some(1),
			Deprecated:      registry.Some(false),
			InstallScripts:  registry.Some([]string{"preinstall", "postinstall", "install"}),
			SourceRepo:      registry.Some("https://github.com/acme/native"),
			License:         registry.Some("MIT"),
		}},
		{name: "unknown package", pkg: deps.Package{Ecosystem: deps.NPM, Name: "nope"}, wantErr: httpx.ErrNotFound},
		{name: "malformed", pkg: deps.Package{Ecosystem: deps.NPM, Name: "broken"}, anyErr: true},
		{name: "oversized", pkg: deps.Package{Ecosystem: deps.NPM, Name: "huge"}, wantErr: httpx.ErrTooLarge},
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

func TestPathName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"left-pad":    "left-pad",
		"@types/node": "@types%2fnode",
		"@a b/c":      "@a%20b%2fc",
		"no/scope":    "no%2Fscope",
	} {
		if got := npm.PathName(in); got != want {
			t.Errorf("PathName(%q) = %q, want %q", in, got, want)
		}
	}
}
