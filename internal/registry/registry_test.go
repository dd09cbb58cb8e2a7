package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/cache"
)

func TestKnownJSON(t *testing.T) {
	t.Parallel()
	f := registry.Facts{
		Maintainers:    registry.Some(0), // known zero is kept
		InstallScripts: registry.Some([]string{}),
		FirstRelease:   registry.Some(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)),
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"maintainers":0,"firstRelease":"2020-01-02T03:04:05Z","installScripts":[]}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	var back registry.Facts
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if back.Likes.OK || back.SourceRepo.OK {
		t.Error("absent facts came back known")
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	f := registry.Facts{Versions: registry.Some(3), SourceRepo: registry.Some("https://github.com/a/b")}
	f.Merge(&registry.Facts{Versions: registry.Some(9), SourceRepo: registry.Some("https://x"), Scorecard: registry.Some(7.5)})
	f.Merge(nil)
	want := registry.Facts{Versions: registry.Some(3), SourceRepo: registry.Some("https://github.com/a/b"), Scorecard: registry.Some(7.5)}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestForgeRepo(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://github.com/psf/requests":                      "https://github.com/psf/requests",
		"git+https://github.com/psf/requests.git":              "https://github.com/psf/requests",
		"git+ssh://git@github.com/stevemao/left-pad.git":       "https://github.com/stevemao/left-pad",
		"git@gitlab.com:group/proj.git":                        "https://gitlab.com/group/proj",
		"https://www.github.com/o/r/tree/main/sub":             "https://github.com/o/r",
		"https://github.com/o":                                 "",
		"https://requests.readthedocs.io":                      "",
		"https://evil.example/github.com/o/r":                  "",
		"https://gitlab.com/00/0\xcb\xcb%00000":                "",
		"https://github.com/o/r%20x":                           "",
		"https://github.com/../r":                              "",
		"https://github.com/my.org/my_repo-2.git":              "https://github.com/my.org/my_repo-2",
		"https://gitlab.com/g/sub/proj":                        "https://gitlab.com/g/sub/proj",
		"https://gitlab.com/g/sub/proj/-/tree/main/docs":       "https://gitlab.com/g/sub/proj",
		"git@gitlab.com:g/sub/proj.git":                        "https://gitlab.com/g/sub/proj",
		"https://gitlab.com/g/proj/tree/master":                "https://gitlab.com/g/proj",
		"https://gitlab.com/g/proj/blob/main/x.py":             "https://gitlab.com/g/proj",
		"https://gitlab.com/g/-/tree/main":                     "",
		"https://gitlab.com/" + strings.Repeat("g/", 22) + "p": "",
		"https://github.com/o/r/extra/path":                    "https://github.com/o/r",
		"":                                                     "",
	} {
		if got := registry.ForgeRepo(in); got != want {
			t.Errorf("ForgeRepo(%q) = %q, want %q", in, got, want)
		}
	}
}

type source func(context.Context, deps.Package) (*registry.Facts, error)

func (s source) Facts(ctx context.Context, p deps.Package) (*registry.Facts, error) { return s(ctx, p) }

func TestCollect(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int32
	boom := errors.New("boom")
	src := source(func(ctx context.Context, p deps.Package) (*registry.Facts, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		if p.Name == "bad" {
			return nil, boom
		}
		return &registry.Facts{Author: registry.Some(p.Name)}, nil
	})
	var pkgs []deps.Package
	for _, n := range []string{"a", "bad", "c", "d", "e", "f", "g", "h"} {
		pkgs = append(pkgs, deps.Package{Ecosystem: deps.PyPI, Name: n})
	}
	res, err := registry.Collect(t.Context(), src, pkgs, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Package.PURL() != pkgs[i].PURL() {
			t.Errorf("result %d is for %s", i, r.Package.Name)
		}
		if r.Package.Name == "bad" {
			if !errors.Is(r.Err, boom) || r.Facts != nil {
				t.Errorf("bad: %v, %v", r.Facts, r.Err)
			}
		} else if r.Err != nil || r.Facts.Author.V != r.Package.Name {
			t.Errorf("%s: %v, %v", r.Package.Name, r.Facts, r.Err)
		}
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("%d requests at once, limit 3", p)
	}
}

func TestCachedIgnoresCorruptEntries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := cache.Open(dir, "npm", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	fetch := func(context.Context) (*registry.Facts, error) {
		calls++
		return &registry.Facts{Likes: registry.Some[int64](1)}, nil
	}
	if _, err := registry.Cached(t.Context(), c, "k", fetch); err != nil {
		t.Fatal(err)
	}
	// Overwrite the entry with valid framing around invalid JSON.
	if err := c.Put("k", []byte(`{"likes":"many"}`)); err != nil {
		t.Fatal(err)
	}
	got, err := registry.Cached(t.Context(), c, "k", fetch)
	if err != nil || calls != 2 || got.Likes.V != 1 {
		t.Errorf("got %+v, %v after %d fetches; want a refetch", got, err, calls)
	}
	// Errors are not cached.
	failing := func(context.Context) (*registry.Facts, error) { return nil, errors.New("down") }
	if _, err := registry.Cached(t.Context(), c, "k2", failing); err == nil {
		t.Error("no error")
	}
	if _, ok := c.Get("k2"); ok {
		t.Error("an error was cached")
	}
	// A nil cache just fetches.
	if _, err := registry.Cached(t.Context(), nil, "k", fetch); err != nil || calls != 3 {
		t.Errorf("nil cache: %v, %d fetches", err, calls)
	}
}

func TestPlausibleTimes(t *testing.T) {
	t.Parallel()
	east := time.FixedZone("+14", 14*3600)
	for _, tt := range []struct {
		t    time.Time
		want bool
	}{
		{time.Time{}, false},
		{time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), false},
		{time.Unix(0, 0), false}, // the epoch is a placeholder, not a release
		{time.Date(2024, 5, 29, 15, 37, 49, 0, east), true},
		{time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC), true},
		// A registry can write 9999-12-31T23:00:00-05:00, which is year
		// 10000 in UTC: JSON (the cache, the report) cannot hold it.
		{time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("-05", -5*3600)), false},
	} {
		if got := registry.Plausible(tt.t); got != tt.want {
			t.Errorf("Plausible(%s) = %v, want %v", tt.t, got, tt.want)
		}
		k := registry.SomeTime(tt.t)
		if k.OK != tt.want || (k.OK && (k.V.Location() != time.UTC || !k.V.Equal(tt.t))) {
			t.Errorf("SomeTime(%s) = %+v", tt.t, k)
		}
		if k.OK {
			if _, err := json.Marshal(registry.Facts{FirstRelease: k}); err != nil {
				t.Errorf("SomeTime(%s) cannot be written: %v", tt.t, err)
			}
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 2, "ab"},
		{"aé", 2, "a"}, // é is two bytes: not split
		{"aé", 3, "aé"},
		{"日本", 4, "日"},
		{"x", 0, ""},
	} {
		if got := registry.Clip(tt.s, tt.n); got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
