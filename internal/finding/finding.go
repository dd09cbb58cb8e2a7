// Package finding is the vocabulary every mlguard package shares: severities,
// rules and the findings that scanners emit and reporters print.
package finding

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Severity orders findings. The zero value is Info.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the lower-case name used in every output.
func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames[:], ", "))
}

// MarshalJSON writes the severity as its name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a severity name.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var n string
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	v, err := ParseSeverity(n)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Finding is one thing a scanner found. Path is the file as the user named it
// (relative to the scanned root when a folder was scanned); Member names the
// place inside a container, with nested containers joined by "!".
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Path     string   `json:"path"`
	Member   string   `json:"member,omitempty"`
	Offset   int64    `json:"offset"`
	Line     int      `json:"line"`
	Message  string   `json:"message"`
	Evidence string   `json:"evidence,omitempty"`
	Help     string   `json:"help"`
}

// New returns a finding of rule id with the rule's default severity and help link.
// It panics on an unknown id: rule ids are constants in the code, so an unknown
// one is a programming error that the tests catch.
func New(id, message string) Finding {
	r, ok := Lookup(id)
	if !ok {
		panic("finding: unknown rule " + id)
	}
	return Finding{Rule: id, Severity: r.Severity, Message: message, Help: r.HelpURI()}
}

// Location renders path and member as one string, "a.pt!archive/data.pkl".
func (f Finding) Location() string {
	if f.Member == "" {
		return f.Path
	}
	return f.Path + "!" + f.Member
}

// CountBySeverity counts the findings of each severity.
func CountBySeverity(fs []Finding) [Critical + 1]int {
	var n [Critical + 1]int
	for _, f := range fs {
		if f.Severity >= Info && f.Severity <= Critical {
			n[f.Severity]++
		}
	}
	return n
}

// BySeverity returns a copy of the findings highest severity first, keeping
// their order among equals, so that a cap drops the least severe.
func BySeverity(fs []Finding) []Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	return out
}

// SeverityCounts is "1 critical, 2 high": the severities that occur, most
// severe first; "" for no findings.
func SeverityCounts(fs []Finding) string {
	n := CountBySeverity(fs)
	var parts []string
	for s := Critical; s >= Info; s-- {
		if n[s] > 0 {
			parts = append(parts, strconv.Itoa(n[s])+" "+s.String())
		}
	}
	return strings.Join(parts, ", ")
}
