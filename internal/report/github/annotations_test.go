package github

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/reporttest"
	"github.com/mlguard/mlguard/internal/report/text"
)

func annotate(t testing.TB, r *finding.Result, opts AnnotationOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteAnnotations(&buf, r, opts); err != nil {
		t.Fatalf("WriteAnnotations: %v", err)
	}
	return buf.Bytes()
}

func TestWriteAnnotations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		result *finding.Result
		opts   AnnotationOptions
		want   int // annotations, without the notice
		notice bool
	}{
		{"annotations-empty.txt", reporttest.Empty(), AnnotationOptions{}, 0, false},
		{"annotations-full.txt", reporttest.Full(), AnnotationOptions{}, 6, false},
		{"annotations-capped.txt", reporttest.Full(), AnnotationOptions{Max: 2}, 2, true},
		{"annotations-injection.txt", injection(), AnnotationOptions{}, 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			got := annotate(t, tt.result, tt.opts)
			reporttest.Golden(t, tt.golden, got, *update)
			cmds := checkCommands(t, got)
			n := len(cmds)
			if tt.notice {
				if last := cmds[n-1]; last.name != "notice" || len(last.props) != 0 {
					t.Errorf("last command = %+v, want a bare notice", last)
				}
				n--
			}
			if n != tt.want {
				t.Errorf("%d annotations, want %d", n, tt.want)
			}
		})
	}
}

func TestAnnotationsMostSevereFirst(t *testing.T) {
	t.Parallel()
	cmds := checkCommands(t, annotate(t, many(20), AnnotationOptions{Max: 5}))
	for _, c := range cmds[:4] {
		if c.name != "error" || !strings.HasSuffix(c.props["title"], "(critical)") {
			t.Errorf("command %+v, want a critical error", c)
		}
	}
	if c := cmds[4]; c.name != "error" || !strings.HasSuffix(c.props["title"], "(high)") {
		t.Errorf("command %+v, want a high error", c)
	}
	if c := cmds[5]; c.name != "notice" || !strings.HasPrefix(c.msg, "mlguard: 15 more findings") {
		t.Errorf("last command %+v", c)
	}
	if len(cmds) != 6 {
		t.Errorf("%d commands, want 6", len(cmds))
	}
	if got := checkCommands(t, annotate(t, many(60), AnnotationOptions{})); len(got) != DefaultMaxAnnotations+1 {
		t.Errorf("default cap: %d commands, want %d", len(got), DefaultMaxAnnotations+1)
	}
}

func TestAnnotationFields(t *testing.T) {
	t.Parallel()
	f := finding.New(finding.PickleUnknownCallable, "pickle calls mymod.Builder")
	f.Path = "models/my model,v2.pkl"
	f.Member = "archive/data.pkl"
	f.Offset = 7
	f.Evidence = "mymod.Builder()\nsecond line"
	cmds := checkCommands(t, annotate(t, &finding.Result{Findings: []finding.Finding{f}}, AnnotationOptions{}))
	want := command{
		name:  "error",
		props: map[string]string{"file": "models/my model,v2.pkl", "line": "1", "title": "mlguard: pickle/unknown-callable (high)"},
		msg: "pickle calls mymod.Builder (in models/my model,v2.pkl!archive/data.pkl at offset 7)\n" +
			"Evidence: mymod.Builder()\nsecond line\n" +
			"Help: https://github.com/mlguard/mlguard/blob/main/docs/rules.md#pickle-unknown-callable",
	}
	if diff := cmp.Diff([]command{want}, cmds, cmp.AllowUnexported(command{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCommandLevel(t *testing.T) {
	t.Parallel()
	want := map[finding.Severity]string{
		finding.Critical: "error", finding.High: "error", finding.Medium: "warning",
		finding.Low: "notice", finding.Info: "notice",
	}
	for s, w := range want {
		if got := commandLevel(s); got != w {
			t.Errorf("commandLevel(%v) = %s, want %s", s, got, w)
		}
	}
}

// TestEscape checks the escaping against @actions/core (src/command.ts).
func TestEscape(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, data, prop string }{
		{"plain text", "plain text", "plain text"},
		{"100%", "100%25", "100%25"},
		{"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"%0A", "%250A", "%250A"},
		{"k=v,x:y::z", "k=v,x:y::z", "k=v%2Cx%3Ay%3A%3Az"},
	}
	for _, tt := range tests {
		if got := escapeData(tt.in); got != tt.data {
			t.Errorf("escapeData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := escapeProperty(tt.in); got != tt.prop {
			t.Errorf("escapeProperty(%q) = %q, want %q", tt.in, got, tt.prop)
		}
	}
}

func TestDefuse(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ok":              "ok",
		"a::b":            "a::b",
		"::x::y":          `\::x::y`,
		"  ::x":           `  \::x`,
		"\u00a0\u3000::x": "\u00a0\u3000\\::x",
		":x":              ":x",
	} {
		if got := defuse(in); got != want {
			t.Errorf("defuse(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNilResult(t *testing.T) {
	t.Parallel()
	if err := WriteAnnotations(&bytes.Buffer{}, nil, AnnotationOptions{}); err == nil {
		t.Error("WriteAnnotations accepted a nil result")
	}
	if err := WriteSummary(&bytes.Buffer{}, nil, SummaryOptions{}); err == nil {
		t.Error("WriteSummary accepted a nil result")
	}
}

// command is a workflow command read back as the runner reads it.
type command struct {
	name  string
	props map[string]string
	msg   string
}

var (
	unescapeData     = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%")
	unescapeProperty = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%")
)

// checkCommands asserts that out is nothing but well-formed workflow
// commands, one a line, and that no line the runner splits out (at \n or \r)
// reads as anything else; it returns the commands decoded.
func checkCommands(t testing.TB, out []byte) []command {
	t.Helper()
	s := string(out)
	if strings.ContainsAny(s, "\r\u0085\u2028\u2029") {
		t.Fatalf("output has a line break other than \\n: %q", s)
	}
	if s == "" {
		return nil
	}
	if !strings.HasSuffix(s, "\n") {
		t.Fatalf("output does not end with a newline: %q", s)
	}
	var cmds []command
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if !strings.HasPrefix(line, "::") {
			t.Fatalf("line is not a workflow command: %q", line)
		}
		head, msg, ok := strings.Cut(line[2:], "::")
		if !ok {
			t.Fatalf("command without a message separator: %q", line)
		}
		name, rawProps, _ := strings.Cut(head, " ")
		c := command{name: name, props: map[string]string{}, msg: unescapeData.Replace(msg)}
		switch name {
		case "error", "warning", "notice":
		default:
			t.Fatalf("unexpected command %q in %q", name, line)
		}
		if rawProps != "" {
			for _, p := range strings.Split(rawProps, ",") {
				k, v, ok := strings.Cut(p, "=")
				if !ok || c.props[k] != "" {
					t.Fatalf("bad or repeated property %q in %q", p, line)
				}
				c.props[k] = unescapeProperty.Replace(v)
			}
		}
		for k := range c.props {
			switch k {
			case "file", "line", "title":
			default:
				t.Fatalf("unexpected property %q in %q", k, line)
			}
		}
		if l, ok := c.props["line"]; ok {
			if n, err := strconv.Atoi(l); err != nil || n < 1 {
				t.Fatalf("line=%q in %q", l, line)
			}
		}
		for _, ml := range strings.Split(c.msg, "\n") {
			if strings.HasPrefix(strings.TrimLeftFunc(ml, unicode.IsSpace), "::") {
				t.Fatalf("message line %q of %q reads as a command", ml, line)
			}
		}
		cmds = append(cmds, c)
	}
	return cmds
}

func FuzzAnnotations(f *testing.F) {
	for _, r := range []*finding.Result{reporttest.Full(), injection()} {
		for _, x := range r.Findings {
			f.Add(x.Path, x.Member, x.Message, x.Evidence, x.Rule, x.Help, x.Line, uint8(x.Severity), uint8(3), uint8(0))
		}
	}
	f.Add("a\n::set-output name=x::y", "::stop-commands::tok", "\r::x::", " ::y", "r", "", -5, uint8(9), uint8(7), uint8(2))
	f.Fuzz(func(t *testing.T, path, member, msg, evidence, rule, help string, line int, sev, count, limit uint8) {
		n := int(count%8) + 1
		r := &finding.Result{}
		for i := range n {
			r.Findings = append(r.Findings, finding.Finding{
				Rule: rule, Severity: finding.Severity(int(sev)+i) % (finding.Critical + 1),
				Path: path, Member: member, Message: msg, Evidence: evidence, Help: help, Line: line,
			})
		}
		opts := AnnotationOptions{Max: int(limit % 10)}
		cmds := checkCommands(t, annotate(t, r, opts))

		// Only the writer's own lines start with "::": one per annotation
		// and the notice when some were left out.
		want := min(n, opts.Max)
		if opts.Max == 0 {
			want = min(n, DefaultMaxAnnotations)
		}
		annotations := want
		if want < n {
			want++
		}
		if len(cmds) != want {
			t.Fatalf("%d commands, want %d", len(cmds), want)
		}
		for i, c := range cmds {
			if (i < annotations) != (c.props["title"] != "") {
				t.Fatalf("command %d of %d annotations: %+v", i, annotations, c)
			}
			if got, ok := c.props["file"]; ok && got != text.Sanitize(path) {
				t.Fatalf("file=%q, want %q", got, text.Sanitize(path))
			}
		}
	})
}
