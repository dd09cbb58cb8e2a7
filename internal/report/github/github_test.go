package github

import (
	"flag"
	"strings"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/markdown"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// injection is a result whose untrusted text tries to break out: workflow
// commands after a newline or at the start of a value, property separators,
// HTML, Markdown links and images, table pipes, code fences and a closing
// </details>.
func injection() *finding.Result {
	cmd := finding.New(finding.PickleDangerousGlobal, "pickle calls os.system\r\n::add-mask::secret")
	cmd.Path = "evil\n::set-output name=x::y.pt"
	cmd.Member = "::stop-commands::tok"
	cmd.Line = 3
	cmd.Evidence = "line one\n::set-output name=x::y\n  ::stop-commands::tok\n\t::error::tab"

	props := finding.New(finding.PickleUnknownCallable, "calls a,b:c %0A::warning::x")
	props.Path = "dir/a,line=99,title=pwned::.pkl"
	props.Evidence = "%0A::error::%0D"

	html := finding.New(finding.PickleUnknownGlobal, `<img src=x onerror=alert(1)> [click](https://evil.example) ![i](http://x/i.png) www.evil.example user@evil.example @team :tada:`)
	html.Path = "models/a|b`c`<script>.pkl"
	html.Member = "x\\|y"
	html.Evidence = "```\n</details><script>alert(1)</script>\n````` five\n~~~"

	unknown := finding.Finding{Rule: "future/rule\n::x::", Severity: finding.Low, Path: "", Message: "no path", Help: "https://example.com/help"}

	r := &finding.Result{
		Tool:     finding.Tool{Name: "mlguard", Version: "0.1.0<b>"},
		Decision: finding.Fail,
		Files:    []finding.File{{Path: "evil.pt", Format: "pickle"}},
		Skipped:  []finding.Skipped{{Path: "a|b\n::x::.txt", Reason: "<i>text</i>"}},
		Findings: []finding.Finding{unknown, html, props, cmd},
	}
	return r
}

func many(n int) *finding.Result {
	r := &finding.Result{Tool: finding.Tool{Name: "mlguard", Version: "0.1.0"}, Decision: finding.Fail}
	sev := []finding.Severity{finding.Info, finding.Low, finding.Medium, finding.High, finding.Critical}
	for i := range n {
		f := finding.New(finding.PickleUnknownGlobal, "pickle imports mymod.Config")
		f.Severity = sev[i%len(sev)]
		f.Path = "models/m" + strings.Repeat("x", i%7) + ".pkl"
		f.Offset = int64(i)
		f.Evidence = "mymod.Config\n``` not a fence"
		r.Findings = append(r.Findings, f)
		r.Skipped = append(r.Skipped, finding.Skipped{Path: "docs/file.md", Reason: "text"})
	}
	return r
}

func TestClip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc … (3 more bytes)"},
		{"aé", 2, "a … (2 more bytes)"}, // no half rune
		{"\xff\xff\xff\xff\xff\xff", 2, "\xff\xff … (4 more bytes)"},
	}
	for _, tt := range tests {
		if got := markdown.Clip(tt.in, tt.n); got != tt.want {
			t.Errorf("markdown.Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
