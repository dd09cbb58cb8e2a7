package manifest

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/mlguard/mlguard/internal/deps"
)

// pyFile is a file of a Python lock entry: poetry's and pdm's files, uv's
// wheels and sdist.
type pyFile struct {
	Hash string `toml:"hash"`
}

// pyLocks resolves a dependency named without a version to the one locked
// version of that name.
type pyLocks struct {
	versions map[string]map[string]bool // normalised name -> version -> locked without markers
	chosen   map[string]resolved        // resolve's answers
}

type resolved struct {
	version string
	ok      bool
}

func newPyLocks() *pyLocks {
	return &pyLocks{versions: map[string]map[string]bool{}, chosen: map[string]resolved{}}
}

// add records a locked version; marked when the entry applies only under
// environment markers (uv's resolution-markers, poetry's markers, pdm's and
// PEP 751's marker).
func (l *pyLocks) add(name, version string, marked bool) {
	n := deps.NormalizePyPI(name)
	if l.versions[n] == nil {
		l.versions[n] = map[string]bool{}
	}
	l.versions[n][version] = l.versions[n][version] || !marked
}

func (l *pyLocks) has(name, version string) bool {
	_, ok := l.versions[deps.NormalizePyPI(name)][version]
	return ok
}

// unique reports whether one entry of name is locked.
func (l *pyLocks) unique(name string) bool {
	return len(l.versions[deps.NormalizePyPI(name)]) == 1
}

// resolve is the version a dependency on name gets: the only one locked,
// or else the only one locked without markers; ok is false when there is
// none or that is ambiguous. The version is "" for PEP 751's entries without
// one (a VCS checkout, a directory).
func (l *pyLocks) resolve(name string) (version string, ok bool) {
	n := deps.NormalizePyPI(name)
	if v, ok := l.chosen[n]; ok {
		return v.version, v.ok
	}
	vs := l.versions[n]
	var unmarked []string
	for v, free := range vs {
		if len(vs) == 1 || free {
			unmarked = append(unmarked, v)
		}
	}
	r := resolved{}
	if len(unmarked) == 1 {
		r = resolved{unmarked[0], true}
	}
	l.chosen[n] = r
	return r.version, r.ok
}

// edge adds the edge from d to name, at version when the lock file names
// one, else at the one version resolve finds.
func (l *pyLocks) edge(ix *lockIndex, d *details, name, version string) {
	if name == "" {
		return
	}
	if version != "" {
		if !l.has(name, version) {
			return
		}
	} else if v, ok := l.resolve(name); ok {
		version = v
	} else {
		return
	}
	ix.dependsOn(d, ix.purl(name, version))
}

// metadataFiles adds the hashes of the older layout that kept them apart,
// in [metadata.files]: keyed by name (poetry 1.x; used only when one version
// of the name is locked) or by "name version" (pdm before lock format 4).
func metadataFiles(ix *lockIndex, locks *pyLocks, files map[string][]pyFile) {
	for _, key := range slices.Sorted(maps.Keys(files)) {
		name, version, _ := strings.Cut(strings.TrimSpace(key), " ")
		version = strings.TrimSpace(version)
		if version == "" {
			if !locks.unique(name) {
				continue
			}
			version, _ = locks.resolve(name)
		}
		if name == "" || version == "" || !locks.has(name, version) {
			continue
		}
		d := ix.entry(name, version)
		for _, f := range files[key] {
			ix.hash(d, f.Hash)
		}
	}
}

// pyEntry is one package entry of a Python lock file, read into the shape
// every format shares.
type pyEntry struct {
	name, version string
	marked        bool // applies only under environment markers
	hashes        []string
	deps          []pyDep
}

// pyDep is a dependency of an entry: a name, and the version where the lock
// file names one. bySource marks PEP 751's entries that name a dependency by
// its source (vcs, directory, index) rather than its version: only a unique
// name resolves them.
type pyDep struct {
	name, version string
	bySource      bool
}

// pyLockIndex indexes the entries of a Python lock file: every versioned
// entry (every named one, with anyVersion) is recorded first, so that a
// dependency named without a version resolves to the one locked version,
// then hashed and linked; metadata adds the older layout's [metadata.files].
func pyLockIndex(entries []pyEntry, anyVersion bool, metadata map[string][]pyFile) map[pkgKey]details {
	usable := func(e pyEntry) bool { return e.name != "" && (anyVersion || e.version != "") }
	locks := newPyLocks()
	for _, e := range entries {
		if usable(e) {
			locks.add(e.name, e.version, e.marked)
		}
	}
	ix := newLockIndex(deps.PyPI)
	for _, e := range entries {
		if !usable(e) {
			continue
		}
		d := ix.entry(e.name, e.version)
		for _, h := range e.hashes {
			ix.hash(d, h)
		}
		for _, dep := range e.deps {
			if dep.bySource && !locks.unique(dep.name) {
				continue // markers cannot tell which entry of the name is meant
			}
			locks.edge(ix, d, dep.name, dep.version)
		}
	}
	metadataFiles(ix, locks, metadata)
	return ix.result()
}

// poetryLockDetails reads poetry.lock: [[package]] tables with their files'
// hashes (or, before lock format 2.0, [metadata.files]) and a
// [package.dependencies] table keyed by name.
func poetryLockDetails(content []byte) map[pkgKey]details {
	var lock struct {
		Package []struct {
			Name         string         `toml:"name"`
			Version      string         `toml:"version"`
			Files        []pyFile       `toml:"files"`
			Markers      any            `toml:"markers"` // poetry 2: a string, or a table by group
			Dependencies map[string]any `toml:"dependencies"`
		} `toml:"package"`
		Metadata struct {
			Files map[string][]pyFile `toml:"files"`
		} `toml:"metadata"`
	}
	if _, err := toml.Decode(string(content), &lock); err != nil {
		return nil
	}
	entries := make([]pyEntry, len(lock.Package))
	for i, p := range lock.Package {
		e := pyEntry{name: p.Name, version: p.Version, marked: p.Markers != nil, hashes: fileHashes(p.Files)}
		for _, n := range slices.Sorted(maps.Keys(p.Dependencies)) {
			e.deps = append(e.deps, pyDep{name: n})
		}
		entries[i] = e
	}
	return pyLockIndex(entries, false, lock.Metadata.Files)
}

// fileHashes are the hashes of poetry's and pdm's files and uv's wheels.
func fileHashes(files []pyFile) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Hash
	}
	return out
}

// uvLockDetails reads uv.lock: [[package]] tables with wheels and an sdist,
// and dependencies as {name = ...} tables, which carry the version where
// the lock holds several of that name (a fork).
func uvLockDetails(content []byte) map[pkgKey]details {
	var lock struct {
		Package []struct {
			Name              string   `toml:"name"`
			Version           string   `toml:"version"`
			ResolutionMarkers []string `toml:"resolution-markers"`
			Wheels            []pyFile `toml:"wheels"`
			Sdist             *pyFile  `toml:"sdist"`
			Dependencies      []struct {
				Name    string `toml:"name"`
				Version string `toml:"version"`
			} `toml:"dependencies"`
		} `toml:"package"`
	}
	if _, err := toml.Decode(string(content), &lock); err != nil {
		return nil
	}
	entries := make([]pyEntry, len(lock.Package))
	for i, p := range lock.Package {
		e := pyEntry{name: p.Name, version: p.Version, marked: len(p.ResolutionMarkers) > 0, hashes: fileHashes(p.Wheels)}
		if p.Sdist != nil {
			e.hashes = append(e.hashes, p.Sdist.Hash)
		}
		for _, dep := range p.Dependencies {
			e.deps = append(e.deps, pyDep{name: dep.Name, version: dep.Version})
		}
		entries[i] = e
	}
	return pyLockIndex(entries, false, nil)
}

// pdmLockDetails reads pdm.lock: [[package]] tables with files and
// dependencies as PEP 508 requirement strings. A package locked with extras
// repeats its name and version in a second entry that requires the first.
func pdmLockDetails(content []byte) map[pkgKey]details {
	var lock struct {
		Package []struct {
			Name         string   `toml:"name"`
			Version      string   `toml:"version"`
			Marker       string   `toml:"marker"`
			Files        []pyFile `toml:"files"`
			Dependencies []string `toml:"dependencies"`
		} `toml:"package"`
		Metadata struct {
			Files map[string][]pyFile `toml:"files"`
		} `toml:"metadata"`
	}
	if _, err := toml.Decode(string(content), &lock); err != nil {
		return nil
	}
	entries := make([]pyEntry, len(lock.Package))
	for i, p := range lock.Package {
		e := pyEntry{name: p.Name, version: p.Version, marked: p.Marker != "", hashes: fileHashes(p.Files)}
		for _, req := range p.Dependencies {
			e.deps = append(e.deps, pyDep{name: pep508Name.FindString(strings.TrimSpace(req))})
		}
		entries[i] = e
	}
	return pyLockIndex(entries, false, lock.Metadata.Files)
}

// pipfileLockDetails reads Pipfile.lock: "default" and "develop" map names
// to {"version": "==x", "hashes": [...]}. It records no graph.
func pipfileLockDetails(content []byte) map[pkgKey]details {
	var lock struct {
		Default map[string]json.RawMessage `json:"default"`
		Develop map[string]json.RawMessage `json:"develop"`
	}
	if json.Unmarshal(content, &lock) != nil {
		return nil
	}
	ix := newLockIndex(deps.PyPI)
	for _, group := range []map[string]json.RawMessage{lock.Default, lock.Develop} {
		for _, name := range slices.Sorted(maps.Keys(group)) {
			var e struct {
				Version string   `json:"version"`
				Hashes  []string `json:"hashes"`
			}
			if json.Unmarshal(group[name], &e) != nil {
				continue // one odd entry (a VCS one, say) spoils no other
			}
			v, ok := strings.CutPrefix(e.Version, "==")
			if !ok || v == "" {
				continue
			}
			d := ix.entry(name, v)
			for _, h := range e.Hashes {
				ix.hash(d, h)
			}
		}
	}
	return ix.result()
}

// pylockDetails reads PEP 751's pylock.toml: [[packages]] with the hashes
// of their wheels, sdist or archive as tables algorithm -> hex digest, and
// dependencies as tables naming the package entry they mean (its name, and
// its version where the name alone is ambiguous).
func pylockDetails(content []byte) map[pkgKey]details {
	type hashed struct {
		Hashes map[string]string `toml:"hashes"`
	}
	var lock struct {
		Packages []struct {
			Name         string           `toml:"name"`
			Version      string           `toml:"version"`
			Marker       string           `toml:"marker"`
			Dependencies []map[string]any `toml:"dependencies"`
			Wheels       []hashed         `toml:"wheels"`
			Sdist        *hashed          `toml:"sdist"`
			Archive      *hashed          `toml:"archive"`
		} `toml:"packages"`
	}
	if _, err := toml.Decode(string(content), &lock); err != nil {
		return nil
	}
	entries := make([]pyEntry, len(lock.Packages))
	for i, p := range lock.Packages {
		// Entries without a version (vcs, directory) count too, as "" that
		// resolves to no edge; the extractor reports them without a version.
		e := pyEntry{name: p.Name, version: p.Version, marked: p.Marker != ""}
		files := slices.Clone(p.Wheels)
		for _, f := range []*hashed{p.Sdist, p.Archive} {
			if f != nil {
				files = append(files, *f)
			}
		}
		for _, f := range files {
			for _, alg := range slices.Sorted(maps.Keys(f.Hashes)) {
				if v := f.Hashes[alg]; alg != "" && v != "" {
					e.hashes = append(e.hashes, strings.ToLower(alg)+":"+v)
				}
			}
		}
		for _, dep := range p.Dependencies {
			name, _ := dep["name"].(string)
			version, _ := dep["version"].(string)
			e.deps = append(e.deps, pyDep{name: name, version: version, bySource: version == "" && len(dep) > 1})
		}
		entries[i] = e
	}
	return pyLockIndex(entries, true, nil)
}
