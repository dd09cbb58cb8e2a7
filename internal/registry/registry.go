// Package registry holds the facts that registry clients report about a
// package or model, and what they share: the Source interface, merging,
// caching of facts, and bounded concurrent collection. The clients live in
// the sub-packages (pypi, npm, goproxy, crates, osv, depsdev, hf), the HTTP layer in
// httpx and the on-disk cache in cache.
//
// A fact a registry did not give is unknown, never zero: every field of
// Facts is a Known[T], and criteria must check OK before using V.
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry/cache"
)

// Default endpoints; the CLI overrides them from MLGUARD_PYPI_URL and the like.
const (
	DefaultPyPIURL    = "https://pypi.org"
	DefaultNPMURL     = "https://registry.npmjs.org"
	DefaultGoProxyURL = "https://proxy.golang.org"
	DefaultCratesURL  = "https://crates.io"
	DefaultOSVURL     = "https://api.osv.dev"
	DefaultDepsDevURL = "https://api.deps.dev"
	DefaultHFURL      = "https://huggingface.co"
)

// Known is a fact that is either known (OK, with value V, which may be the
// zero value: "no install scripts", "0 likes") or unknown. Its zero value is
// unknown. In JSON a known fact is its value and, with `omitzero`, an unknown
// one is absent.
type Known[T any] struct {
	V  T
	OK bool
}

// Some returns a known fact.
func Some[T any](v T) Known[T] { return Known[T]{V: v, OK: true} }

// Get returns the value and whether it is known.
func (k Known[T]) Get() (T, bool) { return k.V, k.OK }

// IsZero reports whether the fact is unknown (for `omitzero`).
func (k Known[T]) IsZero() bool { return !k.OK }

// MarshalJSON writes the value; an unknown fact is null.
func (k Known[T]) MarshalJSON() ([]byte, error) {
	if !k.OK {
		return []byte("null"), nil
	}
	return json.Marshal(k.V)
}

// UnmarshalJSON reads a value; null leaves the fact unknown.
func (k *Known[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*k = Known[T]{}
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*k = Some(v)
	return nil
}

// Registry times outside [minTime, maxTime] are not believed: nothing was
// published to a package registry before 1990, and a time past year 9999
// cannot be written as JSON (it would break the cache and the report).
var (
	minTime = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// Plausible reports whether a time a registry gave can be a publication
// time: not zero, not before 1990 and not after year 9999.
func Plausible(t time.Time) bool {
	return !t.Before(minTime) && !t.After(maxTime)
}

// SomeTime is t in UTC as a known fact, or unknown when t is not Plausible.
func SomeTime(t time.Time) Known[time.Time] {
	if !Plausible(t) {
		return Known[time.Time]{}
	}
	return Some(t.UTC())
}

// Clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Facts is what the registries say about one package (at one version when
// pinned) or one Hugging Face model.
type Facts struct {
	Maintainers      Known[int]        `json:"maintainers,omitzero"`       // how many people can publish
	MaintainerNames  Known[[]string]   `json:"maintainerNames,omitzero"`   // their account names
	FirstRelease     Known[time.Time]  `json:"firstRelease,omitzero"`      // the project's first upload (HF: created)
	LatestRelease    Known[time.Time]  `json:"latestRelease,omitzero"`     // the newest upload (HF: last modified)
	VersionRelease   Known[time.Time]  `json:"versionRelease,omitzero"`    // this version's upload
	Versions         Known[int]        `json:"versions,omitzero"`          // how many versions were published
	Yanked           Known[bool]       `json:"yanked,omitzero"`            // this version was yanked
	YankedReason     Known[string]     `json:"yankedReason,omitzero"`      //
	Deprecated       Known[bool]       `json:"deprecated,omitzero"`        // this version (npm) is deprecated
	DeprecatedReason Known[string]     `json:"deprecatedReason,omitzero"`  // the deprecation message
	InstallScripts   Known[[]string]   `json:"installScripts,omitzero"`    // e.g. ["postinstall"]; known-empty is []
	SourceRepo       Known[string]     `json:"sourceRepo,omitzero"`        // https://github.com/owner/repo
	License          Known[string]     `json:"license,omitzero"`           // SPDX expression, or the raw text
	DevStatus        Known[string]     `json:"developmentStatus,omitzero"` // PyPI "5 - Production/Stable"
	Downloads        Known[int64]      `json:"downloads,omitzero"`         // HF: last 30 days
	Likes            Known[int64]      `json:"likes,omitzero"`             // HF
	Gated            Known[bool]       `json:"gated,omitzero"`             // HF: access needs approval
	Author           Known[string]     `json:"author,omitzero"`            // HF: the owning user or org
	SecurityScan     Known[Scan]       `json:"securityScan,omitzero"`      // HF: the hub's own scan
	Scorecard        Known[float64]    `json:"scorecard,omitzero"`         // deps.dev: OpenSSF Scorecard 0-10
	Advisories       Known[[]Advisory] `json:"advisories,omitzero"`        // OSV; for an unpinned package, of any version
}

// Advisory is one OSV record affecting the package.
type Advisory struct {
	ID        string   `json:"id"`
	Aliases   []string `json:"aliases,omitempty"`
	Summary   string   `json:"summary,omitempty"`
	Severity  string   `json:"severity,omitempty"` // "HIGH", or a CVSS vector when that is all there is
	CVSS      string   `json:"cvss,omitempty"`     // the CVSS vector, when given
	Malicious bool     `json:"malicious,omitempty"`
}

// Scan is the Hugging Face hub's own security scan of a model repository.
type Scan struct {
	Done            bool          `json:"done"`
	FilesWithIssues []ScannedFile `json:"filesWithIssues,omitempty"`
}

// ScannedFile is one file the hub's scanners flagged.
type ScannedFile struct {
	Path  string `json:"path"`
	Level string `json:"level"` // "unsafe", "caution", ...
}

// Source is a registry client: what the health checks depend on.
type Source interface {
	Facts(ctx context.Context, p deps.Package) (*Facts, error)
}

// Merge fills the facts unknown in f from g (f's known facts win).
func (f *Facts) Merge(g *Facts) {
	if g == nil {
		return
	}
	fill(&f.Maintainers, g.Maintainers)
	fill(&f.MaintainerNames, g.MaintainerNames)
	fill(&f.FirstRelease, g.FirstRelease)
	fill(&f.LatestRelease, g.LatestRelease)
	fill(&f.VersionRelease, g.VersionRelease)
	fill(&f.Versions, g.Versions)
	fill(&f.Yanked, g.Yanked)
	fill(&f.YankedReason, g.YankedReason)
	fill(&f.Deprecated, g.Deprecated)
	fill(&f.DeprecatedReason, g.DeprecatedReason)
	fill(&f.InstallScripts, g.InstallScripts)
	fill(&f.SourceRepo, g.SourceRepo)
	fill(&f.License, g.License)
	fill(&f.DevStatus, g.DevStatus)
	fill(&f.Downloads, g.Downloads)
	fill(&f.Likes, g.Likes)
	fill(&f.Gated, g.Gated)
	fill(&f.Author, g.Author)
	fill(&f.SecurityScan, g.SecurityScan)
	fill(&f.Scorecard, g.Scorecard)
	fill(&f.Advisories, g.Advisories)
}

func fill[T any](dst *Known[T], src Known[T]) {
	if !dst.OK && src.OK {
		*dst = src
	}
}

// Cached returns the facts stored in c under key, or calls fetch and stores
// its answer. Errors are not cached. A nil c always calls fetch.
func Cached(ctx context.Context, c *cache.Cache, key string, fetch func(context.Context) (*Facts, error)) (*Facts, error) {
	if b, ok := c.Get(key); ok {
		var f Facts
		if json.Unmarshal(b, &f) == nil {
			return &f, nil
		}
	}
	f, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	if b, err := json.Marshal(f); err == nil {
		_ = c.Put(key, b) // a cache that cannot be written only costs time
	}
	return f, nil
}

// Result is the outcome for one package of Collect: facts, or the error that
// the caller reports as "facts unknown".
type Result struct {
	Package deps.Package
	Facts   *Facts
	Err     error
}

// DefaultConcurrency is how many registry requests Collect runs at once.
const DefaultConcurrency = 32

// Collect asks src about every package, at most limit at a time (<= 0:
// DefaultConcurrency), and returns the results in the order of pkgs. One
// package's error does not stop the others; only ctx does.
func Collect(ctx context.Context, src Source, pkgs []deps.Package, limit int) ([]Result, error) {
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	out := make([]Result, len(pkgs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i, p := range pkgs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			f, err := src.Facts(gctx, p)
			out[i] = Result{Package: p, Facts: f, Err: err}
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("collecting registry facts: %w", err)
	}
	return out, nil
}

// repoHosts are the forges whose URLs name a source repository.
var repoHosts = []string{"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"}

// ForgeRepo normalises a URL on a known forge to https://host/owner/repo;
// on GitLab, whose projects live in nested groups, to
// https://gitlab.com/group/subgroup/.../project.
func ForgeRepo(raw string) string {
	raw = strings.TrimSpace(raw)
	raw = strings.TrimPrefix(raw, "git+")
	if s, ok := strings.CutPrefix(raw, "git@"); ok { // git@github.com:o/r.git
		raw = "https://" + strings.Replace(s, ":", "/", 1)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if !slices.Contains(repoHosts, host) {
		return ""
	}
	seg := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	if host == "gitlab.com" {
		seg = gitlabProjectPath(seg)
	} else if len(seg) > 2 {
		seg = seg[:2]
	}
	if len(seg) < 2 {
		return ""
	}
	seg[len(seg)-1] = strings.TrimSuffix(seg[len(seg)-1], ".git")
	for _, s := range seg {
		if !forgeName(s) {
			return ""
		}
	}
	return "https://" + host + "/" + strings.Join(seg, "/")
}

// gitlabReserved are names GitLab reserves after a project's path for its
// own pages (https://docs.gitlab.com/user/reserved_names/): no group or
// project has them, so a path ends before the first. Current pages follow
// "/-/"; older links (…/project/tree/main) have the name directly.
var gitlabReserved = []string{"-", "badges", "blame", "blob", "builds", "commits", "create", "create_dir", "edit",
	"files", "find_file", "new", "preview", "raw", "refs", "tree", "update", "wikis"}

// maxGitLabDepth bounds a GitLab project path: 20 levels of groups and the
// project.
const maxGitLabDepth = 21

// gitlabProjectPath is the project path at the start of a GitLab URL's path
// segments, or nil when it is too deep.
func gitlabProjectPath(seg []string) []string {
	for i, s := range seg {
		if slices.Contains(gitlabReserved, s) {
			seg = seg[:i]
			break
		}
	}
	if len(seg) > maxGitLabDepth {
		return nil
	}
	return slices.Clone(seg)
}

// forgeName reports whether s can be an owner or repository name on the
// forges of repoHosts: ASCII letters, digits, '-', '_' and '.', not "." or
// "..". A path that decodes to anything else (a NUL, invalid UTF-8, a space)
// names no repository.
func forgeName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
