package manifest

import (
	"context"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mlguard/mlguard/internal/deps"
)

// Conda is the ecosystem of conda packages (purl type "conda").
const Conda = "conda"

// parseCondaEnv reads a conda environment.yml: conda packages under
// dependencies, and the pip: list inside it as PyPI packages.
func parseCondaEnv(_ context.Context, _ string, content []byte) ([]deps.Package, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, fmt.Errorf("decoding YAML: %w", err)
	}
	var c collector
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	depsNode := mapValue(doc.Content[0], "dependencies")
	if depsNode == nil || depsNode.Kind != yaml.SequenceNode {
		return nil, nil
	}
	for _, item := range depsNode.Content {
		switch item.Kind {
		case yaml.ScalarNode:
			if p, ok := condaSpec(item.Value); ok {
				p.Line = item.Line
				if err := c.add(p); err != nil {
					return nil, err
				}
			}
		case yaml.MappingNode:
			pip := mapValue(item, "pip")
			if pip == nil || pip.Kind != yaml.SequenceNode {
				continue
			}
			for _, e := range pip.Content {
				if e.Kind != yaml.ScalarNode {
					continue
				}
				pkgs, _ := parseRequirements(context.Background(), "", []byte(e.Value))
				for _, p := range pkgs {
					p.Line = e.Line
					if err := c.add(p); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return c.pkgs, nil
}

// mapValue is the value of key in a YAML mapping, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// condaSpec reads a conda match spec as environment files write it:
// "numpy", "python=3.11", "pytorch::pytorch=2.1.0=py3.11_cuda12.1_0",
// "cudatoolkit 11.8.*", "numpy>=1.24,<2", "conda-forge/linux-64::libgcc-ng==13.2.0".
// "=X" and "==X" without a wildcard count as pinned.
func condaSpec(s string) (deps.Package, bool) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "#"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	spec := s
	if i := strings.LastIndex(spec, "::"); i >= 0 { // channel
		spec = spec[i+2:]
	}
	end := strings.IndexAny(spec, "=<>!~ [")
	if end < 0 {
		end = len(spec)
	}
	name := spec[:end]
	if name == "" || pep508Name.FindString(name) != name {
		return deps.Package{}, false
	}
	p := deps.Package{Ecosystem: Conda, Name: name, Range: s}
	rest := strings.TrimSpace(spec[end:])
	switch {
	case strings.HasPrefix(rest, "=="):
		p.Version = condaVersion(rest[2:])
	case strings.HasPrefix(rest, "="):
		p.Version = condaVersion(rest[1:])
	case rest != "" && strings.ContainsAny(rest[:1], "0123456789"): // "numpy 1.24.3 py311_0"
		p.Version = condaVersion(strings.Fields(rest)[0])
	}
	return p, true
}

func condaVersion(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, "= "); i >= 0 { // build string
		v = v[:i]
	}
	if v == "" || strings.ContainsAny(v, "*,|<>!~[") {
		return ""
	}
	return v
}
