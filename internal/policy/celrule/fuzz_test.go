package celrule

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
)

// FuzzCompile compiles arbitrary expressions for every target: no panic, a
// bad expression is an *Error inside the expression, and what compiles
// evaluates within the limits over known and unknown facts.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		``, `true`, `pkg.ecosystem == "npm" && pkg.maintainers < 2 && pkg.age_days < 30`,
		`!has(pkg.maintainers) || pkg.maintainers < 2`, `has(pkg.scorecard) && pkg.scorecard < 3.0`,
		`pkg.install_scripts.exists(s, s in ["preinstall", "install", "postinstall"])`,
		`file.format == "pickle" && file.size > 1000000`, `"pickle/x" in file.findings`,
		`finding.rule.startsWith("pickle/") && finding.path.matches("^legacy/")`,
		`pkg.maintainer < 2`, `pkg.maintainers < "2"`, `pkg.maintainers + 1`, `dyn(pkg).maintainers`,
		"// c\n pkg.name", `mlguard.Package{}`, `finding.path.matches("[")`, `'\u00e9' == pkg.name`,
		"pkg.name == \"a\" ||\n\tpkg.name.lowerAscii().split(\"-\").exists(w, w == 'b')",
		`[1, 2, 3].map(a, [a].map(b, b * 2)).size() > 0`, `pkg.maintainers / 0 > 1`,
	} {
		f.Add(s)
	}
	inputs := map[string][]Input{
		"package": {PackageInput(youngNPM(), now), PackageInput(bareNPM(), now)},
		"file":    {FileInput(finding.File{Path: "a.pkl", Format: "pickle", Size: 10}, []finding.Finding{{Rule: "pickle/x", Severity: finding.High}})},
		"finding": {FindingInput(finding.Finding{Rule: "pickle/x", Path: "a.pkl", Line: 3})},
	}
	f.Fuzz(func(t *testing.T, expr string) {
		lines := strings.Count(expr, "\n") + 1
		for _, on := range []string{"package", "file", "finding"} {
			p, err := Compile(on, expr)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Compile(%q, %q) error %v is a %T, want *Error", on, expr, err, err)
				}
				if e.Line < 1 || e.Column < 1 || e.Line > lines || e.Msg == "" {
					t.Fatalf("Compile(%q, %q) error at %d:%d %q", on, expr, e.Line, e.Column, e.Msg)
				}
				continue
			}
			for _, in := range inputs[on] {
				match, unknown, err := p.Eval(context.Background(), in)
				if err != nil && (match || unknown != nil) {
					t.Fatalf("Eval(%q) = %v, %v, %v", expr, match, unknown, err)
				}
				if match && unknown != nil {
					t.Fatalf("Eval(%q) matched with unknown facts %v", expr, unknown)
				}
			}
		}
	})
}
