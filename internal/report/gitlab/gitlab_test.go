package gitlab

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/markdown"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// compileSchema compiles a JSON schema in testdata under its own $id.
func compileSchema(file, id string) (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		return nil, err
	}
	return c.Compile(id)
}

// sastSchema is GitLab's published SAST report schema, version 15.2.1 (see
// testdata/README.md).
var sastSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	return compileSchema("sast-report-format-15.2.1.json",
		"https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/master/dist/sast-report-format.json")
})

// codeQualitySchema is the documented Code Quality format written as a
// schema for these tests (GitLab publishes none; see testdata/README.md).
var codeQualitySchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	return compileSchema("codequality-documented.schema.json",
		"https://github.com/mlguard/mlguard/internal/report/gitlab/testdata/codequality-documented.schema.json")
})

// schemaErr validates out against a schema and returns the failure, if any.
func schemaErr(t testing.TB, schema func() (*jsonschema.Schema, error), out []byte) error {
	t.Helper()
	sch, err := schema()
	if err != nil {
		t.Fatalf("compiling schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	return sch.Validate(inst)
}

func validateSAST(t testing.TB, out []byte) {
	t.Helper()
	if err := schemaErr(t, sastSchema, out); err != nil {
		t.Errorf("output does not follow the SAST report schema 15.2.1: %v", err)
	}
}

func validateCodeQuality(t testing.TB, out []byte) {
	t.Helper()
	if err := schemaErr(t, codeQualitySchema, out); err != nil {
		t.Errorf("output does not follow the documented Code Quality format: %v", err)
	}
}

// TestSchemasReject makes sure the schemas are enforced at all: a report
// that breaks each of them is refused.
func TestSchemasReject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		schema func() (*jsonschema.Schema, error)
		doc    string
	}{
		{"sast time with zone", sastSchema, `{"version":"15.2.1","vulnerabilities":[],"scan":{"analyzer":{"id":"a","name":"a","version":"1","vendor":{"name":"v"}},` +
			`"scanner":{"id":"a","name":"a","version":"1","vendor":{"name":"v"}},"type":"sast","start_time":"2026-01-02T03:04:05Z","end_time":"2026-01-02T03:04:05","status":"success"}}`},
		{"sast severity case", sastSchema, `{"version":"15.2.1","scan":{"analyzer":{"id":"a","name":"a","version":"1","vendor":{"name":"v"}},` +
			`"scanner":{"id":"a","name":"a","version":"1","vendor":{"name":"v"}},"type":"sast","start_time":"2026-01-02T03:04:05","end_time":"2026-01-02T03:04:05","status":"success"},` +
			`"vulnerabilities":[{"id":"x","severity":"critical","identifiers":[{"type":"t","name":"n","value":"v"}],"location":{}}]}`},
		{"sast no identifiers", sastSchema, `{"version":"15.2.1","scan":{"analyzer":{"id":"a","name":"a","version":"1","vendor":{"name":"v"}},` +
			`"scanner":{"id":"a","name":"a","version":"1","vendor":{"name":"v"}},"type":"sast","start_time":"2026-01-02T03:04:05","end_time":"2026-01-02T03:04:05","status":"success"},` +
			`"vulnerabilities":[{"id":"x","identifiers":[],"location":{}}]}`},
		{"code quality no check_name", codeQualitySchema, `[{"description":"d","fingerprint":"f","severity":"info","location":{"path":"a","lines":{"begin":1}}}]`},
		{"code quality bad severity", codeQualitySchema, `[{"description":"d","check_name":"c","fingerprint":"f","severity":"high","location":{"path":"a","lines":{"begin":1}}}]`},
		{"code quality no line", codeQualitySchema, `[{"description":"d","check_name":"c","fingerprint":"f","severity":"info","location":{"path":"a"}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := schemaErr(t, tt.schema, []byte(tt.doc)); err == nil {
				t.Errorf("schema accepted %s", tt.doc)
			}
		})
	}
}

func TestReportPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"models/a.pt":   "models/a.pt",
		"./models/a.pt": "models/a.pt",
		".//./a.pt":     "a.pt",
		"":              "",
		"../up.pkl":     "../up.pkl",
	} {
		if got := reportPath(in); got != want {
			t.Errorf("reportPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFingerprints(t *testing.T) {
	t.Parallel()
	a := finding.Finding{Rule: "pickle/unknown-global", Path: "m.pkl", Offset: 3, Message: "m", Evidence: "x"}
	b := a
	b.Evidence = "other evidence" // not part of the fingerprint
	c := a
	c.Offset = 4
	got := fingerprints([]finding.Finding{a, b, c, a})
	if got[0] == got[1] || got[0] == got[2] || got[0] == got[3] || got[1] == got[3] {
		t.Errorf("fingerprints are not distinct: %q", got)
	}
	if fingerprint(a, 0) != fingerprint(b, 0) {
		t.Error("evidence changed the fingerprint")
	}
	again := fingerprints([]finding.Finding{a, b, c, a})
	if strings.Join(got, ",") != strings.Join(again, ",") {
		t.Error("fingerprints are not stable")
	}
	dot := a
	dot.Path = "./m.pkl"
	if fingerprint(dot, 0) != fingerprint(a, 0) {
		t.Error("a ./ prefix changed the fingerprint")
	}
}

func TestHelpURL(t *testing.T) {
	t.Parallel()
	known := finding.New(finding.PickleDangerousGlobal, "m")
	tests := []struct {
		f    finding.Finding
		want string
	}{
		{known, finding.RepoURL + "/blob/main/docs/rules.md#pickle-dangerous-global"},
		{finding.Finding{Rule: finding.PickleDangerousGlobal}, finding.RepoURL + "/blob/main/docs/rules.md#pickle-dangerous-global"},
		{finding.Finding{Rule: "custom/x", Help: "https://example.com/policy#x"}, "https://example.com/policy#x"},
		{finding.Finding{Rule: "custom/x", Help: "javascript://alert(1)"}, ""},
		{finding.Finding{Rule: "custom/x", Help: "https://example.com/a b"}, ""},
		{finding.Finding{Rule: "custom/x"}, ""},
	}
	for _, tt := range tests {
		if got := helpURL(tt.f); got != tt.want {
			t.Errorf("helpURL(%+v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	if got := markdown.Clip("héllo", 2); got != "h … (5 more bytes)" {
		t.Errorf("clip at a rune boundary: %q", got)
	}
	if got := markdown.Clip("short", 10); got != "short" {
		t.Errorf("clip of short text: %q", got)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestSASTUUID(t *testing.T) {
	t.Parallel()
	// uuid.uuid5(uuid.UUID("651594e4-1c02-5b2e-90c3-efa1d892922f"), "abc") in Python.
	if got, want := sastUUID("abc"), "8d14fc36-7ba4-5b6f-9a7f-70b27b602ba3"; got != want {
		t.Errorf("sastUUID(abc) = %s, want %s", got, want)
	}
	if !uuidRE.MatchString(sastUUID("")) {
		t.Errorf("not a version 5 UUID: %s", sastUUID(""))
	}
}

func TestPlainID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"pickle/dangerous-global": "pickle/dangerous-global",
		"v0.1.0+dirty":            "v0.1.0+dirty",
		"evil\x1b[2J<b>@all":      "evil__2J_b__all",
		"":                        "",
	} {
		if got := plainID(in, 64); got != want {
			t.Errorf("plainID(%q) = %q, want %q", in, got, want)
		}
	}
	if got := plainID(strings.Repeat("a", 100), 10); got != strings.Repeat("a", 10) {
		t.Errorf("plainID did not cut: %q", got)
	}
}
