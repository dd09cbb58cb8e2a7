package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mustParse parses a policy written in a test.
func mustParse(t *testing.T, source, src string) *Policy {
	t.Helper()
	p, err := Parse(source, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestResolve checks extends and overrides against the real built-in
// policies: scalars replace, maps merge by key, lists append.
func TestResolve(t *testing.T) {
	t.Parallel()
	def, err := Builtin("default")
	if err != nil {
		t.Fatal(err)
	}
	strict, err := Builtin("strict")
	if err != nil {
		t.Fatal(err)
	}
	with := func(base *Policy, change func(p *Policy)) *Policy {
		p := merge(&Policy{}, base) // a deep enough copy
		change(p)
		return p
	}
	waiver := Waiver{Rule: "pickle/*", Path: "legacy/**", Reason: "reviewed", Line: 3, Source: "x.yaml"}
	tests := []struct {
		name, src  string
		want       *Policy
		wantSource string
	}{
		{"version alone is the default", "version: 1\n", def, "x.yaml"},
		{"extends default is the default", "version: 1\nextends: default\n", def, "x.yaml extends builtin:default"},
		{"a scalar replaces, its sibling stays", "version: 1\nextends: strict\nfail-on: {models: high}\n",
			with(strict, func(p *Policy) { p.FailOn.Models = "high" }), "x.yaml extends builtin:strict"},
		{"without extends, unset values are the default's", "version: 1\nfail-on: {packages: low}\npackages: {min-version-age-days: 1}\n",
			with(def, func(p *Policy) { p.FailOn.Packages = "low"; p.Packages.MinVersionAgeDays = ptr(1) }), "x.yaml"},
		{"zero is set, not missing", "version: 1\nextends: strict\npackages: {min-maintainers: 0, min-scorecard: 0}\n",
			with(strict, func(p *Policy) { p.Packages.MinMaintainers = ptr(0); p.Packages.MinScorecard = ptr(0.0) }), "x.yaml extends builtin:strict"},
		{"rules merge by key, an entry replaces the parent's", "version: 1\nextends: strict\nrules:\n  scan/unsupported-format: {disabled: true}\n  archive/anomaly: {severity: high}\n",
			with(strict, func(p *Policy) {
				p.Rules = map[string]RuleOverride{"scan/unsupported-format": {Disabled: true}, "archive/anomaly": {Severity: "high"}}
			}), "x.yaml extends builtin:strict"},
		{"lists append without repeats", "version: 1\nextends: strict\npackages:\n  licences: {deny: [GPL-3.0-only, sspl-1.0], allow: [MIT]}\n",
			with(strict, func(p *Policy) {
				p.Packages.Licences.Deny = append(p.Packages.Licences.Deny, "GPL-3.0-only")
				p.Packages.Licences.Allow = []string{"MIT"}
			}), "x.yaml extends builtin:strict"},
		{"extends through two built-ins", "version: 1\nextends: audit\nignore:\n  - rule: pickle/*\n    path: legacy/**\n    reason: reviewed\n",
			with(def, func(p *Policy) { p.FailOn = FailOn{Models: Never, Packages: Never}; p.Ignore = []Waiver{waiver} }),
			"x.yaml extends builtin:audit extends builtin:default"},
		{"the child wins over every level", "version: 1\nextends: audit\nfail-on: {packages: critical}\n",
			with(def, func(p *Policy) { p.FailOn = FailOn{Models: Never, Packages: "critical"} }),
			"x.yaml extends builtin:audit extends builtin:default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, "x.yaml", tt.src)
			before := merge(&Policy{}, p)
			before.Extends, before.Source = p.Extends, p.Source
			got, err := Resolve(p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, ignorePlace); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
			if got.Source != tt.wantSource || got.Extends != "" {
				t.Errorf("Source = %q, Extends = %q; want %q, \"\"", got.Source, got.Extends, tt.wantSource)
			}
			if diff := cmp.Diff(before, p); diff != "" {
				t.Errorf("Resolve changed its argument (-before +after):\n%s", diff)
			}
			if len(got.Ignore) > 0 && got.Ignore[0].Source != "x.yaml" {
				t.Errorf("waiver source = %q", got.Ignore[0].Source)
			}
		})
	}
}

// TestResolveChain checks the chain itself with made-up built-ins: order,
// lists appended in order, cycles and depth.
func TestResolveChain(t *testing.T) {
	t.Parallel()
	fake := map[string]*Policy{
		"default": {Version: 1, FailOn: FailOn{Models: "high", Packages: "high"}, Paths: Paths{Exclude: []string{"vendor/"}}},
		"base": {Version: 1, FailOn: FailOn{Models: "low"}, Paths: Paths{Exclude: []string{"tests/"}},
			Ignore:      []Waiver{{Rule: "archive/anomaly", Path: "a/", Reason: "base"}},
			CustomRules: []CustomRule{{ID: "org/x", On: "file", When: "true", Severity: "low", Message: "x"}}},
		"team":  {Version: 1, Extends: "base", Paths: Paths{Exclude: []string{"tests/", "build/"}}, Ignore: []Waiver{{Rule: "archive/anomaly", Path: "b/", Reason: "team"}}},
		"loopa": {Version: 1, Extends: "loopb"},
		"loopb": {Version: 1, Extends: "loopa"},
		"self":  {Version: 1, Extends: "self"},
		"dup":   {Version: 1, Extends: "base", CustomRules: []CustomRule{{ID: "org/x", On: "file", When: "true", Severity: "low", Message: "x"}}},
		"l1":    {Version: 1, Extends: "l2"}, "l2": {Version: 1, Extends: "l3"}, "l3": {Version: 1, Extends: "l4"},
		"l4": {Version: 1, Extends: "l5"}, "l5": {Version: 1},
	}
	lookup := func(name string) (*Policy, error) {
		p, ok := fake[name]
		if !ok {
			return nil, errors.New("no " + name)
		}
		c := *p
		c.Source = builtinSource(name)
		return &c, nil
	}
	child := &Policy{Version: 1, Extends: "team", Source: "repo.yaml", Ignore: []Waiver{{Rule: "archive/anomaly", Path: "c/", Reason: "repo"}}}
	got, err := resolve(child, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != "repo.yaml extends builtin:team extends builtin:base" {
		t.Errorf("Source = %q", got.Source)
	}
	if diff := cmp.Diff([]string{"vendor/", "tests/", "build/"}, got.Paths.Exclude); diff != "" {
		t.Errorf("exclude (-want +got):\n%s", diff)
	}
	var reasons []string
	for _, w := range got.Ignore {
		reasons = append(reasons, w.Reason)
	}
	if diff := cmp.Diff([]string{"base", "team", "repo"}, reasons); diff != "" {
		t.Errorf("waivers in order (-want +got):\n%s", diff)
	}
	if got.FailOn != (FailOn{Models: "low", Packages: "high"}) || len(got.CustomRules) != 1 {
		t.Errorf("FailOn = %+v, custom rules %d", got.FailOn, len(got.CustomRules))
	}

	for _, tt := range []struct{ extends, err string }{
		{"loopa", "resolving repo.yaml: extends makes a cycle: repo.yaml extends builtin:loopa extends builtin:loopb extends builtin:loopa"},
		{"self", "resolving repo.yaml: extends makes a cycle: repo.yaml extends builtin:self extends builtin:self"},
		{"l1", "resolving repo.yaml: extends goes through more than 4 policies: repo.yaml extends builtin:l1 extends builtin:l2 extends builtin:l3 extends builtin:l4"},
		{"dup", "resolving repo.yaml: custom rule org/x is defined twice in repo.yaml extends builtin:dup extends builtin:base"},
		{"nope", "resolving repo.yaml: extends: no nope"},
	} {
		_, err := resolve(&Policy{Version: 1, Extends: tt.extends, Source: "repo.yaml"}, lookup)
		if err == nil || err.Error() != tt.err {
			t.Errorf("extends %s: err = %v\nwant %s", tt.extends, err, tt.err)
		}
	}
	if _, err := Resolve(&Policy{Version: 1, Extends: "nope"}); err == nil || !strings.Contains(err.Error(), `"nope" is not a built-in policy`) {
		t.Errorf("unknown built-in: err = %v", err)
	}
}
