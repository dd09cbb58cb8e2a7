// Package bom builds the ML-BOM: a CycloneDX document (1.6 or 1.7) of the
// models, datasets and packages a scan saw, with model cards, hashes,
// licences, known vulnerabilities and mlguard's own findings.
//
// Models: a Hugging Face style folder (a config.json, or a model card with
// front matter, next to weight files) is one machine-learning-model
// component whose files are nested file components with their SHA-256; any
// other model file is a component of its own. Model and dataset references
// found in code and cards (ecosystem huggingface) are models and data
// components with their pkg:huggingface purl; packages from manifests are
// library components.
//
// The output is deterministic when Options.Deterministic is set
// (SOURCE_DATE_EPOCH): components, properties and vulnerabilities are
// sorted, the timestamp is the given time and the serial number is derived
// from the content.
package bom

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/manifest"
	"github.com/mlguard/mlguard/internal/registry"
)

// Repo is the repository the BOM describes: its main component.
type Repo struct {
	Name   string // "owner/repo", or the folder's name
	URL    string // https://github.com/owner/repo, when known
	Commit string // the commit scanned, when known
}

// Package is one dependency with what the registries said about it.
type Package struct {
	deps.Package
	Facts    *registry.Facts   // nil when no registry was asked
	Findings []finding.Finding // mlguard's health findings on it
}

// Inventory is what the BOM describes: what one scan saw.
type Inventory struct {
	Tool     finding.Tool
	Repo     Repo
	Files    []finding.File    // scanned model files (with SHA256 when hashed)
	Findings []finding.Finding // findings on those files
	Packages []Package
}

// Options control the document.
type Options struct {
	Spec cdx.SpecVersion // cdx.SpecVersion1_6 (default) or cdx.SpecVersion1_7
	// Root is the folder the inventory's paths are relative to ("" is the
	// working directory): model folders are read from there.
	Root string
	// Time is the metadata timestamp (default now).
	Time time.Time
	// Deterministic derives the serial number from the content instead of
	// drawing it at random (set when SOURCE_DATE_EPOCH is).
	Deterministic bool
	// Jobs bounds how many files are hashed at once (default 4).
	Jobs int
	// Scope says what the BOM covers, as the repository's mlguard:bom:scope
	// property: "all" (default), or for a change "changed since <commit>":
	// then only the files and packages the change touched are listed.
	Scope string
	// Exclude are files never listed in a model folder (absolute paths): the
	// reports this run writes.
	Exclude []string
}

// ParseSpec reads "1.6" or "1.7".
func ParseSpec(s string) (cdx.SpecVersion, error) {
	switch s {
	case "", "1.6":
		return cdx.SpecVersion1_6, nil
	case "1.7":
		return cdx.SpecVersion1_7, nil
	}
	return 0, fmt.Errorf("CycloneDX spec version %q: want 1.6 or 1.7", s)
}

// Property names, all in mlguard's namespace.
const (
	propFormat     = "mlguard:model:format"
	propParameters = "mlguard:model:parameters"
	propDType      = "mlguard:model:dtype"
	propProducer   = "mlguard:model:producer"
	propScan       = "mlguard:scan:result" // pass, or the highest severity found
	propFinding    = "mlguard:finding"     // "<severity> <rule> <where>: <message>", one per finding
	propManifest   = "mlguard:package:manifest"
	propMalicious  = "mlguard:advisory:malicious"
	propIncomplete = "mlguard:bom:incomplete" // a file that could not be read or hashed, or a cap reached
	propScope      = "mlguard:bom:scope"      // what the BOM covers: "all", or the change it describes
)

// Build makes the BOM.
func Build(ctx context.Context, inv Inventory, opt Options) (*cdx.BOM, error) {
	if opt.Spec == 0 {
		opt.Spec = cdx.SpecVersion1_6
	}
	if opt.Time.IsZero() {
		opt.Time = time.Now()
	}
	inv.Files = dedupeFiles(inv.Files)
	b := &builder{inv: inv, opt: opt, refs: map[string]bool{}, datasets: map[string]*cdx.Component{}, vulns: map[string]*cdx.Vulnerability{}, byPURL: map[string]int{}, aliasOf: map[string]string{}}
	models, err := groupModels(ctx, inv.Files, opt)
	if err != nil {
		return nil, err
	}
	for _, m := range models {
		b.components = append(b.components, b.model(m))
	}
	for _, p := range inv.Packages {
		b.pkg(p)
	}
	b.unattached(models)
	for _, d := range b.datasets {
		b.components = append(b.components, *d)
	}
	slices.SortFunc(b.components, func(x, y cdx.Component) int { return strings.Compare(x.BOMRef, y.BOMRef) })

	bom := cdx.NewBOM()
	bom.Metadata = b.metadata()
	bom.Components = &b.components
	rootDeps := make([]string, 0, len(b.components))
	for _, c := range b.components {
		rootDeps = append(rootDeps, c.BOMRef)
	}
	graph := []cdx.Dependency{{Ref: bom.Metadata.Component.BOMRef, Dependencies: &rootDeps}}
	graph = append(graph, b.packageGraph()...)
	bom.Dependencies = &graph
	if len(b.vulns) > 0 {
		vs := make([]cdx.Vulnerability, 0, len(b.vulns))
		for _, v := range b.vulns {
			slices.SortFunc(*v.Affects, func(x, y cdx.Affects) int { return strings.Compare(x.Ref, y.Ref) })
			vs = append(vs, *v)
		}
		slices.SortFunc(vs, func(x, y cdx.Vulnerability) int { return strings.Compare(x.BOMRef, y.BOMRef) })
		bom.Vulnerabilities = &vs
	}
	serial, err := b.serial(bom)
	if err != nil {
		return nil, err
	}
	bom.SerialNumber = serial
	return bom, nil
}

// Encode writes the BOM as indented JSON of the options' spec version.
func Encode(w io.Writer, bom *cdx.BOM, spec cdx.SpecVersion) error {
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	return enc.EncodeVersion(bom, spec)
}

type builder struct {
	inv        Inventory
	opt        Options
	components []cdx.Component
	refs       map[string]bool // bom-refs in use
	datasets   map[string]*cdx.Component
	vulns      map[string]*cdx.Vulnerability
	byPURL     map[string]int    // index in components of each package's component (before they are sorted)
	aliasOf    map[string]string // an advisory id or alias -> the id of the vulnerability recorded for it
	// rootFindings are on no component's file; the repository's component
	// carries them.
	rootFindings []finding.Finding
}

// ref makes a bom-ref unique in the document.
func (b *builder) ref(want string) string {
	want = strings.ToValidUTF8(want, "\uFFFD") // as JSON will write it: two names must not meet there
	r := want
	for i := 2; b.refs[r]; i++ {
		r = want + "#" + strconv.Itoa(i)
	}
	b.refs[r] = true
	return r
}

func (b *builder) metadata() *cdx.Metadata {
	name := cmp.Or(b.inv.Repo.Name, "workspace")
	root := cdx.Component{
		BOMRef:  b.ref("repository:" + name),
		Type:    cdx.ComponentTypeApplication,
		Name:    name,
		Version: b.inv.Repo.Commit,
	}
	if u := b.inv.Repo.URL; u != "" {
		root.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeVCS, URL: u}}
	}
	props := []cdx.Property{{Name: propScope, Value: cmp.Or(b.opt.Scope, "all")}}
	if len(b.rootFindings) > 0 {
		props = append(props, scanProps(b.rootFindings)...)
	}
	sortProps(props)
	root.Properties = &props
	tool := cdx.Component{
		Type:    cdx.ComponentTypeApplication,
		Group:   "mlguard",
		Name:    cmp.Or(b.inv.Tool.Name, "mlguard"),
		Version: b.inv.Tool.Version,
		ExternalReferences: &[]cdx.ExternalReference{
			{Type: cdx.ERTypeVCS, URL: "https://github.com/mlguard/mlguard"},
		},
	}
	return &cdx.Metadata{
		Timestamp:  b.opt.Time.UTC().Format(time.RFC3339),
		Lifecycles: &[]cdx.Lifecycle{{Phase: cdx.LifecyclePhaseBuild}},
		Tools:      &cdx.ToolsChoice{Components: &[]cdx.Component{tool}},
		Component:  &root,
	}
}

// serial is a random urn:uuid, or one derived from the document's content
// when the output must be deterministic.
func (b *builder) serial(bom *cdx.BOM) (string, error) {
	var id [16]byte
	if b.opt.Deterministic {
		var buf bytes.Buffer
		if err := Encode(&buf, bom, b.opt.Spec); err != nil {
			return "", err
		}
		sum := sha256.Sum256(buf.Bytes())
		copy(id[:], sum[:16])
		id[6] = id[6]&0x0f | 0x80 // version 8: custom, content-derived
	} else {
		if _, err := rand.Read(id[:]); err != nil {
			return "", err
		}
		id[6] = id[6]&0x0f | 0x40 // version 4: random
	}
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16]), nil
}

// unattached are the scan's findings on no model file (a config file next
// to no model, a file that could not be read or was missing, the policy's
// own findings): they go on the repository's component, so none is lost.
func (b *builder) unattached(models []*model) {
	on := map[string]bool{}
	for _, m := range models {
		for _, f := range m.files {
			on[cleanPath(f.path)] = true
		}
	}
	for _, f := range b.inv.Findings {
		if !on[cleanPath(f.Path)] && !strings.HasPrefix(f.Rule, "package/") {
			b.rootFindings = append(b.rootFindings, f)
		}
	}
}

// dedupeFiles keeps the first entry of each file named twice (overlapping
// paths on the command line).
func dedupeFiles(files []finding.File) []finding.File {
	seen := map[string]bool{}
	out := make([]finding.File, 0, len(files))
	for _, f := range files {
		if k := cleanPath(f.Path); !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	return out
}

// findingsOf returns the scan's findings on the given paths: those of the
// files themselves, not the health findings of packages a file names (a
// model card's base model), which belong to those packages' components.
func (b *builder) findingsOf(paths map[string]bool) []finding.Finding {
	var out []finding.Finding
	for _, f := range b.inv.Findings {
		if paths[cleanPath(f.Path)] && !strings.HasPrefix(f.Rule, "package/") {
			out = append(out, f)
		}
	}
	return out
}

// scanProps are the scan result and one property per finding.
func scanProps(fs []finding.Finding) []cdx.Property {
	result := "pass"
	worst := finding.Info
	for _, f := range fs {
		worst = max(worst, f.Severity)
	}
	if len(fs) > 0 {
		result = worst.String()
	}
	props := []cdx.Property{{Name: propScan, Value: result}}
	for _, f := range fs {
		where := f.Path
		if f.Member != "" {
			where += "!" + f.Member
		}
		props = append(props, cdx.Property{Name: propFinding, Value: fmt.Sprintf("%s %s %s: %s", f.Severity, f.Rule, where, f.Message)})
	}
	return props
}

// licenses turns a licence as written (an SPDX id in any case, an SPDX
// expression, or free text) into CycloneDX's licence choice.
func licenses(raw string) *cdx.Licenses {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	id, expr, ok := spdx(raw)
	switch {
	case ok && expr:
		return &cdx.Licenses{{Expression: id}}
	case ok:
		return &cdx.Licenses{{License: &cdx.License{ID: id}}}
	}
	return &cdx.Licenses{{License: &cdx.License{Name: clip(raw, 256)}}}
}

// hubURL is a Hugging Face model or dataset page.
func hubURL(id string) string {
	if d, ok := strings.CutPrefix(id, manifest.DatasetPrefix); ok {
		return "https://huggingface.co/datasets/" + d
	}
	return "https://huggingface.co/" + id
}

// hubID reports whether s looks like a Hub repository id ("org/name").
func hubID(s string) bool {
	org, name, ok := strings.Cut(s, "/")
	if !ok || org == "" || name == "" || strings.Contains(name, "/") || len(s) > 96 {
		return false
	}
	for _, r := range s {
		if !(r == '/' || r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return !strings.HasPrefix(org, ".") && !strings.Contains(s, "..")
}

// dataset returns the bom-ref of the data component for a dataset named by a
// model card or a reference, creating it on first use.
func (b *builder) dataset(name string) string {
	name = clip(strings.TrimSpace(name), 256)
	if d, ok := b.datasets[name]; ok {
		return d.BOMRef
	}
	c := &cdx.Component{
		BOMRef: b.ref("dataset:" + name),
		Type:   cdx.ComponentTypeData,
		Name:   name,
		Data:   &[]cdx.ComponentData{{Type: cdx.ComponentDataTypeDataset, Name: name}},
	}
	if hubID(name) {
		c.PackageURL = deps.Package{Ecosystem: deps.HuggingFace, Name: manifest.DatasetPrefix + name}.PURL()
		c.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeDistribution, URL: hubURL(manifest.DatasetPrefix + name)}}
	}
	b.datasets[name] = c
	return c.BOMRef
}

// pkg adds a package from a manifest: a library, or for a Hugging Face
// reference a model or dataset.
func (b *builder) pkg(p Package) {
	purl := p.PURL()
	if p.Ecosystem == deps.HuggingFace {
		if ds, ok := strings.CutPrefix(p.Name, manifest.DatasetPrefix); ok {
			b.dataset(ds)
			d := b.datasets[clip(strings.TrimSpace(ds), 256)]
			if p.Version != "" && d.Version == "" {
				d.Version = p.Version
				d.PackageURL = purl
			}
			props := deref(d.Properties)
			if p.Manifest != "" {
				props = append(props, cdx.Property{Name: propManifest, Value: location(p.Package)})
			}
			if p.Facts != nil {
				if l, ok := p.Facts.License.Get(); ok && d.Licenses == nil {
					d.Licenses = licenses(l)
				}
			}
			props = mergeScanProps(props, p.Findings)
			if len(props) > 0 {
				d.Properties = &props
			}
			return
		}
	}
	if i, ok := b.byPURL[purl]; ok {
		// The same package in a manifest and its lock file: one component
		// that lists both places.
		c := &b.components[i]
		if hs := lockHashes(p.Hashes); c.Hashes == nil && len(hs) > 0 {
			c.Hashes = &hs
		}
		props := deref(c.Properties)
		if p.Manifest != "" {
			props = append(props, cdx.Property{Name: propManifest, Value: location(p.Package)})
		}
		props = mergeScanProps(props, p.Findings)
		sortProps(props)
		c.Properties = &props
		return
	}
	b.byPURL[purl] = len(b.components)
	c := cdx.Component{
		BOMRef:     b.ref(purl),
		Type:       cdx.ComponentTypeLibrary,
		Name:       p.Name,
		Version:    p.Version,
		PackageURL: purl,
	}
	if p.Ecosystem == deps.HuggingFace {
		c.Type = cdx.ComponentTypeMachineLearningModel
		c.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeDistribution, URL: hubURL(p.Name)}}
	} else if i := strings.LastIndexAny(p.Name, "/:"); i > 0 && (p.Ecosystem == deps.Maven || p.Ecosystem == deps.Go) {
		c.Group, c.Name = p.Name[:i], p.Name[i+1:]
	} else if p.Ecosystem == deps.NPM && strings.HasPrefix(p.Name, "@") {
		if g, n, ok := strings.Cut(p.Name, "/"); ok {
			c.Group, c.Name = g, n
		}
	}
	if hs := lockHashes(p.Hashes); len(hs) > 0 {
		c.Hashes = &hs
	}
	if p.Version == "" && p.Range != "" && p.Range != "*" {
		c.Description = "not pinned: " + clip(p.Range, 256)
	}
	props := []cdx.Property{}
	if p.Manifest != "" {
		props = append(props, cdx.Property{Name: propManifest, Value: location(p.Package)})
	}
	if f := p.Facts; f != nil {
		if l, ok := f.License.Get(); ok {
			c.Licenses = licenses(l)
		}
		if r, ok := f.SourceRepo.Get(); ok && r != "" {
			refs := append(deref(c.ExternalReferences), cdx.ExternalReference{Type: cdx.ERTypeVCS, URL: r})
			c.ExternalReferences = &refs
		}
		if a, ok := f.Author.Get(); ok && a != "" {
			c.Authors = &[]cdx.OrganizationalContact{{Name: clip(a, 256)}}
		}
		if advs, ok := f.Advisories.Get(); ok && p.Pinned() {
			for _, a := range advs {
				b.vuln(a, c.BOMRef)
			}
		} else if ok {
			for _, a := range advs {
				if a.Malicious { // condemns every version
					b.vuln(a, c.BOMRef)
				}
			}
		}
	}
	if len(p.Findings) > 0 {
		props = append(props, scanProps(p.Findings)...)
	}
	if len(props) > 0 {
		sortProps(props)
		c.Properties = &props
	}
	b.components = append(b.components, c)
}

// packageGraph is the dependency graph the lock files give: each package
// that requires others, with those among the BOM's components.
func (b *builder) packageGraph() []cdx.Dependency {
	refOf := map[string]string{} // purl -> bom-ref (components are sorted by now)
	for _, c := range b.components {
		if c.PackageURL != "" && refOf[c.PackageURL] == "" {
			refOf[c.PackageURL] = c.BOMRef
		}
	}
	var out []cdx.Dependency
	seen := map[string]bool{}
	for _, p := range b.inv.Packages {
		ref, ok := refOf[p.PURL()]
		if !ok || len(p.DependsOn) == 0 || seen[ref] {
			continue
		}
		seen[ref] = true
		var on []string
		for _, purl := range p.DependsOn {
			if r, ok := refOf[purl]; ok {
				on = append(on, r)
			}
		}
		if len(on) > 0 {
			slices.Sort(on)
			on = slices.Compact(on)
			out = append(out, cdx.Dependency{Ref: ref, Dependencies: &on})
		}
	}
	slices.SortFunc(out, func(x, y cdx.Dependency) int { return strings.Compare(x.Ref, y.Ref) })
	return out
}

// lockHashes turns a lock file's digests ("sha256:<hex>", npm's
// "sha512-<base64>") into CycloneDX hashes; malformed ones are left out.
func lockHashes(in []string) []cdx.Hash {
	algs := map[string]struct {
		alg cdx.HashAlgorithm
		n   int // bytes
	}{
		"sha1": {cdx.HashAlgoSHA1, 20}, "sha256": {cdx.HashAlgoSHA256, 32},
		"sha384": {cdx.HashAlgoSHA384, 48}, "sha512": {cdx.HashAlgoSHA512, 64},
	}
	var out []cdx.Hash
	for _, h := range in {
		var raw []byte
		name, v, hexForm := strings.Cut(h, ":")
		if hexForm {
			raw, _ = hex.DecodeString(v)
		} else if name, v, _ = strings.Cut(h, "-"); v != "" {
			raw, _ = base64.StdEncoding.DecodeString(v)
		}
		a, ok := algs[strings.ToLower(name)]
		if !ok || len(raw) != a.n {
			continue
		}
		e := cdx.Hash{Algorithm: a.alg, Value: hex.EncodeToString(raw)}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// mergeScanProps adds findings to properties that may already hold a scan
// result: the findings are appended (without repeats) and the result
// recomputed over all of them.
func mergeScanProps(props []cdx.Property, fs []finding.Finding) []cdx.Property {
	if len(fs) == 0 {
		return props
	}
	worst := finding.Info
	var keep []cdx.Property
	have := map[string]bool{}
	for _, p := range props {
		switch p.Name {
		case propScan:
			if s, err := finding.ParseSeverity(p.Value); err == nil {
				worst = max(worst, s)
			}
			continue
		case propFinding:
			have[p.Value] = true
		}
		keep = append(keep, p)
	}
	for _, p := range scanProps(fs) {
		if p.Name == propScan {
			s, _ := finding.ParseSeverity(p.Value)
			p.Value = max(worst, s).String()
		}
		if p.Name == propFinding && have[p.Value] {
			continue
		}
		keep = append(keep, p)
	}
	sortProps(keep)
	return keep
}

// location is where a manifest names a package: "path:line".
func location(p deps.Package) string {
	if p.Line > 0 {
		return p.Manifest + ":" + strconv.Itoa(p.Line)
	}
	return p.Manifest
}

// vuln records an OSV advisory affecting the component ref.
func (b *builder) vuln(a registry.Advisory, ref string) {
	if a.ID == "" {
		return
	}
	id := a.ID
	for _, alias := range a.Aliases { // PYSEC and GHSA records of one CVE are one vulnerability
		if b.aliasOf[alias] != "" {
			id = b.aliasOf[alias]
		}
	}
	if v, ok := b.vulns[id]; ok {
		if !slices.ContainsFunc(*v.Affects, func(x cdx.Affects) bool { return x.Ref == ref }) {
			*v.Affects = append(*v.Affects, cdx.Affects{Ref: ref})
		}
		return
	}
	osv := &cdx.Source{Name: "OSV", URL: "https://osv.dev/vulnerability/" + a.ID}
	v := &cdx.Vulnerability{
		BOMRef:      b.ref("vulnerability:" + a.ID),
		ID:          a.ID,
		Source:      osv,
		Description: clip(a.Summary, 4096),
		Affects:     &[]cdx.Affects{{Ref: ref}},
	}
	rating := cdx.VulnerabilityRating{Source: osv, Severity: cdx.SeverityUnknown}
	switch s := strings.ToUpper(a.Severity); {
	case strings.HasPrefix(s, "CVSS:3.1/"):
		rating.Method, rating.Vector = cdx.ScoringMethodCVSSv31, a.Severity
	case strings.HasPrefix(s, "CVSS:3.0/"):
		rating.Method, rating.Vector = cdx.ScoringMethodCVSSv3, a.Severity
	case strings.HasPrefix(s, "CVSS:4.0/"):
		rating.Method, rating.Vector = cdx.ScoringMethodCVSSv4, a.Severity
	case s == "CRITICAL":
		rating.Severity = cdx.SeverityCritical
	case s == "HIGH":
		rating.Severity = cdx.SeverityHigh
	case s == "MODERATE" || s == "MEDIUM":
		rating.Severity = cdx.SeverityMedium
	case s == "LOW":
		rating.Severity = cdx.SeverityLow
	}
	if a.CVSS != "" && rating.Vector == "" {
		rating.Vector = a.CVSS
		switch {
		case strings.HasPrefix(a.CVSS, "CVSS:3.1/"):
			rating.Method = cdx.ScoringMethodCVSSv31
		case strings.HasPrefix(a.CVSS, "CVSS:3.0/"):
			rating.Method = cdx.ScoringMethodCVSSv3
		case strings.HasPrefix(a.CVSS, "CVSS:4.0/"):
			rating.Method = cdx.ScoringMethodCVSSv4
		default:
			rating.Method = cdx.ScoringMethodOther
		}
	}
	if a.Malicious {
		rating.Severity = cdx.SeverityCritical
		v.Properties = &[]cdx.Property{{Name: propMalicious, Value: "true"}}
	}
	v.Ratings = &[]cdx.VulnerabilityRating{rating}
	if len(a.Aliases) > 0 {
		refs := make([]cdx.VulnerabilityReference, 0, len(a.Aliases))
		for _, al := range slices.Sorted(slices.Values(a.Aliases)) {
			refs = append(refs, cdx.VulnerabilityReference{ID: al, Source: aliasSource(al)})
		}
		v.References = &refs
	}
	b.vulns[a.ID] = v
	b.aliasOf[a.ID] = a.ID
	for _, alias := range a.Aliases {
		if b.aliasOf[alias] == "" {
			b.aliasOf[alias] = a.ID
		}
	}
}

func aliasSource(id string) *cdx.Source {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + id}
	case strings.HasPrefix(id, "GHSA-"):
		return &cdx.Source{Name: "GitHub", URL: "https://github.com/advisories/" + id}
	}
	return &cdx.Source{Name: "OSV", URL: "https://osv.dev/vulnerability/" + id}
}

func sortProps(p []cdx.Property) {
	slices.SortStableFunc(p, func(x, y cdx.Property) int {
		return cmp.Or(strings.Compare(x.Name, y.Name), strings.Compare(x.Value, y.Value))
	})
}

func deref[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

// clip bounds untrusted text copied into the BOM, on a rune boundary.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(c byte) bool { return c&0xC0 != 0x80 }

// errNoFiles is returned when a model group has no file at all (a bug).
var errNoFiles = errors.New("a model without files")

// cleanPath makes a display path comparable.
func cleanPath(p string) string { return path.Clean(strings.ReplaceAll(p, `\`, "/")) }
