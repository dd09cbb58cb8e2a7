package policy

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the expected outputs in testdata")

// TestInvalid parses every testdata/invalid/<case>.yaml and compares the
// error with <case>.err.
func TestInvalid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil || len(files) < 20 {
		t.Fatalf("invalid cases: %d (%v)", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(filepath.Base(file), data)
			if err == nil {
				t.Fatal("no error")
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %v (%T) is not Errors", err, err)
			}
			for _, e := range errs {
				if e.Line < 1 || e.Source != filepath.Base(file) {
					t.Errorf("error without a line or source: %+v", e)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValid parses, resolves and prints every testdata/valid/<case>.yaml;
// the effective policy is compared with <case>.effective.yaml, and reading
// that back gives the same policy.
func TestValid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("valid cases: %v", err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".effective.yaml") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".effective.yaml"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("effective policy (-want +got):\n%s", diff)
			}
			back, err := Parse("printed", got)
			if err != nil {
				t.Fatalf("the printed policy does not parse: %v", err)
			}
			back, err = Resolve(back)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(p, back, ignorePlace); diff != "" {
				t.Errorf("printed and read back (-effective +read back):\n%s", diff)
			}
		})
	}
}

// ignorePlace ignores where a policy and its parts were read from.
var ignorePlace = cmp.FilterPath(func(p cmp.Path) bool {
	switch p.Last().String() {
	case ".Source", ".Line":
		return true
	}
	return false
}, cmp.Ignore())

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	data := []byte("version: 1\n# " + strings.Repeat("x", MaxSize) + "\n")
	_, err := Parse("big.yaml", data)
	if err == nil || err.Error() != "big.yaml:1: the file is 1048590 bytes, more than the 1048576 a policy may have" {
		t.Errorf("err = %v", err)
	}
}

// TestParseAliasBomb checks that merge keys cannot expand a small file
// without bound.
func TestParseAliasBomb(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("version: 1\nx0: &x0 {models: high}\n")
	for i := 1; i < 40; i++ {
		b.WriteString("x" + strconv.Itoa(i) + ": &x" + strconv.Itoa(i) + " {<<: [*x" + strconv.Itoa(i-1) + ", *x" + strconv.Itoa(i-1) + "]}\n")
	}
	b.WriteString("fail-on: {<<: *x39}\n")
	start := time.Now()
	_, err := Parse("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "nest more than") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second { // 0.1 s here; leave room for -race on a loaded machine
		t.Errorf("took %v", d)
	}
}

// TestParseWideMerges checks that merge keys within their depth limit but
// wide cannot make Parse read without bound either.
func TestParseWideMerges(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("version: 1\nx0: &x0 {")
	for i := range 2000 {
		b.WriteString("k" + strconv.Itoa(i) + ": 1, ")
	}
	b.WriteString("models: high}\n")
	for i := 1; i <= 7; i++ {
		prev := "*x" + strconv.Itoa(i-1)
		b.WriteString("x" + strconv.Itoa(i) + ": &x" + strconv.Itoa(i) + " {<<: [" + strings.Repeat(prev+", ", 9) + prev + "]}\n")
	}
	b.WriteString("fail-on: {<<: *x7}\n")
	start := time.Now()
	_, err := Parse("wide.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second { // 0.1 s here; leave room for -race on a loaded machine
		t.Errorf("took %v", d)
	}
}

// TestParseManyErrors checks that a file reports its first errors and
// how many more there are.
func TestParseManyErrors(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("version: 1\n")
	for i := range 60 {
		b.WriteString("unknown" + strconv.Itoa(i) + ": 1\n")
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != maxErrors+1 || errs[maxErrors].Error() != "many.yaml:51: and 10 more errors" {
		t.Errorf("err = %v", err)
	}
}

func TestParseTooManyCustomRules(t *testing.T) {
	t.Parallel()
	src := "version: 1\ncustom-rules:\n" + strings.Repeat("  - {id: a/b, on: file, when: 'true', severity: low, message: m}\n", MaxCustomRules+1)
	_, err := Parse("many.yaml", []byte(src))
	if err == nil || err.Error() != "many.yaml:3: custom-rules: 257 rules, more than the 256 a policy may have" {
		t.Errorf("err = %v", err)
	}
}

// TestParseWaivers checks what Parse makes of waivers: their place, the
// sha256 in lower case, the expiry date, and the rules they may name.
func TestParseWaivers(t *testing.T) {
	t.Parallel()
	const sha = "4D7A214614AB2935C943F9E0FF69D22EADBB8F32B1258DAAA5E2CA24D17E2393"
	src := `version: 1
custom-rules:
  - id: mylab/young
    on: package
    when: pkg.age_days < 30
    severity: medium
    message: a young project
ignore:
  - rule: pickle/*                    # a glob of rule ids
    path: legacy/**
    reason: reviewed by security, TICKET-12
    expires: 2026-06-30
  - rule: scan/incomplete             # pinned to one file's content
    sha256: ` + sha + `
    reason: truncated on purpose
  - rule: package/few-maintainers     # a package, any version
    purl: pkg:pypi/tiny-lib
    reason: maintained by our team
  - rule: mylab/young                 # a custom rule, one version
    purl: pkg:npm/%40mylab/util@1.2.3
    reason: ours
  - rule: "*"                         # every rule, on one folder
    path: third_party/
    reason: vendored, scanned upstream
`
	p, err := Parse("w.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Waiver{
		{Rule: "pickle/*", Path: "legacy/**", Reason: "reviewed by security, TICKET-12", Expires: Date{time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)}, Line: 9, Source: "w.yaml"},
		{Rule: "scan/incomplete", SHA256: strings.ToLower(sha), Reason: "truncated on purpose", Line: 13, Source: "w.yaml"},
		{Rule: "package/few-maintainers", PURL: "pkg:pypi/tiny-lib", Reason: "maintained by our team", Line: 16, Source: "w.yaml"},
		{Rule: "mylab/young", PURL: "pkg:npm/%40mylab/util@1.2.3", Reason: "ours", Line: 19, Source: "w.yaml"},
		{Rule: "*", Path: "third_party/", Reason: "vendored, scanned upstream", Line: 22, Source: "w.yaml"},
	}
	if diff := cmp.Diff(want, p.Ignore); diff != "" {
		t.Errorf("waivers (-want +got):\n%s", diff)
	}
	if p.CustomRules[0].Line != 3 {
		t.Errorf("custom rule line = %d, want 3", p.CustomRules[0].Line)
	}
}

// TestParseCEL checks custom rules: each target's variable, and a bad
// expression's position in the file whatever the YAML style.
func TestParseCEL(t *testing.T) {
	t.Parallel()
	rule := func(on, when string) string {
		return "version: 1\ncustom-rules:\n  - id: mylab/r\n    on: " + on + "\n    severity: low\n    message: m\n    when: " + when + "\n"
	}
	tests := []struct {
		name, src string
		err       string // "" for valid
	}{
		{"package", rule("package", `pkg.ecosystem == "npm" && pkg.maintainers < 2`), ""},
		{"file", rule("file", `file.format == "pickle" && file.size > 1000`), ""},
		{"finding", rule("finding", `finding.rule.startsWith("pickle/") && finding.path.startsWith("legacy/")`), ""},
		{"literal block", rule("package", "|\n      !has(pkg.maintainers) ||\n        pkg.maintainers < 2"), ""},
		{"folded block", rule("file", ">\n      file.size >\n      1000"), ""},
		{"another target's variable", rule("file", `pkg.name == "x"`),
			"p.yaml:7:11: custom-rules[0].when: undeclared reference to 'pkg' (in container '')"},
		{"plain", rule("package", `pkg.age < 3`),
			"p.yaml:7:14: custom-rules[0].when: undefined field 'age'"},
		{"double quoted", rule("package", `"pkg.age < 3"`),
			"p.yaml:7:15: custom-rules[0].when: undefined field 'age'"},
		{"single quoted", rule("package", `'pkg.name == "a" || pkg.age < 3'`),
			"p.yaml:7:34: custom-rules[0].when: undefined field 'age'"},
		{"literal block, line 2", rule("package", "|\n      pkg.name == \"a\" ||\n        pkg.age < 3"),
			"p.yaml:9:12: custom-rules[0].when: undefined field 'age'"},
		{"not a bool", rule("finding", `finding.line`),
			"p.yaml:7:11: custom-rules[0].when: the expression must be a bool, not int"},
		{"anchored", rule("package", `&w pkg.age < 3`),
			"p.yaml:7:17: custom-rules[0].when: undefined field 'age'"},
		{"tagged", rule("package", `!!str "pkg.age < 3"`),
			"p.yaml:7:20: custom-rules[0].when: undefined field 'age'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("p.yaml", []byte(tt.src))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.err {
				t.Errorf("Parse:\n%s\nerr = %q\nwant  %q", tt.src, got, tt.err)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"models", "models", 0}, {"model", "models", 1}, {"modles", "models", 1}, {"fail_on", "fail-on", 1},
		{"mdels", "models", 1}, {"xmodelsx", "models", 2}, {"", "abcd", 3}, {"licenses", "licences", 1},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
