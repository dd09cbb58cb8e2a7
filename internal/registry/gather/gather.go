// Package gather asks every registry that knows something about a package
// and merges the answers: the ecosystem's own registry first, then OSV for
// advisories and deps.dev for the source repository and its Scorecard.
package gather

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/cache"
	"github.com/mlguard/mlguard/internal/registry/depsdev"
	"github.com/mlguard/mlguard/internal/registry/goproxy"
	"github.com/mlguard/mlguard/internal/registry/hf"
	"github.com/mlguard/mlguard/internal/registry/httpx"
	"github.com/mlguard/mlguard/internal/registry/npm"
	"github.com/mlguard/mlguard/internal/registry/osv"
	"github.com/mlguard/mlguard/internal/registry/pypi"
)

// DefaultTTL is how long cached facts are trusted.
const DefaultTTL = 24 * time.Hour

// Config names the endpoints (empty: the public services; enterprise
// mirrors go here) and the cache folder (empty: no cache).
type Config struct {
	PyPIURL, NPMURL, GoProxyURL, OSVURL, DepsDevURL, HFURL string
	CacheDir                                               string
	TTL                                                    time.Duration
	HTTPClient                                             *http.Client
	Options                                                []httpx.Option
}

// Gatherer is the set of clients.
type Gatherer struct {
	primary map[string]registry.Source // by ecosystem
	osv     registry.Source
	depsdev registry.Source
}

// New builds the clients.
func New(cfg Config) (*Gatherer, error) {
	ttl := cmp.Or(cfg.TTL, DefaultTTL)
	open := func(name string) (*cache.Cache, error) { return cache.Open(cfg.CacheDir, name, ttl) }
	g := &Gatherer{primary: map[string]registry.Source{}}
	type mk func(string, *http.Client, *cache.Cache, ...httpx.Option) (registry.Source, error)
	for _, c := range []struct {
		name, eco, base string
		new             mk
	}{
		{"pypi", deps.PyPI, cmp.Or(cfg.PyPIURL, registry.DefaultPyPIURL), func(b string, h *http.Client, c *cache.Cache, o ...httpx.Option) (registry.Source, error) {
			return pypi.New(b, h, c, o...)
		}},
		{"npm", deps.NPM, cmp.Or(cfg.NPMURL, registry.DefaultNPMURL), func(b string, h *http.Client, c *cache.Cache, o ...httpx.Option) (registry.Source, error) {
			return npm.New(b, h, c, o...)
		}},
		{"goproxy", deps.Go, cmp.Or(cfg.GoProxyURL, registry.DefaultGoProxyURL), func(b string, h *http.Client, c *cache.Cache, o ...httpx.Option) (registry.Source, error) {
			return goproxy.New(b, h, c, o...)
		}},
		{"hf", deps.HuggingFace, cmp.Or(cfg.HFURL, registry.DefaultHFURL), func(b string, h *http.Client, c *cache.Cache, o ...httpx.Option) (registry.Source, error) {
			return hf.New(b, h, c, o...)
		}},
		{"osv", "osv", cmp.Or(cfg.OSVURL, registry.DefaultOSVURL), func(b string, h *http.Client, c *cache.Cache, o ...httpx.Option) (registry.Source, error) {
			return osv.New(b, h, c, o...)
		}},
		{"depsdev", "depsdev", cmp.Or(cfg.DepsDevURL, registry.DefaultDepsDevURL), func(b string, h *http.Client, c *cache.Cache, o ...httpx.Option) (registry.Source, error) {
			return depsdev.New(b, h, c, o...)
		}},
	} {
		ch, err := open(c.name)
		if err != nil {
			return nil, fmt.Errorf("opening the %s cache: %w", c.name, err)
		}
		src, err := c.new(c.base, cfg.HTTPClient, ch, cfg.Options...)
		if err != nil {
			return nil, err
		}
		switch c.eco {
		case "osv":
			g.osv = src
		case "depsdev":
			g.depsdev = src
		default:
			g.primary[c.eco] = src
		}
	}
	return g, nil
}

// Facts asks the ecosystem's registry, OSV and deps.dev about p and merges
// what they say. Facts a source could not give stay unknown; the error joins
// every source's failure (the facts are still returned).
func (g *Gatherer) Facts(ctx context.Context, p deps.Package) (*registry.Facts, error) {
	facts := &registry.Facts{}
	var errs []error
	ask := func(name string, src registry.Source) {
		if src == nil {
			return
		}
		f, err := src.Facts(ctx, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		if f != nil {
			facts.Merge(f)
		}
	}
	primary, ok := g.primary[p.Ecosystem]
	if !ok && p.Ecosystem != deps.Cargo && p.Ecosystem != deps.Maven {
		return facts, fmt.Errorf("no registry for the %q ecosystem", p.Ecosystem)
	}
	ask(p.Ecosystem, primary)
	if p.Ecosystem != deps.HuggingFace {
		ask("osv", g.osv)
		ask("deps.dev", g.depsdev)
	}
	return facts, errors.Join(errs...)
}
