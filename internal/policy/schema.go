// Package policy reads policies as code: the built-in policies (default,
// strict, audit), a repository's .mlguard.yaml that may extend one of them,
// waivers with a reason and an expiry, and custom rules in CEL; and applies
// a policy to a scan's result to reach the decision.
//
// A policy file is strict YAML: an unknown key, a value of the wrong type,
// an unknown rule id, an invalid glob, a bad date or a CEL expression that
// does not type-check is an error naming the file, the line and the key
// (Parse, Error). Select picks the policy a command runs with (--policy, a
// repository's .mlguard.yaml, else the built-in default) and Resolve makes
// it effective: a policy extends a built-in one, or else the default, and
// over it a scalar the policy sets replaces, a map (rules) merges by key,
// and a list (paths, pickle globals, licences, waivers, custom rules) is
// appended to. docs/policies.md documents every key; a test keeps the two
// in step.
package policy

import "time"

// Version is the only policy format version.
const Version = 1

// Policy is one policy file, or the effective policy after extends.
type Policy struct {
	Version int    `yaml:"version" json:"version"`
	Extends string `yaml:"extends,omitempty" json:"extends,omitempty"` // a built-in policy: default, strict or audit

	// FailOn is the lowest severity that fails the run, per area: "critical",
	// "high", "medium", "low", "info", or "never" (report only).
	FailOn FailOn `yaml:"fail-on" json:"fail-on"`

	// Rules overrides built-in rules by id: a new severity, or disabled.
	Rules map[string]RuleOverride `yaml:"rules,omitempty" json:"rules,omitempty"`

	// Paths limits which files are scanned (globs relative to the
	// repository, ** across folders).
	Paths Paths `yaml:"paths,omitempty" json:"paths,omitzero"`

	// Pickle extends the pickle classification: extra trusted and extra
	// dangerous globals ("mylab.models.*", "mylab.models.Net").
	Pickle Pickle `yaml:"pickle,omitempty" json:"pickle,omitzero"`

	// Packages are the package health criteria's thresholds.
	Packages Packages `yaml:"packages,omitempty" json:"packages,omitzero"`

	// Ignore are the waivers.
	Ignore []Waiver `yaml:"ignore,omitempty" json:"ignore,omitempty"`

	// CustomRules are rules written in CEL.
	CustomRules []CustomRule `yaml:"custom-rules,omitempty" json:"custom-rules,omitempty"`

	// Source is where the policy came from ("builtin:default",
	// ".mlguard.yaml"), for messages; not part of the file. After Resolve
	// it names the chain: ".mlguard.yaml extends builtin:default".
	Source string `yaml:"-" json:"-"`
}

// FailOn holds the fail thresholds of the two areas.
type FailOn struct {
	Models   string `yaml:"models,omitempty" json:"models,omitempty"`     // every rule outside package/*
	Packages string `yaml:"packages,omitempty" json:"packages,omitempty"` // package/* and custom package rules
}

// RuleOverride changes one built-in rule.
type RuleOverride struct {
	Severity string `yaml:"severity,omitempty" json:"severity,omitempty"` // a severity name
	Disabled bool   `yaml:"disabled,omitempty" json:"disabled,omitempty"`
}

// Paths are include and exclude globs. An empty Include includes every
// file; Exclude wins over Include.
type Paths struct {
	Include []string `yaml:"include,omitempty" json:"include,omitempty"`
	Exclude []string `yaml:"exclude,omitempty" json:"exclude,omitempty"`
}

// Pickle lists extra allowed and denied pickle globals: "module.name" or
// "module.*".
type Pickle struct {
	Allow []string `yaml:"allow,omitempty" json:"allow,omitempty"`
	Deny  []string `yaml:"deny,omitempty" json:"deny,omitempty"`
}

// Packages are the thresholds of the package/* criteria. A nil field keeps
// the value of the policy extended (and in the end the built-in default);
// zero turns a criterion off.
type Packages struct {
	MinMaintainers      *int     `yaml:"min-maintainers,omitempty" json:"min-maintainers,omitempty"`
	MinProjectAgeDays   *int     `yaml:"min-project-age-days,omitempty" json:"min-project-age-days,omitempty"`
	MinVersionAgeDays   *int     `yaml:"min-version-age-days,omitempty" json:"min-version-age-days,omitempty"`
	MaxDaysSinceRelease *int     `yaml:"max-days-since-release,omitempty" json:"max-days-since-release,omitempty"`
	MinScorecard        *float64 `yaml:"min-scorecard,omitempty" json:"min-scorecard,omitempty"`
	Licences            Licences `yaml:"licences,omitempty" json:"licences,omitzero"`
	// UnknownFacts is "pass" (default: a criterion whose facts the
	// registries did not give is an info finding) or "fail" (it fails the
	// run like a finding at the packages threshold).
	UnknownFacts string `yaml:"unknown-facts,omitempty" json:"unknown-facts,omitempty"`
}

// Licences are SPDX ids allowed and denied.
type Licences struct {
	Allow []string `yaml:"allow,omitempty" json:"allow,omitempty"`
	Deny  []string `yaml:"deny,omitempty" json:"deny,omitempty"`
}

// Waiver accepts a finding knowingly. Rule is a rule id or a glob of ids
// ("pickle/*"); exactly one of Path (a glob), SHA256 (a file's digest: the
// waiver stops applying when the file changes) and PURL (a package, with or
// without its version) says where. Reason is required; after Expires (a
// date, YYYY-MM-DD, the last day it applies) the waiver no longer applies
// and is itself reported.
type Waiver struct {
	Rule    string `yaml:"rule" json:"rule"`
	Path    string `yaml:"path,omitempty" json:"path,omitempty"`
	SHA256  string `yaml:"sha256,omitempty" json:"sha256,omitempty"`
	PURL    string `yaml:"purl,omitempty" json:"purl,omitempty"`
	Reason  string `yaml:"reason" json:"reason"`
	Expires Date   `yaml:"expires,omitempty" json:"expires,omitzero"`

	Line   int    `yaml:"-" json:"-"` // where the waiver is written, for messages
	Source string `yaml:"-" json:"-"` // the file it is written in (Policy.Source names a whole extends chain)
}

// Date is a calendar day, written YYYY-MM-DD.
type Date struct{ time.Time }

// CustomRule is a rule written in CEL. On says what it is evaluated over:
// "package" (variable pkg), "file" (variable file) or "finding" (variable
// finding); When must be a bool expression over that variable. Each match
// is a finding with the rule's id, severity and message.
type CustomRule struct {
	ID       string `yaml:"id" json:"id"`             // area/name, not a built-in rule's id
	On       string `yaml:"on" json:"on"`             // package, file or finding
	When     string `yaml:"when" json:"when"`         // the CEL expression
	Severity string `yaml:"severity" json:"severity"` // a severity name
	Message  string `yaml:"message" json:"message"`   // what the finding says

	Line int `yaml:"-" json:"-"`
}
