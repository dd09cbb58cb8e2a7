package policy

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Marshal writes p as a policy file: YAML with two-space indentation, keys
// in the schema's order (rule ids sorted), values not set left out. Parse
// reads it back to the same policy.
func Marshal(p *Policy) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(p); err != nil {
		return nil, fmt.Errorf("writing the policy: %w", err)
	}
	plainKeys(&n)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("writing the policy: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing the policy: %w", err)
	}
	return b.Bytes(), nil
}

// plainKeys unquotes the schema's "on" key, which yaml.v3 quotes because
// YAML 1.1 read it as a boolean; Parse (YAML 1.2) reads it plain.
func plainKeys(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value == "on" {
				k.Style = 0
			}
		}
	}
	for _, c := range n.Content {
		plainKeys(c)
	}
}
