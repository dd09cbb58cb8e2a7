// Package gitlab holds mlguard's plain GitLab include template
// (mlguard.gitlab-ci.yml); the CI/CD component is ../templates/mlguard.yml,
// where GitLab's CI/CD catalog looks for components (every templates/*.yml
// is one, so nothing else lives there). This test checks that both are valid
// GitLab CI YAML with the job, rules, artifacts and inputs mlguard relies on,
// and that they run the image the release workflow publishes for this
// version. test/e2e/gitlab_test.go runs their job script.
package gitlab

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/mlguard/mlguard/internal/cli"
)

// ciFlags are the flags of `mlguard ci` the templates may pass. Every flag a
// template names must be here, and every one here must be listed by
// `mlguard ci -h` (checked where the flags are defined).
const ciFlags = "--scope --policy --fail-on --paths --code-quality-file --sast-file --bom-file --sarif-file"

// The image the templates run by default: the one the release workflow
// (.github/workflows/release.yml) publishes for this version.
var defaultImage = imageRepository + ":" + cli.Version

// imageRepository is where the release workflow pushes Dockerfile.gitlab.
const imageRepository = "ghcr.io/mlguard/mlguard-gitlab"

// The component file, relative to this folder.
const componentFile = "../templates/mlguard.yml"

// The report files: the flag that writes each and the artifacts:reports key
// that collects it.

var reportFiles = []struct{ flag, report, file string }{
	{"--code-quality-file", "codequality", "gl-code-quality-report.json"},
	{"--sast-file", "sast", "gl-sast-report.json"},
	{"--bom-file", "cyclonedx", "mlguard.cdx.json"},
	{"--sarif-file", "", "mlguard.sarif"}, // no GitLab report type: kept under artifacts:paths
}

// Keywords GitLab accepts in a job, of those a template might use
// (https://docs.gitlab.com/ci/yaml/).
var jobKeywords = []string{"after_script", "allow_failure", "artifacts", "before_script", "cache", "dependencies",
	"extends", "id_tokens", "image", "interruptible", "needs", "release", "retry", "rules", "script", "stage", "tags", "timeout",
	"variables", "when"}

// inputRef is a component input interpolation, $[[ inputs.NAME ]], with
// optional functions after a pipe.
var inputRef = regexp.MustCompile(`\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*(\|[^\]]*)?\]\]`)

type input struct {
	Description string  `yaml:"description"`
	Default     *string `yaml:"default"`
	Type        string  `yaml:"type"`
}

type specDoc struct {
	Spec struct {
		Inputs map[string]input `yaml:"inputs"`
	} `yaml:"spec"`
}

type rule struct {
	If        string            `yaml:"if"`
	When      string            `yaml:"when"`
	Variables map[string]string `yaml:"variables"`
}

type artifacts struct {
	When    string            `yaml:"when"`
	Paths   []string          `yaml:"paths"`
	Reports map[string]string `yaml:"reports"`
}

type job struct {
	Stage string `yaml:"stage"`
	Image struct {
		Name       string   `yaml:"name"`
		Entrypoint []string `yaml:"entrypoint"`
	} `yaml:"image"`
	Interruptible bool              `yaml:"interruptible"`
	Variables     map[string]string `yaml:"variables"`
	Rules         []rule            `yaml:"rules"`
	Script        []string          `yaml:"script"`
	Artifacts     artifacts         `yaml:"artifacts"`
}

// documents splits a file into its YAML documents, each decoded strictly
// into a node.
func documents(t *testing.T, name string) ([]*yaml.Node, []byte) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, &n)
	}
	return docs, data
}

// decodeStrict decodes a node into v, failing on keys v does not name.
func decodeStrict(t *testing.T, what string, n *yaml.Node, v any) {
	t.Helper()
	b, err := yaml.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// topKeys lists the keys of a mapping document.
func topKeys(t *testing.T, n *yaml.Node) []string {
	t.Helper()
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("the document is not a mapping")
	}
	var keys []string
	for i := 0; i < len(n.Content[0].Content); i += 2 {
		keys = append(keys, n.Content[0].Content[i].Value)
	}
	return keys
}

// jobNode returns the mapping of the top-level key name and checks its keys
// against GitLab's job keywords.
func jobNode(t *testing.T, doc *yaml.Node, name string) *yaml.Node {
	t.Helper()
	m := doc.Content[0]
	for i := 0; i < len(m.Content); i += 2 {
		if m.Content[i].Value != name {
			continue
		}
		j := m.Content[i+1]
		for k := 0; k < len(j.Content); k += 2 {
			if !slices.Contains(jobKeywords, j.Content[k].Value) {
				t.Errorf("job %s: %q is not a GitLab job keyword", name, j.Content[k].Value)
			}
		}
		return j
	}
	t.Fatalf("no job %q", name)
	return nil
}

// words splits a shell command line into words: whitespace separates them
// except inside double quotes, which are removed.
func words(t *testing.T, line string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range line {
		switch {
		case r == '"':
			inQuote, inWord = !inQuote, true
		case !inQuote && (r == ' ' || r == '\t' || r == '\n'):
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			if strings.ContainsRune("'`;|&<>(){}\\", r) {
				t.Errorf("the command %q uses %q: keep it to words and double quotes", line, r)
			}
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inQuote {
		t.Errorf("unbalanced quotes in %q", line)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// checkJob checks what both templates share: the command and its flags,
// the entrypoint override, the rules and the artifacts. It returns the
// value each flag is given.
func checkJob(t *testing.T, name string, j job) map[string]string {
	t.Helper()
	if j.Image.Entrypoint == nil || !slices.Equal(j.Image.Entrypoint, []string{""}) {
		t.Errorf("%s: image.entrypoint = %q, want [\"\"]: the image's ENTRYPOINT is mlguard, and GitLab needs a shell", name, j.Image.Entrypoint)
	}
	if !j.Interruptible {
		t.Errorf("%s: not interruptible", name)
	}
	if len(j.Script) != 1 {
		t.Fatalf("%s: script has %d commands, want 1", name, len(j.Script))
	}
	w := words(t, j.Script[0])
	if len(w) < 2 || w[0] != "mlguard" || w[1] != "ci" {
		t.Fatalf("%s: the script %q does not run mlguard ci", name, j.Script[0])
	}
	allowed := strings.Fields(ciFlags)
	flags := map[string]string{}
	for i := 2; i < len(w); i++ {
		f := w[i]
		if !strings.HasPrefix(f, "--") || strings.Contains(f, "=") {
			t.Errorf("%s: %q where a flag was expected (flags are --name VALUE)", name, f)
			continue
		}
		if !slices.Contains(allowed, f) {
			t.Errorf("%s: the flag %s is not one of mlguard ci's: %s", name, f, ciFlags)
		}
		if i+1 >= len(w) {
			t.Errorf("%s: %s has no value", name, f)
			break
		}
		if _, dup := flags[f]; dup {
			t.Errorf("%s: %s given twice", name, f)
		}
		flags[f] = w[i+1]
		i++
	}
	for _, f := range allowed {
		if _, ok := flags[f]; !ok {
			t.Errorf("%s: the script does not pass %s", name, f)
		}
	}
	if flags["--scope"] != "$MLGUARD_SCOPE" || j.Variables["MLGUARD_SCOPE"] != "changed" {
		t.Errorf("%s: --scope %q with MLGUARD_SCOPE %q by default, want $MLGUARD_SCOPE, changed", name, flags["--scope"], j.Variables["MLGUARD_SCOPE"])
	}

	// Rules: merge request pipelines scan the change, the default branch everything.
	var mr, def bool
	for _, r := range j.Rules {
		if r.When == "never" {
			continue
		}
		switch {
		case regexp.MustCompile(`\$CI_PIPELINE_SOURCE\s*==\s*"merge_request_event"`).MatchString(r.If):
			mr = true
			if s, ok := r.Variables["MLGUARD_SCOPE"]; ok && s != "changed" {
				t.Errorf("%s: merge request pipelines scan with scope %q", name, s)
			}
		case regexp.MustCompile(`\$CI_COMMIT_BRANCH\s*==\s*\$CI_DEFAULT_BRANCH`).MatchString(r.If):
			def = true
			if s := r.Variables["MLGUARD_SCOPE"]; s != "all" {
				t.Errorf("%s: the default branch scans with scope %q, want all", name, s)
			}
		default:
			t.Errorf("%s: unexpected rule %+v", name, r)
		}
	}
	if !mr || !def {
		t.Errorf("%s: rules for merge requests %v, for the default branch %v; want both", name, mr, def)
	}

	// Artifacts: always kept, each report where the flag writes it.
	a := j.Artifacts
	if a.When != "always" {
		t.Errorf("%s: artifacts.when = %q, want always (a failing job has the reports that say why)", name, a.When)
	}
	wantReports := map[string]string{}
	for _, rf := range reportFiles {
		if flags[rf.flag] != rf.file {
			t.Errorf("%s: %s %q, want %q", name, rf.flag, flags[rf.flag], rf.file)
		}
		if rf.report != "" {
			wantReports[rf.report] = rf.file
		}
		if !slices.Contains(a.Paths, rf.file) {
			t.Errorf("%s: artifacts.paths lacks %s", name, rf.file)
		}
	}
	if diff := cmp.Diff(wantReports, a.Reports); diff != "" {
		t.Errorf("%s: artifacts.reports (-want +got):\n%s", name, diff)
	}
	return flags
}

func TestComponent(t *testing.T) {
	t.Parallel()
	docs, data := documents(t, componentFile)
	if len(docs) != 2 {
		t.Fatalf("mlguard.yml has %d YAML documents, want 2: the spec header, ---, the job", len(docs))
	}
	if keys := topKeys(t, docs[0]); !slices.Equal(keys, []string{"spec"}) {
		t.Errorf("the header has keys %v, want only spec", keys)
	}
	var spec specDoc
	decodeStrict(t, "the spec header", docs[0], &spec)
	wantDefaults := map[string]string{"stage": "test", "policy": "", "fail-on": "", "image": defaultImage, "paths": ""}
	gotDefaults := map[string]string{}
	for name, in := range spec.Spec.Inputs {
		if in.Default == nil {
			t.Errorf("input %s has no default: every input is optional", name)
			continue
		}
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		if in.Type != "" && in.Type != "string" {
			t.Errorf("input %s has type %q, want string", name, in.Type)
		}
		gotDefaults[name] = *in.Default
	}
	if diff := cmp.Diff(wantDefaults, gotDefaults); diff != "" {
		t.Errorf("inputs and defaults (-want +got):\n%s", diff)
	}

	// Every interpolation names a declared input, every input is used, and
	// nothing else looks like an interpolation.
	header, body, ok := bytes.Cut(data, []byte("\n---\n"))
	if !ok {
		t.Fatal("no --- line between the header and the job")
	}
	if inputRef.Match(header) {
		t.Error("the spec header interpolates an input")
	}
	used := map[string]bool{}
	for _, m := range inputRef.FindAllSubmatch(body, -1) {
		used[string(m[1])] = true
		if _, ok := spec.Spec.Inputs[string(m[1])]; !ok {
			t.Errorf("%s interpolates an undeclared input", m[0])
		}
	}
	if n, m := bytes.Count(body, []byte("$[[")), len(inputRef.FindAll(body, -1)); n != m {
		t.Errorf("%d $[[ in the job, %d of them well-formed input interpolations", n, m)
	}
	for name := range spec.Spec.Inputs {
		if !used[name] {
			t.Errorf("input %s is declared but never used", name)
		}
	}

	if keys := topKeys(t, docs[1]); !slices.Equal(keys, []string{"mlguard"}) {
		t.Errorf("the component defines %v, want only the mlguard job", keys)
	}
	var j job
	decodeStrict(t, "the mlguard job", jobNode(t, docs[1], "mlguard"), &j)
	if j.Stage != "$[[ inputs.stage ]]" || j.Image.Name != "$[[ inputs.image ]]" {
		t.Errorf("stage %q, image %q: want the inputs", j.Stage, j.Image.Name)
	}
	flags := checkJob(t, "mlguard.yml", j)
	for flag, in := range map[string]string{"--policy": "policy", "--fail-on": "fail-on", "--paths": "paths"} {
		if want := "$[[ inputs." + in + " ]]"; flags[flag] != want {
			t.Errorf("%s %q, want %q", flag, flags[flag], want)
		}
	}
}

func TestIncludeTemplate(t *testing.T) {
	t.Parallel()
	docs, data := documents(t, "mlguard.gitlab-ci.yml")
	if len(docs) != 1 {
		t.Fatalf("mlguard.gitlab-ci.yml has %d YAML documents, want 1 (no spec header: include: remote: from any instance)", len(docs))
	}
	if bytes.Contains(data, []byte("$[[")) {
		t.Error("the include template interpolates component inputs")
	}
	keys := topKeys(t, docs[0])
	sort.Strings(keys)
	if !slices.Equal(keys, []string{"mlguard", "variables"}) {
		t.Errorf("top-level keys %v, want variables and the mlguard job", keys)
	}
	var top struct {
		Variables map[string]string `yaml:"variables"`
		Mlguard   job               `yaml:"mlguard"`
	}
	decodeStrict(t, "mlguard.gitlab-ci.yml", docs[0], &top)
	jobNode(t, docs[0], "mlguard")
	wantVars := map[string]string{"MLGUARD_IMAGE": defaultImage, "MLGUARD_POLICY": "", "MLGUARD_FAIL_ON": "", "MLGUARD_PATHS": ""}
	if diff := cmp.Diff(wantVars, top.Variables); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	j := top.Mlguard
	if j.Stage != "test" || j.Image.Name != "$MLGUARD_IMAGE" {
		t.Errorf("stage %q, image %q; want test, $MLGUARD_IMAGE", j.Stage, j.Image.Name)
	}
	flags := checkJob(t, "mlguard.gitlab-ci.yml", j)
	for flag, v := range map[string]string{"--policy": "$MLGUARD_POLICY", "--fail-on": "$MLGUARD_FAIL_ON", "--paths": "$MLGUARD_PATHS"} {
		if flags[flag] != v {
			t.Errorf("%s %q, want %q", flag, flags[flag], v)
		}
	}
	// Every variable the script reads is defined by the template.
	for _, m := range regexp.MustCompile(`\$(MLGUARD_[A-Z_]+)`).FindAllStringSubmatch(j.Script[0], -1) {
		if _, ok := top.Variables[m[1]]; !ok && j.Variables[m[1]] == "" {
			t.Errorf("the script reads $%s, which the template does not define", m[1])
		}
	}
}

// TestTemplatesAgree keeps the two templates the same job: the same rules,
// artifacts and flags, with inputs in one and variables in the other.
func TestTemplatesAgree(t *testing.T) {
	t.Parallel()
	comp, _ := documents(t, componentFile)
	incl, _ := documents(t, "mlguard.gitlab-ci.yml")
	if len(comp) != 2 || len(incl) != 1 {
		t.Skip("the other tests report the document counts")
	}
	var a, b job
	decodeStrict(t, "component job", jobNode(t, comp[1], "mlguard"), &a)
	decodeStrict(t, "include job", jobNode(t, incl[0], "mlguard"), &b)
	if diff := cmp.Diff(a.Rules, b.Rules); diff != "" {
		t.Errorf("rules differ (-component +include):\n%s", diff)
	}
	if diff := cmp.Diff(a.Artifacts, b.Artifacts); diff != "" {
		t.Errorf("artifacts differ (-component +include):\n%s", diff)
	}
	if diff := cmp.Diff(a.Variables, b.Variables); diff != "" {
		t.Errorf("job variables differ (-component +include):\n%s", diff)
	}
	norm := func(s string) string {
		s = regexp.MustCompile(`\$\[\[ inputs\.([a-z-]+) \]\]`).ReplaceAllStringFunc(s, func(m string) string {
			name := inputRef.FindStringSubmatch(m)[1]
			return "$MLGUARD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		})
		return strings.Join(strings.Fields(s), " ")
	}
	if norm(a.Script[0]) != norm(b.Script[0]) {
		t.Errorf("the scripts differ beyond inputs and variables:\n%s\n%s", norm(a.Script[0]), norm(b.Script[0]))
	}
}

// TestMirrorPipeline checks the GitLab mirror's own pipeline
// (../.gitlab-ci.yml): it includes the component from the commit under test,
// with declared inputs only, and releases a plain X.Y.Z tag to the catalog.
func TestMirrorPipeline(t *testing.T) {
	t.Parallel()
	docs, _ := documents(t, "../.gitlab-ci.yml")
	if len(docs) != 1 {
		t.Fatalf(".gitlab-ci.yml has %d YAML documents, want 1", len(docs))
	}
	var top struct {
		Stages  []string `yaml:"stages"`
		Include []struct {
			Component string            `yaml:"component"`
			Inputs    map[string]string `yaml:"inputs"`
		} `yaml:"include"`
		CreateRelease struct {
			Stage   string   `yaml:"stage"`
			Image   string   `yaml:"image"`
			Rules   []rule   `yaml:"rules"`
			Script  []string `yaml:"script"`
			Release struct {
				TagName     string `yaml:"tag_name"`
				Description string `yaml:"description"`
			} `yaml:"release"`
		} `yaml:"create-release"`
	}
	decodeStrict(t, ".gitlab-ci.yml", docs[0], &top)
	jobNode(t, docs[0], "create-release")
	if !slices.Equal(top.Stages, []string{"test", "release"}) {
		t.Errorf("stages %v, want test, release", top.Stages)
	}
	if len(top.Include) != 1 || top.Include[0].Component != "$CI_SERVER_FQDN/$CI_PROJECT_PATH/mlguard@$CI_COMMIT_SHA" {
		t.Fatalf("include %+v: want the mlguard component of this project at $CI_COMMIT_SHA", top.Include)
	}
	var spec specDoc
	comp, _ := documents(t, componentFile)
	decodeStrict(t, "the spec header", comp[0], &spec)
	for name := range top.Include[0].Inputs {
		if _, ok := spec.Spec.Inputs[name]; !ok {
			t.Errorf("the mirror pipeline passes input %q, which the component does not declare", name)
		}
	}
	if p := top.Include[0].Inputs["policy"]; p != "audit" {
		t.Errorf("the mirror pipeline scans with policy %q, want audit (the test fixtures are malicious on purpose)", p)
	}
	r := top.CreateRelease
	if r.Stage != "release" || r.Release.TagName != "$CI_COMMIT_TAG" || len(r.Script) == 0 {
		t.Errorf("create-release: stage %q, release.tag_name %q, %d script lines", r.Stage, r.Release.TagName, len(r.Script))
	}
	if len(r.Rules) != 1 {
		t.Fatalf("create-release has %d rules, want 1", len(r.Rules))
	}
	m := regexp.MustCompile(`^\$CI_COMMIT_TAG =~ /(.+)/$`).FindStringSubmatch(r.Rules[0].If)
	if m == nil {
		t.Fatalf("create-release runs if %q, want a match of $CI_COMMIT_TAG", r.Rules[0].If)
	}
	re := regexp.MustCompile(m[1])
	for tag, want := range map[string]bool{cli.Version: true, "v" + cli.Version: false, "1.2": false, "1.2.3-rc.1": false} {
		if re.MatchString(tag) != want {
			t.Errorf("create-release on the tag %q: %v, want %v", tag, !want, want)
		}
	}
}

// TestDocsSnippets keeps the snippets users copy from the README and
// docs/ci.md on this version: the component, the remote template's address
// and the image (X.Y.Z stands for any version where the docs explain
// releases).
func TestDocsSnippets(t *testing.T) {
	t.Parallel()
	refs := []struct {
		re   *regexp.Regexp
		want string
	}{
		{regexp.MustCompile(`gitlab\.com/mlguard/mlguard/mlguard@(\S+)`), cli.Version},
		{regexp.MustCompile(`raw\.githubusercontent\.com/mlguard/mlguard/([^/\s]+)/gitlab/mlguard\.gitlab-ci\.yml`), "v" + cli.Version},
		{regexp.MustCompile(regexp.QuoteMeta(imageRepository) + `:([^\s` + "`" + `]+)`), cli.Version},
	}
	for _, doc := range []string{"../README.md", "../docs/ci.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			ms := r.re.FindAllStringSubmatch(string(data), -1)
			if len(ms) == 0 {
				t.Errorf("%s never shows %s", doc, r.re)
			}
			for _, m := range ms {
				if m[1] != r.want && m[1] != "X.Y.Z" && m[1] != "vX.Y.Z" {
					t.Errorf("%s: %s, want version %s", doc, m[0], r.want)
				}
			}
		}
	}
}
