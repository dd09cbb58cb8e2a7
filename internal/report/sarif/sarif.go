// Package sarif writes a result as SARIF 2.1.0 in the shape GitHub code
// scanning accepts: one run, every rule of the finding table with its
// documentation and security-severity, one result per finding with a stable
// partial fingerprint, and scan/incomplete findings repeated as tool execution
// notifications.
package sarif

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/text"
)

// Options add what the result does not carry.
type Options struct {
	// SrcRoot is the absolute location of the scanned root, as a file:// URI
	// or an absolute path; when set it is written as originalUriBaseIds
	// %SRCROOT%, to which every relative result location is relative.
	// GitHub does not need it: its upload action resolves %SRCROOT% itself.
	SrcRoot string
	// StartTime and EndTime are written as the invocation's times when not
	// zero. Leave them zero (or set them from SOURCE_DATE_EPOCH) for
	// reproducible output.
	StartTime, EndTime time.Time
}

// Identifiers written into every log.
const (
	SchemaURI   = "https://json.schemastore.org/sarif-2.1.0.json"
	Version     = "2.1.0"
	SrcRootID   = "%SRCROOT%"
	Fingerprint = "mlguard/v1"
	toolName    = "mlguard"
)

// securitySeverity is the CVSS-like score GitHub uses to rank security alerts:
// 9.0 and above is critical, 7.0 high, 4.0 medium, 0.1 low.
var securitySeverity = map[finding.Severity]string{
	finding.Critical: "9.5",
	finding.High:     "8.0",
	finding.Medium:   "5.5",
	finding.Low:      "3.0",
	finding.Info:     "0.0",
}

// level maps a severity to a SARIF result level.
func level(s finding.Severity) string {
	switch {
	case s >= finding.High:
		return "error"
	case s == finding.Medium:
		return "warning"
	default:
		return "note"
	}
}

// Write writes r to w as a SARIF log. The output depends only on r and opts.
func Write(w io.Writer, r *finding.Result, opts Options) error {
	if r == nil {
		return errors.New("writing SARIF report: nil result")
	}
	l, err := build(r, opts)
	if err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return fmt.Errorf("encoding SARIF report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	return nil
}

func build(r *finding.Result, opts Options) (*log, error) {
	name := r.Tool.Name
	if name == "" {
		name = toolName
	}
	drv := driver{
		Name:            name,
		Version:         r.Tool.Version,
		SemanticVersion: semanticVersion(r.Tool.Version),
		InformationURI:  finding.RepoURL,
	}
	index := map[string]int{}
	for _, rule := range finding.Rules() {
		index[rule.ID] = len(drv.Rules)
		drv.Rules = append(drv.Rules, descriptor(rule))
	}

	inv := invocation{ExecutionSuccessful: true}
	if !opts.StartTime.IsZero() {
		inv.StartTimeUTC = opts.StartTime.UTC().Format(time.RFC3339Nano)
	}
	if !opts.EndTime.IsZero() {
		inv.EndTimeUTC = opts.EndTime.UTC().Format(time.RFC3339Nano)
	}

	results := []result{}
	waived := make([]finding.Finding, 0, len(r.Waived))
	justification := map[int]string{} // index in the loop below -> the waiver's reason
	for _, w := range r.Waived {
		justification[len(r.Findings)+len(waived)] = "waived by the policy (" + w.Waiver + "): " + w.Reason
		if w.Expires != "" {
			justification[len(r.Findings)+len(waived)] += "; expires " + w.Expires
		}
		waived = append(waived, w.Finding)
	}
	for n, f := range slices.Concat(r.Findings, waived) {
		i, ok := index[f.Rule]
		if !ok {
			// A rule the table does not know (a custom rule of the policy, or
			// a newer producer): describe it minimally rather than drop it.
			i = len(drv.Rules)
			index[f.Rule] = i
			drv.Rules = append(drv.Rules, descriptor(finding.Rule{ID: f.Rule, Severity: f.Severity, Summary: f.Rule}))
		}
		loc := locate(f)
		res := result{
			RuleID:    f.Rule,
			RuleIndex: i,
			Level:     level(f.Severity),
			Message:   message{Text: resultText(f)},
			Locations: []location{loc},
			PartialFingerprints: map[string]string{
				Fingerprint: fingerprint(f),
			},
			Properties: resultProperties{Severity: f.Severity.String()},
		}
		if f.Member != "" {
			res.Properties.Member = f.Member
			res.Properties.Offset = f.Offset
		}
		if why, ok := justification[n]; ok {
			res.Suppressions = []suppression{{Kind: "external", Status: "accepted", Justification: why}}
			results = append(results, res)
			continue
		}
		results = append(results, res)

		if f.Rule == finding.ScanIncomplete {
			lvl := "warning"
			if f.Severity >= finding.High {
				lvl = "error"
			}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, notification{
				Level:          lvl,
				Message:        res.Message,
				Locations:      []location{loc},
				AssociatedRule: &reference{ID: f.Rule, Index: i},
			})
		}
	}

	rn := run{
		Tool:        tool{Driver: drv},
		Invocations: []invocation{inv},
		Results:     results,
	}
	if r.Decision != "" {
		rn.Properties = &runProperties{Decision: r.Decision}
	}
	if opts.SrcRoot != "" {
		u, err := rootURI(opts.SrcRoot)
		if err != nil {
			return nil, err
		}
		rn.OriginalURIBaseIDs = map[string]artifactLocation{SrcRootID: {URI: u}}
	}
	return &log{Schema: SchemaURI, Version: Version, Runs: []run{rn}}, nil
}

func descriptor(r finding.Rule) reportingDescriptor {
	d := reportingDescriptor{
		ID:                   r.ID,
		Name:                 camelCase(r.ID),
		ShortDescription:     message{Text: r.Summary},
		DefaultConfiguration: configuration{Level: level(r.Severity)},
		Properties: ruleProperties{
			SecuritySeverity: securitySeverity[r.Severity],
			Tags:             []string{"security", area(r.ID)},
		},
	}
	if r.Rationale != "" {
		d.FullDescription = &message{Text: r.Rationale}
	}
	if r.Rationale != "" || r.Remediation != "" {
		d.Help = &message{
			Text:     strings.TrimSpace(r.Rationale + "\n\n" + r.Remediation),
			Markdown: helpMarkdown(r),
		}
	}
	if _, ok := finding.Lookup(r.ID); ok {
		d.HelpURI = r.HelpURL()
	}
	return d
}

func helpMarkdown(r finding.Rule) string {
	var b strings.Builder
	if r.Rationale != "" {
		b.WriteString(r.Rationale + "\n\n")
	}
	if r.Remediation != "" {
		b.WriteString("**What to do:** " + r.Remediation + "\n\n")
	}
	fmt.Fprintf(&b, "[Documentation of %s](%s)", r.ID, r.HelpURL())
	return b.String()
}

// camelCase turns a rule id into a SARIF rule name:
// "pickle/dangerous-global" becomes "PickleDangerousGlobal".
func camelCase(id string) string {
	var b strings.Builder
	upper := true
	for _, r := range id {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func area(id string) string {
	a, _, _ := strings.Cut(id, "/")
	return a
}

var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$`)

// semanticVersion returns v without a leading "v" when it is a SemVer 2.0
// version, and "" (omitted) for "dev", "(devel)" and the like.
func semanticVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	if semverRE.MatchString(v) {
		return v
	}
	return ""
}

// resultText is the message GitHub shows: the finding's message, where it is
// inside an archive, and the evidence. Untrusted text is made inert for
// terminals (line breaks in evidence kept) and square brackets are escaped so
// that no viewer turns them into an embedded link (SARIF §3.11.6).
func resultText(f finding.Finding) string {
	var b strings.Builder
	b.WriteString(text.Sanitize(f.Message))
	if f.Member != "" {
		b.WriteString(" (in " + text.Sanitize(f.Member))
		if f.Offset > 0 {
			b.WriteString(" at offset " + strconv.FormatInt(f.Offset, 10))
		}
		b.WriteString(")")
	}
	if f.Evidence != "" {
		lines := strings.Split(f.Evidence, "\n")
		for i, l := range lines {
			lines[i] = text.Sanitize(l)
		}
		b.WriteString("\n\nEvidence:\n" + strings.Join(lines, "\n"))
	}
	return escapeBrackets(b.String())
}

// escapeBrackets escapes "[" and "]", and a backslash just before one, so
// that SARIF viewers show them literally.
func escapeBrackets(s string) string {
	if !strings.ContainsAny(s, "[]") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '[' || c == ']':
			b.WriteByte('\\')
		case c == '\\' && i+1 < len(s) && (s[i+1] == '[' || s[i+1] == ']'):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// fingerprint identifies a finding across runs, so that GitHub keeps one alert
// for it while the file, member and evidence stay the same. When there is no
// evidence the message stands in for it, so that two findings of the same rule
// in the same place stay apart.
func fingerprint(f finding.Finding) string {
	what := f.Evidence
	if what == "" {
		what = f.Message
	}
	h := sha256.New()
	for _, s := range []string{f.Rule, filepath.ToSlash(f.Path), f.Member, what} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func locate(f finding.Finding) location {
	uri, base := artifactURI(f.Path)
	l := location{
		PhysicalLocation: physicalLocation{
			ArtifactLocation: artifactLocation{URI: uri, URIBaseID: base},
			Region:           region{StartLine: max(f.Line, 1)},
		},
	}
	// The offset of a finding inside an archive member counts from the start
	// of the member, not of the file, so it is no region of the file: it goes
	// in the message and the result's properties instead.
	if f.Offset > 0 && f.Member == "" {
		off := f.Offset
		l.PhysicalLocation.Region.ByteOffset = &off
	}
	if f.Member != "" {
		l.LogicalLocations = []logicalLocation{{Name: text.Sanitize(path.Base(f.Member)), FullyQualifiedName: text.Sanitize(f.Location())}}
	}
	return l
}

// artifactURI turns a path as the user named it into a URI reference: forward
// slashes, each segment percent-encoded. Relative paths are relative to
// %SRCROOT%; absolute ones become file URIs without a base.
func artifactURI(p string) (uri, base string) {
	p = filepath.ToSlash(p)
	abs := strings.HasPrefix(p, "/")
	if !abs && len(p) >= 3 && p[1] == ':' && p[2] == '/' && isLetter(p[0]) { // C:/models
		abs = true
		p = "/" + p
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
		if !abs {
			// In a relative reference a colon before the first slash would
			// read as a scheme ("c:weird.pt").
			segs[i] = strings.ReplaceAll(segs[i], ":", "%3A")
		}
	}
	if abs {
		return "file://" + strings.Join(segs, "/"), ""
	}
	return strings.Join(segs, "/"), SrcRootID
}

func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

// rootURI turns Options.SrcRoot into the absolute URI, ending in a slash, that
// SARIF wants for a base id.
func rootURI(root string) (string, error) {
	var u string
	if i := strings.Index(root, "://"); i > 1 {
		u = root
	} else {
		uri, base := artifactURI(root)
		if base != "" {
			return "", fmt.Errorf("source root %q is neither an absolute path nor a URI", root)
		}
		u = uri
	}
	if _, err := url.Parse(u); err != nil {
		return "", fmt.Errorf("source root: %w", err)
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u, nil
}
