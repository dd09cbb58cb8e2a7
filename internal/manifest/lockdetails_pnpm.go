package manifest

import (
	"bytes"
	"cmp"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mlguard/mlguard/internal/deps"
)

// maxYAMLDocuments bounds the documents read from one pnpm-lock.yaml (pnpm
// writes one, or two when it locks its own version too).
const maxYAMLDocuments = 64

type pnpmPackage struct {
	name, version                      string
	integrity, commit, tarball         string
	dependencies, optionalDependencies map[string]string
}

type pnpmDocument struct {
	lockfileVersion     string
	packages, snapshots map[string]pnpmPackage
}

// pnpmLockDetails reads pnpm-lock.yaml. Every layout keeps the integrity in
// packages[key].resolution; the graph is in the same entries up to
// lockfileVersion 6 (keys "/name/1.0.0_peer" in 5.x, "/name@1.0.0(peer@2)"
// in 6.x) and in snapshots from 9.0 (keys "name@1.0.0(peer@2)", packages
// keyed without the peer suffix). A dependency maps a name to the key's
// version part, or to a whole key for an alias ("npm:" in package.json).
//
// The documents are walked as YAML nodes rather than decoded into Go
// values: yaml.v3 compares every pair of keys of a mapping it decodes, which
// on a lock file with a hundred thousand packages takes minutes.
func pnpmLockDetails(content []byte) map[pkgKey]details {
	ix := newLockIndex(deps.NPM)
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for range maxYAMLDocuments {
		var root yaml.Node
		if dec.Decode(&root) != nil {
			break // the end, or not YAML
		}
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
			pnpmDocumentDetails(ix, pnpmReadDocument(root.Content[0]))
		}
	}
	return ix.result()
}

// yamlPairs yields the keys and values of a mapping node. Aliases are not
// followed (pnpm writes none), so that walking a document costs its size.
func yamlPairs(n *yaml.Node) iter.Seq2[string, *yaml.Node] {
	return func(yield func(string, *yaml.Node) bool) {
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && !yield(k.Value, n.Content[i+1]) {
				return
			}
		}
	}
}

// yamlScalars is a mapping of scalars, as dependencies are.
func yamlScalars(n *yaml.Node) map[string]string {
	var out map[string]string
	for k, v := range yamlPairs(n) {
		if v.Kind == yaml.ScalarNode {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v.Value
		}
	}
	return out
}

func yamlScalar(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

func pnpmReadDocument(n *yaml.Node) pnpmDocument {
	doc := pnpmDocument{packages: map[string]pnpmPackage{}, snapshots: map[string]pnpmPackage{}}
	for k, v := range yamlPairs(n) {
		var into map[string]pnpmPackage
		switch k {
		case "lockfileVersion":
			doc.lockfileVersion = yamlScalar(v)
			continue
		case "packages":
			into = doc.packages
		case "snapshots":
			into = doc.snapshots
		default:
			continue
		}
		for key, entry := range yamlPairs(v) {
			var p pnpmPackage
			for field, x := range yamlPairs(entry) {
				switch field {
				case "name":
					p.name = yamlScalar(x)
				case "version":
					p.version = yamlScalar(x)
				case "resolution":
					for rf, y := range yamlPairs(x) {
						switch rf {
						case "integrity":
							p.integrity = yamlScalar(y)
						case "commit":
							p.commit = yamlScalar(y)
						case "tarball":
							p.tarball = yamlScalar(y)
						}
					}
				case "dependencies":
					p.dependencies = yamlScalars(x)
				case "optionalDependencies":
					p.optionalDependencies = yamlScalars(x)
				}
			}
			into[key] = p
		}
	}
	return doc
}

func pnpmDocumentDetails(ix *lockIndex, doc pnpmDocument) {
	major, _, _ := strings.Cut(doc.lockfileVersion, ".")
	version, err := strconv.Atoi(strings.Trim(major, "'\" "))
	if err != nil {
		return
	}
	type target struct {
		name, version string
		git           bool // the extractor reports these as git packages, not npm
	}
	byKey := map[string]target{}
	for _, k := range slices.Sorted(maps.Keys(doc.packages)) {
		p := doc.packages[k]
		name, v := pnpmKey(k, version)
		t := target{cmp.Or(p.name, name), cmp.Or(p.version, v),
			p.commit != "" || strings.HasPrefix(p.tarball, "https://codeload.github.com/")}
		if t.name == "" || t.version == "" {
			continue
		}
		byKey[k] = t
		ix.hash(ix.entry(t.name, t.version), p.integrity)
	}
	lookup := func(k string) (target, bool) {
		t, ok := byKey[k]
		if !ok && version >= 9 {
			t, ok = byKey[pnpmStripPeers(k)]
		}
		return t, ok
	}
	edges := func(from target, p pnpmPackage) {
		d := ix.entry(from.name, from.version)
		for _, m := range []map[string]string{p.dependencies, p.optionalDependencies} {
			for _, n := range slices.Sorted(maps.Keys(m)) {
				v := m[n]
				var key string
				switch {
				case version >= 9:
					key = n + "@" + v
				case version >= 6:
					key = "/" + n + "@" + v
				default:
					key = "/" + n + "/" + v
				}
				t, ok := lookup(key)
				if !ok {
					t, ok = lookup(v) // an alias: the value is the whole key
				}
				if ok && !t.git {
					ix.dependsOn(d, ix.purl(t.name, t.version))
				}
			}
		}
	}
	for _, m := range []map[string]pnpmPackage{doc.packages, doc.snapshots} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if from, ok := lookup(k); ok && !from.git {
				edges(from, m[k])
			}
		}
	}
}

// pnpmKey is the name and version a packages key names in lockfile layout
// version (the major number): "/@scope/name/1.0.0_peer@2" up to 5,
// "/@scope/name@1.0.0(peer@2)" in 6, "@scope/name@1.0.0" from 9. Keys of
// other shapes (a git host path) give "", leaving the entry's own name and
// version fields.
func pnpmKey(k string, version int) (name, v string) {
	if version < 9 {
		var ok bool
		if k, ok = strings.CutPrefix(k, "/"); !ok {
			return "", ""
		}
	}
	if version < 6 {
		i := strings.IndexByte(k, '/')
		if strings.HasPrefix(k, "@") && i >= 0 {
			j := strings.IndexByte(k[i+1:], '/')
			if j < 0 {
				return "", ""
			}
			i += 1 + j
		}
		if i <= 0 {
			return "", ""
		}
		name, v = k[:i], k[i+1:]
		v, _, _ = strings.Cut(v, "_")
		return name, v
	}
	k = pnpmStripPeers(k)
	if k == "" {
		return "", ""
	}
	i := strings.IndexByte(k[1:], '@') // past a scope's leading @
	if i < 0 {
		return "", ""
	}
	return k[:i+1], k[i+2:]
}

// pnpmStripPeers drops the peer and patch suffix, "(react@18.3.1)", of a
// key or version.
func pnpmStripPeers(s string) string {
	if i := strings.IndexByte(s, '('); i > 0 {
		return s[:i]
	}
	return s
}
