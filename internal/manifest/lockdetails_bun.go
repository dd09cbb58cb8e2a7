package manifest

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/mlguard/mlguard/internal/deps"
)

// bunLockDetails reads bun.lock, JSON with comments and trailing commas.
// "packages" maps an install path ("chalk/supports-color": supports-color
// nested under chalk) to a tuple whose first element is "name@version";
// a registry package's is
//
//	["name@1.0.0", "<registry or empty>", {"dependencies": {...}, ...}, "sha512-..."]
//
// and git, GitHub and tarball packages carry their info object and, when
// known, the integrity too. A dependency resolves as Node does, from the
// nearest install path up from the requiring package.
func bunLockDetails(content []byte) map[pkgKey]details {
	var lock struct {
		Packages map[string]json.RawMessage `json:"packages"`
	}
	if json.Unmarshal(stripJSONC(content), &lock) != nil {
		return nil
	}
	type entry struct {
		name, version string
		integrity     []string
		deps          []string // names
	}
	byPath := map[string]entry{}
	for path, raw := range lock.Packages {
		var tuple []json.RawMessage
		if json.Unmarshal(raw, &tuple) != nil || len(tuple) == 0 {
			continue
		}
		var ident string
		if json.Unmarshal(tuple[0], &ident) != nil {
			continue
		}
		e := entry{}
		e.name, e.version = bunIdent(ident)
		if e.name == "" || e.version == "" {
			continue
		}
		info := false
		for _, x := range tuple[1:] {
			var s string
			if json.Unmarshal(x, &s) == nil {
				if sri(s) {
					e.integrity = append(e.integrity, s)
				}
				continue
			}
			var meta struct {
				Dependencies         map[string]string `json:"dependencies"`
				OptionalDependencies map[string]string `json:"optionalDependencies"`
				PeerDependencies     map[string]string `json:"peerDependencies"`
			}
			if !info && json.Unmarshal(x, &meta) == nil {
				info = true
				for _, m := range []map[string]string{meta.Dependencies, meta.OptionalDependencies, meta.PeerDependencies} {
					for n := range m {
						e.deps = append(e.deps, n)
					}
				}
			}
		}
		slices.Sort(e.deps)
		e.deps = slices.Compact(e.deps)
		byPath[path] = e
	}
	budget := lookupBudget(content)
	// resolve finds the install path of dependency name as seen from the
	// package installed at from.
	resolve := func(from, name string) (entry, bool) {
		for dir := from; ; dir = bunParent(dir) {
			cand := name
			if dir != "" {
				cand = dir + "/" + name
			}
			if budget -= len(cand); budget < 0 {
				return entry{}, false
			}
			if e, ok := byPath[cand]; ok {
				return e, true
			}
			if dir == "" {
				return entry{}, false
			}
		}
	}
	ix := newLockIndex(deps.NPM)
	for _, path := range slices.Sorted(maps.Keys(byPath)) {
		e := byPath[path]
		d := ix.entry(e.name, e.version)
		for _, h := range e.integrity {
			ix.hash(d, h)
		}
		for _, n := range e.deps {
			if to, ok := resolve(path, n); ok {
				ix.dependsOn(d, ix.purl(to.name, to.version))
			}
		}
	}
	return ix.result()
}

// bunIdent splits a tuple's "name@version" as the extractor does: the
// version is empty for a tarball URL, a git commit or a file: path, which
// it does not report as npm versions.
func bunIdent(s string) (name, version string) {
	rest, scoped := strings.CutPrefix(s, "@")
	name, version, _ = strings.Cut(rest, "@")
	if scoped {
		name = "@" + name
	}
	if strings.HasPrefix(version, "http://") || strings.HasPrefix(version, "https://") ||
		strings.HasPrefix(version, "file:") || strings.ContainsAny(version, "#@") {
		return name, ""
	}
	return name, version
}

// bunParent is the install path a package's path is nested in: "chalk" of
// "chalk/supports-color", "a" of "a/@scope/b", "" at the top.
func bunParent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	j := strings.LastIndexByte(p[:i], '/')
	if strings.HasPrefix(p[j+1:i], "@") { // the last package is scoped
		if j < 0 {
			return ""
		}
		return p[:j]
	}
	return p[:i]
}

// sri reports whether s is a Subresource Integrity digest as npm writes
// them, "sha512-<base64>".
func sri(s string) bool {
	alg, v, ok := strings.Cut(s, "-")
	return ok && v != "" && !strings.ContainsAny(v, " \t") &&
		(alg == "sha1" || alg == "sha256" || alg == "sha384" || alg == "sha512")
}

// stripJSONC turns JSON with comments and trailing commas (bun.lock's
// dialect) into JSON: comments become spaces, and a comma before a closing
// bracket goes. Strings are copied as they are.
func stripJSONC(b []byte) []byte {
	out := make([]byte, 0, len(b))
	lastComma := -1 // in out, a comma with only blanks after it so far
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(b)-1)
			out = append(out, b[i:j+1]...)
			i, lastComma = j, -1
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				i++
			}
			out = append(out, '\n')
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			end := bytes.Index(b[i+2:], []byte("*/"))
			if end < 0 {
				i = len(b)
			} else {
				i += 2 + end + 1
			}
			out = append(out, ' ')
		case c == '}' || c == ']':
			if lastComma >= 0 {
				out[lastComma] = ' '
			}
			out = append(out, c)
			lastComma = -1
		case c == ',':
			lastComma = len(out)
			out = append(out, c)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			out = append(out, c)
		default:
			out = append(out, c)
			lastComma = -1
		}
	}
	return out
}
