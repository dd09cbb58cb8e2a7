package manifest

import (
	"sort"
	"strings"

	"github.com/mlguard/mlguard/internal/deps"
)

// Normalize is the name a package is compared by within its ecosystem:
// PEP 503 for PyPI, case-folded where the registry ignores case, as is
// elsewhere.
func Normalize(ecosystem, name string) string {
	switch ecosystem {
	case deps.PyPI:
		return deps.NormalizePyPI(name)
	case deps.NPM, deps.HuggingFace, Conda:
		return strings.ToLower(name)
	case deps.Cargo:
		return strings.ReplaceAll(strings.ToLower(name), "_", "-")
	}
	return name
}

type diffKey struct{ eco, name string }

// Diff compares the packages of a base and a head revision by ecosystem and
// normalised name. A name on both sides whose versions or ranges differ is
// changed (Previous is the base's version, or its range when unpinned); one
// only in head is added, one only in base removed. When a name appears
// several times (two manifests, nested lock entries), identical entries pair
// off first, the rest pair in order, and leftovers are added or removed.
// The result is sorted by ecosystem, name, kind and version.
func Diff(base, head []deps.Package) []deps.Change {
	group := func(pkgs []deps.Package) map[diffKey][]deps.Package {
		m := map[diffKey][]deps.Package{}
		for _, p := range pkgs {
			k := diffKey{p.Ecosystem, Normalize(p.Ecosystem, p.Name)}
			m[k] = append(m[k], p)
		}
		return m
	}
	b, h := group(base), group(head)
	var out []deps.Change
	for k, hs := range h {
		bAll := b[k]
		bySpec := map[string][]int{}
		for i, bp := range bAll {
			bySpec[specKey(bp)] = append(bySpec[specKey(bp)], i)
		}
		used := make([]bool, len(bAll))
		var rest []deps.Package
		for _, hp := range hs {
			if idx := bySpec[specKey(hp)]; len(idx) > 0 {
				used[idx[0]] = true
				bySpec[specKey(hp)] = idx[1:]
				continue
			}
			rest = append(rest, hp)
		}
		var bs []deps.Package
		for i, bp := range bAll {
			if !used[i] {
				bs = append(bs, bp)
			}
		}
		for _, hp := range rest {
			if len(bs) == 0 {
				out = append(out, deps.Change{Package: hp, Kind: deps.Added})
				continue
			}
			prev := bs[0].Version
			if prev == "" {
				prev = bs[0].Range
			}
			bs = bs[1:]
			out = append(out, deps.Change{Package: hp, Kind: deps.Changed, Previous: prev})
		}
		for _, bp := range bs {
			out = append(out, deps.Change{Package: bp, Kind: deps.Removed})
		}
	}
	for k, bs := range b {
		if _, ok := h[k]; ok {
			continue
		}
		for _, bp := range bs {
			out = append(out, deps.Change{Package: bp, Kind: deps.Removed})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, c := out[i], out[j]
		ka, kc := Normalize(a.Ecosystem, a.Name), Normalize(c.Ecosystem, c.Name)
		switch {
		case a.Ecosystem != c.Ecosystem:
			return a.Ecosystem < c.Ecosystem
		case ka != kc:
			return ka < kc
		case a.Kind != c.Kind:
			return a.Kind < c.Kind
		case a.Version != c.Version:
			return a.Version < c.Version
		case a.Range != c.Range:
			return a.Range < c.Range
		case a.Manifest != c.Manifest:
			return a.Manifest < c.Manifest
		}
		return a.Line < c.Line
	})
	return out
}

// specKey is what two entries for one name must share to be the same: the
// pinned version, or, unpinned, the range.
func specKey(p deps.Package) string {
	if p.Version != "" {
		return "=" + p.Version
	}
	return "~" + normalizeRange(p)
}

// normalizeRange drops spacing and, for PyPI, the spelling of the name at
// the front of the range, so "Scikit_Learn >= 1.3" equals "scikit-learn>=1.3".
func normalizeRange(p deps.Package) string {
	r := strings.Join(strings.Fields(p.Range), "")
	if p.Ecosystem == deps.PyPI {
		if n := pep508Name.FindString(r); n != "" {
			r = deps.NormalizePyPI(n) + r[len(n):]
		}
	}
	return r
}
