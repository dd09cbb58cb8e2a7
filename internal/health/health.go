// Package health turns registry facts about a package into findings: the
// criteria of issue 5 (malicious, vulnerable, too new, few maintainers,
// unmaintained, deprecated, install scripts, typosquat, scorecard, source
// repository, licence, unpinned). It makes no network call; the registry
// clients produce the Facts it reads.
package health

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/finding"
)

// Facts are what the registries say about one package (and its version).
// A nil pointer, or a false ...Known flag, means unknown: the registry did
// not say, or could not be asked. Unknown is never read as zero.
type Facts struct {
	Maintainers    *int       // accounts allowed to publish
	FirstRelease   *time.Time // the project's first upload
	LatestRelease  *time.Time // the project's most recent upload
	VersionRelease *time.Time // the upload of the pinned version

	Yanked             *bool  // the pinned version is yanked (PyPI) or unpublished
	Deprecated         *bool  // the package or version is deprecated (npm deprecated, PyPI Inactive classifier)
	DeprecationMessage string // the registry's text, untrusted

	InstallScripts      []string // npm lifecycle scripts the version declares (preinstall, install, postinstall, ...)
	InstallScriptsKnown bool

	SourceRepo *string  // the linked source repository; "" when the metadata links none
	License    *string  // SPDX expression or raw text as the registry gives it; "" when none is declared
	Scorecard  *float64 // OpenSSF Scorecard score of the source repository, 0-10

	// Advisories are those that affect the package version being checked
	// (for an unpinned package: those the adapter judged relevant).
	Advisories      []Advisory
	AdvisoriesKnown bool

	Popular bool // the registry's own numbers (downloads, dependents) say the package is popular

	// HubScan is the Hugging Face Hub's security scan of a model
	// repository: nil when unknown or not done yet.
	HubScan      []ScannedFile
	HubScanKnown bool
}

// ScannedFile is one file the Hub's scanners flagged, with their level
// ("unsafe", "suspicious", "caution").
type ScannedFile struct {
	Path, Level string
}

// Advisory is one OSV record.
type Advisory struct {
	ID        string
	Aliases   []string
	Summary   string
	Severity  string // CRITICAL, HIGH, MODERATE (or MEDIUM), LOW, or a CVSS base score such as "9.8"; "" when none
	Malicious bool   // a malicious-package record (also inferred from a MAL- id or alias)
}

// Thresholds are the policy's limits. A zero duration, count or score turns
// its criterion off.
type Thresholds struct {
	ProjectMinAge  time.Duration // package/project-too-new below this age
	VersionMinAge  time.Duration // package/version-too-new below this age (the cooldown)
	MinMaintainers int           // package/few-maintainers below this count
	MaxSinceLatest time.Duration // package/unmaintained when the latest release is older
	MinScorecard   float64       // package/low-scorecard below this score
	LicenceAllow   []string      // SPDX ids; empty allows every licence not denied
	LicenceDeny    []string      // SPDX ids
}

const day = 24 * time.Hour

// DefaultThresholds are issue 5's defaults.
func DefaultThresholds() Thresholds {
	return Thresholds{
		ProjectMinAge:  90 * day,
		VersionMinAge:  7 * day,
		MinMaintainers: 2,
		MaxSinceLatest: 2 * 365 * day,
		MinScorecard:   4.0,
	}
}

// Criterion names, as the package/facts-unknown finding lists them: the
// rule ids without their area.
func criterion(rule string) string { return strings.TrimPrefix(rule, "package/") }

// Check evaluates every criterion for one added or changed package. f may be
// nil when no registry was asked (offline): the criteria that need no
// registry (unpinned, typosquat) still run, and the others are listed in one
// package/facts-unknown finding. Removed packages are never checked.
func Check(pkg deps.Change, f *Facts, th Thresholds, now time.Time) []finding.Finding {
	if pkg.Kind == deps.Removed {
		return nil
	}
	c := checker{pkg: pkg, purl: pkg.PURL(), th: th, now: now}
	if f == nil {
		f = &Facts{}
	}
	c.unpinned()
	c.advisories(f)
	c.typosquat(f)
	c.ages(f)
	c.maintainers(f)
	c.deprecated(f)
	c.installScripts(f)
	c.scorecard(f)
	c.sourceRepo(f)
	c.licence(f)
	c.hubScan(f)
	if len(c.unknown) > 0 {
		c.add(finding.PackageFactsUnknown, finding.Info,
			fmt.Sprintf("%s: not evaluated, facts unknown: %s", c.purl, strings.Join(c.unknown, ", ")),
			"criteria: "+strings.Join(c.unknown, ", "))
	}
	return c.out
}

type checker struct {
	pkg     deps.Change
	purl    string
	th      Thresholds
	now     time.Time
	out     []finding.Finding
	unknown []string
}

func (c *checker) add(rule string, sev finding.Severity, msg, evidence string) {
	fd := finding.New(rule, msg)
	fd.Severity = sev
	fd.Path = c.pkg.Manifest
	fd.Line = c.pkg.Line
	fd.Evidence = evidence
	c.out = append(c.out, fd)
}

func (c *checker) addDefault(rule, msg, evidence string) {
	r, _ := finding.Lookup(rule)
	c.add(rule, r.Severity, msg, evidence)
}

func (c *checker) notKnown(rule string) { c.unknown = append(c.unknown, criterion(rule)) }

func (c *checker) unpinned() {
	if c.pkg.Pinned() {
		return
	}
	rng := c.pkg.Range
	if rng == "" {
		rng = "no version"
	}
	c.addDefault(finding.PackageUnpinned,
		fmt.Sprintf("%s is not pinned to one version (%s)", c.purl, clean(rng)),
		"constraint: "+clean(rng))
}

func (c *checker) advisories(f *Facts) {
	if !f.AdvisoriesKnown {
		c.notKnown(finding.PackageMalicious)
		c.notKnown(finding.PackageVulnerable)
		return
	}
	advs := slices.Clone(f.Advisories)
	slices.SortFunc(advs, func(a, b Advisory) int { return cmp.Compare(a.ID, b.ID) })
	seen := map[string]bool{}
	var mal []string
	for _, a := range advs {
		ids := append([]string{a.ID}, a.Aliases...)
		if slices.ContainsFunc(ids, func(id string) bool { return seen[id] }) {
			continue // the same vulnerability under another database's id
		}
		for _, id := range ids {
			seen[id] = true
		}
		if a.Malicious || slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(id, "MAL-") }) {
			mal = append(mal, clean(a.ID))
			continue
		}
		sev, label := advisorySeverity(a.Severity)
		msg := fmt.Sprintf("%s is affected by %s", c.purl, clean(a.ID))
		if len(a.Aliases) > 0 {
			al := make([]string, len(a.Aliases))
			for i, s := range a.Aliases {
				al[i] = clean(s)
			}
			msg += " (" + strings.Join(al, ", ") + ")"
		}
		if s := clean(a.Summary); s != "" {
			msg += ": " + s
		}
		c.add(finding.PackageVulnerable, sev, msg, "severity: "+label)
	}
	if len(mal) > 0 {
		c.addDefault(finding.PackageMalicious,
			fmt.Sprintf("%s is a known malicious package (%s)", c.purl, strings.Join(mal, ", ")),
			"advisories: "+strings.Join(mal, ", "))
	}
}

// advisorySeverity maps an advisory's severity to a finding severity; an
// advisory without one is high (fail closed).
func advisorySeverity(s string) (finding.Severity, string) {
	s = strings.TrimSpace(s)
	switch strings.ToUpper(s) {
	case "CRITICAL":
		return finding.Critical, "CRITICAL"
	case "HIGH":
		return finding.High, "HIGH"
	case "MODERATE", "MEDIUM":
		return finding.Medium, strings.ToUpper(s)
	case "LOW":
		return finding.Low, "LOW"
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 0 && v <= 10 {
		label := "CVSS " + strconv.FormatFloat(v, 'f', -1, 64)
		switch {
		case v >= 9:
			return finding.Critical, label
		case v >= 7:
			return finding.High, label
		case v >= 4:
			return finding.Medium, label
		default:
			return finding.Low, label
		}
	}
	return finding.High, "unknown (reported as high)"
}

func (c *checker) typosquat(f *Facts) {
	if f.Popular {
		return
	}
	target, how, ok := squat(c.pkg.Ecosystem, c.pkg.Name)
	if !ok {
		return
	}
	c.addDefault(finding.PackageTyposquat,
		fmt.Sprintf("%s looks like a typosquat of the popular package %q (%s)", c.purl, target, how),
		fmt.Sprintf("%s ~ %s: %s", clean(c.pkg.Name), target, how))
}

func (c *checker) ages(f *Facts) {
	if c.th.ProjectMinAge > 0 {
		if f.FirstRelease == nil {
			c.notKnown(finding.PackageProjectTooNew)
		} else if age := c.now.Sub(*f.FirstRelease); age < c.th.ProjectMinAge {
			c.addDefault(finding.PackageProjectTooNew,
				fmt.Sprintf("%s: the project's first release is %s old (under %s)", c.purl, days(age), days(c.th.ProjectMinAge)),
				fmt.Sprintf("first release %s; minimum age %s", stamp(*f.FirstRelease), days(c.th.ProjectMinAge)))
		}
	}
	// The cooldown concerns one version: an unpinned package has none (package/unpinned says so).
	if c.th.VersionMinAge > 0 && c.pkg.Pinned() {
		if f.VersionRelease == nil {
			c.notKnown(finding.PackageVersionTooNew)
		} else if age := c.now.Sub(*f.VersionRelease); age < c.th.VersionMinAge {
			c.addDefault(finding.PackageVersionTooNew,
				fmt.Sprintf("%s was released %s ago (cooldown %s)", c.purl, days(age), days(c.th.VersionMinAge)),
				fmt.Sprintf("version released %s; cooldown %s", stamp(*f.VersionRelease), days(c.th.VersionMinAge)))
		}
	}
	if c.th.MaxSinceLatest > 0 {
		if f.LatestRelease == nil {
			c.notKnown(finding.PackageUnmaintained)
		} else if since := c.now.Sub(*f.LatestRelease); since > c.th.MaxSinceLatest {
			c.addDefault(finding.PackageUnmaintained,
				fmt.Sprintf("%s: no release for %s (over %s)", c.purl, days(since), days(c.th.MaxSinceLatest)),
				fmt.Sprintf("latest release %s; maximum %s", stamp(*f.LatestRelease), days(c.th.MaxSinceLatest)))
		}
	}
}

func (c *checker) maintainers(f *Facts) {
	if c.th.MinMaintainers <= 0 {
		return
	}
	if f.Maintainers == nil {
		c.notKnown(finding.PackageFewMaintainers)
		return
	}
	if n := *f.Maintainers; n < c.th.MinMaintainers {
		c.addDefault(finding.PackageFewMaintainers,
			fmt.Sprintf("%s has %d maintainer%s (fewer than %d)", c.purl, n, plural(n), c.th.MinMaintainers),
			fmt.Sprintf("maintainers: %d; minimum %d", n, c.th.MinMaintainers))
	}
}

func (c *checker) deprecated(f *Facts) {
	if f.Deprecated == nil && f.Yanked == nil {
		c.notKnown(finding.PackageDeprecated)
		return
	}
	dep := f.Deprecated != nil && *f.Deprecated
	yanked := f.Yanked != nil && *f.Yanked
	var what string
	switch {
	case dep && yanked:
		what = "is deprecated and yanked"
	case dep:
		what = "is deprecated"
	case yanked:
		what = "is yanked"
	default:
		return
	}
	msg := c.purl + " " + what
	evidence := what[3:]
	if m := clean(f.DeprecationMessage); m != "" {
		msg += ": " + m
		evidence += `: "` + m + `"`
	}
	c.addDefault(finding.PackageDeprecated, msg, evidence)
}

// installHooks are the npm lifecycle scripts that run on npm install.
var installHooks = []string{"preinstall", "install", "postinstall"}

func (c *checker) installScripts(f *Facts) {
	if !f.InstallScriptsKnown {
		if c.pkg.Ecosystem == deps.NPM {
			c.notKnown(finding.PackageInstallScripts)
		}
		return
	}
	var hooks []string
	for _, h := range installHooks {
		if slices.Contains(f.InstallScripts, h) {
			hooks = append(hooks, h)
		}
	}
	if len(hooks) == 0 {
		return
	}
	c.addDefault(finding.PackageInstallScripts,
		fmt.Sprintf("%s runs scripts on install: %s", c.purl, strings.Join(hooks, ", ")),
		"scripts: "+strings.Join(hooks, ", "))
}

func (c *checker) scorecard(f *Facts) {
	if c.th.MinScorecard <= 0 {
		return
	}
	if f.Scorecard == nil {
		c.notKnown(finding.PackageLowScorecard)
		return
	}
	if s := *f.Scorecard; s < c.th.MinScorecard {
		c.addDefault(finding.PackageLowScorecard,
			fmt.Sprintf("%s: the source repository's OpenSSF Scorecard score is %s (under %s)", c.purl, num(s), num(c.th.MinScorecard)),
			fmt.Sprintf("scorecard: %s; minimum %s", num(s), num(c.th.MinScorecard)))
	}
}

func (c *checker) sourceRepo(f *Facts) {
	if f.SourceRepo == nil {
		c.notKnown(finding.PackageNoSourceRepository)
		return
	}
	if strings.TrimSpace(*f.SourceRepo) == "" {
		c.addDefault(finding.PackageNoSourceRepository,
			c.purl+" links no source repository", "repository: none in the registry metadata")
	}
}

func (c *checker) licence(f *Facts) {
	if f.License == nil {
		c.notKnown(finding.PackageLicence)
		return
	}
	raw := clean(*f.License)
	v := EvaluateLicence(*f.License, c.th.LicenceAllow, c.th.LicenceDeny)
	switch v.Verdict {
	case LicenceAllowed:
		return
	case LicenceDenied:
		c.addDefault(finding.PackageLicence,
			fmt.Sprintf("%s is licensed %s, which the policy denies (%s)", c.purl, raw, strings.Join(v.IDs, ", ")),
			"licence: "+raw+"; denied: "+strings.Join(v.IDs, ", "))
	case LicenceNotAllowed:
		c.addDefault(finding.PackageLicence,
			fmt.Sprintf("%s is licensed %s, which is not on the policy's allow list", c.purl, raw),
			"licence: "+raw+"; not allowed: "+strings.Join(v.IDs, ", "))
	default:
		msg := fmt.Sprintf("%s has a licence that could not be checked: %s", c.purl, v.Reason)
		c.add(finding.PackageLicence, finding.Low, msg, "licence: "+quoteOrNone(raw))
	}
}

// hubScan reports the files of a Hugging Face model repository that the
// Hub's own scanners flagged: one finding per repository, high when any file
// is unsafe.
func (c *checker) hubScan(f *Facts) {
	if c.pkg.Ecosystem != deps.HuggingFace {
		return
	}
	if !f.HubScanKnown {
		c.notKnown(finding.PackageHubScanFlagged)
		return
	}
	var files []string
	sev := finding.Medium
	for _, fl := range f.HubScan {
		level := strings.ToLower(clean(fl.Level))
		if level == "" || level == "safe" {
			continue
		}
		if level == "unsafe" {
			sev = finding.High
		}
		files = append(files, clean(fl.Path)+" ("+level+")")
	}
	if len(files) == 0 {
		return
	}
	slices.Sort(files)
	const show = 10
	list := strings.Join(files[:min(len(files), show)], ", ")
	if len(files) > show {
		list += fmt.Sprintf(" and %d more", len(files)-show)
	}
	c.add(finding.PackageHubScanFlagged, sev,
		fmt.Sprintf("the Hugging Face Hub's security scan flagged %d file%s of %s: %s", len(files), plural(len(files)), c.purl, list),
		"flagged: "+list)
}

func quoteOrNone(s string) string {
	if s == "" {
		return "none declared"
	}
	return strconv.Quote(s)
}

func days(d time.Duration) string {
	n := int(d / day)
	if d < 0 {
		return "in the future by " + days(-d)
	}
	if n == 1 {
		return "1 day"
	}
	if n == 0 && d > 0 {
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	}
	return strconv.Itoa(n) + " days"
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// maxText bounds registry text (deprecation messages, advisory summaries)
// copied into a finding.
const maxText = 200

// clean makes registry text safe to carry in a finding: one line, no control
// characters, at most maxText runes. Reporters sanitize again for their
// target; this keeps findings themselves small and single-line.
func clean(s string) string {
	var b strings.Builder
	n := 0
	space := false
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			continue // bidi overrides, zero-width characters, invalid UTF-8
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		if n >= maxText {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
