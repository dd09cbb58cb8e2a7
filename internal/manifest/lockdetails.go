package manifest

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/mlguard/mlguard/internal/deps"
)

// Lock files record more than which packages are installed: the digest of
// each artifact and which package requires which. osv-scalibr's extractors
// keep neither, so lockDetails reads them from the same content and adds
// them to the packages the extractor found, matched by name and version.
// A lock file it cannot read gets no details; the packages stand as they are.

// maxHashes bounds the digests kept per package (a wheel per platform).
const maxHashes = 64

// lockDetails fills Hashes and DependsOn of pkgs from a lock file's content.
func lockDetails(format string, content []byte, pkgs []deps.Package) {
	var d map[pkgKey]details
	switch format {
	case "package-lock.json":
		d = npmLockDetails(content)
	case "poetry.lock", "uv.lock":
		d = pyLockDetails(content)
	default:
		return
	}
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
}

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
	// resolve finds the install path of dependency name as seen from the
	// package installed at from.
	resolve := func(from, name string) string {
		for dir := from; ; {
			cand := "node_modules/" + name
			if dir != "" {
				cand = dir + "/node_modules/" + name
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
	out := map[pkgKey]details{}
	keys := slices.Sorted(maps.Keys(lock.Packages))
	for _, p := range keys {
		e := lock.Packages[p]
		name := cmp.Or(e.Name, nameAt(p))
		if p == "" || name == "" || e.Version == "" || e.Link {
			continue
		}
		k := pkgKey{Normalize(deps.NPM, name), e.Version}
		if _, seen := out[k]; seen {
			continue // the same version installed at several places
		}
		var d details
		if e.Integrity != "" {
			d.hashes = strings.Fields(e.Integrity)[:min(len(strings.Fields(e.Integrity)), maxHashes)]
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
					d.dependsOn = append(d.dependsOn, purl)
				}
			}
		}
		out[k] = d
	}
	return out
}

// pyLockDetails reads poetry.lock and uv.lock: [[package]] tables with a
// name, a version, their files' hashes and their dependencies, each
// resolved to the one locked version of that name.
func pyLockDetails(content []byte) map[pkgKey]details {
	type file struct {
		Hash string `toml:"hash"`
	}
	var lock struct {
		Package []struct {
			Name    string `toml:"name"`
			Version string `toml:"version"`
			Files   []file `toml:"files"`  // poetry
			Wheels  []file `toml:"wheels"` // uv
			Sdist   *file  `toml:"sdist"`  // uv
			// poetry: a table name -> constraint; uv: a list of {name = ...}
			Dependencies any `toml:"dependencies"`
		} `toml:"package"`
	}
	if _, err := toml.Decode(string(content), &lock); err != nil {
		return nil
	}
	version := map[string]string{}
	for _, p := range lock.Package {
		n := Normalize(deps.PyPI, p.Name)
		if _, dup := version[n]; !dup {
			version[n] = p.Version
		}
	}
	out := map[pkgKey]details{}
	for _, p := range lock.Package {
		if p.Name == "" || p.Version == "" {
			continue
		}
		var d details
		files := append(slices.Clone(p.Files), p.Wheels...)
		if p.Sdist != nil {
			files = append(files, *p.Sdist)
		}
		for _, f := range files {
			if f.Hash != "" && len(d.hashes) < maxHashes {
				d.hashes = append(d.hashes, f.Hash)
			}
		}
		var names []string
		switch deps := p.Dependencies.(type) {
		case map[string]any:
			for n := range deps {
				names = append(names, n)
			}
		case []map[string]any:
			for _, x := range deps {
				if n, ok := x["name"].(string); ok {
					names = append(names, n)
				}
			}
		case []any:
			for _, x := range deps {
				if m, ok := x.(map[string]any); ok {
					if n, ok := m["name"].(string); ok {
						names = append(names, n)
					}
				}
			}
		}
		for i := range names {
			names[i] = Normalize(deps.PyPI, names[i])
		}
		slices.Sort(names)
		for _, n := range slices.Compact(names) {
			if v, ok := version[n]; ok && v != "" {
				d.dependsOn = append(d.dependsOn, deps.Package{Ecosystem: deps.PyPI, Name: n, Version: v}.PURL())
			}
		}
		out[pkgKey{Normalize(deps.PyPI, p.Name), p.Version}] = d
	}
	return out
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
