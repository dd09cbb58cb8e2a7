package policy

import (
	"fmt"
	"slices"

	"github.com/mlguard/mlguard/policies"
)

// DefaultName is the built-in policy used when none is named.
const DefaultName = "default"

// Names returns the built-in policies' names, sorted: audit, default, strict.
func Names() []string { return policies.Names() }

// IsBuiltin reports whether name is a built-in policy's name.
func IsBuiltin(name string) bool { return slices.Contains(policies.Names(), name) }

// Builtin returns the effective (resolved) built-in policy name.
func Builtin(name string) (*Policy, error) {
	p, err := builtinFile(name)
	if err != nil {
		return nil, err
	}
	return Resolve(p)
}

// builtinFile parses the built-in policy name as written, unresolved.
func builtinFile(name string) (*Policy, error) {
	data, ok := policies.Read(name)
	if !ok {
		return nil, fmt.Errorf("%q is not a built-in policy (want %s)", name, orList(policies.Names()))
	}
	return Parse(builtinSource(name), data)
}

// builtinSource names a built-in policy in messages.
func builtinSource(name string) string { return "builtin:" + name }
