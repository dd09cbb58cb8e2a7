package bom

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/registry"
)

var when = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestLicenses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want *cdx.Licenses
	}{
		{"", nil},
		{"apache-2.0", &cdx.Licenses{{License: &cdx.License{ID: "Apache-2.0"}}}},
		{"MIT", &cdx.Licenses{{License: &cdx.License{ID: "MIT"}}}},
		{"mit or apache-2.0", &cdx.Licenses{{Expression: "MIT OR Apache-2.0"}}},
		{"GPL-2.0-only WITH Classpath-exception-2.0", &cdx.Licenses{{Expression: "GPL-2.0-only WITH Classpath-exception-2.0"}}},
		{"(MIT AND BSD-3-Clause) OR LicenseRef-mine", &cdx.Licenses{{Expression: "(MIT AND BSD-3-Clause) OR LicenseRef-mine"}}},
		{"MIT OR Nonsense-1.0", &cdx.Licenses{{License: &cdx.License{Name: "MIT OR Nonsense-1.0"}}}},
		{"llama3", &cdx.Licenses{{License: &cdx.License{Name: "llama3"}}}},
		{"BSD License", &cdx.Licenses{{License: &cdx.License{Name: "BSD License"}}}},
	} {
		if diff := cmp.Diff(tc.want, licenses(tc.in)); diff != "" {
			t.Errorf("licenses(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestHubID(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"meta-llama/Llama-3.1-8B": true, "org/name": true, "name": false, "/abs/path": false,
		"./local/model": false, "a/b/c": false, "org/..": false, "org/na me": false, "": false,
	} {
		if got := hubID(s); got != want {
			t.Errorf("hubID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestVulnerabilities(t *testing.T) {
	t.Parallel()
	advs := []registry.Advisory{
		{ID: "GHSA-aaaa", Aliases: []string{"PYSEC-1", "CVE-2024-1"}, Summary: "bad", Severity: "HIGH"},
		{ID: "GHSA-bbbb", Severity: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
		{ID: "MAL-2025-1", Summary: "malicious code", Malicious: true},
	}
	inv := Inventory{Packages: []Package{
		{Package: deps.Package{Ecosystem: deps.PyPI, Name: "torch", Version: "2.3.1"}, Facts: &registry.Facts{Advisories: registry.Some(advs), License: registry.Some("BSD-3-Clause")}},
		{Package: deps.Package{Ecosystem: deps.PyPI, Name: "torchvision", Version: "0.18.1"}, Facts: &registry.Facts{Advisories: registry.Some(advs[:1])}},
		{Package: deps.Package{Ecosystem: deps.PyPI, Name: "loose", Range: ">=1"}, Facts: &registry.Facts{Advisories: registry.Some(advs)}},
	}}
	b, err := Build(context.Background(), inv, Options{Time: when, Deterministic: true})
	if err != nil {
		t.Fatal(err)
	}
	type vuln struct {
		ID, Severity, Method string
		Affects              []string
		Refs                 []string
	}
	var got []vuln
	for _, v := range *b.Vulnerabilities {
		r := (*v.Ratings)[0]
		g := vuln{ID: v.ID, Severity: string(r.Severity), Method: string(r.Method)}
		for _, a := range *v.Affects {
			g.Affects = append(g.Affects, a.Ref)
		}
		for _, ref := range deref(v.References) {
			g.Refs = append(g.Refs, ref.ID+" "+ref.Source.Name)
		}
		got = append(got, g)
	}
	want := []vuln{
		{ID: "GHSA-aaaa", Severity: "high", Affects: []string{"pkg:pypi/torch@2.3.1", "pkg:pypi/torchvision@0.18.1"}, Refs: []string{"CVE-2024-1 NVD", "PYSEC-1 OSV"}},
		{ID: "GHSA-bbbb", Severity: "unknown", Method: "CVSSv31", Affects: []string{"pkg:pypi/torch@2.3.1"}},
		// An unpinned package carries only the malicious record, which condemns every version.
		{ID: "MAL-2025-1", Severity: "critical", Affects: []string{"pkg:pypi/loose", "pkg:pypi/torch@2.3.1"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("vulnerabilities (-want +got):\n%s", diff)
	}
}

// TestDeterministic builds the same inventory twice: with Deterministic the
// documents are byte for byte equal, without it the serial numbers differ.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	inv := Inventory{
		Tool: finding.Tool{Name: "mlguard", Version: "test"},
		Repo: Repo{Name: "org/repo", URL: "https://github.com/org/repo", Commit: strings.Repeat("a", 40)},
		Packages: []Package{
			{Package: deps.Package{Ecosystem: deps.NPM, Name: "@types/node", Version: "20.1.0"}},
			{Package: deps.Package{Ecosystem: deps.PyPI, Name: "numpy", Version: "1.26.4"}},
		},
	}
	enc := func(o Options) string {
		b, err := Build(context.Background(), inv, o)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Encode(&buf, b, cdx.SpecVersion1_6); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	a, b := enc(Options{Time: when, Deterministic: true}), enc(Options{Time: when, Deterministic: true})
	if a != b {
		t.Errorf("deterministic output differs:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, `"serialNumber": "urn:uuid:`) || !strings.Contains(a, `"timestamp": "2026-01-02T03:04:05Z"`) {
		t.Errorf("serial or timestamp missing:\n%s", a)
	}
	r1, r2 := enc(Options{Time: when}), enc(Options{Time: when})
	if r1 == r2 {
		t.Error("random serial numbers are equal")
	}
}

// TestModelFolder builds the BOM of a Hugging Face style folder on disk:
// one model whose files are all listed with their hashes, the revision from
// the download metadata, the card's licence, datasets, metrics and
// considerations, and the scan's findings as properties.
func TestModelFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("m/config.json", `{"_name_or_path": "org/tiny", "model_type": "bert", "architectures": ["BertModel"], "torch_dtype": "float32"}`)
	write("m/README.md", "---\nlicense: mit\ndatasets: [org/corpus]\npipeline_tag: fill-mask\n---\n# tiny\n\n## Limitations\n\nSmall.\n")
	write("m/vocab.txt", "[PAD]\n")
	write("m/model.safetensors", "weights")
	write("m/.cache/huggingface/download/model.safetensors.metadata", strings.Repeat("b", 40)+"\n\"feed\"\n1700000000.0\n")
	write("m/.cache/huggingface/download/vocab.txt.metadata", strings.Repeat("c", 40)+"\n\"not-its-digest\"\n1700000000.0\n")
	files := []finding.File{{Path: "m/model.safetensors", Format: "safetensors", Size: 7, SHA256: "feed", ModelInfo: finding.ModelInfo{Parameters: 110, DType: "F32"}}}
	fd := finding.New(finding.ScanIncomplete, "something odd")
	fd.Path = "m/model.safetensors"
	b, err := Build(context.Background(), Inventory{Files: files, Findings: []finding.Finding{fd}}, Options{Root: dir, Time: when, Deterministic: true})
	if err != nil {
		t.Fatal(err)
	}
	var model *cdx.Component
	for i, c := range *b.Components {
		if c.Type == cdx.ComponentTypeMachineLearningModel {
			model = &(*b.Components)[i]
		}
	}
	if model == nil {
		t.Fatalf("no model component: %+v", *b.Components)
	}
	// The revision is the one whose metadata etag is its file's digest; the
	// folder is no Hub repository of its own (no purl), and the Hub model
	// config.json was loaded from is its ancestor.
	if model.Name != "m" || model.Version != strings.Repeat("b", 40) || model.PackageURL != "" {
		t.Errorf("name, version or purl: %q %q %q", model.Name, model.Version, model.PackageURL)
	}
	if model.Pedigree == nil || len(*model.Pedigree.Ancestors) != 1 || (*model.Pedigree.Ancestors)[0].PackageURL != "pkg:huggingface/org/tiny" {
		t.Errorf("pedigree: %+v", model.Pedigree)
	}
	var names []string
	for _, f := range *model.Components {
		names = append(names, f.Name)
		if f.Hashes == nil || (*f.Hashes)[0].Value == "" {
			t.Errorf("file %s has no hash", f.Name)
		}
	}
	if diff := cmp.Diff([]string{"m/README.md", "m/config.json", "m/model.safetensors", "m/vocab.txt"}, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	js, _ := json.Marshal(model)
	for _, want := range []string{
		`"id":"MIT"`, `"task":"fill-mask"`, `"architectureFamily":"bert"`, `"modelArchitecture":"BertModel"`,
		`"technicalLimitations":["Small."]`, `{"name":"mlguard:model:parameters","value":"110"}`,
		`{"name":"mlguard:model:dtype","value":"F32"}`, `{"name":"mlguard:scan:result","value":"high"}`,
		`scan/incomplete m/model.safetensors: something odd`,
	} {
		if !strings.Contains(string(js), want) {
			t.Errorf("model component lacks %s:\n%s", want, js)
		}
	}
	var ds bool
	for _, c := range *b.Components {
		ds = ds || c.Type == cdx.ComponentTypeData && c.Name == "org/corpus" && c.PackageURL == "pkg:huggingface/datasets/org/corpus"
	}
	if !ds {
		t.Errorf("no dataset component for org/corpus: %+v", *b.Components)
	}
}

func TestLockHashes(t *testing.T) {
	t.Parallel()
	sha256hex := strings.Repeat("ab", 32)
	got := lockHashes([]string{
		"sha256:" + sha256hex,
		"sha512-5T6nhjsT+EOMzuck8JjBHARTHfMht0POzlA60WV2pMD3gyXw2LZnZ+ueGdNxG+0calOJcWKbpFcuzLZ91YWq9Q==",
		"sha256:abcd",         // too short
		"md5:" + sha256hex,    // not kept
		"sha1-not base64!",    // malformed
		"sha256:" + sha256hex, // a duplicate
	})
	want := []cdx.Hash{
		{Algorithm: cdx.HashAlgoSHA256, Value: sha256hex},
		{Algorithm: cdx.HashAlgoSHA512, Value: "e53ea7863b13f8438ccee724f098c11c04531df321b743cece503ad16576a4c0f78325f0d8b66767eb9e19d3711bed1c6a538971629ba4572eccb67dd585aaf5"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lockHashes (-want +got):\n%s", diff)
	}
}

// TestPackageGraph: the lock file's graph becomes CycloneDX dependencies
// between the packages' components; a package named twice is one component.
func TestPackageGraph(t *testing.T) {
	t.Parallel()
	express := deps.Package{Ecosystem: deps.NPM, Name: "express", Version: "4.19.2", Manifest: "package-lock.json", Line: 5,
		DependsOn: []string{"pkg:npm/cookie@0.6.0", "pkg:npm/not-listed@1.0.0"}}
	inv := Inventory{Packages: []Package{
		{Package: deps.Package{Ecosystem: deps.NPM, Name: "express", Version: "4.19.2", Manifest: "package.json", Line: 3}},
		{Package: express},
		{Package: deps.Package{Ecosystem: deps.NPM, Name: "cookie", Version: "0.6.0", Manifest: "package-lock.json", Line: 9}},
	}}
	b, err := Build(context.Background(), inv, Options{Time: when, Deterministic: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(*b.Components); n != 2 {
		t.Fatalf("%d components, want 2: %+v", n, *b.Components)
	}
	var graph []string
	for _, d := range (*b.Dependencies)[1:] {
		graph = append(graph, d.Ref+" -> "+strings.Join(deref(d.Dependencies), ","))
	}
	if diff := cmp.Diff([]string{"pkg:npm/express@4.19.2 -> pkg:npm/cookie@0.6.0"}, graph); diff != "" {
		t.Errorf("graph (-want +got):\n%s", diff)
	}
	var places []string
	for _, p := range deref((*b.Components)[1].Properties) {
		if p.Name == propManifest {
			places = append(places, p.Value)
		}
	}
	if diff := cmp.Diff([]string{"package-lock.json:5", "package.json:3"}, places); diff != "" {
		t.Errorf("express is named in (-want +got):\n%s", diff)
	}
}

// TestFolderModelIdentity: a folder whose config.json was loaded from a Hub
// model is not that model: the reference stays a component of its own, with
// its facts, and the folder names it as an ancestor.
func TestFolderModelIdentity(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"m/config.json":       `{"_name_or_path": "Org/Tiny", "model_type": "gpt2"}`,
		"m/model.safetensors": "w",
	} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	few := finding.New(finding.PackageUnpinned, "pkg:huggingface/org/tiny is not pinned")
	few.Path = "m/config.json"
	inv := Inventory{
		Files:    []finding.File{{Path: "m/model.safetensors", Format: "safetensors", SHA256: strings.Repeat("0", 64)}},
		Findings: []finding.Finding{few},
		Packages: []Package{{
			Package:  deps.Package{Ecosystem: deps.HuggingFace, Name: "org/tiny", Manifest: "m/config.json", Line: 1},
			Facts:    &registry.Facts{License: registry.Some("apache-2.0")},
			Findings: []finding.Finding{few},
		}},
	}
	b, err := Build(context.Background(), inv, Options{Root: dir, Time: when, Deterministic: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(*b.Components); n != 2 {
		t.Fatalf("%d components, want the folder and the reference: %+v", n, *b.Components)
	}
	folder, ref := (*b.Components)[0], (*b.Components)[1]
	if folder.PackageURL != "" || folder.Licenses != nil || folder.Pedigree == nil {
		t.Errorf("folder: purl %q, licences %v, pedigree %v", folder.PackageURL, folder.Licenses, folder.Pedigree)
	}
	js, _ := json.Marshal(ref)
	for _, want := range []string{`"purl":"pkg:huggingface/org/tiny"`, `"id":"Apache-2.0"`, `package/unpinned m/config.json`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("the reference lacks %s: %s", want, js)
		}
	}
	// The package's finding is the reference's, not the folder's.
	fj, _ := json.Marshal(folder)
	if strings.Contains(string(fj), "package/unpinned") {
		t.Errorf("the folder carries the reference's finding: %s", fj)
	}
}

// TestHostileFolder: links and FIFOs planted in a model folder are never
// followed or opened, a Space README is no model card, names that are not
// UTF-8 still give unique bom-refs, the run's own reports are not listed,
// and findings on no model land on the repository's component.
func TestHostileFolder(t *testing.T) {
	t.Parallel()
	dir, outside := t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "secret.md"), []byte("---\npipeline_tag: text-generation\nlicense: mit\n---\nTOP SECRET\n"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "m"), 0o755))
	must(os.Symlink(filepath.Join(outside, "secret.md"), filepath.Join(dir, "m", "README.md")))
	must(syscallMkfifo(filepath.Join(dir, "m", "config.json")))
	must(os.WriteFile(filepath.Join(dir, "m", "a\xff.bin"), []byte("x"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "m", "a\xfe.bin"), []byte("y"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "README.md"), []byte("---\ntitle: demo\nsdk: gradio\nlicense: mit\npipeline_tag: text-generation\n---\n# A Space\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "bom.cdx.json"), []byte("{}"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "root.onnx"), []byte("o"), 0o644))
	cfg := finding.New(finding.ScanIncomplete, "the file is missing from the checkout")
	cfg.Path = "gone.pt"
	inv := Inventory{
		Files: []finding.File{
			{Path: "m/a\xff.bin", Format: "pickle", SHA256: strings.Repeat("1", 64)},
			{Path: "m/a\xfe.bin", Format: "pickle", SHA256: strings.Repeat("2", 64)},
			{Path: "root.onnx", Format: "onnx", SHA256: strings.Repeat("3", 64)},
			{Path: "root.onnx", Format: "onnx", SHA256: strings.Repeat("3", 64)}, // named twice on the command line
		},
		Findings: []finding.Finding{cfg},
	}
	done := make(chan struct{})
	var b *cdx.BOM
	var err error
	go func() {
		defer close(done)
		b, err = Build(context.Background(), inv, Options{Root: dir, Time: when, Deterministic: true, Exclude: []string{filepath.Join(dir, "bom.cdx.json")}})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Build blocked (on the FIFO?)")
	}
	must(err)
	var buf bytes.Buffer
	must(Encode(&buf, b, cdx.SpecVersion1_6))
	out := buf.String()
	for _, bad := range []string{"TOP SECRET", "bom.cdx.json", `"model:."`, "root.onnx#2"} {
		if strings.Contains(out, bad) {
			t.Errorf("the BOM contains %q:\n%s", bad, out)
		}
	}
	var doc struct {
		Metadata struct {
			Component struct {
				Properties []cdx.Property `json:"properties"`
			} `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Ref string `json:"bom-ref"`
		} `json:"components"`
	}
	must(json.Unmarshal(buf.Bytes(), &doc))
	refs := map[string]bool{}
	for _, c := range doc.Components {
		if refs[c.Ref] {
			t.Errorf("duplicate bom-ref %q", c.Ref)
		}
		refs[c.Ref] = true
	}
	if len(doc.Components) != 3 {
		t.Errorf("components %v, want the two pickles and root.onnx", refs)
	}
	if !slices.ContainsFunc(doc.Metadata.Component.Properties, func(p cdx.Property) bool {
		return p.Name == propFinding && strings.Contains(p.Value, "gone.pt")
	}) {
		t.Errorf("the finding on a missing file is not on the repository: %+v", doc.Metadata.Component.Properties)
	}
}

func TestMainInfoShards(t *testing.T) {
	t.Parallel()
	st := func(name string, size, params int64) modelFile {
		return modelFile{path: "m/" + name, format: "safetensors", size: size, info: finding.ModelInfo{Parameters: params}}
	}
	m := &model{files: []modelFile{
		st("model-00001-of-00002.safetensors", 100, 10), st("model-00002-of-00002.safetensors", 90, 7),
		st("consolidated.safetensors", 100, 0),
		{path: "m/pytorch_model.bin", format: "pytorch-zip", size: 500},
		{path: "m/q4.gguf", format: "gguf", size: 50, info: finding.ModelInfo{Parameters: 17}},
	}}
	info, format := m.mainInfo()
	if info.Parameters != 17 || format != "safetensors" {
		t.Errorf("shards: %d parameters in %s, want 17 in safetensors", info.Parameters, format)
	}
	copies := &model{files: []modelFile{
		{path: "m/q4.gguf", format: "gguf", size: 50, info: finding.ModelInfo{Parameters: 256}},
		{path: "m/q8.gguf", format: "gguf", size: 90, info: finding.ModelInfo{Parameters: 256}},
	}}
	if info, _ := copies.mainInfo(); info.Parameters != 256 {
		t.Errorf("two quantizations of one model: %d parameters, want 256", info.Parameters)
	}
}
