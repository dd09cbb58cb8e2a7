// Package crates reads crate facts from the crates.io API
// (GET /api/v1/crates/{name} and /api/v1/crates/{name}/owners,
// https://crates.io/data-access) or a mirror of it.
//
// crates.io asks API users for a User-Agent naming the client and how to
// reach its authors (httpx sends one) and for at most one request a second:
// a client of the public crates.io spaces its requests by PublicInterval.
package crates

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/cache"
	"github.com/mlguard/mlguard/internal/registry/httpx"
)

// PublicInterval is the least time between two requests to crates.io, as
// its data access policy asks. Mirrors are not spaced.
const PublicInterval = time.Second

// Client asks one crates.io-compatible API.
type Client struct {
	http  *httpx.Client
	cache *cache.Cache
}

// New returns a client of base (registry.DefaultCratesURL or a mirror); c
// may be nil. Requests to crates.io itself are spaced by PublicInterval
// unless opts say otherwise (httpx.WithMinInterval).
func New(base string, hc *http.Client, c *cache.Cache, opts ...httpx.Option) (*Client, error) {
	if u, err := url.Parse(base); err == nil && strings.EqualFold(u.Hostname(), "crates.io") {
		opts = append([]httpx.Option{httpx.WithMinInterval(PublicInterval)}, opts...)
	}
	h, err := httpx.New(base, hc, opts...)
	if err != nil {
		return nil, fmt.Errorf("crates: %w", err)
	}
	return &Client{http: h, cache: c}, nil
}

// validName is a crate name as crates.io accepts them (at most 64 characters).
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// crateResponse is the part of /api/v1/crates/{name} we read.
type crateResponse struct {
	Crate *struct {
		Name       string    `json:"name"`
		CreatedAt  time.Time `json:"created_at"`
		Repository *string   `json:"repository"`
		Homepage   *string   `json:"homepage"`
	} `json:"crate"`
	Versions []version `json:"versions"` // newest first; absent: unknown
}

type version struct {
	Num         string    `json:"num"`
	CreatedAt   time.Time `json:"created_at"`
	Yanked      bool      `json:"yanked"`
	YankMessage *string   `json:"yank_message"`
	License     *string   `json:"license"`
}

// ownersResponse is /api/v1/crates/{name}/owners: users and teams alike.
type ownersResponse struct {
	Users []struct {
		Login string `json:"login"` // "dtolnay", or "github:serde-rs:publish" for a team
		Kind  string `json:"kind"`  // "user" or "team"
	} `json:"users"`
}

// Facts returns the crate's owners (a team counts as one), its first and
// latest release, the pinned version's release time, yank and licence (the
// latest release's licence when unpinned), the number of versions and the
// source repository. An unknown crate is httpx.ErrNotFound; a pinned
// version crates.io does not have leaves the version's facts unknown.
func (c *Client) Facts(ctx context.Context, p deps.Package) (*registry.Facts, error) {
	if p.Ecosystem != deps.Cargo {
		return nil, fmt.Errorf("crates: not a crate: %s", p.PURL())
	}
	if !validName.MatchString(p.Name) {
		return nil, fmt.Errorf("crates: bad crate name %q", p.Name)
	}
	key := deps.Package{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version}.PURL()
	return registry.Cached(ctx, c.cache, key, func(ctx context.Context) (*registry.Facts, error) {
		return c.fetch(ctx, p)
	})
}

func (c *Client) fetch(ctx context.Context, p deps.Package) (*registry.Facts, error) {
	path := "/api/v1/crates/" + url.PathEscape(p.Name)
	var cr crateResponse
	if err := c.http.GetJSON(ctx, path, &cr); err != nil {
		return nil, fmt.Errorf("crates: fetching %s: %w", p.Name, err)
	}
	if cr.Crate == nil {
		return nil, fmt.Errorf("crates: fetching %s: the answer holds no crate", p.Name)
	}
	var or ownersResponse
	switch err := c.http.GetJSON(ctx, path+"/owners", &or); {
	case errors.Is(err, httpx.ErrNotFound):
		or.Users = nil // the owners are unknown, the rest still holds
	case err != nil:
		return nil, fmt.Errorf("crates: fetching the owners of %s: %w", p.Name, err)
	}

	f := &registry.Facts{}
	if or.Users != nil {
		names := []string{} // known-empty, not nil: nil would read back from the cache as unknown
		for _, u := range or.Users {
			if l := strings.TrimSpace(u.Login); l != "" && !slices.Contains(names, l) {
				names = append(names, l)
			}
		}
		f.Maintainers = registry.Some(len(names))
		f.MaintainerNames = registry.Some(names)
	}

	first := cr.Crate.CreatedAt
	if !registry.Plausible(first) {
		first = time.Time{}
	}
	var latest, latestYanked *version // the newest release, and the newest of all
	var nums []string
	for i := range cr.Versions {
		v := &cr.Versions[i]
		if v.Num == "" || slices.Contains(nums, v.Num) {
			continue
		}
		nums = append(nums, v.Num)
		t := v.CreatedAt
		if !registry.Plausible(t) {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if latestYanked == nil || t.After(latestYanked.CreatedAt) {
			latestYanked = v
		}
		if !v.Yanked && (latest == nil || t.After(latest.CreatedAt)) {
			latest = v
		}
	}
	if cr.Versions != nil {
		f.Versions = registry.Some(len(nums))
	}
	if latest == nil {
		latest = latestYanked // every version yanked: the last upload is still the latest
	}
	f.FirstRelease = registry.SomeTime(first)
	if latest != nil {
		f.LatestRelease = registry.SomeTime(latest.CreatedAt)
	}

	licensed := latest // whose licence is reported
	if p.Version != "" {
		licensed = nil
		if i := slices.IndexFunc(cr.Versions, func(v version) bool { return v.Num == p.Version }); i >= 0 {
			v := &cr.Versions[i]
			licensed = v
			f.VersionRelease = registry.SomeTime(v.CreatedAt)
			f.Yanked = registry.Some(v.Yanked)
			if v.Yanked && v.YankMessage != nil && strings.TrimSpace(*v.YankMessage) != "" {
				f.YankedReason = registry.Some(strings.TrimSpace(*v.YankMessage))
			}
		}
	}
	if licensed != nil && licensed.License != nil {
		if l := License(*licensed.License); l != "" {
			f.License = registry.Some(l)
		}
	}

	for _, u := range []*string{cr.Crate.Repository, cr.Crate.Homepage} {
		if u == nil {
			continue
		}
		if r := registry.ForgeRepo(*u); r != "" {
			f.SourceRepo = registry.Some(r)
			break
		}
	}
	return f, nil
}

// License is a crate's licence as an SPDX expression: crates.io's legacy
// "MIT/Apache-2.0" means "MIT OR Apache-2.0".
func License(s string) string {
	parts := strings.Split(s, "/")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	parts = slices.DeleteFunc(parts, func(p string) bool { return p == "" })
	return strings.Join(parts, " OR ")
}
