// Package manifest reads dependency manifests and lock files into packages,
// finds Hugging Face model and dataset references in code, configs and model
// cards, and diffs the packages of a base and a head revision.
//
// Lock files that google/osv-scalibr's extractors cover (poetry.lock,
// Pipfile.lock, uv.lock, pdm.lock, pylock.toml, package-lock.json,
// npm-shrinkwrap.json, yarn.lock, bun.lock, Cargo.lock,
// gradle.lockfile, gradle/verification-metadata.xml) go through those
// extractors, fed from memory, and so do Maven's pom.xml and Gradle's
// version catalog (libs.versions.toml), with their ranges and unresolved
// properties reported as unpinned. Formats where scalibr reports something
// other than the declared dependencies, or drops what we need (ranges, line
// numbers), have parsers here: requirements*.txt, pyproject.toml (PEP 621,
// PEP 735 and [tool.poetry]), Pipfile, package.json, go.mod, conda
// environment.yml, Cargo.toml, setup.py (read, never run) and setup.cfg.
// pnpm-lock.yaml has a reader of its own that reads what scalibr's extractor
// reads, in linear time (pnpm.go).
//
// Every parser treats its input as hostile: the content size, line length
// and number of packages are capped, and a parser never panics.
package manifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/mlguard/mlguard/internal/deps"
)

// Limits on untrusted input.
const (
	MaxContentSize = 16 << 20 // bytes of one manifest
	MaxLineLength  = 1 << 20  // bytes of one logical line (continuations joined)
	MaxPackages    = 100_000  // packages from one manifest
)

// Errors a caller can tell apart (wrapped; use errors.Is).
var (
	ErrUnsupported = errors.New("not a manifest this package reads")
	ErrTooLarge    = errors.New("manifest exceeds a size limit")
)

type parser func(ctx context.Context, path string, content []byte) ([]deps.Package, error)

// format is one manifest format: how its file names look and who reads it.
type format struct {
	name  string
	match func(base string) bool
	parse parser
	dir   string // when set, the name of the directory the file must be in
}

func exact(names ...string) func(string) bool {
	return func(base string) bool {
		for _, n := range names {
			if base == n {
				return true
			}
		}
		return false
	}
}

func suffix(sfx string) func(string) bool {
	return func(base string) bool { return len(base) > len(sfx) && strings.HasSuffix(base, sfx) }
}

// pylockName matches pylock.toml and PEP 751's named lock files,
// pylock.<name>.toml, as scalibr's pylock extractor does.
func pylockName(base string) bool {
	ok, _ := path.Match("pylock.*.toml", base)
	return ok || base == "pylock.toml"
}

// pomName matches pom.xml and the .pom files of a Maven repository layout.
func pomName(base string) bool {
	return base == "pom.xml" || len(base) > len(".pom") && strings.HasSuffix(base, ".pom")
}

// requirementsName matches requirements.txt, requirements-dev.txt,
// requirements_gpu.txt, requirements.in, dev-requirements.txt.
var requirementsName = regexp.MustCompile(`(?i)^([\w.-]*[-_.])?requirements([-_.][\w.-]*)?\.(txt|in)$`)

// formats is the explicit list of formats, checked in order.
var formats = []format{
	{"requirements.txt", requirementsName.MatchString, parseRequirements, ""},
	{"pyproject.toml", exact("pyproject.toml"), parsePyproject, ""},
	{"Pipfile", exact("Pipfile"), parsePipfile, ""},
	{"environment.yml", exact("environment.yml", "environment.yaml"), parseCondaEnv, ""},
	{"package.json", exact("package.json"), parsePackageJSON, ""},
	{"go.mod", exact("go.mod"), parseGoMod, ""},
	{"poetry.lock", exact("poetry.lock"), scalibrParser(scalibrPoetry), ""},
	{"Pipfile.lock", exact("Pipfile.lock"), scalibrParser(scalibrPipfileLock), ""},
	{"uv.lock", exact("uv.lock"), scalibrParser(scalibrUV), ""},
	{"pdm.lock", exact("pdm.lock"), scalibrParser(scalibrPDM), ""},
	{"package-lock.json", exact("package-lock.json", "npm-shrinkwrap.json"), scalibrParser(scalibrPackageLock), ""},
	{"yarn.lock", exact("yarn.lock"), scalibrParser(scalibrYarn), ""},
	{"pnpm-lock.yaml", exact("pnpm-lock.yaml"), parsePNPMLock, ""},
	{"bun.lock", exact("bun.lock"), scalibrParser(scalibrBun), ""},
	{"Cargo.lock", exact("Cargo.lock"), scalibrParser(scalibrCargo), ""},
	{"Cargo.toml", exact("Cargo.toml"), parseCargoToml, ""},
	{"setup.py", exact("setup.py"), parseSetupPy, ""},
	{"setup.cfg", exact("setup.cfg"), parseSetupCfg, ""},
	{"pylock.toml", pylockName, scalibrParser(scalibrPylock), ""},
	{"pom.xml", pomName, parsePOM, ""},
	{"gradle.lockfile", exact("gradle.lockfile", "buildscript-gradle.lockfile"), scalibrParser(scalibrGradleLock), ""},
	{"verification-metadata.xml", exact("verification-metadata.xml"), scalibrParser(scalibrGradleMeta), "gradle"},
	{"libs.versions.toml", exact("libs.versions.toml"), scalibrParser(scalibrGradleCat), ""},
	{"gradle/*.versions.toml", suffix(".versions.toml"), scalibrParser(scalibrGradleCat), "gradle"},
}

// lookup picks the format of the file at p by its base name and, for the
// formats that ask for one, the name of its directory (Gradle's
// verification-metadata.xml only counts in gradle/).
func lookup(p string) (format, bool) {
	p = strings.ReplaceAll(p, `\`, "/")
	base, dir := path.Base(p), path.Base(path.Dir(p))
	for _, f := range formats {
		if f.match(base) && (f.dir == "" || f.dir == dir) {
			return f, true
		}
	}
	return format{}, false
}

// Detect reports whether path names a manifest that Parse reads, by its
// file name.
func Detect(path string) bool {
	_, ok := lookup(path)
	return ok
}

// Parse reads the manifest at path (relative to the repository; it sets
// Package.Manifest and picks the parser) from content. The packages come in
// a stable order. A manifest it does not read yields ErrUnsupported, one
// over a limit ErrTooLarge.
func Parse(ctx context.Context, path string, content []byte) (pkgs []deps.Package, err error) {
	f, ok := lookup(path)
	if !ok {
		return nil, fmt.Errorf("parsing %s: %w", path, ErrUnsupported)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(content) > MaxContentSize {
		return nil, fmt.Errorf("parsing %s: %d bytes: %w", path, len(content), ErrTooLarge)
	}
	defer func() {
		if r := recover(); r != nil { // a bug here or in a dependency must not take the scan down
			pkgs, err = nil, fmt.Errorf("parsing %s as %s: internal error: %v", path, f.name, r)
		}
	}()
	pkgs, err = f.parse(ctx, path, content)
	if err != nil {
		return nil, fmt.Errorf("parsing %s as %s: %w", path, f.name, err)
	}
	lockDetails(f.name, content, pkgs)
	if len(pkgs) > MaxPackages {
		return nil, fmt.Errorf("parsing %s: %d packages: %w", path, len(pkgs), ErrTooLarge)
	}
	for i := range pkgs {
		pkgs[i].Manifest = path
	}
	return pkgs, nil
}

// collector gathers packages and enforces MaxPackages as it goes.
type collector struct {
	pkgs []deps.Package
}

var errTooMany = fmt.Errorf("more than %d packages: %w", MaxPackages, ErrTooLarge)

func (c *collector) add(p deps.Package) error {
	if len(c.pkgs) >= MaxPackages {
		return errTooMany
	}
	c.pkgs = append(c.pkgs, p)
	return nil
}

// lineIndex maps byte offsets and needles to 1-based line numbers.
// Lookups share a budget of bytes scanned, so that a hostile file with many
// entries costs linear time, not quadratic: past the budget, lines are 0.
type lineIndex struct {
	content []byte
	starts  []int
	budget  int
}

func newLineIndex(content []byte) *lineIndex {
	li := &lineIndex{content: content, starts: []int{0}, budget: 64*len(content) + 1<<20}
	for i, b := range content {
		if b == '\n' {
			li.starts = append(li.starts, i+1)
		}
	}
	return li
}

// lineOf is the line holding byte offset off.
func (li *lineIndex) lineOf(off int) int {
	return sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off })
}

// find is the line of the first occurrence of needle at or after line from
// (1-based), 0 when absent.
func (li *lineIndex) find(needle string, from int) int {
	if needle == "" || from < 1 || from > len(li.starts) {
		return 0
	}
	start := li.starts[from-1]
	if li.budget <= 0 {
		return 0
	}
	i := bytes.Index(li.content[start:], []byte(needle))
	if i < 0 {
		li.budget -= len(li.content) - start
		return 0
	}
	li.budget -= i + len(needle)
	return li.lineOf(start + i)
}
