package manifest

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/mlguard/mlguard/internal/deps"
)

type pyprojectFile struct {
	Project struct {
		Dependencies         []string            `toml:"dependencies"`
		OptionalDependencies map[string][]string `toml:"optional-dependencies"`
	} `toml:"project"`
	DependencyGroups map[string][]any `toml:"dependency-groups"` // PEP 735; entries may be {include-group = "x"}
	Tool             struct {
		Poetry struct {
			Dependencies    map[string]any `toml:"dependencies"`
			DevDependencies map[string]any `toml:"dev-dependencies"`
			Group           map[string]struct {
				Dependencies map[string]any `toml:"dependencies"`
			} `toml:"group"`
		} `toml:"poetry"`
	} `toml:"tool"`
}

// parsePyproject reads PEP 621 [project] dependencies and optional
// dependencies, PEP 735 [dependency-groups], and Poetry's
// [tool.poetry.*dependencies] tables.
func parsePyproject(_ context.Context, _ string, content []byte) ([]deps.Package, error) {
	var f pyprojectFile
	if _, err := toml.Decode(string(content), &f); err != nil {
		return nil, fmt.Errorf("decoding TOML: %w", err)
	}
	li := newLineIndex(content)
	var c collector
	addPEP508 := func(header string, specs []string) error {
		from := max(li.find(header, 1), 1)
		for _, s := range specs {
			r, ok := parsePEP508(s)
			if !ok {
				continue
			}
			line := li.find(`"`+s+`"`, from)
			if line == 0 {
				line = li.find(`'`+s+`'`, from)
			}
			if line > 0 {
				from = line // entries come in file order
			}
			if err := c.add(deps.Package{Ecosystem: deps.PyPI, Name: r.name, Version: r.version, Range: r.spec, Line: line}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := addPEP508("[project]", f.Project.Dependencies); err != nil {
		return nil, err
	}
	for _, extra := range sortedKeys(f.Project.OptionalDependencies) {
		if err := addPEP508("[project.optional-dependencies]", f.Project.OptionalDependencies[extra]); err != nil {
			return nil, err
		}
	}
	for _, group := range sortedKeys(f.DependencyGroups) {
		var specs []string
		for _, e := range f.DependencyGroups[group] {
			if s, ok := e.(string); ok {
				specs = append(specs, s)
			}
		}
		if err := addPEP508("[dependency-groups]", specs); err != nil {
			return nil, err
		}
	}
	poetry := f.Tool.Poetry
	if err := addTable(&c, li, "[tool.poetry.dependencies]", poetry.Dependencies, poetrySpec); err != nil {
		return nil, err
	}
	if err := addTable(&c, li, "[tool.poetry.dev-dependencies]", poetry.DevDependencies, poetrySpec); err != nil {
		return nil, err
	}
	for _, g := range sortedKeys(poetry.Group) {
		header := "[tool.poetry.group." + g + ".dependencies]"
		if err := addTable(&c, li, header, poetry.Group[g].Dependencies, poetrySpec); err != nil {
			return nil, err
		}
	}
	return c.pkgs, nil
}

// parsePipfile reads Pipenv's [packages] and [dev-packages].
func parsePipfile(_ context.Context, _ string, content []byte) ([]deps.Package, error) {
	var f struct {
		Packages    map[string]any `toml:"packages"`
		DevPackages map[string]any `toml:"dev-packages"`
	}
	if _, err := toml.Decode(string(content), &f); err != nil {
		return nil, fmt.Errorf("decoding TOML: %w", err)
	}
	li := newLineIndex(content)
	var c collector
	if err := addTable(&c, li, "[packages]", f.Packages, pipfileSpec); err != nil {
		return nil, err
	}
	if err := addTable(&c, li, "[dev-packages]", f.DevPackages, pipfileSpec); err != nil {
		return nil, err
	}
	return c.pkgs, nil
}

// addTable adds the packages of a name = spec table, in name order.
func addTable(c *collector, li *lineIndex, header string, table map[string]any, spec func(any) (version, rng string)) error {
	from := li.find(header, 1)
	for _, name := range sortedKeys(table) {
		if strings.EqualFold(name, "python") {
			continue // the interpreter constraint, not a package
		}
		if pep508Name.FindString(name) != name {
			continue
		}
		version, rng := spec(table[name])
		if strings.HasPrefix(rng, "^") || strings.HasPrefix(rng, "~") && !strings.HasPrefix(rng, "~=") {
			rng = " " + rng // Poetry's caret and tilde: "torch ^2.1.0"
		}
		p := deps.Package{Ecosystem: deps.PyPI, Name: name, Version: version, Range: name + rng, Line: li.keyLine(name, from)}
		if err := c.add(p); err != nil {
			return err
		}
	}
	return nil
}

// poetrySpec reads a Poetry constraint: "^1.2", "1.2.3" (exact), "==1.2.3",
// {version = "...", extras = [...]}, {git = "..."}, {path = "..."}.
func poetrySpec(v any) (version, rng string) {
	s, src := constraintOf(v)
	if src != "" {
		return "", " @ " + src
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "" || s == "*":
		return "", ""
	case strings.HasPrefix(s, "=="):
		return exactVersion(s[2:]), s
	case strings.ContainsAny(s[:1], "0123456789") && !strings.ContainsAny(s, "*,|<>=~^ "):
		return s, "==" + s
	}
	return "", s
}

// pipfileSpec reads a Pipfile constraint: "*", "==1.2.3", ">=1", {version = "..."}, {git = "..."}.
func pipfileSpec(v any) (version, rng string) {
	s, src := constraintOf(v)
	if src != "" {
		return "", " @ " + src
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "" || s == "*":
		return "", ""
	case strings.HasPrefix(s, "=="):
		return exactVersion(s[2:]), s
	}
	return "", s
}

func exactVersion(v string) string {
	v = strings.TrimSpace(strings.TrimPrefix(v, "="))
	if v == "" || strings.ContainsAny(v, "*,<>!~ ") {
		return ""
	}
	return v
}

// constraintOf returns the version constraint of a string or inline table,
// or the source (git, url, path) of a direct reference.
func constraintOf(v any) (constraint, source string) {
	switch t := v.(type) {
	case string:
		return t, ""
	case map[string]any:
		for _, k := range []string{"git", "url", "path", "file"} {
			if s, ok := t[k].(string); ok {
				if ref, ok := t["rev"].(string); ok {
					s += "@" + ref
				} else if ref, ok := t["ref"].(string); ok {
					s += "@" + ref
				} else if ref, ok := t["tag"].(string); ok {
					s += "@" + ref
				}
				return "", s
			}
		}
		s, _ := t["version"].(string)
		return s, ""
	case []any: // Poetry's multiple-constraint form: one per Python version
		var parts []string
		for _, e := range t {
			if s, _ := constraintOf(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " || "), ""
	}
	return "", ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// keyLine is the first line at or after line from whose text starts with
// key (bare or quoted) followed by "=", or 0.
func (li *lineIndex) keyLine(key string, from int) int {
	if from < 1 {
		from = 1
	}
	for n := from; n <= len(li.starts); n++ {
		start := li.starts[n-1]
		end := len(li.content)
		if n < len(li.starts) {
			end = li.starts[n]
		}
		if li.budget -= end - start; li.budget < 0 {
			return 0
		}
		s := strings.TrimSpace(string(li.content[start:end]))
		for _, k := range []string{key, `"` + key + `"`, `'` + key + `'`} {
			if rest, ok := strings.CutPrefix(s, k); ok && strings.HasPrefix(strings.TrimSpace(rest), "=") {
				return n
			}
		}
	}
	return 0
}
