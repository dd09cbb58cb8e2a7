package manifest

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/mlguard/mlguard/internal/deps"
)

// cargoTables are the dependency tables of a Cargo.toml, and of each of its
// [target.<cfg or triple>] tables. The underscore spellings are the old ones
// Cargo still reads before edition 2024.
var cargoTables = []string{"dependencies", "dev-dependencies", "build-dependencies", "dev_dependencies", "build_dependencies"}

// cargoExact is a requirement that admits one version: "=1.2.3" (Cargo reads
// a bare "1.2.3" as ^1.2.3, and "=1.2" as any 1.2.x).
var cargoExact = regexp.MustCompile(`^=\s*(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$`)

// cargoName is a crate name as crates.io accepts it.
var cargoName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// parseCargoToml reads every dependency table of a Cargo.toml: [dependencies],
// [dev-dependencies], [build-dependencies], their [target.'cfg(...)'.*]
// variants and [workspace.dependencies]. scalibr's cargotoml extractor is
// not used: it reports the crate itself as a dependency, reads only
// [dependencies], and takes a requirement such as "1.0", which Cargo reads
// as ^1.0, for a pinned version. Here a requirement pins only when it is
// "=x.y.z"; otherwise the package is unpinned with the requirement as its
// range. A renamed dependency (package = "real-name") is reported by the
// crate's real name. Dependencies on a path, inherited from the workspace
// (reported where the workspace declares them), from git or from another
// registry are not crates.io packages and are skipped.
func parseCargoToml(_ context.Context, _ string, content []byte) ([]deps.Package, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(content), &doc); err != nil {
		return nil, fmt.Errorf("decoding TOML: %w", err)
	}
	lines := newTOMLLines(content)
	var c collector
	addTable := func(table []string, v any) error {
		entries, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, key := range sortedKeys(entries) {
			name, req, ok := cargoDependency(key, entries[key])
			if !ok {
				continue
			}
			p := deps.Package{Ecosystem: deps.Cargo, Name: name, Range: req, Line: lines.line(append(table[:len(table):len(table)], key)...)}
			if m := cargoExact.FindStringSubmatch(strings.TrimSpace(req)); m != nil {
				p.Version = m[1]
			}
			if req == "" {
				p.Range = "*"
			}
			if err := c.add(p); err != nil {
				return err
			}
		}
		return nil
	}
	for _, t := range cargoTables {
		if err := addTable([]string{t}, doc[t]); err != nil {
			return nil, err
		}
	}
	if targets, ok := doc["target"].(map[string]any); ok {
		for _, cfg := range sortedKeys(targets) {
			target, _ := targets[cfg].(map[string]any)
			for _, t := range cargoTables {
				if err := addTable([]string{"target", cfg, t}, target[t]); err != nil {
					return nil, err
				}
			}
		}
	}
	if ws, ok := doc["workspace"].(map[string]any); ok {
		if err := addTable([]string{"workspace", "dependencies"}, ws["dependencies"]); err != nil {
			return nil, err
		}
	}
	return c.pkgs, nil
}

// cargoDependency reads one entry of a dependency table: "1.0" or
// { version = "1.0", package = "real-name", ... }. ok is false for an entry
// that names no crates.io package.
func cargoDependency(key string, spec any) (name, req string, ok bool) {
	name = key
	switch s := spec.(type) {
	case string:
		req = s
	case map[string]any:
		if inherited, _ := s["workspace"].(bool); inherited {
			return "", "", false // reported from [workspace.dependencies]
		}
		for _, source := range []string{"path", "registry", "registry-index"} {
			if _, ok := s[source]; ok {
				return "", "", false // a local crate, or one from another registry than crates.io
			}
		}
		if _, ok := s["git"]; ok {
			// Not a registry package, so nothing to look up. A git dependency
			// without rev = "<commit>" follows a branch; that could deserve a
			// finding of its own one day.
			return "", "", false
		}
		if real, ok := s["package"].(string); ok && real != "" {
			name = real
		}
		req, _ = s["version"].(string)
	default:
		return "", "", false
	}
	return name, strings.TrimSpace(req), cargoName.MatchString(name)
}
