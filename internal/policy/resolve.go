package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// maxExtends is how many built-in policies one policy may extend through.
const maxExtends = 4

// Resolve returns the effective policy of p: p applied over the built-in
// policy it extends (which may extend another), all of it over the
// built-in default. Merging goes from the root of the chain to p, each
// policy over the result so far:
//
//   - a scalar (version, a fail-on area, a package threshold,
//     unknown-facts) that the policy sets replaces the one before;
//   - maps (rules) merge by key: an entry replaces the entry of the same
//     rule id as a whole;
//   - lists (paths include and exclude, pickle allow and deny, licences
//     allow and deny, ignore, custom-rules) are appended to the lists
//     before, without repeating an entry of paths, pickle or licences: a
//     policy cannot remove what the policy it extends lists.
//
// A policy without extends therefore takes every value it does not set
// from the built-in default: "version: 1" alone is the default policy.
// The result has Extends cleared and Source naming the chain
// (".mlguard.yaml extends builtin:default"). p is not modified.
func Resolve(p *Policy) (*Policy, error) { return resolve(p, builtinFile) }

// resolve is Resolve with the built-in policies from lookup.
func resolve(p *Policy, lookup func(name string) (*Policy, error)) (*Policy, error) {
	chain := []*Policy{p}
	names := []string{sourceName(p)}
	for cur := p; cur.Extends != ""; {
		name := cur.Extends
		source := builtinSource(name)
		if slices.Contains(names, source) {
			return nil, fmt.Errorf("resolving %s: extends makes a cycle: %s extends %s", sourceName(p), strings.Join(names, " extends "), source)
		}
		if len(chain) > maxExtends {
			return nil, fmt.Errorf("resolving %s: extends goes through more than %d policies: %s", sourceName(p), maxExtends, strings.Join(names, " extends "))
		}
		parent, err := lookup(name)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: extends: %w", sourceName(p), err)
		}
		chain = append(chain, parent)
		names = append(names, source)
		cur = parent
	}
	out := &Policy{}
	if root := chain[len(chain)-1]; root.Source != builtinSource(DefaultName) {
		base, err := lookup(DefaultName)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", sourceName(p), err)
		}
		out = merge(out, base)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		out = merge(out, chain[i])
	}
	seen := map[string]bool{}
	for _, r := range out.CustomRules {
		if seen[r.ID] {
			return nil, fmt.Errorf("resolving %s: custom rule %s is defined twice in %s", sourceName(p), r.ID, strings.Join(names, " extends "))
		}
		seen[r.ID] = true
	}
	out.Version = Version
	out.Extends = ""
	out.Source = strings.Join(names, " extends ")
	return out, nil
}

func sourceName(p *Policy) string {
	if p.Source == "" {
		return "the policy"
	}
	return p.Source
}

// merge returns child applied over parent; neither is modified.
func merge(parent, child *Policy) *Policy {
	out := &Policy{
		Version:  cmpOr(child.Version, parent.Version),
		FailOn:   FailOn{Models: cmpOr(child.FailOn.Models, parent.FailOn.Models), Packages: cmpOr(child.FailOn.Packages, parent.FailOn.Packages)},
		Paths:    Paths{Include: union(parent.Paths.Include, child.Paths.Include), Exclude: union(parent.Paths.Exclude, child.Paths.Exclude)},
		Pickle:   Pickle{Allow: union(parent.Pickle.Allow, child.Pickle.Allow), Deny: union(parent.Pickle.Deny, child.Pickle.Deny)},
		Ignore:   slices.Concat(parent.Ignore, child.Ignore),
		Packages: mergePackages(parent.Packages, child.Packages),
	}
	out.CustomRules = slices.Concat(parent.CustomRules, child.CustomRules)
	if len(parent.Rules)+len(child.Rules) > 0 {
		out.Rules = maps.Clone(parent.Rules)
		if out.Rules == nil {
			out.Rules = map[string]RuleOverride{}
		}
		maps.Copy(out.Rules, child.Rules)
	}
	return out
}

func mergePackages(parent, child Packages) Packages {
	return Packages{
		MinMaintainers:      pick(child.MinMaintainers, parent.MinMaintainers),
		MinProjectAgeDays:   pick(child.MinProjectAgeDays, parent.MinProjectAgeDays),
		MinVersionAgeDays:   pick(child.MinVersionAgeDays, parent.MinVersionAgeDays),
		MaxDaysSinceRelease: pick(child.MaxDaysSinceRelease, parent.MaxDaysSinceRelease),
		MinScorecard:        pick(child.MinScorecard, parent.MinScorecard),
		Licences: Licences{
			Allow: union(parent.Licences.Allow, child.Licences.Allow),
			Deny:  union(parent.Licences.Deny, child.Licences.Deny),
		},
		UnknownFacts: cmpOr(child.UnknownFacts, parent.UnknownFacts),
	}
}

// pick returns a copy of the child's value when set, else of the parent's.
func pick[T any](child, parent *T) *T {
	for _, v := range []*T{child, parent} {
		if v != nil {
			c := *v
			return &c
		}
	}
	return nil
}

func cmpOr[T comparable](vals ...T) T {
	var zero T
	for _, v := range vals {
		if v != zero {
			return v
		}
	}
	return zero
}

// union appends b to a without repeating an entry; nil when both are empty.
func union(a, b []string) []string {
	var out []string
	for _, s := range slices.Concat(a, b) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
