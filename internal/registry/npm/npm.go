// Package npm reads package facts from the npm registry's packuments
// (GET {base}/{name}, https://github.com/npm/registry/blob/main/docs/responses/package-metadata.md)
// or a mirror of it.
package npm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/cache"
	"github.com/mlguard/mlguard/internal/registry/httpx"
)

// InstallScripts are the lifecycle scripts npm runs on install.
var InstallScripts = []string{"preinstall", "install", "postinstall"}

// Client asks one npm-compatible registry.
type Client struct {
	http  *httpx.Client
	cache *cache.Cache
}

// New returns a client of base (registry.DefaultNPMURL or a mirror); c may be nil.
func New(base string, hc *http.Client, c *cache.Cache, opts ...httpx.Option) (*Client, error) {
	h, err := httpx.New(base, hc, opts...)
	if err != nil {
		return nil, fmt.Errorf("npm: %w", err)
	}
	return &Client{http: h, cache: c}, nil
}

type person struct {
	Name string `json:"name"`
}

// packument is the part of the full package document we read.
type packument struct {
	Name        string                     `json:"name"`
	DistTags    map[string]string          `json:"dist-tags"`
	Time        map[string]string          `json:"time"`
	Maintainers []person                   `json:"maintainers"`
	Versions    map[string]json.RawMessage `json:"versions"`
	Repository  json.RawMessage            `json:"repository"`
	License     json.RawMessage            `json:"license"`
}

type version struct {
	Scripts    map[string]string `json:"scripts"`
	Deprecated json.RawMessage   `json:"deprecated"` // a message; some old packuments have false
	Repository json.RawMessage   `json:"repository"`
	License    json.RawMessage   `json:"license"`
	GypFile    bool              `json:"gypfile"`
}

// PathName escapes a package name for the registry: "@scope/name" becomes
// "@scope%2fname".
func PathName(name string) string {
	if scope, n, ok := strings.Cut(name, "/"); ok && strings.HasPrefix(scope, "@") {
		return "@" + url.PathEscape(scope[1:]) + "%2f" + url.PathEscape(n)
	}
	return url.PathEscape(name)
}

// Facts returns what the registry says about p; an unknown package is
// httpx.ErrNotFound. A pinned version the packument lacks leaves the
// version's facts unknown.
func (c *Client) Facts(ctx context.Context, p deps.Package) (*registry.Facts, error) {
	if p.Ecosystem != deps.NPM {
		return nil, fmt.Errorf("npm: not an npm package: %s", p.PURL())
	}
	key := deps.Package{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version}.PURL()
	return registry.Cached(ctx, c.cache, key, func(ctx context.Context) (*registry.Facts, error) {
		var doc packument
		if err := c.http.GetJSON(ctx, "/"+PathName(p.Name), &doc); err != nil {
			return nil, fmt.Errorf("npm: fetching %s: %w", p.Name, err)
		}
		return facts(&doc, p.Version), nil
	})
}

func facts(doc *packument, ver string) *registry.Facts {
	f := &registry.Facts{}
	if doc.Maintainers != nil {
		names := []string{} // known-empty, not nil: nil would read back from the cache as unknown
		for _, m := range doc.Maintainers {
			if m.Name != "" && !slices.Contains(names, m.Name) {
				names = append(names, m.Name)
			}
		}
		f.Maintainers = registry.Some(len(names))
		f.MaintainerNames = registry.Some(names)
	}
	if doc.Versions != nil {
		f.Versions = registry.Some(len(doc.Versions))
	}
	// The first release is "created", or an older version's time should
	// the packument disagree with itself; the latest is the newest version's.
	first, _ := parseTime(doc.Time["created"])
	var latest time.Time
	for v, s := range doc.Time {
		if v == "created" || v == "modified" {
			continue
		}
		if t, ok := parseTime(s); ok {
			if first.IsZero() || t.Before(first) {
				first = t
			}
			if t.After(latest) {
				latest = t
			}
		}
	}
	if !first.IsZero() {
		f.FirstRelease = registry.Some(first)
	}
	if !latest.IsZero() {
		f.LatestRelease = registry.Some(latest)
	}
	repo, lic := doc.Repository, doc.License
	if ver != "" {
		if t, ok := parseTime(doc.Time[ver]); ok {
			f.VersionRelease = registry.Some(t)
		}
		if raw, ok := doc.Versions[ver]; ok {
			var v version
			if json.Unmarshal(raw, &v) == nil {
				var msg string
				if json.Unmarshal(v.Deprecated, &msg) == nil && msg != "" {
					f.Deprecated = registry.Some(true)
					f.DeprecatedReason = registry.Some(msg)
				} else {
					f.Deprecated = registry.Some(false)
				}
				scripts := []string{}
				for _, s := range InstallScripts {
					if strings.TrimSpace(v.Scripts[s]) != "" {
						scripts = append(scripts, s)
					}
				}
				// npm runs "node-gyp rebuild" as the install script of a
				// package with a binding.gyp and no install script.
				if v.GypFile && !slices.Contains(scripts, "install") {
					scripts = append(scripts, "install")
				}
				f.InstallScripts = registry.Some(scripts)
				if len(v.Repository) > 0 {
					repo = v.Repository
				}
				if len(v.License) > 0 {
					lic = v.License
				}
			}
		}
	}
	if r := repoURL(repo); r != "" {
		f.SourceRepo = registry.Some(r)
	}
	if l := licenseOf(lic); l != "" {
		f.License = registry.Some(l)
	}
	return f
}

// parseTime reads one of the packument's times; unparsable and implausible
// times are not ok.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !registry.Plausible(t) {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// repoURL reads "repository": a string ("github:o/r", "o/r", a URL) or
// {"type":"git","url":"git+https://github.com/o/r.git"}.
func repoURL(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var o struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(raw, &o) != nil {
			return ""
		}
		s = o.URL
	}
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "github:"); ok {
		s = "https://github.com/" + rest
	} else if rest, ok := strings.CutPrefix(s, "gitlab:"); ok {
		s = "https://gitlab.com/" + rest
	} else if !strings.Contains(s, ":") && strings.Count(s, "/") == 1 {
		s = "https://github.com/" + s // npm's shorthand
	}
	return registry.ForgeRepo(s)
}

// licenseOf reads "license": an SPDX string or the legacy {"type": "MIT"}.
func licenseOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var o struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return strings.TrimSpace(o.Type)
	}
	return ""
}
