package policy

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/glob"
	"github.com/mlguard/mlguard/internal/policy/celrule"
)

// Never is the fail-on value of a policy that reports and never fails.
const Never = "never"

// Apply turns a scan's result into the policy's verdict, in place, at time
// now:
//
//  1. findings of disabled rules are dropped and severity overrides applied
//     (to the findings on packages too);
//  2. custom rules are evaluated over every file, package and finding, and
//     their matches added; a rule that touched an unknown fact adds a
//     policy/rule-not-evaluated info finding instead;
//  3. waivers take the findings they cover out of Findings into Waived (each
//     with the waiver); an expired waiver covers nothing and is itself a
//     policy/waiver-expired finding;
//  4. the decision: fail when a finding at or above its area's threshold is
//     left (package/* and custom package rules are the packages area,
//     everything else models), or when unknown-facts is fail and a package's
//     facts were unknown.
//
// p must be resolved (Resolve) and valid (Parse checked it).
func Apply(ctx context.Context, p *Policy, res *finding.Result, now time.Time) error {
	a := applier{p: p, res: res, now: now}
	a.overrides()
	if err := a.custom(ctx); err != nil {
		return err
	}
	if err := a.waive(); err != nil {
		return err
	}
	res.Sort()
	return a.decide()
}

type applier struct {
	p   *Policy
	res *finding.Result
	now time.Time
	// area of each custom rule id: "packages" for on: package.
	customArea map[string]string
}

// overrides drops the findings of disabled rules and sets overridden
// severities.
func (a *applier) overrides() {
	fix := func(fs []finding.Finding) []finding.Finding {
		out := fs[:0]
		for _, f := range fs {
			o, ok := a.p.Rules[f.Rule]
			if ok && o.Disabled {
				continue
			}
			if ok && o.Severity != "" {
				if s, err := finding.ParseSeverity(o.Severity); err == nil {
					f.Severity = s
				}
			}
			out = append(out, f)
		}
		return out
	}
	a.res.Findings = fix(a.res.Findings)
	for i := range a.res.Packages {
		a.res.Packages[i].Findings = fix(a.res.Packages[i].Findings)
	}
}

// custom evaluates the custom rules.
func (a *applier) custom(ctx context.Context) error {
	a.customArea = map[string]string{}
	if len(a.p.CustomRules) == 0 {
		return nil
	}
	byPath := map[string][]finding.Finding{}
	for _, f := range a.res.Findings {
		byPath[f.Path] = append(byPath[f.Path], f)
	}
	scanned := slices.Clone(a.res.Findings) // custom rules see the scan's findings, not each other's
	var added []finding.Finding
	for _, r := range a.p.CustomRules {
		prog, err := celrule.Compile(r.On, r.When)
		if err != nil {
			return fmt.Errorf("custom rule %s: %w", r.ID, err)
		}
		sev, err := finding.ParseSeverity(r.Severity)
		if err != nil {
			return fmt.Errorf("custom rule %s: %w", r.ID, err)
		}
		area := "models"
		if r.On == "package" {
			area = "packages"
		}
		a.customArea[r.ID] = area
		hit := func(in celrule.Input, path, subject string, line int) (bool, error) {
			ok, unknown, err := prog.Eval(ctx, in)
			if err != nil {
				return false, fmt.Errorf("custom rule %s on %s: %w", r.ID, subject, err)
			}
			if len(unknown) > 0 {
				f := finding.New(finding.PolicyRuleNotEvaluated, fmt.Sprintf("custom rule %s was not evaluated on %s: facts unknown: %s", r.ID, subject, strings.Join(unknown, ", ")))
				f.Path, f.Line = path, line
				f.Evidence = "when: " + r.When
				added = append(added, f)
				return false, nil
			}
			return ok, nil
		}
		emit := func(path, member string, line int, subject string) {
			added = append(added, finding.Finding{
				Rule: r.ID, Severity: sev, Path: path, Member: member, Line: line,
				Message:  subject + ": " + r.Message,
				Evidence: "custom rule " + r.ID + ": when " + r.When,
			})
		}
		switch r.On {
		case "package":
			for i, pk := range a.res.Packages {
				ok, err := hit(celrule.PackageInput(pk, a.now), pk.Dep.Manifest, pk.PURL, pk.Dep.Line)
				if err != nil {
					return err
				}
				if ok {
					emit(pk.Dep.Manifest, "", pk.Dep.Line, pk.PURL)
					a.res.Packages[i].Findings = append(a.res.Packages[i].Findings, added[len(added)-1])
				}
			}
		case "file":
			for _, fl := range a.res.Files {
				ok, err := hit(celrule.FileInput(fl, byPath[fl.Path]), fl.Path, fl.Path, 0)
				if err != nil {
					return err
				}
				if ok {
					emit(fl.Path, "", 0, fl.Path)
				}
			}
		case "finding":
			for _, f := range scanned {
				ok, err := hit(celrule.FindingInput(f), f.Path, f.Rule+" in "+f.Location(), f.Line)
				if err != nil {
					return err
				}
				if ok {
					emit(f.Path, f.Member, f.Line, f.Location())
				}
			}
		}
	}
	a.res.Findings = append(a.res.Findings, added...)
	return nil
}

// waive moves the findings a live waiver covers to Waived, and reports
// expired waivers.
func (a *applier) waive() error {
	type live struct {
		w    Waiver
		glob *glob.Glob
	}
	var waivers []live
	for _, w := range a.p.Ignore {
		if w.expired(a.now) {
			f := finding.New(finding.PolicyWaiverExpired, fmt.Sprintf("the waiver of %s for %s expired on %s and no longer applies (reason given: %s)",
				w.Rule, w.target(), w.Expires.Format(time.DateOnly), w.Reason))
			f.Path = cmp.Or(w.Source, a.p.Source)
			f.Line = w.Line
			a.res.Findings = append(a.res.Findings, f)
			continue
		}
		l := live{w: w}
		if w.Path != "" {
			g, err := glob.Compile(w.Path)
			if err != nil {
				return fmt.Errorf("waiver of %s: %w", w.Rule, err)
			}
			l.glob = g
		}
		waivers = append(waivers, l)
	}
	if len(waivers) == 0 {
		return nil
	}
	sha := map[string]string{} // path -> sha256 of the scanned files
	for _, f := range a.res.Files {
		sha[f.Path] = strings.ToLower(f.SHA256)
	}
	purlOf := map[string]string{} // a package finding's path:line:rule -> its package's purl
	key := func(f finding.Finding) string { return fmt.Sprintf("%s:%d:%s:%s", f.Path, f.Line, f.Rule, f.Message) }
	for _, p := range a.res.Packages {
		for _, f := range p.Findings {
			purlOf[key(f)] = p.PURL
		}
	}
	covers := func(l live, f finding.Finding) bool {
		if !ruleMatch(l.w.Rule, f.Rule) {
			return false
		}
		switch {
		case l.glob != nil:
			return f.Path != "" && l.glob.Match(f.Path)
		case l.w.SHA256 != "":
			return f.Path != "" && sha[f.Path] != "" && sha[f.Path] == strings.ToLower(l.w.SHA256)
		case l.w.PURL != "":
			return purlMatch(l.w.PURL, purlOf[key(f)])
		}
		return false
	}
	waivedKeys := map[string]bool{}
	kept := a.res.Findings[:0]
	for _, f := range a.res.Findings {
		i := slices.IndexFunc(waivers, func(l live) bool { return covers(l, f) })
		if i < 0 || f.Rule == finding.PolicyWaiverExpired {
			kept = append(kept, f)
			continue
		}
		w := waivers[i].w
		a.res.Waived = append(a.res.Waived, finding.Waived{Finding: f, Reason: w.Reason, Waiver: w.describe(), Expires: w.expiresText()})
		waivedKeys[key(f)] = true
	}
	a.res.Findings = kept
	for i := range a.res.Packages {
		fs := a.res.Packages[i].Findings[:0]
		for _, f := range a.res.Packages[i].Findings {
			if !waivedKeys[key(f)] {
				fs = append(fs, f)
			}
		}
		a.res.Packages[i].Findings = fs
	}
	return nil
}

// decide sets the decision from the areas' thresholds.
func (a *applier) decide() error {
	models, err := threshold(a.p.FailOn.Models)
	if err != nil {
		return fmt.Errorf("fail-on models: %w", err)
	}
	packages, err := threshold(a.p.FailOn.Packages)
	if err != nil {
		return fmt.Errorf("fail-on packages: %w", err)
	}
	a.res.Decision = finding.Pass
	for _, f := range a.res.Findings {
		t := models
		if a.area(f.Rule) == "packages" {
			t = packages
			if f.Rule == finding.PackageFactsUnknown && a.p.Packages.UnknownFacts == "fail" {
				a.res.Decision = finding.Fail
			}
		}
		if t != nil && f.Severity >= *t {
			a.res.Decision = finding.Fail
		}
	}
	return nil
}

// area is "packages" for package/* rules and custom package rules, else
// "models".
func (a *applier) area(rule string) string {
	if strings.HasPrefix(rule, "package/") {
		return "packages"
	}
	if ar, ok := a.customArea[rule]; ok {
		return ar
	}
	return "models"
}

// threshold parses a fail-on value; nil is never.
func threshold(s string) (*finding.Severity, error) {
	if s == "" {
		s = "high"
	}
	if s == Never {
		return nil, nil
	}
	sev, err := finding.ParseSeverity(s)
	if err != nil {
		return nil, err
	}
	return &sev, nil
}

// ruleMatch reports whether a waiver's rule (an id or a glob of ids such
// as "pickle/*") covers the rule id.
func ruleMatch(pattern, id string) bool {
	if pattern == id || pattern == "*" {
		return true
	}
	ok, err := path.Match(pattern, id)
	return err == nil && ok
}

// purlMatch reports whether a waiver's purl covers a package's: equal, or
// the waiver names the package without a version (any version).
func purlMatch(waiver, purl string) bool {
	if purl == "" {
		return false
	}
	if strings.EqualFold(waiver, purl) {
		return true
	}
	name, _, _ := strings.Cut(purl, "@")
	return !strings.Contains(waiver, "@") && strings.EqualFold(waiver, name)
}

// expired reports whether the waiver's last day is before today.
func (w Waiver) expired(now time.Time) bool {
	if w.Expires.IsZero() {
		return false
	}
	y, m, d := now.UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return w.Expires.Before(today)
}

func (w Waiver) target() string {
	switch {
	case w.Path != "":
		return "path " + w.Path
	case w.SHA256 != "":
		return "sha256 " + w.SHA256
	}
	return w.PURL
}

func (w Waiver) describe() string { return w.Rule + " for " + w.target() }

func (w Waiver) expiresText() string {
	if w.Expires.IsZero() {
		return ""
	}
	return w.Expires.Format(time.DateOnly)
}
