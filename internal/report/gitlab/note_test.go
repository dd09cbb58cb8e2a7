package gitlab

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/reporttest"
	"github.com/mlguard/mlguard/internal/report/text"
)

var noteOpts = NoteOptions{
	ProjectURL:  "https://gitlab.example.com/ml/models",
	HeadSHA:     "0123456789abcdef0123456789abcdef01234567",
	PipelineURL: "https://gitlab.example.com/ml/models/-/pipelines/42",
}

func TestRenderNoteGolden(t *testing.T) {
	t.Parallel()
	noLinks := noteOpts
	noLinks.ProjectURL, noLinks.PipelineURL = "javascript:alert(1)", "https://user:pw@gitlab.example.com/x"
	badSHA := noteOpts
	badSHA.HeadSHA = "main) [x](https://evil.example"
	tests := []struct {
		golden string
		result *finding.Result
		opts   NoteOptions
		rows   int
	}{
		{"note-full.md", reporttest.Full(), noteOpts, 6},
		{"note-empty.md", reporttest.Empty(), noteOpts, 0},
		{"note-mixed.md", mixed(), noteOpts, 4},
		{"note-injection.md", injection(), noteOpts, 3},
		{"note-nolinks.md", reporttest.Full(), noLinks, 6},
		{"note-badsha.md", mixed(), badSHA, 4},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			got := RenderNote(tt.result, tt.opts)
			reporttest.Golden(t, tt.golden, []byte(got), *update)
			if rows := checkNote(t, got); rows != tt.rows {
				t.Errorf("%d finding rows, want %d", rows, tt.rows)
			}
		})
	}
}

var (
	// linkRE matches a Markdown link's destination.
	linkRE = regexp.MustCompile(`\]\(([^)]*)\)`)
	// refRE matches what GitLab's reference filters, the emoji filter and
	// the autolinker act on, after character references are decoded.
	refRE = regexp.MustCompile(`[@#!~%&$][A-Za-z0-9_]|\*iteration:|:[a-z_]+:|https?:/|www\.`)
)

// checkNote checks what every note must be: marker first, within the size
// limit, links only where mlguard put them, no live reference or mention
// anywhere outside code blocks. It returns the number of finding rows.
func checkNote(t *testing.T, note string) int {
	t.Helper()
	if !strings.HasPrefix(note, NoteMarker+"\n## ") {
		t.Errorf("note does not start with the marker and a heading:\n%.200s", note)
	}
	if len(note) > maxNoteBytes {
		t.Errorf("note of %d bytes, limit %d", len(note), maxNoteBytes)
	}
	for _, m := range linkRE.FindAllStringSubmatch(note, -1) {
		u := m[1]
		if !strings.HasPrefix(u, finding.RepoURL+"/") && !strings.HasPrefix(u, "https://gitlab.example.com/ml/models/") {
			t.Errorf("link to %q", u)
		}
	}
	rows := 0
	fence := "" // the fence of the code block the line is in
	for _, line := range strings.Split(note, "\n") {
		switch {
		case fence == "" && strings.HasPrefix(line, "```"):
			fence = line
			continue
		case fence != "" && line == fence:
			fence = ""
			continue
		case fence != "":
			continue
		}
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| Severity") && !strings.HasPrefix(line, "| File |") {
			if strings.Count(line, " | ") == 3 && !strings.HasPrefix(line, "| --- ") {
				rows++
			}
		}
		// What GitLab's filters see: the text with entities decoded and
		// links (which mlguard made) taken out.
		visible := html.UnescapeString(linkRE.ReplaceAllString(line, "]"))
		visible = strings.ReplaceAll(visible, NoteMarker, "")
		for _, loc := range refRE.FindAllStringIndex(visible, -1) {
			t.Errorf("live reference %q in line %q", visible[loc[0]:loc[1]], line)
		}
	}
	return rows
}

func TestRenderNoteAllClear(t *testing.T) {
	t.Parallel()
	got := RenderNote(reporttest.Empty(), noteOpts)
	if !strings.HasPrefix(got, NoteMarker+"\n## ✅ mlguard: all clear\n\nNo findings in 1 scanned file.\n") {
		t.Errorf("all clear:\n%s", got)
	}
	if strings.Contains(got, "| Severity") {
		t.Error("all clear note has a findings table")
	}
	nilNote := RenderNote(nil, noteOpts)
	if !strings.HasPrefix(nilNote, NoteMarker+"\n## ❔ mlguard: no decision\n") {
		t.Errorf("nil result:\n%s", nilNote)
	}
}

func TestRenderNoteBounded(t *testing.T) {
	t.Parallel()
	r := &finding.Result{Decision: finding.Fail, Tool: finding.Tool{Name: "mlguard", Version: "0.1.0"}}
	for i := range 2000 {
		f := finding.New(finding.PickleUnknownGlobal, fmt.Sprintf("pickle imports mod%d.@Thing #%d", i, i))
		f.Path = fmt.Sprintf("models/m%04d.pkl", i)
		f.Evidence = strings.Repeat("x", 300)
		if i%100 == 0 {
			f.Severity = finding.Critical
		}
		r.Findings = append(r.Findings, f)
		r.Skipped = append(r.Skipped, finding.Skipped{Path: fmt.Sprintf("docs/%d.md", i), Reason: "text"})
		r.Waived = append(r.Waived, finding.Waived{Finding: f, Waiver: "w", Reason: "r"})
	}
	got := RenderNote(r, noteOpts)
	rows := checkNote(t, got)
	if rows == 0 || rows == 2000 {
		t.Fatalf("%d rows shown", rows)
	}
	if !strings.Contains(got, fmt.Sprintf("**%d more findings not shown**", 2000-rows)) {
		t.Error("no line for the findings left out")
	}
	// The most severe come first, so the 20 critical ones are all shown.
	if n := strings.Count(got, "| critical |"); n != 20 {
		t.Errorf("%d critical rows shown, want 20", n)
	}
	if !strings.Contains(got, "[Pipeline](") || !strings.HasSuffix(got, "</sub>\n") {
		t.Error("tail or footer dropped")
	}
}

func TestMarkdownInert(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"@all please look at #1 and !2, ~label %milestone &3 $4 *iteration:5 :smile:",
		"[link](https://evil.example) ![img](x) <img src=x onerror=alert(1)> www.evil.example",
		"| cell | break | `code` **bold** _it_ ~~strike~~ {+ add +} [- del -] $`math`$ \\escape",
		"line\nbreak\r\x1b[31m\u202e\u009b\xff",
		"plain text stays: models/a.pt and v0.1.0-rc1",
	}
	for _, in := range inputs {
		got := md(in)
		if strings.ContainsAny(got, "|`[]<>*_~\\\n\r") {
			t.Errorf("md(%q) = %q keeps a Markdown character", in, got)
		}
		decoded := strings.ReplaceAll(html.UnescapeString(got), "\u2060", "")
		if want := text.Sanitize(in); decoded != want {
			t.Errorf("md(%q) reads as %q, want %q", in, decoded, want)
		}
		if loc := refRE.FindStringIndex(html.UnescapeString(got)); loc != nil {
			t.Errorf("md(%q) = %q leaves a live reference", in, got)
		}
	}
	if got := md("models/a.pt"); got != "models/a.pt" {
		t.Errorf("ordinary path changed: %q", got)
	}
}

func TestCodeBlock(t *testing.T) {
	t.Parallel()
	got := codeBlock("a ```` b\n\x1b[0m")
	if !strings.HasPrefix(got, "`````\n") || !strings.HasSuffix(got, "\n`````\n") || strings.Contains(got, "\x1b") {
		t.Errorf("codeBlock: %q", got)
	}
}

// injection is a result whose every string tries something in GitLab
// Markdown: mentions, references, links, HTML, table breaks, code fences.
func injection() *finding.Result {
	f := finding.New(finding.PickleDangerousGlobal, "@all see [here](https://evil.example) | ping #1 !2 ~bug :tada: <script>")
	f.Path = "models/@all #3 [x](y).pkl"
	f.Member = "data</summary><img src=x>.pkl"
	f.Offset = 7
	f.Evidence = "```\n</details>\n@all\n```"
	custom := finding.Finding{Rule: "custom/@admins [x](https://evil.example)", Severity: finding.High, Path: "a.bin", Message: "custom"}
	callable := finding.New(finding.PickleUnknownCallable, "www.evil.example calls $HOME")
	callable.Path = "./b.pkl"
	callable.Line = 3
	return &finding.Result{
		Tool:     finding.Tool{Name: "mlguard <b>", Version: "@all"},
		Decision: finding.Fail,
		Files:    []finding.File{{Path: "models/x.pkl"}},
		Findings: []finding.Finding{f, custom, callable},
		Skipped:  []finding.Skipped{{Path: "img/@all|x.png", Reason: "image [x](https://evil.example)"}},
		Waived:   []finding.Waived{{Finding: f, Waiver: "#4", Reason: "@alice said so", Expires: "2099-01-01 @bob"}},
	}
}
