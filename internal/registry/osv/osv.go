// Package osv reads advisories from the OSV API (https://google.github.io/osv.dev/api/):
// POST /v1/querybatch for the ids affecting many packages at once, then
// GET /v1/vulns/{id} for each advisory's details. Ids starting "MAL-" are
// malicious-package reports.
package osv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/cache"
	"github.com/mlguard/mlguard/internal/registry/httpx"
)

// API limits.
const (
	BatchSize         = 1000 // queries per querybatch request, as the API allows
	MaxPages          = 10   // next_page_token rounds followed per batch
	DetailConcurrency = 16   // /v1/vulns requests at once
)

// Ecosystem is OSV's name for an ecosystem of deps, "" when OSV has none.
func Ecosystem(eco string) string {
	switch eco {
	case deps.PyPI:
		return "PyPI"
	case deps.NPM:
		return "npm"
	case deps.Go:
		return "Go"
	case deps.Cargo:
		return "crates.io"
	case deps.Maven:
		return "Maven"
	}
	return ""
}

// Client asks one OSV API.
type Client struct {
	http  *httpx.Client
	cache *cache.Cache // facts by purl, and advisory details by id@modified
}

// New returns a client of base (registry.DefaultOSVURL or a mirror); c may be nil.
func New(base string, hc *http.Client, c *cache.Cache, opts ...httpx.Option) (*Client, error) {
	h, err := httpx.New(base, hc, opts...)
	if err != nil {
		return nil, fmt.Errorf("osv: %w", err)
	}
	return &Client{http: h, cache: c}, nil
}

type query struct {
	Package   queryPackage `json:"package"`
	Version   string       `json:"version,omitempty"`
	PageToken string       `json:"page_token,omitempty"`
}

type queryPackage struct {
	Name      string `json:"name"`
	Ecosystem string `json:"ecosystem"`
}

type batchResponse struct {
	Results []struct {
		Vulns []struct {
			ID       string `json:"id"`
			Modified string `json:"modified"`
		} `json:"vulns"`
		NextPageToken string `json:"next_page_token"`
	} `json:"results"`
}

type vuln struct {
	ID       string   `json:"id"`
	Summary  string   `json:"summary"`
	Details  string   `json:"details"`
	Aliases  []string `json:"aliases"`
	Severity []struct {
		Type  string `json:"type"`
		Score string `json:"score"`
	} `json:"severity"`
	DatabaseSpecific struct {
		Severity string `json:"severity"`
	} `json:"database_specific"`
	Affected []struct {
		EcosystemSpecific struct {
			Severity string `json:"severity"`
		} `json:"ecosystem_specific"`
	} `json:"affected"`
}

func cacheKey(p deps.Package) string {
	return deps.Package{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version}.PURL()
}

// Facts returns p's advisories (only Advisories is set). For an unpinned
// package they are the advisories of any version. An ecosystem OSV does
// not cover leaves Advisories unknown.
func (c *Client) Facts(ctx context.Context, p deps.Package) (*registry.Facts, error) {
	res, err := c.Query(ctx, []deps.Package{p})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// Query returns the facts (Advisories only) of every package, in order,
// with one querybatch request per BatchSize packages not already cached.
func (c *Client) Query(ctx context.Context, pkgs []deps.Package) ([]*registry.Facts, error) {
	out := make([]*registry.Facts, len(pkgs))
	var todo []int
	for i, p := range pkgs {
		if Ecosystem(p.Ecosystem) == "" {
			out[i] = &registry.Facts{}
			continue
		}
		if b, ok := c.cache.Get(cacheKey(p)); ok {
			var f registry.Facts
			if json.Unmarshal(b, &f) == nil {
				out[i] = &f
				continue
			}
		}
		todo = append(todo, i)
	}
	for len(todo) > 0 {
		n := min(len(todo), BatchSize)
		chunk := todo[:n]
		todo = todo[n:]
		ids, err := c.batch(ctx, pkgs, chunk)
		if err != nil {
			return nil, err
		}
		details, err := c.details(ctx, ids)
		if err != nil {
			return nil, err
		}
		for k, i := range chunk {
			advs := []registry.Advisory{}
			for _, id := range ids[k] {
				advs = append(advs, details[id.id])
			}
			f := &registry.Facts{Advisories: registry.Some(advs)}
			out[i] = f
			if b, err := json.Marshal(f); err == nil {
				_ = c.cache.Put(cacheKey(pkgs[i]), b)
			}
		}
	}
	return out, nil
}

type vulnRef struct{ id, modified string }

// batch returns, for each package of chunk, the ids of its advisories,
// following next_page_token up to MaxPages times.
func (c *Client) batch(ctx context.Context, pkgs []deps.Package, chunk []int) ([][]vulnRef, error) {
	ids := make([][]vulnRef, len(chunk))
	queries := make([]query, len(chunk))
	for k, i := range chunk {
		p := pkgs[i]
		name := p.Name
		if p.Ecosystem == deps.PyPI {
			name = deps.NormalizePyPI(name)
		}
		queries[k] = query{Package: queryPackage{Name: name, Ecosystem: Ecosystem(p.Ecosystem)}, Version: p.Version}
	}
	pending := make([]int, len(chunk)) // positions in chunk still to ask
	for k := range pending {
		pending[k] = k
	}
	for page := 0; len(pending) > 0; page++ {
		if page >= MaxPages {
			return nil, fmt.Errorf("osv: querybatch: more than %d pages of results", MaxPages)
		}
		req := struct {
			Queries []query `json:"queries"`
		}{}
		for _, k := range pending {
			req.Queries = append(req.Queries, queries[k])
		}
		var resp batchResponse
		if err := c.http.PostJSON(ctx, "/v1/querybatch", req, &resp); err != nil {
			return nil, fmt.Errorf("osv: querybatch: %w", err)
		}
		if len(resp.Results) != len(pending) {
			return nil, fmt.Errorf("osv: querybatch: %d results for %d queries", len(resp.Results), len(pending))
		}
		var next []int
		for j, r := range resp.Results {
			k := pending[j]
			for _, v := range r.Vulns {
				if v.ID != "" && !slices.ContainsFunc(ids[k], func(x vulnRef) bool { return x.id == v.ID }) {
					ids[k] = append(ids[k], vulnRef{v.ID, v.Modified})
				}
			}
			if r.NextPageToken != "" {
				queries[k].PageToken = r.NextPageToken
				next = append(next, k)
			}
		}
		pending = next
	}
	return ids, nil
}

// details fetches every distinct advisory once, DetailConcurrency at a time.
func (c *Client) details(ctx context.Context, ids [][]vulnRef) (map[string]registry.Advisory, error) {
	var mu sync.Mutex
	out := map[string]registry.Advisory{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(DetailConcurrency)
	seen := map[string]bool{}
	for _, list := range ids {
		for _, ref := range list {
			if seen[ref.id] {
				continue
			}
			seen[ref.id] = true
			g.Go(func() error {
				a, err := c.detail(gctx, ref)
				if err != nil {
					return err
				}
				mu.Lock()
				out[ref.id] = a
				mu.Unlock()
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) detail(ctx context.Context, ref vulnRef) (registry.Advisory, error) {
	key := "vuln/" + ref.id + "@" + ref.modified
	if ref.modified != "" {
		if b, ok := c.cache.Get(key); ok {
			var a registry.Advisory
			if json.Unmarshal(b, &a) == nil && a.ID == ref.id {
				return a, nil
			}
		}
	}
	var v vuln
	if err := c.http.GetJSON(ctx, "/v1/vulns/"+url.PathEscape(ref.id), &v); err != nil {
		return registry.Advisory{}, fmt.Errorf("osv: fetching %s: %w", ref.id, err)
	}
	if v.ID == "" {
		v.ID = ref.id
	}
	a := Advisory(&v)
	if ref.modified != "" {
		if b, err := json.Marshal(a); err == nil {
			_ = c.cache.Put(key, b)
		}
	}
	return a, nil
}

// maxSummary bounds an advisory summary taken from its details.
const maxSummary = 200

// Advisory condenses an OSV record.
func Advisory(v *vuln) registry.Advisory {
	a := registry.Advisory{
		ID:        v.ID,
		Aliases:   v.Aliases,
		Summary:   strings.TrimSpace(v.Summary),
		Malicious: strings.HasPrefix(v.ID, "MAL-"),
	}
	if a.Summary == "" {
		s, _, _ := strings.Cut(strings.TrimSpace(v.Details), "\n")
		a.Summary = strings.TrimSpace(registry.Clip(s, maxSummary)) // whole characters only
	}
	best := ""
	for _, s := range v.Severity {
		if strings.HasPrefix(s.Type, "CVSS_") && s.Score != "" && s.Type > best { // the newest CVSS version
			best, a.CVSS = s.Type, s.Score
		}
	}
	a.Severity = strings.ToUpper(strings.TrimSpace(v.DatabaseSpecific.Severity))
	for _, af := range v.Affected {
		if a.Severity == "" {
			a.Severity = strings.ToUpper(strings.TrimSpace(af.EcosystemSpecific.Severity))
		}
	}
	if a.Severity == "" {
		a.Severity = a.CVSS
	}
	return a
}
