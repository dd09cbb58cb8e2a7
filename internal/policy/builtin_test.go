package policy

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/health"
	"github.com/mlguard/mlguard/policies"
)

func TestBuiltins(t *testing.T) {
	t.Parallel()
	if diff := cmp.Diff([]string{"audit", "default", "strict"}, Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	for _, name := range Names() {
		if !IsBuiltin(name) {
			t.Errorf("IsBuiltin(%q) = false", name)
		}
		raw, err := builtinFile(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, err := Builtin(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Every built-in sets what it stands for itself.
		if p.FailOn.Models == "" || p.FailOn.Packages == "" || p.Packages.UnknownFacts == "" {
			t.Errorf("%s: incomplete: %+v", name, p)
		}
		if name != DefaultName && raw.Extends == "" && raw.Packages.MinVersionAgeDays == nil {
			t.Errorf("%s extends nothing and leaves thresholds to the default", name)
		}
		if len(p.Ignore) > 0 || len(p.CustomRules) > 0 {
			t.Errorf("%s: a built-in policy has no waivers or custom rules", name)
		}
	}
	for _, bad := range []string{"", "nope", "../default", "default.yaml", "Default"} {
		if _, err := Builtin(bad); err == nil || IsBuiltin(bad) {
			t.Errorf("Builtin(%q) accepted", bad)
		}
		if _, ok := policies.Read(bad); ok {
			t.Errorf("policies.Read(%q) found a file", bad)
		}
	}
}

// TestBuiltinDefault checks the default policy: high fails, and its package
// thresholds are internal/health's defaults.
func TestBuiltinDefault(t *testing.T) {
	t.Parallel()
	raw, err := builtinFile(DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Extends != "" {
		t.Fatalf("default extends %q: it is the root of every chain", raw.Extends)
	}
	p, err := Builtin(DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	if p.FailOn != (FailOn{Models: "high", Packages: "high"}) || p.Packages.UnknownFacts != "pass" || len(p.Rules) > 0 {
		t.Errorf("default = %+v", p)
	}
	k := p.Packages
	if k.MinMaintainers == nil || k.MinProjectAgeDays == nil || k.MinVersionAgeDays == nil || k.MaxDaysSinceRelease == nil || k.MinScorecard == nil {
		t.Fatalf("default leaves a threshold unset: %+v", k)
	}
	if diff := cmp.Diff(health.DefaultThresholds(), p.Thresholds()); diff != "" {
		t.Errorf("default thresholds differ from health.DefaultThresholds (-health +policy):\n%s", diff)
	}
}

func TestBuiltinStrictAndAudit(t *testing.T) {
	t.Parallel()
	strict, err := Builtin("strict")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := builtinFile("strict")
	if raw.Extends != "" || strict.FailOn != (FailOn{Models: "medium", Packages: "medium"}) || strict.Packages.UnknownFacts != "fail" ||
		*strict.Packages.MinVersionAgeDays != 14 {
		t.Errorf("strict = %+v", strict)
	}
	for _, id := range []string{"AGPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0"} {
		if !slices.Contains(strict.Packages.Licences.Deny, id) {
			t.Errorf("strict does not deny %s", id)
		}
	}
	audit, err := Builtin("audit")
	if err != nil {
		t.Fatal(err)
	}
	def, _ := Builtin(DefaultName)
	if audit.FailOn != (FailOn{Models: Never, Packages: Never}) {
		t.Errorf("audit fails on %+v", audit.FailOn)
	}
	audit.FailOn = def.FailOn
	if diff := cmp.Diff(def, audit, ignorePlace); diff != "" {
		t.Errorf("audit is the default that never fails (-default +audit):\n%s", diff)
	}
}
