package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mlguard/mlguard/internal/ci"
	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/health"
	"github.com/mlguard/mlguard/internal/manifest"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/gather"
	"github.com/mlguard/mlguard/internal/registry/httpx"
)

// maxManifest bounds a manifest read from the checkout.
const maxManifest = 16 << 20

// registryJobs is how many packages are looked up at once.
const registryJobs = 16

// baseReader reads a file as the change's base had it; ci.ErrNotExist when
// the file is new. nil when there is no base: every package is added.
type baseReader func(ctx context.Context, path string) ([]byte, error)

// hasModelRefs reports whether a file can name Hugging Face models or
// datasets that a loader downloads.
func hasModelRefs(p string) bool {
	base := strings.ToLower(path.Base(p))
	return strings.HasSuffix(base, ".py") || base == "config.json" || base == "adapter_config.json" || base == "readme.md"
}

// checkDependencies reads the manifests and model references among the
// changed files, compares them with the base, and checks the health of the
// packages added or changed. g is nil offline: only the checks that need no
// registry run.
func checkDependencies(ctx context.Context, workspace string, files []string, base baseReader, g *gather.Gatherer, th health.Thresholds, now time.Time, log *slog.Logger) ([]finding.Package, []finding.Finding) {
	var changes []deps.Change
	var problems []finding.Finding
	for _, p := range files {
		isManifest, isRefs := manifest.Detect(p), hasModelRefs(p)
		if !isManifest && !isRefs {
			continue
		}
		head, err := readBounded(filepath.Join(workspace, filepath.FromSlash(p)), maxManifest)
		if err != nil {
			f := finding.New(finding.ScanIncomplete, "the dependency manifest could not be read: "+err.Error())
			f.Path = p
			problems = append(problems, f)
			continue
		}
		var old []byte
		if base != nil {
			old, err = base(ctx, p)
			if err != nil && !errors.Is(err, ci.ErrNotExist) {
				log.Warn("the base version of a manifest could not be read; every package in it is checked", "path", p, "err", err)
			}
		}
		parse := func(content []byte) ([]deps.Package, error) {
			var pkgs []deps.Package
			if isManifest {
				ps, err := manifest.Parse(ctx, p, content)
				if err != nil && !errors.Is(err, manifest.ErrUnsupported) {
					return nil, err
				}
				pkgs = append(pkgs, ps...)
			}
			if isRefs {
				pkgs = append(pkgs, manifest.ModelRefs(p, content)...)
			}
			return pkgs, nil
		}
		headPkgs, err := parse(head)
		if err != nil {
			f := finding.New(finding.ScanIncomplete, "the dependency manifest could not be parsed: "+err.Error())
			f.Path = p
			problems = append(problems, f)
			continue
		}
		var basePkgs []deps.Package
		if old != nil {
			basePkgs, _ = parse(old) // an unreadable base: everything counts as added
		}
		for _, c := range manifest.Diff(basePkgs, headPkgs) {
			if c.Kind != deps.Removed {
				changes = append(changes, c)
			}
		}
	}
	if len(changes) == 0 {
		return nil, problems
	}
	facts := make([]*registry.Facts, len(changes))
	if g != nil {
		eg, gctx := errgroup.WithContext(ctx)
		eg.SetLimit(registryJobs)
		var mu sync.Mutex
		for i, c := range changes {
			if c.Ecosystem == manifest.Conda {
				continue // no registry client for conda channels yet
			}
			eg.Go(func() error {
				f, err := g.Facts(gctx, c.Package)
				if err != nil {
					mu.Lock()
					log.Info("some registry facts are unknown", "package", c.PURL(), "err", err)
					mu.Unlock()
				}
				facts[i] = f
				return nil
			})
		}
		_ = eg.Wait()
	}
	var pkgs []finding.Package
	var all []finding.Finding
	for i, c := range changes {
		var hf *health.Facts
		if facts[i] != nil {
			hf = health.FromRegistry(facts[i], c.Pinned())
		}
		fs := health.Check(c, hf, th, now)
		pkgs = append(pkgs, finding.Package{PURL: c.PURL(), Change: c.Kind, Facts: orEmptyFacts(facts[i]), Findings: nonNil(fs), Dep: c.Package})
		all = append(all, fs...)
	}
	return pkgs, append(problems, all...)
}

// mergeBaseReader reads files as the merge base of HEAD and ref has them,
// for mlguard scan --base. Paths are as the scan shows them (relative to the
// working directory, or absolute); a file outside the checkout has no base
// version, so all its packages count as added.
func mergeBaseReader(ctx context.Context, ref string) (baseReader, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	git := ci.NewGit(wd)
	top, err := git.Toplevel(ctx)
	if err != nil {
		return nil, fmt.Errorf("not in a git checkout: %w", err)
	}
	if top, err = filepath.EvalSymlinks(top); err != nil {
		return nil, err
	}
	sha, err := git.MergeBase(ctx, ref)
	if err != nil {
		return nil, err
	}
	repo := ci.NewGit(top)
	return func(ctx context.Context, p string) ([]byte, error) {
		abs, err := filepath.Abs(filepath.FromSlash(p))
		if err != nil {
			return nil, err
		}
		if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
			abs = filepath.Join(dir, filepath.Base(abs))
		}
		rel, err := filepath.Rel(top, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, ci.ErrNotExist
		}
		return repo.Show(ctx, sha, filepath.ToSlash(rel), ci.MaxBaseFile)
	}, nil
}

// installedDirs hold other projects' manifests (installed dependencies, not
// the project's own): findManifests does not descend into them.
var installedDirs = map[string]bool{".git": true, "node_modules": true, ".venv": true, "venv": true, "site-packages": true, "vendor": true, "__pycache__": true}

// findManifests lists the dependency manifests and files with model
// references under the scanned paths (mlguard scan), as display paths.
func findManifests(roots []string) []string {
	var out []string
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if p != root && installedDirs[d.Name()] {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				if slash := filepath.ToSlash(p); manifest.Detect(slash) || hasModelRefs(slash) {
					out = append(out, slash)
				}
			}
			return nil
		})
	}
	return out
}

// readBounded reads a regular file of at most limit bytes.
func readBounded(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// userAgent names mlguard, its version and its home page to the
// registries (crates.io asks for a way to reach the client's authors).
var userAgent = "mlguard/" + Version + " (+https://github.com/mlguard/mlguard)"

// gathererFor builds the registry clients from the inputs and MLGUARD_*
// variables, or returns nil offline.
func gathererFor(in ci.Inputs, getenv func(string) string) (*gather.Gatherer, error) {
	if in.Offline {
		return nil, nil
	}
	pick := func(input, env string) string {
		if input != "" {
			return input
		}
		return getenv(env)
	}
	return gather.New(gather.Config{
		PyPIURL: pick(in.PyPIURL, "MLGUARD_PYPI_URL"), NPMURL: pick(in.NPMURL, "MLGUARD_NPM_URL"),
		GoProxyURL: getenv("MLGUARD_GOPROXY"), OSVURL: pick(in.OSVURL, "MLGUARD_OSV_URL"),
		CratesURL:  pick(in.CratesURL, "MLGUARD_CRATES_URL"),
		DepsDevURL: pick(in.DepsDevURL, "MLGUARD_DEPSDEV_URL"), HFURL: pick(in.HFURL, "MLGUARD_HF_URL"),
		CacheDir: pick(in.CacheDir, "MLGUARD_CACHE_DIR"),
		Options:  []httpx.Option{httpx.WithUserAgent(userAgent)},
	})
}
