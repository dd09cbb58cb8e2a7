// Package depsdev reads a package version's source repository and licences
// and the repository's OpenSSF Scorecard from the deps.dev v3 API
// (https://docs.deps.dev/api/v3/), and, for Maven, which has no registry
// client of its own, the release times from the package's version list.
package depsdev

import (
	"context"
	"errors"
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

// System is deps.dev's name for an ecosystem of deps, "" when it has none.
func System(eco string) string {
	switch eco {
	case deps.PyPI:
		return "PYPI"
	case deps.NPM:
		return "NPM"
	case deps.Go:
		return "GO"
	case deps.Cargo:
		return "CARGO"
	case deps.Maven:
		return "MAVEN"
	}
	return ""
}

// releaseTimes reports whether deps.dev is the source of eco's release
// times and version count: Maven, which has no registry client in mlguard.
func releaseTimes(eco string) bool { return eco == deps.Maven }

// Client asks one deps.dev API.
type Client struct {
	http  *httpx.Client
	cache *cache.Cache
}

// New returns a client of base (registry.DefaultDepsDevURL or a mirror); c may be nil.
func New(base string, hc *http.Client, c *cache.Cache, opts ...httpx.Option) (*Client, error) {
	h, err := httpx.New(base, hc, opts...)
	if err != nil {
		return nil, fmt.Errorf("depsdev: %w", err)
	}
	return &Client{http: h, cache: c}, nil
}

type pkgResponse struct {
	Versions []struct {
		VersionKey struct {
			Version string `json:"version"`
		} `json:"versionKey"`
		PublishedAt time.Time `json:"publishedAt"`
		IsDefault   bool      `json:"isDefault"`
	} `json:"versions"`
}

type versionResponse struct {
	PublishedAt time.Time `json:"publishedAt"`
	Licenses    []string  `json:"licenses"`
	Links       []struct {
		Label string `json:"label"`
		URL   string `json:"url"`
	} `json:"links"`
	RelatedProjects []struct {
		ProjectKey struct {
			ID string `json:"id"`
		} `json:"projectKey"`
		RelationProvenance string `json:"relationProvenance"`
		RelationType       string `json:"relationType"`
	} `json:"relatedProjects"`
}

type projectResponse struct {
	Scorecard *struct {
		OverallScore *float64 `json:"overallScore"`
	} `json:"scorecard"`
}

// Facts returns SourceRepo, License, VersionRelease, Versions (when the
// package is unpinned, or Maven) and Scorecard; for Maven also FirstRelease
// and LatestRelease. An unpinned package is looked at in its default
// version. An unknown package is httpx.ErrNotFound; an ecosystem deps.dev
// lacks gives empty facts.
func (c *Client) Facts(ctx context.Context, p deps.Package) (*registry.Facts, error) {
	sys := System(p.Ecosystem)
	if sys == "" {
		return &registry.Facts{}, nil
	}
	key := deps.Package{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version}.PURL()
	return registry.Cached(ctx, c.cache, key, func(ctx context.Context) (*registry.Facts, error) {
		return c.fetch(ctx, sys, p)
	})
}

func (c *Client) fetch(ctx context.Context, sys string, p deps.Package) (*registry.Facts, error) {
	f := &registry.Facts{}
	name := p.Name
	if p.Ecosystem == deps.PyPI {
		name = deps.NormalizePyPI(name)
	}
	pkgPath := "/v3/systems/" + sys + "/packages/" + url.PathEscape(name)
	ver := p.Version
	// The version list gives an unpinned package's default version and,
	// where deps.dev is the only source (Maven), the release times; other
	// ecosystems' registries give those, so a pinned package of theirs
	// costs no request for it.
	if ver == "" || releaseTimes(p.Ecosystem) {
		var pr pkgResponse
		if err := c.http.GetJSON(ctx, pkgPath, &pr); err != nil {
			return nil, fmt.Errorf("depsdev: fetching %s: %w", p.Name, err)
		}
		f.Versions = registry.Some(len(pr.Versions))
		var first, latest time.Time
		def := ""
		for _, v := range pr.Versions {
			if v.IsDefault {
				def = v.VersionKey.Version
			}
			if t := v.PublishedAt; registry.Plausible(t) {
				if first.IsZero() || t.Before(first) {
					first = t
				}
				if t.After(latest) {
					latest = t
				}
			}
		}
		if releaseTimes(p.Ecosystem) && !first.IsZero() {
			f.FirstRelease = registry.SomeTime(first)
			f.LatestRelease = registry.SomeTime(latest)
		}
		if ver == "" {
			ver = def
		}
		if ver == "" {
			return f, nil
		}
	}
	var vr versionResponse
	if err := c.http.GetJSON(ctx, pkgPath+"/versions/"+url.PathEscape(ver), &vr); err != nil {
		return nil, fmt.Errorf("depsdev: fetching %s@%s: %w", p.Name, ver, err)
	}
	if p.Version != "" {
		f.VersionRelease = registry.SomeTime(vr.PublishedAt)
	}
	var lics []string
	for _, l := range vr.Licenses {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(lics, l) {
			lics = append(lics, l)
		}
	}
	if len(lics) > 0 {
		f.License = registry.Some(strings.Join(lics, " AND "))
	}
	project := ""
	for _, rp := range vr.RelatedProjects {
		if rp.RelationType == "SOURCE_REPO" && rp.ProjectKey.ID != "" {
			project = rp.ProjectKey.ID
			break
		}
	}
	repo := ""
	if project != "" {
		repo = registry.ForgeRepo("https://" + project)
	}
	if repo == "" {
		for _, l := range vr.Links {
			if l.Label == "SOURCE_REPO" {
				if repo = registry.ForgeRepo(l.URL); repo != "" {
					break
				}
			}
		}
	}
	if repo != "" {
		f.SourceRepo = registry.Some(repo)
	}
	if project == "" && repo != "" {
		project = strings.TrimPrefix(repo, "https://")
	}
	if project != "" {
		var pr projectResponse
		err := c.http.GetJSON(ctx, "/v3/projects/"+url.PathEscape(project), &pr)
		switch {
		case errors.Is(err, httpx.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("depsdev: fetching project %s: %w", project, err)
		case pr.Scorecard != nil && pr.Scorecard.OverallScore != nil:
			if s := *pr.Scorecard.OverallScore; s >= 0 && s <= 10 { // outside 0-10 is no score
				f.Scorecard = registry.Some(s)
			}
		}
	}
	return f, nil
}
