package policy

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/glob"
	"github.com/mlguard/mlguard/internal/health"
	"github.com/mlguard/mlguard/internal/policy/celrule"
	"github.com/mlguard/mlguard/policies"
)

// Values of the enumerated keys.
var (
	severityNames = func() []string { // highest first: critical ... info
		var names []string
		for s := finding.Critical; s >= finding.Info; s-- {
			names = append(names, s.String())
		}
		return names
	}()
	failOnNames  = append(slices.Clone(severityNames), Never)
	unknownFacts = []string{"pass", "fail"}
	customOn     = []string{"package", "file", "finding"}
)

var (
	// pickleGlobal is "module.name" or "module.*", module dotted.
	pickleGlobal = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\.([A-Za-z_][A-Za-z0-9_]*|\*)$`)
	sha256Hex    = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	// purlShape is pkg:TYPE/NAMESPACE.../NAME[@VERSION][?QUALIFIERS][#SUBPATH].
	purlShape = regexp.MustCompile(`^pkg:[A-Za-z.+-][A-Za-z0-9.+-]*/[^/@?#\s]`)
	// customID is area/name in lower case, as the built-in rules are.
	customID = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*/[a-z0-9]+(-[a-z0-9]+)*$`)
)

// MaxCustomRules is how many custom rules one policy may have: each is
// compiled when the policy loads and evaluated over every package, file or
// finding.
const MaxCustomRules = 256

// validate checks the values Parse decoded, with their positions; a value
// whose type was already wrong is not checked again.
func (d *decoder) validate(p *Policy) {
	switch {
	case !d.has("version"):
		d.errorf(d.line(""), "version", "missing: a policy file starts with \"version: %d\"", Version)
	case d.bad["version"]:
	case p.Version != Version:
		d.errorf(d.line("version"), "version", "%d is not a supported version (want %d)", p.Version, Version)
	}
	if d.ok("extends") && !slices.Contains(policies.Names(), p.Extends) {
		d.errorf(d.line("extends"), "extends", "%s is not a built-in policy (%s)", quote(p.Extends), hintOr(p.Extends, policies.Names(), "want "+orList(policies.Names())))
	}
	d.enum("fail-on.models", p.FailOn.Models, failOnNames, "a severity")
	d.enum("fail-on.packages", p.FailOn.Packages, failOnNames, "a severity")

	custom := d.customRules(p.CustomRules)
	d.rules(p.Rules, custom)
	d.globs("paths.include", p.Paths.Include)
	d.globs("paths.exclude", p.Paths.Exclude)
	d.pickle("pickle.allow", p.Pickle.Allow)
	d.pickle("pickle.deny", p.Pickle.Deny)
	d.packages(&p.Packages)
	d.waivers(p.Ignore, custom)
}

// has reports whether the key path is written in the file.
func (d *decoder) has(path string) bool { _, ok := d.at[path]; return ok }

// ok reports whether the key path is written, with a value of the right type.
func (d *decoder) ok(path string) bool { return d.has(path) && !d.bad[path] }

// line is where the key path is written, or its closest parent.
func (d *decoder) line(path string) int {
	for {
		if n, ok := d.at[path]; ok {
			return n.Line
		}
		if path == "" {
			return 1
		}
		i := max(strings.LastIndexAny(path, ".["), 0)
		path = path[:i]
	}
}

// keyLine is where a map entry's key is written.
func (d *decoder) keyLine(path string) int {
	if k, ok := d.keys[path]; ok {
		return k.Line
	}
	return d.line(path)
}

// enum checks a key whose value is one of names, when written: what names
// the kind of value ("a severity"), or is "" to list the names.
func (d *decoder) enum(path, v string, names []string, what string) {
	if !d.ok(path) || slices.Contains(names, v) {
		return
	}
	if what == "" {
		d.errorf(d.line(path), path, "%s is not %s%s", quote(v), orList(names), hint(v, names))
		return
	}
	d.errorf(d.line(path), path, "%s is not %s (%s)", quote(v), what, hintOr(v, names, "want "+orList(names)))
}

// required reports a missing or blank key, and whether the value is there.
func (d *decoder) required(path, v, what string) bool {
	switch {
	case !d.has(path):
		d.errorf(d.line(path), path, "missing: %s", what)
		return false
	case d.bad[path]:
		return false
	case strings.TrimSpace(v) == "":
		d.errorf(d.line(path), path, "empty: %s", what)
		return false
	}
	return true
}

// rules checks the overrides of built-in rules.
func (d *decoder) rules(rules map[string]RuleOverride, custom map[string]string) {
	for _, id := range sortedKeys(rules) {
		kp := "rules." + id
		if _, ok := finding.Lookup(id); !ok {
			if _, isCustom := custom[id]; isCustom {
				d.errorf(d.keyLine(kp), kp, "not a built-in rule: a custom rule sets its severity in custom-rules")
			} else {
				d.errorf(d.keyLine(kp), kp, "unknown rule (%s)", hintOr(id, ruleIDs(), "mlguard rules lists them"))
			}
			continue
		}
		d.enum(kp+".severity", rules[id].Severity, severityNames, "a severity")
	}
}

func (d *decoder) globs(path string, globs []string) {
	for i, g := range globs {
		kp := fmt.Sprintf("%s[%d]", path, i)
		if !d.ok(kp) {
			continue
		}
		if _, err := glob.Compile(g); err != nil {
			d.errorf(d.line(kp), kp, "%s is not a valid glob: %v", quote(g), err)
		}
	}
}

func (d *decoder) pickle(path string, globals []string) {
	for i, g := range globals {
		kp := fmt.Sprintf("%s[%d]", path, i)
		if d.ok(kp) && !pickleGlobal.MatchString(g) {
			d.errorf(d.line(kp), kp, "%s is not a pickle global: want \"module.name\" or \"module.*\" (mylab.models.Net, mylab.models.*)", quote(g))
		}
	}
}

func (d *decoder) packages(p *Packages) {
	for _, c := range []struct {
		key string
		v   *int
	}{
		{"min-maintainers", p.MinMaintainers},
		{"min-project-age-days", p.MinProjectAgeDays},
		{"min-version-age-days", p.MinVersionAgeDays},
		{"max-days-since-release", p.MaxDaysSinceRelease},
	} {
		if kp := "packages." + c.key; c.v != nil && *c.v < 0 {
			d.errorf(d.line(kp), kp, "%d is negative (0 turns the criterion off)", *c.v)
		}
	}
	if kp := "packages.min-scorecard"; p.MinScorecard != nil && (*p.MinScorecard < 0 || *p.MinScorecard > 10) {
		d.errorf(d.line(kp), kp, "%g is not a Scorecard score, from 0 to 10 (0 turns the criterion off)", *p.MinScorecard)
	}
	d.licences("packages.licences.allow", p.Licences.Allow)
	d.licences("packages.licences.deny", p.Licences.Deny)
	d.enum("packages.unknown-facts", p.UnknownFacts, unknownFacts, "")
}

// licences checks SPDX ids and sets them in the list's spelling.
func (d *decoder) licences(path string, ids []string) {
	for i, id := range ids {
		kp := fmt.Sprintf("%s[%d]", path, i)
		if !d.ok(kp) {
			continue
		}
		c, ok := canonicalLicence(id)
		if !ok {
			d.errorf(d.line(kp), kp, "%s is not an SPDX licence id (MIT, Apache-2.0, GPL-3.0-only WITH Classpath-exception-2.0)", quote(id))
			continue
		}
		ids[i] = c
	}
}

// canonicalLicence spells an SPDX id, "ID+" or "ID WITH EXCEPTION" as the
// SPDX list does.
func canonicalLicence(s string) (string, bool) {
	fields := strings.Fields(s)
	var exception string
	switch {
	case len(fields) == 3 && strings.EqualFold(fields[1], "WITH"):
		e, ok := health.CanonicalSPDX(fields[2])
		if !ok {
			return "", false
		}
		exception = " WITH " + e
	case len(fields) != 1:
		return "", false
	}
	id, plus := strings.CutSuffix(fields[0], "+")
	c, ok := health.CanonicalSPDX(id)
	if !ok {
		return "", false
	}
	if plus {
		c += "+"
	}
	return c + exception, true
}

// customRules checks the custom rules and returns their ids and what each
// is evaluated on.
func (d *decoder) customRules(rules []CustomRule) map[string]string {
	ids := map[string]string{}
	if len(rules) > MaxCustomRules {
		d.errorf(d.line("custom-rules"), "custom-rules", "%d rules, more than the %d a policy may have", len(rules), MaxCustomRules)
		return ids
	}
	first := map[string]string{} // id -> the key path that defined it
	for i, r := range rules {
		kp := fmt.Sprintf("custom-rules[%d]", i)
		if d.required(kp+".id", r.ID, "the rule's id, area/name (mylab/no-fp16)") {
			_, builtin := finding.Lookup(r.ID)
			switch prev, dup := first[r.ID]; {
			case !customID.MatchString(r.ID):
				d.errorf(d.line(kp+".id"), kp+".id", "%s is not a rule id: want area/name in lower case, letters, digits and dashes (mylab/no-fp16)", quote(r.ID))
			case builtin:
				d.errorf(d.line(kp+".id"), kp+".id", "%s is a built-in rule's id", quote(r.ID))
			case dup:
				d.errorf(d.line(kp+".id"), kp+".id", "%s is already the id of %s (line %d)", quote(r.ID), prev, d.line(prev))
			default:
				first[r.ID] = kp
				ids[r.ID] = r.On
			}
		}
		onOK := false
		if d.required(kp+".on", r.On, "what the rule is evaluated on: "+orList(customOn)) {
			d.enum(kp+".on", r.On, customOn, "")
			onOK = slices.Contains(customOn, r.On)
		}
		if d.required(kp+".severity", r.Severity, "the severity of its findings: "+orList(severityNames)) {
			d.enum(kp+".severity", r.Severity, severityNames, "a severity")
		}
		d.required(kp+".message", r.Message, "what its findings say")
		if d.required(kp+".when", r.When, "a CEL expression over "+celVariable(r.On)) && onOK {
			d.compile(kp+".when", r.On, r.When)
		}
	}
	return ids
}

// celVariable names the variable of a custom rule's expression.
func celVariable(on string) string {
	switch on {
	case "package":
		return "pkg"
	case "file":
		return "file"
	case "finding":
		return "finding"
	}
	return "pkg, file or finding"
}

// compile type-checks a CEL expression, reporting its error at its place in
// the file.
func (d *decoder) compile(path, on, expr string) {
	_, err := celrule.Compile(on, expr)
	if err == nil {
		return
	}
	n := d.at[path]
	var ce *celrule.Error
	if !errors.As(err, &ce) {
		d.errorf(n.Line, path, "%v", err)
		return
	}
	msg, _, _ := strings.Cut(strings.TrimSpace(ce.Msg), "\n")
	line, col := d.exprPosition(n, ce.Line, ce.Column)
	if len(d.errs) >= maxErrors {
		d.dropped++
		return
	}
	d.bad[path] = true
	d.errs = append(d.errs, &Error{Source: d.source, Line: line, Column: col, Key: path, Msg: msg})
}

// exprPosition turns a position inside the expression written in n (1-based
// line and column) into one in the file. It is exact for an expression on
// one line (plain, or quoted without escapes) and in a literal block (|);
// in a folded block (>) or a plain scalar over several lines, whose lines
// YAML joins, it may point at an earlier line than the one in the file.
func (d *decoder) exprPosition(n *yaml.Node, line, col int) (int, int) {
	line, col = max(line, 1), max(col, 1)
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		return n.Line + line, d.blockIndent(n.Line) + col
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if line == 1 {
			return n.Line, d.valueColumn(n) + col // after the quote
		}
	default:
		if line == 1 {
			return n.Line, d.valueColumn(n) + col - 1
		}
	}
	return n.Line + line - 1, col
}

// valueColumn is where a scalar's text starts: yaml.v3 gives the column of
// its anchor or tag when it has one.
func (d *decoder) valueColumn(n *yaml.Node) int {
	if n.Anchor == "" && (n.Tag == "" || n.Style&yaml.TaggedStyle == 0) {
		return n.Column
	}
	if d.lines == nil {
		d.lines = bytes.Split(d.data, []byte("\n"))
	}
	if n.Line < 1 || n.Line > len(d.lines) {
		return n.Column
	}
	text := []rune(string(d.lines[n.Line-1]))
	i := n.Column - 1
	for i < len(text) && (text[i] == '&' || text[i] == '!') {
		for i < len(text) && text[i] != ' ' && text[i] != '\t' {
			i++
		}
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
	}
	return i + 1
}

// blockIndent is the indentation of the block scalar whose indicator (| or
// >) is on line l: that of its first line that is not blank.
func (d *decoder) blockIndent(l int) int {
	if d.lines == nil {
		d.lines = bytes.Split(d.data, []byte("\n"))
	}
	for i := l; i < len(d.lines); i++ { // d.lines[l] is line l+1
		text := bytes.TrimRight(d.lines[i], "\r")
		if rest := bytes.TrimLeft(text, " "); len(rest) > 0 {
			return len(text) - len(rest)
		}
	}
	return 0
}

// waivers checks the ignore list; custom are the custom rules' ids.
func (d *decoder) waivers(ws []Waiver, custom map[string]string) {
	known := ruleIDs()
	pkgRules := slices.DeleteFunc(slices.Clone(known), func(id string) bool { return !strings.HasPrefix(id, "package/") })
	for id, on := range custom {
		known = append(known, id)
		if on == "package" {
			pkgRules = append(pkgRules, id)
		}
	}
	slices.Sort(known)
	for i := range ws {
		w := &ws[i]
		kp := fmt.Sprintf("ignore[%d]", i)
		if d.required(kp+".rule", w.Rule, "the rule id, or a glob of ids (pickle/*)") {
			d.waiverRule(kp+".rule", w.Rule, known)
		}
		var targets []string
		for _, t := range []string{"path", "sha256", "purl"} {
			if d.has(kp + "." + t) {
				targets = append(targets, t)
			}
		}
		switch len(targets) {
		case 0:
			d.errorf(d.line(kp), kp, "a waiver needs one of path, sha256 or purl")
		case 1:
		default:
			d.errorf(d.line(kp), kp, "a waiver takes one of path, sha256 or purl, not %s", strings.Join(targets, " and "))
		}
		if kp := kp + ".path"; d.ok(kp) {
			if _, err := glob.Compile(w.Path); err != nil {
				d.errorf(d.line(kp), kp, "%s is not a valid glob: %v", quote(w.Path), err)
			}
		}
		if kp := kp + ".sha256"; d.ok(kp) {
			if !sha256Hex.MatchString(w.SHA256) {
				d.errorf(d.line(kp), kp, "%s is not a sha256 digest (64 hexadecimal digits)", quote(w.SHA256))
			}
			w.SHA256 = strings.ToLower(w.SHA256)
		}
		if kp := kp + ".purl"; d.ok(kp) {
			if !purlShape.MatchString(w.PURL) {
				d.errorf(d.line(kp), kp, "%s is not a package URL (pkg:TYPE/NAME or pkg:TYPE/NAME@VERSION)", quote(w.PURL))
			} else if d.ok(kp[:len(kp)-len(".purl")]+".rule") && !slices.ContainsFunc(pkgRules, func(id string) bool { return ruleMatch(w.Rule, id) }) {
				d.errorf(d.line(kp), kp, "a package waiver covers package rules, and %s matches none", quote(w.Rule))
			}
		}
		d.required(kp+".reason", w.Reason, "say why the finding is accepted")
	}
}

// waiverRule checks a waiver's rule: an id, or a glob matching at least one.
func (d *decoder) waiverRule(path, rule string, known []string) {
	if _, err := pathMatch(rule, ""); err != nil {
		d.errorf(d.line(path), path, "%s is not a rule id or a valid glob of ids", quote(rule))
		return
	}
	if !slices.ContainsFunc(known, func(id string) bool { return ruleMatch(rule, id) }) {
		d.errorf(d.line(path), path, "%s matches no rule%s", quote(rule), hint(rule, known))
	}
}

// pathMatch is path.Match, for the rule globs of waivers.
var pathMatch = path.Match

// ruleIDs lists the built-in rules' ids.
func ruleIDs() []string {
	var ids []string
	for _, r := range finding.Rules() {
		ids = append(ids, r.ID)
	}
	return ids
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// hint suggests the candidate one edit away from s (or equal but for
// case), as ` (did you mean "x"?)`, or returns "".
func hint(s string, candidates []string) string {
	if c := closest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// hintOr returns `did you mean "x"?` for the candidate one edit away from
// s, else otherwise.
func hintOr(s string, candidates []string, otherwise string) string {
	if c := closest(s, candidates); c != "" {
		return fmt.Sprintf("did you mean %q?", c)
	}
	return otherwise
}

func closest(s string, candidates []string) string {
	for _, c := range candidates {
		if c != s && (strings.EqualFold(c, s) || editDistance(s, c) == 1) {
			return c
		}
	}
	return ""
}

// editDistance is the optimal string alignment distance between a and b
// (insertions, deletions, substitutions and swaps of adjacent letters),
// counted in bytes; it gives up past 2.
func editDistance(a, b string) int {
	if d := len(a) - len(b); d > 2 || d < -2 {
		return 3
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
