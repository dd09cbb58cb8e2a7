package manifest

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/mlguard/mlguard/internal/deps"
)

// Lock files record more than which packages are installed: the digest of
// each artifact and which package requires which. osv-scalibr's extractors
// keep neither, so lockDetails reads them from the same content and adds
// them to the packages the extractor found, matched by name and version.
// A lock file it cannot read gets no details; the packages stand as they are.
//
// Where a format names a dependency without its version, the edge goes to
// the one locked version of that name. Several versions of one name (uv's
// forks, poetry and pdm locked for several environments) resolve to the
// entry without markers when there is exactly one; otherwise the edge is
// left out rather than guessed.

// Limits on what one lock file adds, on top of the content size.
const (
	maxHashes = 64      // digests kept per package (a wheel per platform)
	maxEdges  = 1 << 20 // dependency edges kept per lock file
)

// lockReaders is the explicit list of lock formats with details, by the
// format name Parse dispatches on.
var lockReaders = map[string]func(content []byte) map[pkgKey]details{
	"package-lock.json": npmLockDetails,
	"poetry.lock":       poetryLockDetails,
	"uv.lock":           uvLockDetails,
	"pdm.lock":          pdmLockDetails,
	"Pipfile.lock":      pipfileLockDetails,
	"pylock.toml":       pylockDetails,
	"Cargo.lock":        cargoLockDetails,
	"yarn.lock":         yarnLockDetails,
	"pnpm-lock.yaml":    pnpmLockDetails,
	"bun.lock":          bunLockDetails,
}

// lockDetails fills Hashes and DependsOn of pkgs from a lock file's content.
func lockDetails(format string, content []byte, pkgs []deps.Package) {
	read, ok := lockReaders[format]
	if !ok {
		return
	}
	d := read(content)
	for i := range pkgs {
		p := &pkgs[i]
		if x, ok := d[pkgKey{Normalize(p.Ecosystem, p.Name), p.Version}]; ok {
			p.Hashes, p.DependsOn = x.hashes, x.dependsOn
		}
	}
}

type pkgKey struct{ name, version string }

type details struct {
	hashes    []string
	dependsOn []string // purls
	purl      string   // the package's own, to leave out self edges
}

// lockIndex gathers the details of one lock file's packages, merging the
// entries that repeat a name and version (pdm's extras, pnpm's peer
// variants, yarn's patches), within the limits.
type lockIndex struct {
	eco   string
	m     map[pkgKey]*details
	purls map[pkgKey]string // by name as spelled, so that edges share their strings
	edges int
}

func newLockIndex(eco string) *lockIndex {
	return &lockIndex{eco: eco, m: map[pkgKey]*details{}, purls: map[pkgKey]string{}}
}

// entry is the details of the package name at version, created empty on
// first use.
func (ix *lockIndex) entry(name, version string) *details {
	k := pkgKey{Normalize(ix.eco, name), version}
	d, ok := ix.m[k]
	if !ok {
		d = &details{purl: ix.purl(name, version)}
		ix.m[k] = d
	}
	return d
}

func (ix *lockIndex) purl(name, version string) string {
	k := pkgKey{name, version}
	p, ok := ix.purls[k]
	if !ok {
		p = deps.Package{Ecosystem: ix.eco, Name: name, Version: version}.PURL()
		ix.purls[k] = p
	}
	return p
}

// hash adds a digest, skipping empty and repeated ones.
func (ix *lockIndex) hash(d *details, h string) {
	if h != "" && len(d.hashes) < maxHashes && !slices.Contains(d.hashes, h) {
		d.hashes = append(d.hashes, h)
	}
}

// dependsOn adds an edge to the package with purl.
func (ix *lockIndex) dependsOn(d *details, purl string) {
	if purl == "" || purl == d.purl || ix.edges >= maxEdges {
		return
	}
	ix.edges++
	d.dependsOn = append(d.dependsOn, purl)
}

// result is the details by key, edges sorted and unique.
func (ix *lockIndex) result() map[pkgKey]details {
	out := make(map[pkgKey]details, len(ix.m))
	for k, d := range ix.m {
		slices.Sort(d.dependsOn)
		d.dependsOn = slices.Compact(d.dependsOn)
		out[k] = *d
	}
	return out
}

// lookupBudget bounds the bytes that nested install-path lookups hash
// (npm's node_modules, bun's keys): resolving a name walks up the path, which
// on a hostile file nested thousands deep would cost quadratic time. Past
// the budget, dependencies stay unresolved.
func lookupBudget(content []byte) int { return 16*len(content) + 1<<20 }

// npmLockDetails reads package-lock.json (lockfileVersion 2 and 3: the
// "packages" map keyed by install path). A dependency resolves as Node
// does: the nearest node_modules folder up from the requiring package.
func npmLockDetails(content []byte) map[pkgKey]details {
	var lock struct {
		Packages map[string]struct {
			Name                 string            `json:"name"`
			Version              string            `json:"version"`
			Integrity            string            `json:"integrity"`
			Link                 bool              `json:"link"`
			Dependencies         map[string]string `json:"dependencies"`
			OptionalDependencies map[string]string `json:"optionalDependencies"`
			PeerDependencies     map[string]string `json:"peerDependencies"`
		} `json:"packages"`
	}
	if json.Unmarshal(content, &lock) != nil {
		return nil
	}
	nameAt := func(p string) string {
		i := strings.LastIndex(p, "node_modules/")
		if i < 0 {
			return ""
		}
		return p[i+len("node_modules/"):]
	}
	purlAt := func(p string) (string, bool) {
		e, ok := lock.Packages[p]
		if !ok || e.Link || e.Version == "" {
			return "", false
		}
		name := cmp.Or(e.Name, nameAt(p))
		return deps.Package{Ecosystem: deps.NPM, Name: name, Version: e.Version}.PURL(), name != ""
	}
	budget := lookupBudget(content)
	// resolve finds the install path of dependency name as seen from the
	// package installed at from.
	resolve := func(from, name string) string {
		for dir := from; ; {
			cand := "node_modules/" + name
			if dir != "" {
				cand = dir + "/node_modules/" + name
			}
			if budget -= len(cand); budget < 0 {
				return ""
			}
			if _, ok := lock.Packages[cand]; ok {
				return cand
			}
			if dir == "" {
				return ""
			}
			i := strings.LastIndex(dir, "/node_modules/")
			if i < 0 {
				dir = ""
			} else {
				dir = dir[:i]
			}
		}
	}
	ix := newLockIndex(deps.NPM)
	seen := map[pkgKey]bool{}
	for _, p := range slices.Sorted(maps.Keys(lock.Packages)) {
		e := lock.Packages[p]
		name := cmp.Or(e.Name, nameAt(p))
		if p == "" || name == "" || e.Version == "" || e.Link {
			continue
		}
		k := pkgKey{Normalize(deps.NPM, name), e.Version}
		if seen[k] {
			continue // the same version installed at several places
		}
		seen[k] = true
		d := ix.entry(name, e.Version)
		for _, h := range strings.Fields(e.Integrity) {
			ix.hash(d, h)
		}
		var names []string
		for _, m := range []map[string]string{e.Dependencies, e.OptionalDependencies, e.PeerDependencies} {
			for n := range m {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		for _, n := range slices.Compact(names) {
			if at := resolve(p, n); at != "" {
				if purl, ok := purlAt(at); ok {
					ix.dependsOn(d, purl)
				}
			}
		}
	}
	return ix.result()
}

// requirementHashes reads the --hash options of a requirements line.
func requirementHashes(line string) []string {
	var out []string
	for _, f := range strings.Fields(line) {
		if h, ok := strings.CutPrefix(f, "--hash="); ok && strings.Contains(h, ":") && len(out) < maxHashes {
			out = append(out, h)
		}
	}
	return out
}
