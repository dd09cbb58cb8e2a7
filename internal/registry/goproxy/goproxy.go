// Package goproxy reads module facts from a Go module proxy
// (https://go.dev/ref/mod#goproxy-protocol): the version list and each
// version's .info time. A proxy knows no maintainers, licence or
// repository; merge deps.dev's facts for those.
package goproxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/cache"
	"github.com/mlguard/mlguard/internal/registry/httpx"
)

// Client asks one module proxy.
type Client struct {
	http  *httpx.Client
	cache *cache.Cache
}

// New returns a client of base (registry.DefaultGoProxyURL or a mirror); c may be nil.
func New(base string, hc *http.Client, c *cache.Cache, opts ...httpx.Option) (*Client, error) {
	h, err := httpx.New(base, hc, opts...)
	if err != nil {
		return nil, fmt.Errorf("goproxy: %w", err)
	}
	return &Client{http: h, cache: c}, nil
}

// Escape is the proxy's case encoding of a module path or version: each
// upper-case letter becomes '!' and its lower case. Paths with '!' or
// characters outside printable ASCII are refused.
func Escape(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '!' || r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' || r == '?' || r == '#' || r == '%':
			return "", fmt.Errorf("invalid character %q in %q", r, s)
		case 'A' <= r && r <= 'Z':
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

type info struct {
	Version string    `json:"Version"`
	Time    time.Time `json:"Time"`
}

// Facts returns the version count, the first, latest and this version's
// times. An unknown module is httpx.ErrNotFound.
func (c *Client) Facts(ctx context.Context, p deps.Package) (*registry.Facts, error) {
	if p.Ecosystem != deps.Go {
		return nil, fmt.Errorf("goproxy: not a Go module: %s", p.PURL())
	}
	mod, err := Escape(p.Name)
	if err != nil || mod == "" || strings.Contains(mod, "..") || strings.HasPrefix(mod, "/") {
		return nil, fmt.Errorf("goproxy: bad module path %q", p.Name)
	}
	key := deps.Package{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version}.PURL()
	return registry.Cached(ctx, c.cache, key, func(ctx context.Context) (*registry.Facts, error) {
		return c.fetch(ctx, mod, p)
	})
}

func (c *Client) fetch(ctx context.Context, mod string, p deps.Package) (*registry.Facts, error) {
	body, err := c.http.Get(ctx, "/"+mod+"/@v/list")
	if err != nil {
		return nil, fmt.Errorf("goproxy: listing %s: %w", p.Name, err)
	}
	// One version a line; a line that is not a semantic version (a proxy's
	// junk, or a hostile answer) is not counted or asked about.
	var versions []string
	for _, l := range strings.Split(string(body), "\n") {
		fields := strings.Fields(l)
		if len(fields) == 0 {
			continue
		}
		if _, ok := parse(fields[0]); ok && !slices.Contains(versions, fields[0]) {
			versions = append(versions, fields[0])
		}
	}
	f := &registry.Facts{Versions: registry.Some(len(versions))}
	get := func(v string) (time.Time, bool, error) {
		ev, err := Escape(v)
		if err != nil {
			return time.Time{}, false, err
		}
		var in info
		err = c.http.GetJSON(ctx, "/"+mod+"/@v/"+ev+".info", &in)
		if errors.Is(err, httpx.ErrNotFound) {
			return time.Time{}, false, nil
		}
		if err != nil || !registry.Plausible(in.Time) {
			return time.Time{}, false, err
		}
		return in.Time.UTC(), true, nil
	}
	if len(versions) > 0 {
		// The latest is the highest release, as "go get m@latest" picks;
		// a pre-release only when there is no release.
		lo, hi := versions[0], ""
		for _, v := range versions {
			if Compare(v, lo) < 0 {
				lo = v
			}
			if sv, ok := parse(v); ok && sv.pre == "" && (hi == "" || Compare(v, hi) > 0) {
				hi = v
			}
		}
		if hi == "" {
			for _, v := range versions {
				if hi == "" || Compare(v, hi) > 0 {
					hi = v
				}
			}
		}
		for _, x := range []struct {
			v   string
			dst *registry.Known[time.Time]
		}{{lo, &f.FirstRelease}, {hi, &f.LatestRelease}} {
			t, ok, err := get(x.v)
			if err != nil {
				return nil, fmt.Errorf("goproxy: %s@%q: %w", p.Name, x.v, err)
			}
			if ok {
				*x.dst = registry.Some(t)
			}
		}
		// The lowest version may have been tagged after the highest (an old
		// line published late): the first release is the earlier time.
		if fr, lr := f.FirstRelease, f.LatestRelease; fr.OK && lr.OK && fr.V.After(lr.V) {
			f.FirstRelease, f.LatestRelease = lr, fr
		}
	}
	if p.Version != "" {
		t, ok, err := get(p.Version)
		if err != nil {
			return nil, fmt.Errorf("goproxy: %s@%q: %w", p.Name, p.Version, err)
		}
		if ok {
			f.VersionRelease = registry.Some(t)
		}
	}
	return f, nil
}

// Compare orders semantic versions "vMAJOR.MINOR.PATCH[-pre][+build]" as
// semver does; anything unparsable sorts before every valid version.
func Compare(a, b string) int {
	pa, oka := parse(a)
	pb, okb := parse(b)
	switch {
	case !oka && !okb:
		return strings.Compare(a, b)
	case !oka:
		return -1
	case !okb:
		return 1
	}
	for i := range 3 {
		if c := cmpNum(pa.num[i], pb.num[i]); c != 0 {
			return c
		}
	}
	switch {
	case pa.pre == "" && pb.pre == "":
		return 0
	case pa.pre == "":
		return 1
	case pb.pre == "":
		return -1
	}
	x, y := strings.Split(pa.pre, "."), strings.Split(pb.pre, ".")
	for i := 0; i < len(x) && i < len(y); i++ {
		nx, ex := strconv.ParseUint(x[i], 10, 64)
		ny, ey := strconv.ParseUint(y[i], 10, 64)
		var c int
		switch {
		case ex == nil && ey == nil:
			c = cmpU(nx, ny)
		case ex == nil:
			c = -1
		case ey == nil:
			c = 1
		default:
			c = strings.Compare(x[i], y[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmpU(uint64(len(x)), uint64(len(y)))
}

type semver struct {
	num [3]string
	pre string
}

func parse(v string) (semver, bool) {
	var s semver
	rest, ok := strings.CutPrefix(v, "v")
	if !ok {
		return s, false
	}
	rest, build, _ := strings.Cut(rest, "+")
	rest, s.pre, _ = strings.Cut(rest, "-")
	if !identifiers(s.pre) || !identifiers(build) {
		return s, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return s, false
	}
	for i, n := range parts {
		if n == "" || strings.TrimLeft(n, "0123456789") != "" {
			return s, false
		}
		s.num[i] = n
	}
	return s, true
}

// identifiers reports whether s holds only what semver allows in
// pre-release and build identifiers: ASCII letters, digits, '-' and '.'.
func identifiers(s string) bool {
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func cmpNum(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return cmpU(uint64(len(a)), uint64(len(b)))
	}
	return strings.Compare(a, b)
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
