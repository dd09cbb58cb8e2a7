package policy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/health"
	"github.com/mlguard/mlguard/internal/registry"
)

var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func day(s string) Date {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return Date{t}
}

func ptr[T any](v T) *T { return &v }

// result is a scan of two model files and one package, with a finding of
// each kind.
func result() *finding.Result {
	evil := finding.New(finding.PickleDangerousGlobal, "pickle calls os.system")
	evil.Path = "models/evil.pkl"
	legacy := finding.New(finding.PickleUnknownGlobal, "pickle references mylab.Net")
	legacy.Path = "legacy/old.pkl"
	few := finding.New(finding.PackageFewMaintainers, "pkg:npm/left-pad@1.3.0 has 1 maintainer")
	few.Path, few.Line = "package-lock.json", 7
	unknown := finding.New(finding.PackageFactsUnknown, "pkg:npm/left-pad@1.3.0: not evaluated, facts unknown: licence")
	unknown.Path, unknown.Line = "package-lock.json", 7
	return &finding.Result{
		Files: []finding.File{
			{Path: "models/evil.pkl", Format: "pickle", Size: 100, SHA256: strings.Repeat("a", 64)},
			{Path: "legacy/old.pkl", Format: "pickle", Size: 2_000_000, SHA256: strings.Repeat("b", 64)},
		},
		Findings: []finding.Finding{evil, legacy, few, unknown},
		Packages: []finding.Package{{
			PURL: "pkg:npm/left-pad@1.3.0", Change: deps.Added, Findings: []finding.Finding{few, unknown},
			Facts: &registry.Facts{Maintainers: registry.Some(1), FirstRelease: registry.Some(now.AddDate(0, 0, -10))},
			Dep:   deps.Package{Ecosystem: deps.NPM, Name: "left-pad", Version: "1.3.0", Manifest: "package-lock.json", Line: 7},
		}},
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	base := func() *Policy {
		return &Policy{Version: 1, FailOn: FailOn{Models: "high", Packages: "high"}, Source: ".mlguard.yaml"}
	}
	type out struct {
		Decision string
		Rules    []string // rule@path:severity of the findings left
		Waived   []string // rule@path of the waived findings
	}
	for _, tc := range []struct {
		name   string
		policy func(*Policy)
		want   out
	}{
		{name: "default thresholds", policy: func(*Policy) {}, want: out{
			Decision: "fail",
			Rules:    []string{"pickle/unknown-global@legacy/old.pkl:medium", "pickle/dangerous-global@models/evil.pkl:critical", "package/few-maintainers@package-lock.json:low", "package/facts-unknown@package-lock.json:info"},
		}},
		{name: "audit never fails", policy: func(p *Policy) { p.FailOn = FailOn{Models: Never, Packages: Never} }, want: out{
			Decision: "pass",
			Rules:    []string{"pickle/unknown-global@legacy/old.pkl:medium", "pickle/dangerous-global@models/evil.pkl:critical", "package/few-maintainers@package-lock.json:low", "package/facts-unknown@package-lock.json:info"},
		}},
		{name: "packages area threshold is its own", policy: func(p *Policy) { p.FailOn = FailOn{Models: Never, Packages: "low"} }, want: out{
			Decision: "fail",
			Rules:    []string{"pickle/unknown-global@legacy/old.pkl:medium", "pickle/dangerous-global@models/evil.pkl:critical", "package/few-maintainers@package-lock.json:low", "package/facts-unknown@package-lock.json:info"},
		}},
		{name: "unknown facts fail", policy: func(p *Policy) {
			p.FailOn = FailOn{Models: Never, Packages: "critical"}
			p.Packages.UnknownFacts = "fail"
		}, want: out{
			Decision: "fail",
			Rules:    []string{"pickle/unknown-global@legacy/old.pkl:medium", "pickle/dangerous-global@models/evil.pkl:critical", "package/few-maintainers@package-lock.json:low", "package/facts-unknown@package-lock.json:info"},
		}},
		{name: "override and disable", policy: func(p *Policy) {
			p.Rules = map[string]RuleOverride{
				finding.PickleDangerousGlobal: {Severity: "medium"},
				finding.PackageFactsUnknown:   {Disabled: true},
			}
		}, want: out{
			Decision: "pass",
			Rules:    []string{"pickle/unknown-global@legacy/old.pkl:medium", "pickle/dangerous-global@models/evil.pkl:medium", "package/few-maintainers@package-lock.json:low"},
		}},
		{name: "path waiver with a rule glob", policy: func(p *Policy) {
			p.Ignore = []Waiver{{Rule: "pickle/*", Path: "legacy/**", Reason: "old lab models, reviewed"}}
		}, want: out{
			Decision: "fail",
			Rules:    []string{"pickle/dangerous-global@models/evil.pkl:critical", "package/few-maintainers@package-lock.json:low", "package/facts-unknown@package-lock.json:info"},
			Waived:   []string{"pickle/unknown-global@legacy/old.pkl"},
		}},
		{name: "sha256 waiver covers the file with that digest", policy: func(p *Policy) {
			p.Ignore = []Waiver{{Rule: finding.PickleDangerousGlobal, SHA256: strings.Repeat("A", 64), Reason: "a test fixture"}}
		}, want: out{
			Decision: "pass",
			Rules:    []string{"pickle/unknown-global@legacy/old.pkl:medium", "package/few-maintainers@package-lock.json:low", "package/facts-unknown@package-lock.json:info"},
			Waived:   []string{"pickle/dangerous-global@models/evil.pkl"},
		}},
		{name: "sha256 waiver stops applying when the file changes", policy: func(p *Policy) {
			p.Ignore = []Waiver{{Rule: finding.PickleDangerousGlobal, SHA256: strings.Repeat("c", 64), Reason: "the old fixture"}}
		}, want: out{
			Decision: "fail",
			Rules:    []string{"pickle/unknown-global@legacy/old.pkl:medium", "pickle/dangerous-global@models/evil.pkl:critical", "package/few-maintainers@package-lock.json:low", "package/facts-unknown@package-lock.json:info"},
		}},
		{name: "purl waiver without a version covers every version", policy: func(p *Policy) {
			p.FailOn.Packages = "low"
			p.Ignore = []Waiver{{Rule: "package/*", PURL: "pkg:npm/left-pad", Reason: "vendored"}}
		}, want: out{
			Decision: "fail",
			Rules:    []string{"pickle/unknown-global@legacy/old.pkl:medium", "pickle/dangerous-global@models/evil.pkl:critical"},
			Waived:   []string{"package/facts-unknown@package-lock.json", "package/few-maintainers@package-lock.json"},
		}},
		{name: "purl waiver of another version", policy: func(p *Policy) {
			p.FailOn = FailOn{Models: Never, Packages: "low"}
			p.Ignore = []Waiver{{Rule: finding.PackageFewMaintainers, PURL: "pkg:npm/left-pad@1.2.0", Reason: "the old one"}}
		}, want: out{
			Decision: "fail",
			Rules:    []string{"pickle/unknown-global@legacy/old.pkl:medium", "pickle/dangerous-global@models/evil.pkl:critical", "package/few-maintainers@package-lock.json:low", "package/facts-unknown@package-lock.json:info"},
		}},
		{name: "a waiver on its last day still applies", policy: func(p *Policy) {
			p.Ignore = []Waiver{{Rule: finding.PickleDangerousGlobal, Path: "models/", Reason: "until today", Expires: day("2026-11-22")}}
		}, want: out{
			Decision: "pass",
			Rules:    []string{"pickle/unknown-global@legacy/old.pkl:medium", "package/few-maintainers@package-lock.json:low", "package/facts-unknown@package-lock.json:info"},
			Waived:   []string{"pickle/dangerous-global@models/evil.pkl"},
		}},
		{name: "an expired waiver covers nothing and is reported", policy: func(p *Policy) {
			p.Ignore = []Waiver{{Rule: finding.PickleDangerousGlobal, Path: "models/", Reason: "until yesterday", Expires: day("2026-11-21"), Line: 9}}
		}, want: out{
			Decision: "fail",
			Rules:    []string{".mlguard.yaml", "pickle/unknown-global@legacy/old.pkl:medium", "pickle/dangerous-global@models/evil.pkl:critical", "package/few-maintainers@package-lock.json:low", "package/facts-unknown@package-lock.json:info"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := base()
			tc.policy(p)
			res := result()
			if err := Apply(context.Background(), p, res, now); err != nil {
				t.Fatal(err)
			}
			got := out{Decision: res.Decision}
			for _, f := range res.Findings {
				if f.Rule == finding.PolicyWaiverExpired {
					if f.Line != 9 || !strings.Contains(f.Message, "expired on 2026-11-21") {
						t.Errorf("expiry finding: %+v", f)
					}
					got.Rules = append(got.Rules, f.Path)
					continue
				}
				got.Rules = append(got.Rules, f.Rule+"@"+f.Path+":"+f.Severity.String())
			}
			for _, w := range res.Waived {
				got.Waived = append(got.Waived, w.Finding.Rule+"@"+w.Finding.Path)
				if w.Reason == "" || w.Waiver == "" {
					t.Errorf("waived without its waiver: %+v", w)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
			// Package findings follow the waivers and overrides too.
			for _, f := range res.Packages[0].Findings {
				if !slicesContains(got.Rules, f.Rule+"@"+f.Path+":"+f.Severity.String()) {
					t.Errorf("package finding %s@%s:%s is not among the findings left", f.Rule, f.Path, f.Severity)
				}
			}
		})
	}
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestApplyCustomRules: each kind of custom rule adds its findings, in its
// area; a package rule on an unknown fact reports that instead of matching.
func TestApplyCustomRules(t *testing.T) {
	t.Parallel()
	p := &Policy{Version: 1, FailOn: FailOn{Models: Never, Packages: "high"}, CustomRules: []CustomRule{
		{ID: "custom/young-npm", On: "package", Severity: "high", Message: "a young npm package with one maintainer",
			When: `pkg.ecosystem == "npm" && pkg.maintainers < 2 && pkg.age_days < 30`},
		{ID: "custom/scorecard", On: "package", Severity: "low", Message: "low scorecard", When: `pkg.scorecard < 3.0`},
		{ID: "custom/big-pickle", On: "file", Severity: "medium", Message: "a large pickle", When: `file.format == "pickle" && file.size > 1000000`},
		{ID: "custom/legacy", On: "finding", Severity: "info", Message: "in legacy code", When: `finding.rule.startsWith("pickle/") && finding.path.startsWith("legacy/")`},
	}}
	res := result()
	if err := Apply(context.Background(), p, res, now); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		if strings.HasPrefix(f.Rule, "custom/") || f.Rule == finding.PolicyRuleNotEvaluated {
			got = append(got, f.Rule+"@"+f.Path+":"+f.Severity.String())
		}
	}
	want := []string{
		"custom/big-pickle@legacy/old.pkl:medium",
		"custom/legacy@legacy/old.pkl:info",
		"custom/young-npm@package-lock.json:high",
		"policy/rule-not-evaluated@package-lock.json:info",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("custom findings (-want +got):\n%s", diff)
	}
	if res.Decision != finding.Fail {
		t.Errorf("a high custom package finding under a high packages threshold: decision %s", res.Decision)
	}
}

func TestThresholds(t *testing.T) {
	t.Parallel()
	if diff := cmp.Diff(health.DefaultThresholds(), (&Policy{Version: 1}).Thresholds()); diff != "" {
		t.Errorf("an empty policy (-want +got):\n%s", diff)
	}
	p := &Policy{Version: 1, Packages: Packages{
		MinMaintainers: ptr(3), MinProjectAgeDays: ptr(0), MinVersionAgeDays: ptr(14), MaxDaysSinceRelease: ptr(365),
		MinScorecard: ptr(6.5), Licences: Licences{Allow: []string{"MIT"}, Deny: []string{"AGPL-3.0-only"}},
	}}
	want := health.Thresholds{
		MinMaintainers: 3, ProjectMinAge: 0, VersionMinAge: 14 * 24 * time.Hour, MaxSinceLatest: 365 * 24 * time.Hour,
		MinScorecard: 6.5, LicenceAllow: []string{"MIT"}, LicenceDeny: []string{"AGPL-3.0-only"},
	}
	if diff := cmp.Diff(want, p.Thresholds()); diff != "" {
		t.Errorf("thresholds (-want +got):\n%s", diff)
	}
}
