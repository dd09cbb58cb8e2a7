// Package gather asks every registry that knows something about a package
// and merges the answers: the ecosystem's own registry first (PyPI, npm,
// the Go module proxy, crates.io, the Hugging Face Hub), then OSV for
// advisories and deps.dev for the source repository and its Scorecard, and
// for Maven, which has no registry of its own here, the release times.
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
	"github.com/mlguard/mlguard/internal/registry/crates"
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
	PyPIURL, NPMURL, GoProxyURL, CratesURL, OSVURL, DepsDevURL, HFURL string
	CacheDir                                                          string
	TTL                                                               time.Duration
	HTTPClient                                                        *http.Client
	Options                                                           []httpx.Option
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
	caches := map[string]*cache.Cache{}
	for _, name := range []string{"pypi", "npm", "goproxy", "crates", "hf", "osv", "depsdev"} {
		c, err := cache.Open(cfg.CacheDir, name, ttl)
		if err != nil {
			return nil, fmt.Errorf("opening the %s cache: %w", name, err)
		}
		caches[name] = c
	}
	hc, o := cfg.HTTPClient, cfg.Options
	var errs []error
	keep := func(src registry.Source, err error) registry.Source {
		errs = append(errs, err)
		return src
	}
	g := &Gatherer{primary: map[string]registry.Source{
		deps.PyPI:        keep(pypi.New(cmp.Or(cfg.PyPIURL, registry.DefaultPyPIURL), hc, caches["pypi"], o...)),
		deps.NPM:         keep(npm.New(cmp.Or(cfg.NPMURL, registry.DefaultNPMURL), hc, caches["npm"], o...)),
		deps.Go:          keep(goproxy.New(cmp.Or(cfg.GoProxyURL, registry.DefaultGoProxyURL), hc, caches["goproxy"], o...)),
		deps.Cargo:       keep(crates.New(cmp.Or(cfg.CratesURL, registry.DefaultCratesURL), hc, caches["crates"], o...)),
		deps.HuggingFace: keep(hf.New(cmp.Or(cfg.HFURL, registry.DefaultHFURL), hc, caches["hf"], o...)),
	}}
	g.osv = keep(osv.New(cmp.Or(cfg.OSVURL, registry.DefaultOSVURL), hc, caches["osv"], o...))
	g.depsdev = keep(depsdev.New(cmp.Or(cfg.DepsDevURL, registry.DefaultDepsDevURL), hc, caches["depsdev"], o...))
	if err := errors.Join(errs...); err != nil {
		return nil, err
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
	if !ok && p.Ecosystem != deps.Maven { // Maven: deps.dev alone
		return facts, fmt.Errorf("no registry for the %q ecosystem", p.Ecosystem)
	}
	ask(p.Ecosystem, primary)
	if p.Ecosystem != deps.HuggingFace {
		ask("osv", g.osv)
		ask("deps.dev", g.depsdev)
	}
	return facts, errors.Join(errs...)
}
