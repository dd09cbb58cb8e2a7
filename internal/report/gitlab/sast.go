package gitlab

import (
	"bytes"
	"cmp"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/markdown"
)

// SASTFile is the artifact name the GitLab templates use for the SAST report
// (artifacts:reports:sast).
const SASTFile = "gl-sast-report.json"

// SASTSchemaVersion is the version of GitLab's security report schema that
// WriteSAST follows: the newest 15.x whose schema the tests validate against
// (testdata/README.md). GitLab validates a report against the schema it
// declares; releases since late 2024 (GitLab 17.4 or so) accept 15.2.x, and
// validate 15.2.1 against the newest 15.2 patch they have.
const SASTSchemaVersion = "15.2.1"

// sastSchemaURL is the published schema of SASTSchemaVersion.
const sastSchemaURL = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v" +
	SASTSchemaVersion + "/dist/sast-report-format.json"

// sastTime is the only time format the schema accepts: UTC, no zone.
const sastTime = "2006-01-02T15:04:05"

// Limits the schema sets, and ours.
const (
	maxSASTName        = 255      // characters, the schema's maxLength
	maxSASTSolution    = 7000     // characters, the schema's maxLength
	maxSASTDescription = 32 << 10 // bytes; the schema allows 1 MiB
)

// identifierType is the type of the identifier that names an mlguard rule.
const identifierType = "mlguard_rule"

// SASTOptions add what the result does not carry.
type SASTOptions struct {
	// StartTime and EndTime are when the scan started and finished; they are
	// written in UTC to the second. StartTime is required (take it from
	// SOURCE_DATE_EPOCH for reproducible output); a zero EndTime means
	// StartTime.
	StartTime, EndTime time.Time
	// ToolVersion is mlguard's version, as analyzer and scanner version; ""
	// means the result's tool version, and "unknown" when that is empty too.
	ToolVersion string
}

type sastReport struct {
	Version         string              `json:"version"`
	Schema          string              `json:"schema"`
	Scan            sastScan            `json:"scan"`
	Vulnerabilities []sastVulnerability `json:"vulnerabilities"`
}

type sastScan struct {
	Analyzer  sastComponent `json:"analyzer"`
	Scanner   sastComponent `json:"scanner"`
	Type      string        `json:"type"`
	StartTime string        `json:"start_time"`
	EndTime   string        `json:"end_time"`
	Status    string        `json:"status"`
}

type sastComponent struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	Version string     `json:"version"`
	URL     string     `json:"url,omitempty"`
	Vendor  sastVendor `json:"vendor"`
}

type sastVendor struct {
	Name string `json:"name"`
}

type sastVulnerability struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Severity    string           `json:"severity"`
	Solution    string           `json:"solution,omitempty"`
	Location    sastLocation     `json:"location"`
	Identifiers []sastIdentifier `json:"identifiers"`
}

type sastLocation struct {
	File      string `json:"file"`
	StartLine int    `json:"start_line"`
}

type sastIdentifier struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
	URL   string `json:"url,omitempty"`
}

// sastSeverity maps a severity to the schema's.
func sastSeverity(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "Critical"
	case finding.High:
		return "High"
	case finding.Medium:
		return "Medium"
	case finding.Low:
		return "Low"
	case finding.Info:
		return "Info"
	default:
		return "Unknown"
	}
}

// WriteSAST writes r's findings as a GitLab SAST report (security report
// schema SASTSchemaVersion), for artifacts:reports:sast.
//
// Only findings about files are reported: dependency findings (package/*
// rules, and whatever a checked package lists) describe a package, not code,
// and belong to a dependency scanning report, which needs the package and
// its manifest; waived findings are left out (the SAST format has no
// "accepted" state; the merge request note lists them); so are findings
// without a path.
//
// GitLab keys a vulnerability on its primary identifier (here the rule) and
// its location (file and lines): two findings of one rule on the same line
// of a file, which every finding in a binary model file is (line 1), would
// be taken for one. So findings are grouped by rule, file and line, and each
// group is one vulnerability whose description lists every finding in it
// (bounded), with the highest severity of the group. Its id is a UUID (v5)
// derived from a fingerprint of rule, file and line, so it is the same in
// every pipeline while the group exists. The output depends only on r and
// opts.
func WriteSAST(w io.Writer, r *finding.Result, opts SASTOptions) error {
	if r == nil {
		return errors.New("writing SAST report: nil result")
	}
	if opts.StartTime.IsZero() {
		return errors.New("writing SAST report: no start time")
	}
	end := opts.EndTime
	if end.IsZero() {
		end = opts.StartTime
	}
	version := cmp.Or(plainID(opts.ToolVersion, 64), plainID(r.Tool.Version, 64), "unknown")
	name := cmp.Or(plainID(r.Tool.Name, 64), toolName)
	component := sastComponent{ID: toolName, Name: name, Version: version, URL: finding.RepoURL, Vendor: sastVendor{Name: toolName}}
	rep := sastReport{
		Version: SASTSchemaVersion,
		Schema:  sastSchemaURL,
		Scan: sastScan{
			Analyzer:  component,
			Scanner:   component,
			Type:      "sast",
			StartTime: opts.StartTime.UTC().Format(sastTime),
			EndTime:   end.UTC().Format(sastTime),
			Status:    "success",
		},
		Vulnerabilities: []sastVulnerability{},
	}
	for _, g := range sastGroups(r) {
		rep.Vulnerabilities = append(rep.Vulnerabilities, g.vulnerability())
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("encoding SAST report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing SAST report: %w", err)
	}
	return nil
}

// sastGroup is the findings of one rule at one file and line.
type sastGroup struct {
	rule, file string
	line       int
	findings   []finding.Finding
}

// sastGroups groups the reportable findings, in the order of each group's
// first finding.
func sastGroups(r *finding.Result) []*sastGroup {
	deps := packageFindings(r)
	var groups []*sastGroup
	index := map[string]*sastGroup{}
	for _, f := range r.Findings {
		file := reportPath(f.Path)
		if file == "" || isDependency(f, deps) {
			continue
		}
		key := f.Rule + "\x00" + file + "\x00" + strconv.Itoa(startLine(f))
		g := index[key]
		if g == nil {
			g = &sastGroup{rule: f.Rule, file: file, line: startLine(f)}
			index[key] = g
			groups = append(groups, g)
		}
		g.findings = append(g.findings, f)
	}
	return groups
}

func (g *sastGroup) vulnerability() sastVulnerability {
	sev := g.findings[0].Severity
	for _, f := range g.findings {
		sev = max(sev, f.Severity)
	}
	id := cmp.Or(plainID(g.rule, maxSASTName-32), "unknown")
	ident := sastIdentifier{Type: identifierType, Name: id, Value: id, URL: helpURL(g.findings[0])}
	v := sastVulnerability{
		ID:          sastUUID(g.fingerprint()),
		Name:        "mlguard " + id,
		Description: g.description(),
		Severity:    sastSeverity(sev),
		Location:    sastLocation{File: g.file, StartLine: g.line},
		Identifiers: []sastIdentifier{ident},
	}
	if known, ok := finding.Lookup(g.rule); ok {
		v.Name = markdown.Clip(known.Summary, maxSASTName-32)
		v.Solution = markdown.Clip(known.Remediation, maxSASTSolution-32)
	}
	return v
}

// fingerprint identifies the group across pipelines.
func (g *sastGroup) fingerprint() string {
	h := sha256.New()
	for _, s := range []string{"mlguard/gitlab/sast/v1", g.rule, g.file, strconv.Itoa(g.line)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// description is GitLab Flavored Markdown (GitLab renders it, references and
// all): each finding's message and place, made inert, and its evidence in a
// code block, as many whole findings as fit in maxSASTDescription, most
// severe first, then a line for the rest.
func (g *sastGroup) description() string {
	fs := finding.BySeverity(g.findings)
	var b strings.Builder
	if len(fs) > 1 {
		fmt.Fprintf(&b, "%s of this rule on this line:\n\n", markdown.Plural(len(fs), "finding"))
	}
	const reserve = 200 // the "more" line
	for i, f := range fs {
		var e strings.Builder
		if len(fs) > 1 {
			fmt.Fprintf(&e, "**%d.** (%s) ", i+1, f.Severity)
		}
		e.WriteString(mdClip(f.Message, maxText))
		if f.Member != "" || f.Offset > 0 {
			e.WriteString("\n\nWhere: " + mdClip(f.Location(), maxText))
			if f.Offset > 0 {
				e.WriteString(" at offset " + strconv.FormatInt(f.Offset, 10))
			}
		}
		e.WriteString("\n\n")
		if f.Evidence != "" {
			e.WriteString(codeBlock(markdown.Clip(f.Evidence, maxEvidence)) + "\n")
		}
		if b.Len()+e.Len() > maxSASTDescription-reserve {
			fmt.Fprintf(&b, "%s not shown here; the merge request note and the JSON report list every finding.\n", markdown.Plural(len(fs)-i, "more finding"))
			break
		}
		b.WriteString(e.String())
	}
	return strings.TrimRight(b.String(), "\n")
}

// sastUUID is a name-based UUID (version 5, SHA-1, RFC 9562) of
// fingerprint in mlguard's namespace.
func sastUUID(fingerprint string) string {
	h := sha1.New()
	h.Write(uuidNamespace[:])
	h.Write([]byte(fingerprint))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	x := hex.EncodeToString(u[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// uuidNamespace is mlguard's UUID namespace: the v5 UUID of
// "https://github.com/mlguard/mlguard" in the RFC 9562 URL namespace
// (6ba7b811-9dad-11d1-80b4-00c04fd430c8), 651594e4-1c02-5b2e-90c3-efa1d892922f.
var uuidNamespace = [16]byte{
	0x65, 0x15, 0x94, 0xe4, 0x1c, 0x02, 0x5b, 0x2e, 0x90, 0xc3, 0xef, 0xa1, 0xd8, 0x92, 0x92, 0x2f,
}

// plainID keeps the characters of an id or version that need no escaping
// anywhere (letters, digits and "/._-+"), replaces the others with "_", and
// cuts it to n bytes: rule ids of custom policy rules and versions come from
// files a merge request can change.
func plainID(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			break
		}
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', strings.ContainsRune("/._-+", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
