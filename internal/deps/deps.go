// Package deps is the vocabulary of dependencies that the manifest readers,
// the registry clients and the health criteria share: a package, its purl,
// and how a change touched it.
package deps

import (
	"net/url"
	"strings"
)

// Ecosystems, spelled as purl types where one exists.
const (
	PyPI        = "pypi"
	NPM         = "npm"
	Go          = "golang"
	Cargo       = "cargo"
	Maven       = "maven"
	HuggingFace = "huggingface"
)

// Package is one dependency as a manifest names it.
type Package struct {
	Ecosystem string // one of the constants above
	Name      string // as the ecosystem spells it (npm scopes included: "@types/node")
	Version   string // the pinned version; "" when the manifest gives only a range or nothing
	Range     string // the constraint as written ("torch>=2.1", "^4.17.0"), for messages
	Manifest  string // the manifest's path, relative to the repository
	Line      int    // 1-based line in the manifest, 0 when unknown
	// Hashes are the artifact digests the lock file records, as it spells
	// them: "sha256:<hex>" (pip --hash, poetry, uv), "sha512-<base64>"
	// (npm integrity).
	Hashes []string
	// DependsOn are the purls of the packages this one requires, where the
	// lock file resolves them.
	DependsOn []string
}

// Pinned reports whether the manifest fixes one version.
func (p Package) Pinned() bool { return p.Version != "" }

// PURL is the package URL (https://github.com/package-url/purl-spec), with
// the version when pinned.
func (p Package) PURL() string {
	name := p.Name
	namespace := ""
	switch p.Ecosystem {
	case NPM:
		if strings.HasPrefix(name, "@") {
			if ns, n, ok := strings.Cut(name, "/"); ok {
				namespace, name = ns, n
			}
		}
	case PyPI:
		name = NormalizePyPI(name)
	case Go, Maven, HuggingFace:
		if i := strings.LastIndex(name, "/"); i >= 0 && p.Ecosystem != Maven {
			namespace, name = name[:i], name[i+1:]
		} else if p.Ecosystem == Maven {
			if g, a, ok := strings.Cut(name, ":"); ok {
				namespace, name = g, a
			}
		}
	}
	var b strings.Builder
	b.WriteString("pkg:" + p.Ecosystem + "/")
	if namespace != "" {
		for _, seg := range strings.Split(namespace, "/") {
			b.WriteString(escape(seg) + "/")
		}
	}
	b.WriteString(escape(name))
	if p.Version != "" {
		b.WriteString("@" + escape(p.Version))
	}
	return b.String()
}

func escape(s string) string {
	return strings.NewReplacer("+", "%2B", "@", "%40").Replace(url.PathEscape(s))
}

// NormalizePyPI is PEP 503's normalised name: lower case, runs of -_. as -.
func NormalizePyPI(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r == '-' || r == '_' || r == '.' {
			if !dash {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		dash = false
		b.WriteRune(r)
	}
	return b.String()
}

// Change kinds.
const (
	Added   = "added"
	Changed = "changed"
	Removed = "removed"
)

// Change is a package that a change added, changed (another version or
// range) or removed.
type Change struct {
	Package
	Kind     string // Added, Changed or Removed
	Previous string // the earlier version or range of a changed package
}
