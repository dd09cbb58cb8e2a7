// Package pypi reads package facts from the PyPI JSON API
// (https://docs.pypi.org/api/json/) or a mirror of it.
package pypi

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

// Client asks one PyPI-compatible index.
type Client struct {
	http  *httpx.Client
	cache *cache.Cache
}

// New returns a client of base (registry.DefaultPyPIURL or a mirror); c may be nil.
func New(base string, hc *http.Client, c *cache.Cache, opts ...httpx.Option) (*Client, error) {
	h, err := httpx.New(base, hc, opts...)
	if err != nil {
		return nil, fmt.Errorf("pypi: %w", err)
	}
	return &Client{http: h, cache: c}, nil
}

// project is the part of /pypi/{name}/json and /pypi/{name}/{version}/json we read.
type project struct {
	Info struct {
		Name              string            `json:"name"`
		Version           string            `json:"version"`
		License           *string           `json:"license"`
		LicenseExpression *string           `json:"license_expression"`
		Classifiers       []string          `json:"classifiers"`
		HomePage          *string           `json:"home_page"`
		ProjectURLs       map[string]string `json:"project_urls"`
		Yanked            *bool             `json:"yanked"`
		YankedReason      *string           `json:"yanked_reason"`
	} `json:"info"`
	Releases  map[string][]file `json:"releases"`
	URLs      []file            `json:"urls"`
	Ownership *struct {
		Organization *string `json:"organization"`
		Roles        []struct {
			Role string `json:"role"`
			User string `json:"user"`
		} `json:"roles"`
	} `json:"ownership"`
}

type file struct {
	Filename     string    `json:"filename"`
	UploadTime   time.Time `json:"upload_time_iso_8601"`
	Yanked       bool      `json:"yanked"`
	YankedReason *string   `json:"yanked_reason"`
}

// Facts returns what PyPI says about p; an unknown project is
// httpx.ErrNotFound. A pinned version that PyPI does not have leaves the
// version's facts unknown.
func (c *Client) Facts(ctx context.Context, p deps.Package) (*registry.Facts, error) {
	if p.Ecosystem != deps.PyPI {
		return nil, fmt.Errorf("pypi: not a PyPI package: %s", p.PURL())
	}
	key := deps.Package{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version}.PURL()
	return registry.Cached(ctx, c.cache, key, func(ctx context.Context) (*registry.Facts, error) {
		return c.fetch(ctx, p)
	})
}

func (c *Client) fetch(ctx context.Context, p deps.Package) (*registry.Facts, error) {
	name := url.PathEscape(deps.NormalizePyPI(p.Name))
	var proj project
	if err := c.http.GetJSON(ctx, "/pypi/"+name+"/json", &proj); err != nil {
		return nil, fmt.Errorf("pypi: fetching %s: %w", p.Name, err)
	}
	info := proj // the metadata of the version in question
	if p.Version != "" {
		var v project
		err := c.http.GetJSON(ctx, "/pypi/"+name+"/"+url.PathEscape(p.Version)+"/json", &v)
		switch {
		case err == nil:
			info = v
		case errors.Is(err, httpx.ErrNotFound):
			info = project{}
		default:
			return nil, fmt.Errorf("pypi: fetching %s %s: %w", p.Name, p.Version, err)
		}
	}
	f := &registry.Facts{}
	if o := proj.Ownership; o != nil {
		names := []string{} // known-empty, not nil: nil would read back from the cache as unknown
		for _, r := range o.Roles {
			if r.User != "" && !slices.Contains(names, r.User) {
				names = append(names, r.User)
			}
		}
		// An organisation-owned project may list no roles: the people
		// behind it are not public, so the count is unknown.
		if len(names) > 0 || o.Organization == nil {
			f.Maintainers = registry.Some(len(names))
			f.MaintainerNames = registry.Some(names)
		}
	}
	if proj.Releases != nil {
		var first, latest time.Time
		n := 0
		for _, files := range proj.Releases {
			if len(files) == 0 {
				continue // a version with no files was never installable
			}
			n++
			for _, fl := range files {
				t := fl.UploadTime
				if !registry.Plausible(t) {
					continue
				}
				if first.IsZero() || t.Before(first) {
					first = t
				}
				if t.After(latest) {
					latest = t
				}
			}
		}
		f.Versions = registry.Some(n)
		if !first.IsZero() {
			f.FirstRelease = registry.SomeTime(first)
			f.LatestRelease = registry.SomeTime(latest)
		}
	}
	if p.Version != "" {
		files := info.URLs
		if len(files) == 0 {
			files = proj.Releases[p.Version]
		}
		if len(files) > 0 {
			var t time.Time
			allYanked := true
			reason := ""
			for _, fl := range files {
				if registry.Plausible(fl.UploadTime) && (t.IsZero() || fl.UploadTime.Before(t)) {
					t = fl.UploadTime
				}
				allYanked = allYanked && fl.Yanked
				if fl.YankedReason != nil && reason == "" {
					reason = *fl.YankedReason
				}
			}
			if !t.IsZero() {
				f.VersionRelease = registry.SomeTime(t)
			}
			f.Yanked = registry.Some(allYanked)
			if allYanked {
				f.YankedReason = registry.Some(reason)
			}
		}
		if info.Info.Yanked != nil {
			f.Yanked = registry.Some(*info.Info.Yanked)
			switch {
			case !*info.Info.Yanked:
				f.YankedReason = registry.Known[string]{} // the files' reasons no longer apply
			case info.Info.YankedReason != nil:
				f.YankedReason = registry.Some(*info.Info.YankedReason)
			}
		}
	}
	if l, ok := license(info); ok {
		f.License = registry.Some(l)
	}
	for _, cl := range info.Info.Classifiers {
		if s, ok := strings.CutPrefix(cl, "Development Status :: "); ok && strings.TrimSpace(s) != "" {
			f.DevStatus = registry.Some(strings.TrimSpace(s))
		}
	}
	if info.Info.ProjectURLs != nil || info.Info.HomePage != nil {
		home := ""
		if info.Info.HomePage != nil {
			home = *info.Info.HomePage
		}
		if r := SourceRepo(info.Info.ProjectURLs, home); r != "" {
			f.SourceRepo = registry.Some(r)
		}
	}
	return f, nil
}

// maxLicense bounds a licence that is the whole licence text.
const maxLicense = 200

func license(p project) (string, bool) {
	in := p.Info
	if in.LicenseExpression != nil && strings.TrimSpace(*in.LicenseExpression) != "" {
		return strings.TrimSpace(*in.LicenseExpression), true
	}
	if in.License != nil {
		if l := strings.TrimSpace(*in.License); l != "" && !strings.EqualFold(l, "UNKNOWN") {
			return strings.TrimSpace(registry.Clip(l, maxLicense)), true
		}
	}
	for _, cl := range in.Classifiers {
		if s, ok := strings.CutPrefix(cl, "License :: "); ok {
			parts := strings.Split(s, " :: ")
			if l := strings.TrimSpace(parts[len(parts)-1]); l != "" {
				return l, true
			}
		}
	}
	return "", false
}

// SourceRepo picks the source repository from a project's URLs: the first
// forge URL among labels that name source code, then any forge URL, then the
// home page. It returns "https://host/owner/repo" or "".
func SourceRepo(urls map[string]string, homePage string) string {
	labels := make([]string, 0, len(urls))
	for k := range urls {
		labels = append(labels, k)
	}
	slices.Sort(labels)
	sourceish := func(label string) bool {
		l := strings.ToLower(label)
		for _, w := range []string{"source", "repository", "code", "github", "gitlab", "git"} {
			if strings.Contains(l, w) {
				return true
			}
		}
		return false
	}
	for _, pass := range []func(string) bool{sourceish, func(string) bool { return true }} {
		for _, l := range labels {
			if pass(l) {
				if r := registry.ForgeRepo(urls[l]); r != "" {
					return r
				}
			}
		}
	}
	return registry.ForgeRepo(homePage)
}
