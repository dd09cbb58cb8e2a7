package manifest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"testing/fstest"

	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/gradlelockfile"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/gradleverificationmetadataxml"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/gradleversioncatalog"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/pomxml"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/bunlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagelockjson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/yarnlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pdmlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pipfilelock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/poetrylock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pylock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/uvlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/rust/cargolock"

	"github.com/mlguard/mlguard/internal/deps"
)

// The osv-scalibr extractors used, each by its own package (not scalibr's
// catch-all list). All take a nil config.
var (
	scalibrPoetry      = poetrylock.New
	scalibrPipfileLock = pipfilelock.New
	scalibrUV          = uvlock.New
	scalibrPDM         = pdmlock.New
	scalibrPackageLock = packagelockjson.New
	scalibrYarn        = yarnlock.New
	scalibrBun         = bunlock.New
	scalibrCargo       = cargolock.New
	scalibrPylock      = pylock.New
	scalibrPOM         = pomxml.New
	scalibrGradleLock  = gradlelockfile.New
	scalibrGradleMeta  = gradleverificationmetadataxml.New
	scalibrGradleCat   = gradleversioncatalog.New
)

// scalibrEcosystems maps scalibr's purl types to ours.
var scalibrEcosystems = map[string]string{
	"pypi":   deps.PyPI,
	"npm":    deps.NPM,
	"golang": deps.Go,
	"cargo":  deps.Cargo,
	"maven":  deps.Maven,
}

// scalibrParser runs one scalibr extractor on in-memory content. The
// extractor sees a file system holding only this file, so it cannot read
// anything else from the repository (package-lock.json looks for a sibling
// npm-shrinkwrap.json and finds none).
func scalibrParser[C any](newExtractor func(C) (filesystem.Extractor, error)) parser {
	return func(ctx context.Context, p string, content []byte) ([]deps.Package, error) {
		var zero C
		ex, err := newExtractor(zero)
		if err != nil {
			return nil, fmt.Errorf("creating extractor: %w", err)
		}
		fsPath := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(p, `\`, "/")), "/")
		if !fs.ValidPath(fsPath) || fsPath == "." {
			fsPath = path.Base(fsPath)
		}
		mfs := fstest.MapFS{fsPath: &fstest.MapFile{Data: content, Mode: 0o444}}
		info, err := mfs.Stat(fsPath)
		if err != nil {
			return nil, fmt.Errorf("staging content: %w", err)
		}
		inv, err := ex.Extract(ctx, &filesystem.ScanInput{
			FS:     mfs,
			Path:   fsPath,
			Root:   "/",
			Info:   info,
			Reader: bytes.NewReader(content),
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ex.Name(), err)
		}
		return fromScalibr(inv.Packages)
	}
}

// fromScalibr turns an extractor's packages into ours: the ecosystems we
// check, each name and version once (at its first line: extractors that
// range over a Go map list repeats in any order), sorted.
func fromScalibr(pkgs []*extractor.Package) ([]deps.Package, error) {
	if len(pkgs) > MaxPackages {
		return nil, errTooMany
	}
	pkgs = slices.Clone(pkgs)
	slices.SortStableFunc(pkgs, func(a, b *extractor.Package) int { return cmp.Compare(scalibrLine(a), scalibrLine(b)) })
	type key struct{ eco, name, version string }
	seen := map[key]bool{}
	var out []deps.Package
	for _, sp := range pkgs {
		if sp == nil || sp.Name == "" {
			continue
		}
		eco, ok := scalibrEcosystems[sp.PURLType]
		if !ok {
			continue
		}
		if eco == deps.Maven && !validMavenName(sp.Name) {
			continue // ":artifact" from a component without a group, or a name with an unresolved property
		}
		k := key{eco, sp.Name, sp.Version}
		if seen[k] {
			continue // the same version installed at several places in node_modules
		}
		seen[k] = true
		pkg := deps.Package{Ecosystem: eco, Name: sp.Name, Version: sp.Version, Line: scalibrLine(sp)}
		if eco == deps.Maven {
			pkg.Version, pkg.Range = mavenVersion(sp.Version)
		}
		if pkg.Version == "" && pkg.Range == "" {
			pkg.Range = "*"
		}
		out = append(out, pkg)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Line < b.Line
	})
	return out, nil
}

// scalibrLine is the line an extractor gives a package at, or 0.
func scalibrLine(p *extractor.Package) int {
	if p == nil {
		return 0
	}
	if d := p.Location.Descriptor; d != nil && d.File != nil {
		return d.File.LineNumber
	}
	return 0
}

// validMavenName reports whether name is group:artifact with both parts
// present and free of unresolved ${...} properties.
func validMavenName(name string) bool {
	g, a, ok := strings.Cut(name, ":")
	return ok && g != "" && a != "" && !strings.Contains(name, "${")
}

// mavenVersion splits a version that a Maven or Gradle extractor reports
// into a pinned version, or a range for anything that does not name one
// version: a Maven range ("[1.0,2.0)", "(,1.5]"), a Gradle dynamic version
// ("1.+", "latest.release"), Maven's LATEST and RELEASE, or an unresolved
// property ("${spring.version}"). Gradle's strict shorthand "1.2.3!!" pins
// 1.2.3.
func mavenVersion(v string) (version, rng string) {
	v = strings.TrimSpace(v)
	exact := strings.TrimSuffix(v, "!!")
	switch {
	case v == "":
		return "", ""
	case strings.ContainsAny(exact, "[](),${}* \t") || strings.HasSuffix(exact, "+") || exact == "" ||
		strings.HasPrefix(exact, "latest.") || exact == "LATEST" || exact == "RELEASE":
		return "", v
	}
	return exact, ""
}
