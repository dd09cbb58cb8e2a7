package goproxy_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/goproxy"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/internal/fake"
)

func info(v, t string) fake.Route {
	return fake.Route{Body: `{"Version":"` + v + `","Time":"` + t + `","Origin":{"VCS":"git","URL":"https://github.com/BurntSushi/toml"}}`}
}

func ts(s string) registry.Known[time.Time] {
	t, _ := time.Parse(time.RFC3339, s)
	return registry.Some(t)
}

func TestFacts(t *testing.T) {
	t.Parallel()
	const m = "/github.com/!burnt!sushi/toml/@v/"
	srv := fake.New(t, map[string]fake.Route{
		m + "list":                   {File: "testdata/list.txt"},
		m + "v0.9.0.info":            info("v0.9.0", "2019-01-01T00:00:00Z"),
		m + "v1.10.0.info":           info("v1.10.0", "2024-03-01T00:00:00Z"),
		m + "v1.2.0.info":            info("v1.2.0", "2022-06-01T00:00:00Z"),
		"/example.com/empty/@v/list": {Body: ""},
		"/example.com/empty/@v/v0.0.0-20250101000000-abcdef123456.info": info("v0.0.0-20250101000000-abcdef123456", "2025-01-01T00:00:00Z"),
		"/example.com/bad/@v/list":                                      {Body: "v1.0.0\n"},
		"/example.com/bad/@v/v1.0.0.info":                               {Body: `{"Time": 5}`},
	})
	c, err := goproxy.New(srv.URL, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pkg     deps.Package
		want    *registry.Facts
		wantErr error
		anyErr  bool
	}{
		{name: "pinned, case-encoded", pkg: deps.Package{Ecosystem: deps.Go, Name: "github.com/BurntSushi/toml", Version: "v1.2.0"}, want: &registry.Facts{
			Versions:       registry.Some(5),
			FirstRelease:   ts("2019-01-01T00:00:00Z"),
			LatestRelease:  ts("2024-03-01T00:00:00Z"), // the highest release; the v1.10.1-rc.1 pre-release is not it
			VersionRelease: ts("2022-06-01T00:00:00Z"),
		}},
		{name: "no tags, pseudo-version", pkg: deps.Package{Ecosystem: deps.Go, Name: "example.com/empty", Version: "v0.0.0-20250101000000-abcdef123456"}, want: &registry.Facts{
			Versions:       registry.Some(0),
			VersionRelease: ts("2025-01-01T00:00:00Z"),
		}},
		{name: "unknown module", pkg: deps.Package{Ecosystem: deps.Go, Name: "example.com/nope"}, wantErr: httpx.ErrNotFound},
		{name: "malformed info", pkg: deps.Package{Ecosystem: deps.Go, Name: "example.com/bad"}, anyErr: true},
		{name: "bad path", pkg: deps.Package{Ecosystem: deps.Go, Name: "example.com/a?b"}, anyErr: true},
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

func TestEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"github.com/BurntSushi/toml": "github.com/!burnt!sushi/toml",
		"golang.org/x/sync":          "golang.org/x/sync",
		"v1.0.0-RC1":                 "v1.0.0-!r!c1",
	} {
		if got, err := goproxy.Escape(in); err != nil || got != want {
			t.Errorf("Escape(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"a!b", "ü", "a b", "a%2f"} {
		if _, err := goproxy.Escape(bad); err == nil {
			t.Errorf("Escape(%q) succeeded", bad)
		}
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	ordered := []string{"junk", "v0.9.0", "v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta.2", "v1.0.0-beta.11", "v1.0.0-rc.1", "v1.0.0", "v1.2.0", "v1.10.0"}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := goproxy.Compare(ordered[i], ordered[j]); got != want {
				t.Errorf("Compare(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}
