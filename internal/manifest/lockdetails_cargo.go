package manifest

import (
	"encoding/hex"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/mlguard/mlguard/internal/deps"
)

// cargoLockDetails reads Cargo.lock: [[package]] tables with the SHA-256
// checksum of the registry's .crate file (in version 1 of the format, in
// [metadata] as "checksum name version (source)" = hex) and dependencies
// as "name", "name version" or "name version (source)": Cargo adds the
// version when several of the name are locked, and the source when that
// is not enough. Path and git crates have no checksum.
func cargoLockDetails(content []byte) map[pkgKey]details {
	var lock struct {
		Package []struct {
			Name         string   `toml:"name"`
			Version      string   `toml:"version"`
			Checksum     string   `toml:"checksum"`
			Dependencies []string `toml:"dependencies"`
		} `toml:"package"`
		Metadata map[string]any `toml:"metadata"`
	}
	if _, err := toml.Decode(string(content), &lock); err != nil {
		return nil
	}
	ix := newLockIndex(deps.Cargo)
	versions := map[string]map[string]string{} // normalised name -> version -> name as locked
	for _, p := range lock.Package {
		if p.Name == "" || p.Version == "" {
			continue
		}
		n := Normalize(deps.Cargo, p.Name)
		if versions[n] == nil {
			versions[n] = map[string]string{}
		}
		versions[n][p.Version] = p.Name
	}
	// resolve is the purl of the dependency spec, "" when it names no
	// locked package or several.
	resolve := func(spec string) string {
		f := strings.Fields(spec)
		if len(f) == 0 {
			return ""
		}
		vs := versions[Normalize(deps.Cargo, f[0])]
		v := ""
		if len(f) > 1 {
			v = f[1]
		} else if len(vs) == 1 {
			for x := range vs {
				v = x
			}
		}
		name, ok := vs[v]
		if !ok {
			return ""
		}
		return ix.purl(name, v)
	}
	for _, p := range lock.Package {
		if p.Name == "" || p.Version == "" {
			continue
		}
		d := ix.entry(p.Name, p.Version)
		if h := cargoChecksum(p.Checksum); h != "" {
			ix.hash(d, h)
		}
		for _, dep := range p.Dependencies {
			ix.dependsOn(d, resolve(dep))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(lock.Metadata)) {
		spec, ok := strings.CutPrefix(k, "checksum ")
		sum, _ := lock.Metadata[k].(string)
		f := strings.Fields(spec)
		if !ok || len(f) < 2 {
			continue
		}
		if name, ok := versions[Normalize(deps.Cargo, f[0])][f[1]]; ok {
			if h := cargoChecksum(sum); h != "" {
				ix.hash(ix.entry(name, f[1]), h)
			}
		}
	}
	return ix.result()
}

// cargoChecksum is a Cargo checksum as a digest, "" unless it is the
// SHA-256 hex Cargo writes.
func cargoChecksum(s string) string {
	if b, err := hex.DecodeString(s); err != nil || len(b) != 32 {
		return ""
	}
	return "sha256:" + strings.ToLower(s)
}
