package health

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Verdict is what the policy's licence lists make of a licence.
type Verdict int

// Verdicts, best first: an OR expression takes its best part, an AND
// expression its worst.
const (
	LicenceAllowed    Verdict = iota // every licence needed is allowed
	LicenceUnknown                   // missing, free text, or an id that is not SPDX
	LicenceNotAllowed                // an allow list exists and the licence is not on it
	LicenceDenied                    // the licence is on the deny list
)

func (v Verdict) String() string {
	switch v {
	case LicenceAllowed:
		return "allowed"
	case LicenceUnknown:
		return "unknown"
	case LicenceNotAllowed:
		return "not allowed"
	case LicenceDenied:
		return "denied"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// LicenceResult is the evaluation of one licence expression.
type LicenceResult struct {
	Verdict Verdict
	IDs     []string // the licences that decided a denied or not-allowed verdict
	Reason  string   // why the licence is unknown
}

// EvaluateLicence checks a licence as a registry gives it (an SPDX
// expression, or free text) against allow and deny lists of SPDX ids. An
// empty allow list allows every licence that is not denied. Ids compare
// case-insensitively; "GPL-2.0+" and "X WITH exception" also match a list
// entry naming their base licence.
func EvaluateLicence(raw string, allow, deny []string) LicenceResult {
	s := strings.TrimSpace(raw)
	if s == "" {
		return LicenceResult{Verdict: LicenceUnknown, Reason: "no licence declared"}
	}
	if id, ok := licenceAlias(s); ok {
		s = id
	}
	switch strings.ToUpper(s) {
	case "UNKNOWN", "NONE", "NOASSERTION", "OTHER":
		return LicenceResult{Verdict: LicenceUnknown, Reason: "licence given as " + fmt.Sprintf("%q", clean(s))}
	case "UNLICENSED":
		return LicenceResult{Verdict: LicenceUnknown, Reason: "UNLICENSED: no licence is granted (proprietary)"}
	}
	e, err := ParseLicence(s)
	if err != nil {
		return LicenceResult{Verdict: LicenceUnknown, Reason: fmt.Sprintf("%q is not an SPDX expression (%v)", clean(raw), err)}
	}
	return e.eval(allow, deny)
}

// Licence is a parsed SPDX licence expression: a leaf (ID, with an optional
// exception) or an AND/OR of two or more parts.
type Licence struct {
	Op        string // "", "AND" or "OR"
	ID        string // a leaf's licence id, "GPL-2.0+" keeps its plus
	Exception string // a leaf's WITH exception
	Parts     []*Licence
}

// String renders the expression with parentheses around nested operators.
func (e *Licence) String() string {
	if e.Op == "" {
		if e.Exception != "" {
			return e.ID + " WITH " + e.Exception
		}
		return e.ID
	}
	parts := make([]string, len(e.Parts))
	for i, p := range e.Parts {
		parts[i] = p.String()
		if p.Op != "" {
			parts[i] = "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, " "+e.Op+" ")
}

// Limits on expressions: registry text is untrusted.
const (
	maxLicenceLen   = 1024
	maxLicenceDepth = 16
)

var errLicence = errors.New("malformed licence expression")

// ParseLicence parses an SPDX licence expression (SPDX 2.3 annex D): ids,
// LicenseRef-, AND, OR, WITH and parentheses; operators in upper or lower
// case. AND binds tighter than OR.
func ParseLicence(s string) (*Licence, error) {
	if len(s) > maxLicenceLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", errLicence, maxLicenceLen)
	}
	p := &licenceParser{toks: tokenize(s)}
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("%w: unexpected %q", errLicence, p.toks[p.i])
	}
	return e, nil
}

func tokenize(s string) []string {
	var toks []string
	start := -1
	for i, r := range s {
		switch {
		case r == '(' || r == ')':
			if start >= 0 {
				toks = append(toks, s[start:i])
				start = -1
			}
			toks = append(toks, string(r))
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if start >= 0 {
				toks = append(toks, s[start:i])
				start = -1
			}
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		toks = append(toks, s[start:])
	}
	return toks
}

type licenceParser struct {
	toks []string
	i    int
}

func (p *licenceParser) peekOp(op string) bool {
	return p.i < len(p.toks) && strings.EqualFold(p.toks[p.i], op)
}

func (p *licenceParser) or(depth int) (*Licence, error) {
	return p.binary(depth, "OR", p.and)
}

func (p *licenceParser) and(depth int) (*Licence, error) {
	return p.binary(depth, "AND", p.with)
}

func (p *licenceParser) binary(depth int, op string, next func(int) (*Licence, error)) (*Licence, error) {
	first, err := next(depth)
	if err != nil {
		return nil, err
	}
	parts := []*Licence{first}
	for p.peekOp(op) {
		p.i++
		e, err := next(depth)
		if err != nil {
			return nil, err
		}
		parts = append(parts, e)
	}
	if len(parts) == 1 {
		return first, nil
	}
	return &Licence{Op: op, Parts: parts}, nil
}

func (p *licenceParser) with(depth int) (*Licence, error) {
	if depth > maxLicenceDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errLicence, maxLicenceDepth)
	}
	if p.i >= len(p.toks) {
		return nil, fmt.Errorf("%w: ends early", errLicence)
	}
	t := p.toks[p.i]
	if t == "(" {
		p.i++
		e, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.toks) || p.toks[p.i] != ")" {
			return nil, fmt.Errorf("%w: missing )", errLicence)
		}
		p.i++
		return e, nil
	}
	if !isLicenceID(t) {
		return nil, fmt.Errorf("%w: unexpected %q", errLicence, t)
	}
	p.i++
	leaf := &Licence{ID: t}
	if p.peekOp("WITH") {
		p.i++
		if p.i >= len(p.toks) || !isLicenceID(p.toks[p.i]) {
			return nil, fmt.Errorf("%w: WITH needs an exception id", errLicence)
		}
		leaf.Exception = p.toks[p.i]
		p.i++
	}
	return leaf, nil
}

// isLicenceID reports whether t has the shape of an SPDX id (letters,
// digits, '-', '.', an optional trailing '+', "LicenseRef-"/"DocumentRef-"
// with a ':') and is not an operator.
func isLicenceID(t string) bool {
	if t == "" || t == "+" {
		return false
	}
	for _, op := range []string{"AND", "OR", "WITH"} {
		if strings.EqualFold(t, op) {
			return false
		}
	}
	for i, r := range t {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == ':':
		case r == '+' && i == len(t)-1:
		default:
			return false
		}
	}
	return true
}

func (e *Licence) eval(allow, deny []string) LicenceResult {
	if e.Op == "" {
		return leafVerdict(e, allow, deny)
	}
	results := make([]LicenceResult, len(e.Parts))
	for i, p := range e.Parts {
		results[i] = p.eval(allow, deny)
	}
	pick := slices.MinFunc[[]LicenceResult] // OR: the best choice
	if e.Op == "AND" {
		pick = slices.MaxFunc[[]LicenceResult] // AND: every part must hold
	}
	best := pick(results, func(a, b LicenceResult) int { return int(a.Verdict) - int(b.Verdict) })
	// Name every part that shares the deciding verdict.
	var ids []string
	var reasons []string
	for _, r := range results {
		if r.Verdict == best.Verdict {
			ids = append(ids, r.IDs...)
			if r.Reason != "" && !slices.Contains(reasons, r.Reason) {
				reasons = append(reasons, r.Reason)
			}
		}
	}
	if best.Verdict == LicenceAllowed {
		return LicenceResult{Verdict: LicenceAllowed}
	}
	slices.Sort(ids)
	return LicenceResult{Verdict: best.Verdict, IDs: slices.Compact(ids), Reason: strings.Join(reasons, "; ")}
}

func leafVerdict(e *Licence, allow, deny []string) LicenceResult {
	names := []string{e.ID}
	if e.Exception != "" {
		names = []string{e.ID + " WITH " + e.Exception, e.ID}
	}
	if base := strings.TrimSuffix(e.ID, "+"); base != e.ID {
		names = append(names, base)
	}
	label := e.String()
	in := func(list []string) bool {
		for _, n := range names {
			if slices.ContainsFunc(list, func(l string) bool { return strings.EqualFold(strings.TrimSpace(l), n) }) {
				return true
			}
		}
		return false
	}
	if in(deny) {
		return LicenceResult{Verdict: LicenceDenied, IDs: []string{label}}
	}
	if len(allow) > 0 && in(allow) {
		return LicenceResult{Verdict: LicenceAllowed}
	}
	if !knownSPDX(e.ID) || (e.Exception != "" && !knownSPDX(e.Exception)) {
		return LicenceResult{Verdict: LicenceUnknown, IDs: []string{label}, Reason: fmt.Sprintf("%q is not a known SPDX licence id", clean(label))}
	}
	if len(allow) > 0 {
		return LicenceResult{Verdict: LicenceNotAllowed, IDs: []string{label}}
	}
	return LicenceResult{Verdict: LicenceAllowed}
}

//go:embed spdx.txt
var spdxText string

// spdxIDs maps the embedded SPDX licence and exception ids, lower case, to
// their canonical spelling.
var spdxIDs = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(spdxText, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = l
		}
	}
	return m
})

// knownSPDX reports whether id is an SPDX licence or exception id (a
// trailing + allowed). LicenseRef- ids are private to their document, so
// they are not known.
func knownSPDX(id string) bool {
	_, ok := spdxIDs()[strings.ToLower(strings.TrimSuffix(id, "+"))]
	return ok
}

// CanonicalSPDX returns the SPDX list's spelling of a licence or exception
// id given in any case ("apache-2.0" is "Apache-2.0"), and whether the id is
// on the embedded list.
func CanonicalSPDX(id string) (string, bool) {
	c, ok := spdxIDs()[strings.ToLower(strings.TrimSpace(id))]
	return c, ok
}

// licenceAliases map free-text licence names that registries commonly carry
// (PyPI's license field, trove classifiers) to their one unambiguous SPDX id.
// Ambiguous names ("BSD", "GPL") are deliberately absent.
var licenceAliases = map[string]string{
	"mit license":                          "MIT",
	"the mit license":                      "MIT",
	"mit licence":                          "MIT",
	"expat":                                "MIT",
	"apache 2.0":                           "Apache-2.0",
	"apache 2":                             "Apache-2.0",
	"apache-2":                             "Apache-2.0",
	"apache license 2.0":                   "Apache-2.0",
	"apache license, version 2.0":          "Apache-2.0",
	"apache license version 2.0":           "Apache-2.0",
	"apache software license 2.0":          "Apache-2.0",
	"apache software license, version 2.0": "Apache-2.0",
	"bsd 3-clause":                         "BSD-3-Clause",
	"bsd-3":                                "BSD-3-Clause",
	"3-clause bsd":                         "BSD-3-Clause",
	"new bsd":                              "BSD-3-Clause",
	"bsd 3-clause license":                 "BSD-3-Clause",
	"bsd 2-clause":                         "BSD-2-Clause",
	"bsd-2":                                "BSD-2-Clause",
	"simplified bsd":                       "BSD-2-Clause",
	"isc license":                          "ISC",
	"mozilla public license 2.0":           "MPL-2.0",
	"mpl 2.0":                              "MPL-2.0",
	"the unlicense":                        "Unlicense",
	"python software foundation license":   "PSF-2.0",
	"psf":                                  "PSF-2.0",
}

func licenceAlias(s string) (string, bool) {
	id, ok := licenceAliases[strings.ToLower(strings.Join(strings.Fields(s), " "))]
	return id, ok
}
