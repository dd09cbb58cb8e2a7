package health

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/finding"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// healthy are facts on which no criterion fires under DefaultThresholds.
func healthy() *Facts {
	return &Facts{
		Maintainers:         ptr(5),
		FirstRelease:        ptr(now.AddDate(-5, 0, 0)),
		LatestRelease:       ptr(now.AddDate(0, -1, 0)),
		VersionRelease:      ptr(now.AddDate(0, -1, 0)),
		Yanked:              ptr(false),
		Deprecated:          ptr(false),
		InstallScripts:      []string{"test", "build"},
		InstallScriptsKnown: true,
		SourceRepo:          ptr("https://github.com/psf/requests"),
		License:             ptr("Apache-2.0"),
		Scorecard:           ptr(7.5),
		AdvisoriesKnown:     true,
	}
}

func change(eco, name, version string) deps.Change {
	return deps.Change{
		Package: deps.Package{Ecosystem: eco, Name: name, Version: version, Manifest: "requirements.txt", Line: 3},
		Kind:    deps.Added,
	}
}

type got struct {
	Rule     string
	Severity finding.Severity
}

func summarise(fs []finding.Finding) []got {
	var out []got
	for _, f := range fs {
		out = append(out, got{f.Rule, f.Severity})
	}
	return out
}

func TestCheckCriteria(t *testing.T) {
	t.Parallel()
	const (
		sec = time.Second
		yr2 = 2 * 365 * day
	)
	deny := DefaultThresholds()
	deny.LicenceDeny = []string{"GPL-3.0-only", "AGPL-3.0-or-later"}
	allow := DefaultThresholds()
	allow.LicenceAllow = []string{"MIT", "Apache-2.0", "BSD-3-Clause"}

	for _, tc := range []struct {
		name  string
		pkg   deps.Change
		facts func(*Facts)
		th    *Thresholds
		want  []got
	}{
		{name: "healthy", facts: func(*Facts) {}},

		{name: "project age just under 90 days", facts: func(f *Facts) { f.FirstRelease = ptr(now.Add(-90*day + sec)) },
			want: []got{{finding.PackageProjectTooNew, finding.Medium}}},
		{name: "project age at 90 days", facts: func(f *Facts) { f.FirstRelease = ptr(now.Add(-90 * day)) }},
		{name: "project age over 90 days", facts: func(f *Facts) { f.FirstRelease = ptr(now.Add(-90*day - sec)) }},
		{name: "project first release in the future", facts: func(f *Facts) { f.FirstRelease = ptr(now.Add(day)) },
			want: []got{{finding.PackageProjectTooNew, finding.Medium}}},

		{name: "version just under the 7-day cooldown", facts: func(f *Facts) { f.VersionRelease = ptr(now.Add(-7*day + sec)) },
			want: []got{{finding.PackageVersionTooNew, finding.Medium}}},
		{name: "version at the cooldown", facts: func(f *Facts) { f.VersionRelease = ptr(now.Add(-7 * day)) }},
		{name: "version past the cooldown", facts: func(f *Facts) { f.VersionRelease = ptr(now.Add(-7*day - sec)) }},

		{name: "no maintainer", facts: func(f *Facts) { f.Maintainers = ptr(0) },
			want: []got{{finding.PackageFewMaintainers, finding.Low}}},
		{name: "one maintainer, under 2", facts: func(f *Facts) { f.Maintainers = ptr(1) },
			want: []got{{finding.PackageFewMaintainers, finding.Low}}},
		{name: "two maintainers, at 2", facts: func(f *Facts) { f.Maintainers = ptr(2) }},
		{name: "three maintainers", facts: func(f *Facts) { f.Maintainers = ptr(3) }},

		{name: "latest release just over 2 years", facts: func(f *Facts) { f.LatestRelease = ptr(now.Add(-yr2 - sec)) },
			want: []got{{finding.PackageUnmaintained, finding.Low}}},
		{name: "latest release at 2 years", facts: func(f *Facts) { f.LatestRelease = ptr(now.Add(-yr2)) }},
		{name: "latest release under 2 years", facts: func(f *Facts) { f.LatestRelease = ptr(now.Add(-yr2 + sec)) }},

		{name: "hub scan clean", pkg: change(deps.HuggingFace, "org/model", ""),
			facts: func(f *Facts) { f.HubScanKnown = true },
			want:  []got{{finding.PackageUnpinned, finding.Low}}},
		{name: "hub scan: a safe entry is not a flag", pkg: change(deps.HuggingFace, "org/model", "main"),
			facts: func(f *Facts) { f.HubScanKnown, f.HubScan = true, []ScannedFile{{"model.safetensors", "safe"}} }},
		{name: "hub scan: caution is medium", pkg: change(deps.HuggingFace, "org/model", "main"),
			facts: func(f *Facts) { f.HubScanKnown, f.HubScan = true, []ScannedFile{{"a.pkl", "caution"}} },
			want:  []got{{finding.PackageHubScanFlagged, finding.Medium}}},
		{name: "hub scan: unsafe is high", pkg: change(deps.HuggingFace, "org/model", "main"),
			facts: func(f *Facts) {
				f.HubScanKnown, f.HubScan = true, []ScannedFile{{"a.pkl", "suspicious"}, {"pytorch_model.bin", "unsafe"}}
			},
			want: []got{{finding.PackageHubScanFlagged, finding.High}}},
		{name: "hub scan unknown", pkg: change(deps.HuggingFace, "org/model", "main"),
			want: []got{{finding.PackageFactsUnknown, finding.Info}}},
		{name: "hub scan is not a criterion of pypi", facts: func(f *Facts) { f.HubScanKnown = false }},
		{name: "scorecard under 4", facts: func(f *Facts) { f.Scorecard = ptr(3.9) },
			want: []got{{finding.PackageLowScorecard, finding.Low}}},
		{name: "scorecard at 4", facts: func(f *Facts) { f.Scorecard = ptr(4.0) }},
		{name: "scorecard over 4", facts: func(f *Facts) { f.Scorecard = ptr(4.1) }},

		{name: "deprecated", facts: func(f *Facts) { f.Deprecated = ptr(true) },
			want: []got{{finding.PackageDeprecated, finding.Medium}}},
		{name: "yanked", facts: func(f *Facts) { f.Yanked = ptr(true) },
			want: []got{{finding.PackageDeprecated, finding.Medium}}},
		{name: "deprecated and yanked is one finding", facts: func(f *Facts) { f.Yanked, f.Deprecated = ptr(true), ptr(true) },
			want: []got{{finding.PackageDeprecated, finding.Medium}}},
		{name: "only yanked known, false", facts: func(f *Facts) { f.Deprecated = nil }},

		{name: "npm postinstall", pkg: change(deps.NPM, "left-pad", "1.3.0"),
			facts: func(f *Facts) { f.InstallScripts = []string{"test", "postinstall"} },
			want:  []got{{finding.PackageInstallScripts, finding.Medium}}},
		{name: "npm preinstall and install", pkg: change(deps.NPM, "left-pad", "1.3.0"),
			facts: func(f *Facts) { f.InstallScripts = []string{"install", "preinstall"} },
			want:  []got{{finding.PackageInstallScripts, finding.Medium}}},
		{name: "npm prepare only runs for git installs", pkg: change(deps.NPM, "left-pad", "1.3.0"),
			facts: func(f *Facts) { f.InstallScripts = []string{"prepare", "prepublish"} }},

		{name: "no source repository", facts: func(f *Facts) { f.SourceRepo = ptr("") },
			want: []got{{finding.PackageNoSourceRepository, finding.Low}}},

		{name: "licence denied", th: &deny, facts: func(f *Facts) { f.License = ptr("GPL-3.0-only") },
			want: []got{{finding.PackageLicence, finding.Medium}}},
		{name: "licence dual, one choice allowed", th: &deny, facts: func(f *Facts) { f.License = ptr("GPL-3.0-only OR MIT") }},
		{name: "licence not on the allow list", th: &allow, facts: func(f *Facts) { f.License = ptr("MPL-2.0") },
			want: []got{{finding.PackageLicence, finding.Medium}}},
		{name: "licence free text", facts: func(f *Facts) { f.License = ptr("Copyright Acme Corp, all rights reserved") },
			want: []got{{finding.PackageLicence, finding.Low}}},
		{name: "licence declared empty", facts: func(f *Facts) { f.License = ptr("") },
			want: []got{{finding.PackageLicence, finding.Low}}},
		{name: "licence alias", th: &allow, facts: func(f *Facts) { f.License = ptr("MIT License") }},

		{name: "malicious by flag", facts: func(f *Facts) {
			f.Advisories = []Advisory{{ID: "GHSA-xxxx-yyyy-zzzz", Malicious: true}}
		}, want: []got{{finding.PackageMalicious, finding.Critical}}},
		{name: "malicious by MAL- id, never also vulnerable", facts: func(f *Facts) {
			f.Advisories = []Advisory{{ID: "MAL-2024-1234"}, {ID: "GHSA-aaaa-bbbb-cccc", Aliases: []string{"MAL-2024-1234"}}}
		}, want: []got{{finding.PackageMalicious, finding.Critical}}},
		{name: "vulnerable by label", facts: func(f *Facts) {
			f.Advisories = []Advisory{
				{ID: "GHSA-1", Severity: "CRITICAL"}, {ID: "GHSA-2", Severity: "HIGH"},
				{ID: "GHSA-3", Severity: "MODERATE"}, {ID: "GHSA-4", Severity: "low"},
			}
		}, want: []got{
			{finding.PackageVulnerable, finding.Critical}, {finding.PackageVulnerable, finding.High},
			{finding.PackageVulnerable, finding.Medium}, {finding.PackageVulnerable, finding.Low},
		}},
		{name: "vulnerable by CVSS score at each boundary", facts: func(f *Facts) {
			f.Advisories = []Advisory{
				{ID: "A", Severity: "9.0"}, {ID: "B", Severity: "8.9"}, {ID: "C", Severity: "7.0"},
				{ID: "D", Severity: "6.9"}, {ID: "E", Severity: "4.0"}, {ID: "F", Severity: "3.9"},
			}
		}, want: []got{
			{finding.PackageVulnerable, finding.Critical}, {finding.PackageVulnerable, finding.High},
			{finding.PackageVulnerable, finding.High}, {finding.PackageVulnerable, finding.Medium},
			{finding.PackageVulnerable, finding.Medium}, {finding.PackageVulnerable, finding.Low},
		}},
		{name: "vulnerable without severity is high", facts: func(f *Facts) {
			f.Advisories = []Advisory{{ID: "PYSEC-2023-1", Severity: ""}, {ID: "PYSEC-2023-2", Severity: "11"}}
		}, want: []got{{finding.PackageVulnerable, finding.High}, {finding.PackageVulnerable, finding.High}}},
		{name: "one finding per vulnerability across databases", facts: func(f *Facts) {
			f.Advisories = []Advisory{
				{ID: "PYSEC-2024-9", Aliases: []string{"CVE-2024-1", "GHSA-q"}, Severity: "HIGH"},
				{ID: "GHSA-q", Aliases: []string{"CVE-2024-1"}, Severity: "HIGH"},
			}
		}, want: []got{{finding.PackageVulnerable, finding.High}}},

		{name: "typosquat", pkg: change(deps.NPM, "crossenv", "6.1.1"),
			want: []got{{finding.PackageTyposquat, finding.High}}},
		{name: "typosquat, but the registry says it is popular", pkg: change(deps.NPM, "crossenv", "6.1.1"),
			facts: func(f *Facts) { f.Popular = true }},

		{name: "unpinned: no cooldown, no unknown version facts", pkg: change(deps.PyPI, "requests", ""),
			facts: func(f *Facts) { f.VersionRelease = nil },
			want:  []got{{finding.PackageUnpinned, finding.Low}}},

		{name: "zero thresholds turn criteria off", th: &Thresholds{},
			facts: func(f *Facts) {
				f.FirstRelease, f.VersionRelease, f.LatestRelease = nil, nil, ptr(now.AddDate(-10, 0, 0))
				f.Maintainers, f.Scorecard = nil, ptr(0.0)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pkg := tc.pkg
			if pkg.Name == "" {
				pkg = change(deps.PyPI, "requests", "2.32.3")
			}
			f := healthy()
			if tc.facts != nil {
				tc.facts(f)
			}
			th := DefaultThresholds()
			if tc.th != nil {
				th = *tc.th
			}
			fs := Check(pkg, f, th, now)
			if diff := cmp.Diff(tc.want, summarise(fs)); diff != "" {
				t.Errorf("Check (-want +got):\n%s\n%+v", diff, fs)
			}
			for _, fd := range fs {
				if fd.Path != "requirements.txt" || fd.Line != 3 || !strings.Contains(fd.Message, pkg.PURL()) || fd.Evidence == "" {
					t.Errorf("finding lacks its place, purl or evidence: %+v", fd)
				}
			}
		})
	}
}

func TestCheckMessages(t *testing.T) {
	t.Parallel()
	f := healthy()
	f.Maintainers = ptr(1)
	f.VersionRelease = ptr(now.Add(-2*day - time.Hour))
	f.Deprecated = ptr(true)
	f.DeprecationMessage = "use\x1b[31m requests2\n instead\u202e"
	f.Advisories = []Advisory{{ID: "GHSA-9wx4-h78v-vm56", Aliases: []string{"CVE-2024-35195"}, Summary: "Session verify=False persists", Severity: "MODERATE"}}
	fs := Check(change(deps.PyPI, "Requests", "2.31.0"), f, DefaultThresholds(), now)
	help := func(id string) string { r, _ := finding.Lookup(id); return r.HelpURI() }
	want := []finding.Finding{
		{
			Rule: finding.PackageVulnerable, Severity: finding.Medium, Path: "requirements.txt", Line: 3,
			Message:  "pkg:pypi/requests@2.31.0 is affected by GHSA-9wx4-h78v-vm56 (CVE-2024-35195): Session verify=False persists",
			Evidence: "severity: MODERATE", Help: help(finding.PackageVulnerable),
		},
		{
			Rule: finding.PackageVersionTooNew, Severity: finding.Medium, Path: "requirements.txt", Line: 3,
			Message:  "pkg:pypi/requests@2.31.0 was released 2 days ago (cooldown 7 days)",
			Evidence: "version released 2026-02-27T11:00:00Z; cooldown 7 days", Help: help(finding.PackageVersionTooNew),
		},
		{
			Rule: finding.PackageFewMaintainers, Severity: finding.Low, Path: "requirements.txt", Line: 3,
			Message:  "pkg:pypi/requests@2.31.0 has 1 maintainer (fewer than 2)",
			Evidence: "maintainers: 1; minimum 2", Help: help(finding.PackageFewMaintainers),
		},
		{
			Rule: finding.PackageDeprecated, Severity: finding.Medium, Path: "requirements.txt", Line: 3,
			Message:  "pkg:pypi/requests@2.31.0 is deprecated: use [31m requests2 instead",
			Evidence: `deprecated: "use [31m requests2 instead"`, Help: help(finding.PackageDeprecated),
		},
	}
	if diff := cmp.Diff(want, fs); diff != "" {
		t.Errorf("Check (-want +got):\n%s", diff)
	}
}

func TestCheckUnknownFacts(t *testing.T) {
	t.Parallel()
	all := "malicious, vulnerable, project-too-new, version-too-new, unmaintained, few-maintainers, deprecated, low-scorecard, no-source-repository, licence"
	for _, tc := range []struct {
		name     string
		pkg      deps.Change
		facts    *Facts
		want     []got
		evidence string
	}{
		{name: "no facts at all (offline)", pkg: change(deps.PyPI, "requests", "2.32.3"),
			want: []got{{finding.PackageFactsUnknown, finding.Info}}, evidence: "criteria: " + all},
		{name: "empty facts are unknown, not zero", pkg: change(deps.PyPI, "requests", "2.32.3"), facts: &Facts{},
			want: []got{{finding.PackageFactsUnknown, finding.Info}}, evidence: "criteria: " + all},
		{name: "npm also lacks install scripts", pkg: change(deps.NPM, "express", "4.21.2"),
			want:     []got{{finding.PackageFactsUnknown, finding.Info}},
			evidence: "criteria: " + strings.Replace(all, "deprecated,", "deprecated, install-scripts,", 1)},
		{name: "unpinned: the unpinned finding, and no version criterion", pkg: change(deps.PyPI, "requests", ""),
			want:     []got{{finding.PackageUnpinned, finding.Low}, {finding.PackageFactsUnknown, finding.Info}},
			evidence: "criteria: " + strings.Replace(all, "version-too-new, ", "", 1)},
		{name: "offline typosquat still found", pkg: change(deps.PyPI, "reqeusts", "1.0"),
			want:     []got{{finding.PackageTyposquat, finding.High}, {finding.PackageFactsUnknown, finding.Info}},
			evidence: "criteria: " + all},
		{name: "some facts unknown", pkg: change(deps.PyPI, "requests", "2.32.3"),
			facts: func() *Facts { f := healthy(); f.Scorecard, f.Maintainers = nil, nil; return f }(),
			want:  []got{{finding.PackageFactsUnknown, finding.Info}}, evidence: "criteria: few-maintainers, low-scorecard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := Check(tc.pkg, tc.facts, DefaultThresholds(), now)
			if diff := cmp.Diff(tc.want, summarise(fs)); diff != "" {
				t.Fatalf("Check (-want +got):\n%s", diff)
			}
			last := fs[len(fs)-1]
			if diff := cmp.Diff(tc.evidence, last.Evidence); diff != "" {
				t.Errorf("facts-unknown evidence (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckRemovedIsNeverChecked(t *testing.T) {
	t.Parallel()
	c := change(deps.NPM, "crossenv", "")
	c.Kind = deps.Removed
	if fs := Check(c, nil, DefaultThresholds(), now); fs != nil {
		t.Errorf("removed package checked: %+v", fs)
	}
}

func TestChangedPackageIsChecked(t *testing.T) {
	t.Parallel()
	c := change(deps.PyPI, "requests", "")
	c.Kind, c.Previous, c.Range = deps.Changed, "==2.31.0", ">=2.31"
	fs := Check(c, healthy(), DefaultThresholds(), now)
	if len(fs) != 1 || fs[0].Rule != finding.PackageUnpinned || fs[0].Evidence != "constraint: >=2.31" {
		t.Errorf("got %+v", fs)
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                       "",
		"  plain  text ":         "plain text",
		"a\nb\r\nc\td":           "a b c d",
		"bidi\u202eevil\u200bzw": "bidievilzw",
		"esc\x1b[2Jclear\x00nul": "esc [2Jclear nul",
		strings.Repeat("x", 300): strings.Repeat("x", maxText) + "…",
		"bad utf8 \xff\xfe here": "bad utf8 here",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultThresholds(t *testing.T) {
	t.Parallel()
	want := Thresholds{ProjectMinAge: 90 * day, VersionMinAge: 7 * day, MinMaintainers: 2, MaxSinceLatest: 730 * day, MinScorecard: 4}
	if diff := cmp.Diff(want, DefaultThresholds()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
