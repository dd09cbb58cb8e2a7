package celrule

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/registry"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func daysAgo(n int) registry.Known[time.Time] {
	return registry.Some(now.Add(-time.Duration(n) * 24 * time.Hour))
}

// youngNPM is a package a week old, with one maintainer and an install
// script; every fact is known.
func youngNPM() finding.Package {
	dep := deps.Package{Ecosystem: deps.NPM, Name: "left-padx", Version: "1.0.0", Manifest: "web/package.json", Line: 12}
	return finding.Package{
		PURL:   dep.PURL(),
		Change: "added",
		Dep:    dep,
		Facts: &registry.Facts{
			Maintainers:    registry.Some(1),
			FirstRelease:   daysAgo(9),
			LatestRelease:  daysAgo(2),
			VersionRelease: daysAgo(3),
			Versions:       registry.Some(4),
			Yanked:         registry.Some(false),
			Deprecated:     registry.Some(false),
			InstallScripts: registry.Some([]string{"preinstall", "postinstall"}),
			SourceRepo:     registry.Some("https://github.com/someone/left-padx"),
			License:        registry.Some("MIT"),
			Downloads:      registry.Some(int64(12)),
			Likes:          registry.Some(int64(0)),
			Gated:          registry.Some(false),
			Author:         registry.Some("someone"),
			Scorecard:      registry.Some(2.5),
			Advisories:     registry.Some([]registry.Advisory{{ID: "MAL-2026-1", Malicious: true}}),
		},
		Findings: []finding.Finding{{Rule: "package/young", Severity: finding.Medium}},
	}
}

// unknownMaintainers is youngNPM without the maintainer count and the
// install scripts, the facts given as a value rather than a pointer.
func unknownMaintainers() finding.Package {
	p := youngNPM()
	f := *p.Facts.(*registry.Facts)
	f.Maintainers = registry.Known[int]{}
	f.InstallScripts = registry.Known[[]string]{}
	p.Facts = f
	return p
}

// bareNPM is an npm package the registries said nothing about.
func bareNPM() finding.Package {
	dep := deps.Package{Ecosystem: deps.NPM, Name: "lodash", Range: "^4.17.0", Manifest: "package.json"}
	return finding.Package{PURL: dep.PURL(), Change: "changed", Dep: dep, Facts: struct{}{}}
}

// barePyPI is a PyPI package the registries said nothing about.
func barePyPI() finding.Package {
	dep := deps.Package{Ecosystem: deps.PyPI, Name: "torch", Version: "2.3.0", Manifest: "requirements.txt"}
	return finding.Package{PURL: dep.PURL(), Change: "changed", Dep: dep, Facts: (*registry.Facts)(nil)}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, on, expr string
		line, col      int
		msg            string // a regular expression the message matches
	}{
		{"unknown variable", "package", `file.size > 1`, 1, 1, `undeclared reference to 'file'`},
		{"variable of another target", "file", `finding.rule == "x"`, 1, 1, `undeclared reference to 'finding'`},
		{"unknown field", "package", `pkg.maintainer < 2`, 1, 4, `undefined field 'maintainer'`},
		{"unknown field later", "finding", `finding.rule == "x" && finding.colum > 1`, 1, 31, `undefined field 'colum'`},
		{"wrong operand type", "package", `pkg.maintainers < "2"`, 1, 17, `no matching overload for '_<_' applied to '\(int, string\)'`},
		{"wrong operand on line 2", "package", "pkg.ecosystem == \"npm\" &&\n  pkg.maintainers < 'x'", 2, 19, `no matching overload`},
		{"list where string", "file", `file.findings.startsWith("pickle/")`, 1, 25, `no matching overload for 'startsWith'`},
		{"int result", "package", `pkg.maintainers + 1`, 1, 1, `must be a bool, not int`},
		{"string result after blanks", "file", "\n   file.path", 2, 4, `must be a bool, not string`},
		{"dyn result", "package", `dyn(pkg.name)`, 1, 1, `must be a bool, not dyn`},
		{"result after a comment", "package", "// the name\n  // really\n\t pkg.name", 3, 3, `must be a bool, not string`},
		{"syntax", "package", `pkg.ecosystem == "npm" &&`, 1, 26, `Syntax error`},
		{"unterminated string", "finding", `finding.rule == "pickle/`, 1, 17, `Syntax error`},
		{"bad regexp literal", "finding", `finding.path.matches("[")`, 1, 22, `invalid matches argument`},
		{"creating a value", "package", `mlguard.Package{name: "x"}.name == "x"`, 1, 16, `cannot create mlguard.Package`},
		{"too long", "package", `pkg.name == "` + strings.Repeat("a", MaxExprLen) + `"`, 1, 1, `bytes long, the limit is 4096`},
		{"too deep", "package", strings.Repeat("(", 100) + "true" + strings.Repeat(")", 100), 1, 1, `recursion`},
		{"too many nested comprehensions", "package",
			`pkg.findings.all(a, pkg.findings.all(b, pkg.findings.all(c, pkg.findings.all(d, a != d))))`, 1, 77, `nesting limit`},
		{"always too costly", "package",
			fmt.Sprintf(`%s.map(a, %[1]s.map(b, %[1]s.map(c, a + b + c))).size() > 0`, intList(60)), 1, 1, `costs at least \d+ to evaluate, the limit is 100000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tt.on, tt.expr)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Compile(%q) error = %v (%T), want an *Error", tt.expr, err, err)
			}
			if e.Line != tt.line || e.Column != tt.col {
				t.Errorf("Compile(%q) at %d:%d, want %d:%d (%s)", tt.expr, e.Line, e.Column, tt.line, tt.col, e.Msg)
			}
			if !regexp.MustCompile(tt.msg).MatchString(e.Msg) {
				t.Errorf("Compile(%q) message %q does not match %q", tt.expr, e.Msg, tt.msg)
			}
		})
	}
}

func intList(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprint(i)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func TestCompileBadTarget(t *testing.T) {
	t.Parallel()
	for _, on := range []string{"", "packages", "Package", "model"} {
		_, err := Compile(on, `true`)
		var e *Error
		if err == nil || errors.As(err, &e) {
			t.Errorf("Compile(%q, true) error = %v, want a plain error", on, err)
		}
	}
}

func TestCompileAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct{ on, expr string }{
		{"package", "// young and lonely\npkg.ecosystem == 'npm' &&\n  pkg.maintainers < 2 && pkg.age_days < 30"},
		{"package", `pkg.scorecard < 3`}, // int against double
		{"package", `pkg.name.lowerAscii().split("-").exists(w, w == "torch")`},
		{"package", strings.TrimSuffix(strings.Repeat(`pkg.name == "a" || `, 100), " || ")},
		{"package", `pkg.install_scripts.exists(s, ["a", "b"].exists(p, s.contains(p)))`},
		{"file", `file.findings.exists_one(r, r.startsWith("pickle/"))`},
		{"finding", `finding.rule in ["pickle/dangerous-global", "keras/lambda-layer"]`},
	}
	for _, tt := range tests {
		if _, err := Compile(tt.on, tt.expr); err != nil {
			t.Errorf("Compile(%q, %q): %v", tt.on, tt.expr, err)
		}
	}
}

type evalCase struct {
	expr    string
	in      Input
	match   bool
	unknown []string
}

func runEval(t *testing.T, on string, tests []evalCase) {
	t.Helper()
	for _, tt := range tests {
		p, err := Compile(on, tt.expr)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.expr, err)
			continue
		}
		match, unknown, err := p.Eval(t.Context(), tt.in)
		if err != nil {
			t.Errorf("Eval(%q): %v", tt.expr, err)
			continue
		}
		if match != tt.match {
			t.Errorf("Eval(%q) = %v, want %v", tt.expr, match, tt.match)
		}
		if diff := cmp.Diff(tt.unknown, unknown); diff != "" {
			t.Errorf("Eval(%q) unknown facts (-want +got):\n%s", tt.expr, diff)
		}
	}
}

func TestEvalPackage(t *testing.T) {
	t.Parallel()
	young := PackageInput(youngNPM(), now)
	noMaint := PackageInput(unknownMaintainers(), now)
	bare := PackageInput(bareNPM(), now)
	pypi := PackageInput(barePyPI(), now)
	const youngLonely = `pkg.ecosystem == "npm" && pkg.maintainers < 2 && pkg.age_days < 30`
	runEval(t, "package", []evalCase{
		{youngLonely, young, true, nil},
		{youngLonely, noMaint, false, []string{"maintainers"}},
		{youngLonely, bare, false, []string{"age_days", "maintainers"}},
		{youngLonely, pypi, false, nil}, // false whatever the facts
		{`pkg.maintainers < 2 || pkg.age_days < 30`, noMaint, true, nil},
		{`pkg.maintainers >= 2`, noMaint, false, []string{"maintainers"}},
		{`!(pkg.maintainers >= 2)`, noMaint, false, []string{"maintainers"}},
		{`!has(pkg.maintainers) || pkg.maintainers < 2`, noMaint, true, nil},
		{`!has(pkg.maintainers) || pkg.maintainers < 2`, young, true, nil},
		{`has(pkg.maintainers)`, young, true, nil},
		{`has(pkg.name) && has(pkg.findings)`, bare, true, nil},
		{`has(pkg.scorecard) && pkg.scorecard < 3.0`, young, true, nil},
		{`has(pkg.scorecard) && pkg.scorecard < 3.0`, bare, false, nil},
		{`pkg.scorecard < 3`, bare, false, []string{"scorecard"}},
		{`pkg.install_scripts.exists(s, s in ["preinstall", "install", "postinstall"])`, young, true, nil},
		{`pkg.install_scripts.exists(s, s in ["preinstall", "install", "postinstall"])`, noMaint, false, []string{"install_scripts"}},
		{`pkg.install_scripts.all(s, s.endsWith("install"))`, young, true, nil},
		{`pkg.install_scripts.all(s, s.startsWith("pre"))`, young, false, nil},
		{`size(pkg.install_scripts) == 2 && "postinstall" in pkg.install_scripts`, young, true, nil},
		{`pkg.install_scripts.filter(s, s.startsWith("post")).size() == 1`, young, true, nil},
		{`pkg.deprecated || pkg.yanked`, young, false, nil},
		{`pkg.deprecated || pkg.yanked`, bare, false, []string{"deprecated", "yanked"}},
		{`pkg.deprecated ? true : pkg.malicious`, young, true, nil},
		{`pkg.deprecated ? true : false`, bare, false, []string{"deprecated"}},
		{`pkg.malicious && !pkg.vulnerable && pkg.advisories == 1`, young, true, nil},
		{`pkg.license.matches("^(MIT|Apache-2.0)$")`, young, true, nil},
		{`pkg.license != "MIT"`, bare, false, []string{"license"}},
		{`pkg.version_age_days == 3 && pkg.days_since_release == 2 && pkg.age_days == 9 && pkg.versions == 4`, young, true, nil},
		{`pkg.source_repo.startsWith("https://github.com/") && pkg.author == "someone"`, young, true, nil},
		{`pkg.downloads < 100 && pkg.likes == 0 && !pkg.gated`, young, true, nil},
		{`pkg.pinned && pkg.purl == "pkg:npm/left-padx@1.0.0" && pkg.version == "1.0.0"`, young, true, nil},
		{`!pkg.pinned && pkg.version == "" && pkg.purl == "pkg:npm/lodash"`, bare, true, nil},
		{`pkg.change == "added" && pkg.manifest.startsWith("web/")`, young, true, nil},
		{`"package/young" in pkg.findings`, young, true, nil},
		{`pkg.findings.size() == 0`, bare, true, nil},
		{`dyn(pkg).maintainers < 2`, young, true, nil},
		{`dyn(pkg).maintainers < 2`, noMaint, false, []string{"maintainers"}},
		{`pkg.maintainers == pkg.maintainers`, noMaint, false, []string{"maintainers"}},
		{`pkg == pkg`, young, true, nil},
		{`pkg.ecosystem == "pypi" && pkg.name == "torch"`, pypi, true, nil},
	})
}

func TestEvalFile(t *testing.T) {
	t.Parallel()
	big := finding.File{Path: "legacy/model.bin", Format: "pickle", Size: 4 << 20, SHA256: strings.Repeat("ab", 32)}
	small := finding.File{Path: "tiny.pkl", Format: "pickle", Size: 512}
	gguf := finding.File{Path: "m.gguf", Format: "gguf", Size: 1 << 30,
		ModelInfo: finding.ModelInfo{Architecture: "llama", Parameters: 8_030_261_248, DType: "Q4_K", Producer: "llama.cpp"}}
	found := []finding.Finding{
		{Rule: "pickle/dangerous-global", Severity: finding.Critical, Path: big.Path},
		{Rule: "pickle/unknown-global", Severity: finding.Medium, Path: big.Path},
	}
	const bigPickle = `file.format == "pickle" && file.size > 1000000`
	runEval(t, "file", []evalCase{
		{bigPickle, FileInput(big, found), true, nil},
		{bigPickle, FileInput(small, nil), false, nil},
		{`"pickle/dangerous-global" in file.findings && file.max_severity == "critical"`, FileInput(big, found), true, nil},
		{`file.max_severity == "" && file.findings == []`, FileInput(small, nil), true, nil},
		{`file.path.endsWith(".bin") && size(file.sha256) == 64`, FileInput(big, found), true, nil},
		{`file.parameters > 7000000000 && file.architecture == "llama" && file.dtype.startsWith("Q4")`, FileInput(gguf, nil), true, nil},
		{`file.producer.contains("llama")`, FileInput(gguf, nil), true, nil},
		{`file.parameters < 1000`, FileInput(small, nil), false, []string{"parameters"}},
		{`has(file.parameters)`, FileInput(small, nil), false, nil},
	})
}

func TestEvalFinding(t *testing.T) {
	t.Parallel()
	legacy := finding.Finding{Rule: "pickle/dangerous-global", Severity: finding.High, Path: "legacy/old.pt",
		Member: "archive/data.pkl", Offset: 120, Message: "os.system is called", Evidence: "os system"}
	current := legacy
	current.Path = "models/new.pt"
	config := finding.Finding{Rule: "config/trust-remote-code", Severity: finding.Medium, Path: "config.json", Line: 7}
	const legacyPickle = `finding.rule.startsWith("pickle/") && finding.path.matches("^legacy/")`
	runEval(t, "finding", []evalCase{
		{legacyPickle, FindingInput(legacy), true, nil},
		{legacyPickle, FindingInput(current), false, nil},
		{legacyPickle, FindingInput(config), false, nil},
		{`finding.severity == "high" && finding.member.endsWith("data.pkl") && finding.offset == 120`, FindingInput(legacy), true, nil},
		{`finding.message.contains("os.system") && finding.evidence != ""`, FindingInput(legacy), true, nil},
		{`finding.line > 0 && finding.member == ""`, FindingInput(config), true, nil},
	})
}

func TestEvalWrongInput(t *testing.T) {
	t.Parallel()
	p, err := Compile("package", `pkg.name == "x"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []Input{{}, FileInput(finding.File{}, nil), FindingInput(finding.Finding{})} {
		if _, _, err := p.Eval(t.Context(), in); err == nil {
			t.Errorf("Eval over %+v: no error", in)
		}
	}
}

func TestEvalRuntimeError(t *testing.T) {
	t.Parallel()
	p, err := Compile("package", `pkg.maintainers / (pkg.versions - 4) > 1`)
	if err != nil {
		t.Fatal(err)
	}
	match, unknown, err := p.Eval(t.Context(), PackageInput(youngNPM(), now))
	if err == nil || !strings.Contains(err.Error(), "division by zero") || match || unknown != nil {
		t.Errorf("Eval = %v, %v, %v; want a division by zero", match, unknown, err)
	}
}

// manyScripts is a package with n install scripts, to make comprehensions
// over them expensive.
func manyScripts(n int) Input {
	p := youngNPM()
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("script-%d", i)
	}
	p.Facts.(*registry.Facts).InstallScripts = registry.Some(s)
	return PackageInput(p, now)
}

const cubic = `pkg.install_scripts.all(a, pkg.install_scripts.all(b, pkg.install_scripts.all(c, a + b + c != "")))`

func TestEvalCostLimit(t *testing.T) {
	t.Parallel()
	p, err := Compile("package", cubic)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err = p.Eval(t.Context(), manyScripts(2000)) // 8e9 iterations
	if err == nil || !strings.Contains(err.Error(), "cost limit exceeded") {
		t.Errorf("Eval = %v, want the cost limit exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Eval took %v", d)
	}
	// A small input stays under the limit.
	if match, _, err := p.Eval(t.Context(), manyScripts(5)); err != nil || !match {
		t.Errorf("Eval over 5 scripts = %v, %v; want true", match, err)
	}
}

func TestEvalCanceled(t *testing.T) {
	t.Parallel()
	p, err := Compile("package", cubic)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := p.Eval(ctx, manyScripts(10)); !errors.Is(err, context.Canceled) {
		t.Errorf("Eval = %v, want context.Canceled", err)
	}
	// Past the first check, the interpreter looks at ctx in the loops.
	if _, _, err := p.eval(ctx, manyScripts(200)); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("eval = %v, want an interruption wrapping context.Canceled", err)
	}
}

func TestEvalConcurrent(t *testing.T) {
	t.Parallel()
	p, err := Compile("package", `pkg.ecosystem == "npm" && pkg.maintainers < 2`)
	if err != nil {
		t.Fatal(err)
	}
	inputs := []Input{PackageInput(youngNPM(), now), PackageInput(unknownMaintainers(), now)}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 200 {
				in := inputs[(g+i)%2]
				match, unknown, err := p.Eval(context.Background(), in)
				if err != nil || match != (in.obj == inputs[0].obj) || (len(unknown) == 1) == match {
					errs <- fmt.Errorf("Eval = %v, %v, %v", match, unknown, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestDocTable checks the package doc's table against the models: every
// field, in order, with its type, and "fact:" exactly on the facts.
func TestDocTable(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^//\t\| (\w+)\.(\w+) +\| (\S+) +\| (.*) \|$`)
	var got, want []string
	for _, m := range row.FindAllStringSubmatch(string(src), -1) {
		got = append(got, fmt.Sprintf("%s.%s %s fact=%v", m[1], m[2], m[3], strings.HasPrefix(m[4], "fact:")))
	}
	for _, m := range models {
		for _, f := range m.fields {
			want = append(want, fmt.Sprintf("%s.%s %s fact=%v", m.variable, f.name, f.typ, f.fact))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("doc.go table (-models +doc):\n%s", diff)
	}
}
