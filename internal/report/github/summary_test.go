package github

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/reporttest"
)

func summarize(t *testing.T, r *finding.Result, opts SummaryOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSummary(&buf, r, opts); err != nil {
		t.Fatalf("WriteSummary: %v", err)
	}
	return buf.Bytes()
}

func TestWriteSummary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		result *finding.Result
		opts   SummaryOptions
		rows   int
	}{
		{"summary-empty.md", reporttest.Empty(), SummaryOptions{}, 0},
		{"summary-full.md", reporttest.Full(), SummaryOptions{}, 6},
		{"summary-injection.md", injection(), SummaryOptions{}, 4},
		{"summary-truncated.md", reporttest.Full(), SummaryOptions{MaxBytes: 1500}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			got := summarize(t, tt.result, tt.opts)
			reporttest.Golden(t, tt.golden, got, *update)
			if rows := checkMarkdown(t, got); rows != tt.rows {
				t.Errorf("%d finding rows, want %d", rows, tt.rows)
			}
			if tt.opts.MaxBytes > 0 && len(got) > tt.opts.MaxBytes {
				t.Errorf("%d bytes, limit %d", len(got), tt.opts.MaxBytes)
			}
		})
	}
}

func TestSummaryMaxBytes(t *testing.T) {
	t.Parallel()
	r := many(100_000)
	for _, limit := range []int{0, 600, 2000, 10_000, 1 << 16} {
		got := summarize(t, r, SummaryOptions{MaxBytes: limit})
		want := limit
		if want == 0 {
			want = DefaultSummaryMaxBytes
		}
		if len(got) > want {
			t.Errorf("MaxBytes %d: %d bytes", limit, len(got))
		}
		rows := checkMarkdown(t, got)
		note := regexp.MustCompile(`\*\*(\d+) more findings not shown\*\*`).FindSubmatch(got)
		if note == nil {
			t.Fatalf("MaxBytes %d: no note on the findings left out", limit)
		}
		if left := string(note[1]); left != strconv.Itoa(100_000-rows) {
			t.Errorf("MaxBytes %d: %d rows shown, note says %s left out", limit, rows, left)
		}
		if limit >= 10_000 && rows == 0 {
			t.Errorf("MaxBytes %d: no row at all", limit)
		}
		if limit == 0 && len(got) < want-10_000 {
			t.Errorf("default limit: only %d of %d bytes used", len(got), want)
		}
	}
}

func TestSummaryTooSmall(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteSummary(&buf, reporttest.Full(), SummaryOptions{MaxBytes: 100}); err == nil || buf.Len() != 0 {
		t.Errorf("err = %v, %d bytes written; want an error and nothing", err, buf.Len())
	}
}

func TestMarkdownEscape(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"models/a.pt", "models/a.pt"},
		{"a|b", "a&#124;b"},
		{"a\nb\r", `a&#92;nb&#92;r`},
		{"<img src=x>", "&lt;img src=x&gt;"},
		{"&amp;", "&amp;amp;"},
		{"[x](https://e.example)", "&#91;x&#93;(https&#58;//e.example)"},
		{"`code`", "&#96;code&#96;"},
		{`trailing\`, "trailing&#92;"},
		{"WwW.evil.example", "WwW&#46;evil.example"},
		{"@team :tada: *b* _i_ ~s~", "&#64;team &#58;tada&#58; &#42;b&#42; &#95;i&#95; &#126;s&#126;"},
		{"\x1b[2J\u202e", `&#92;x1b&#91;2J&#92;u202e`},
		{"é", "é"},
		{"$x^2$", "&#36;x^2&#36;"},
	}
	for _, tt := range tests {
		if got := md(tt.in); got != tt.want {
			t.Errorf("md(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEvidenceFence(t *testing.T) {
	t.Parallel()
	f := finding.Finding{Rule: "r", Path: "p", Evidence: "a ````` b\n```"}
	got := evidenceBlock(f)
	if !strings.Contains(got, "\n``````\na ````` b\n```\n``````\n") {
		t.Errorf("evidence block:\n%s", got)
	}
}

var (
	allowedTag = regexp.MustCompile(`^</?(details|summary|sub)>$`)
	anyTag     = regexp.MustCompile(`</?[A-Za-z][^>]*>`)
	fenceLine  = regexp.MustCompile("^(`{3,})$")
	mdLink     = regexp.MustCompile(`\]\(|https?:`)
)

// checkMarkdown asserts the structure that untrusted text must not be able to
// change: table rows with exactly their own cells, code fences closed, no HTML
// but the writer's own tags, no link but the writer's own; it returns the
// number of finding rows.
func checkMarkdown(t *testing.T, out []byte) int {
	t.Helper()
	rows, open, closed := 0, 0, 0
	fence := ""
	inFindings := false
	for _, line := range strings.Split(string(out), "\n") {
		if fence != "" {
			if line == fence {
				fence = ""
			}
			continue
		}
		if m := fenceLine.FindStringSubmatch(line); m != nil {
			fence = m[1]
			continue
		}
		for _, tag := range anyTag.FindAllString(line, -1) {
			if !allowedTag.MatchString(tag) {
				t.Errorf("raw HTML %q in %q", tag, line)
			}
		}
		open += strings.Count(line, "<details>")
		closed += strings.Count(line, "</details>")
		own := strings.Contains(line, "("+finding.RepoURL+"/blob/main/docs/rules.md")
		if mdLink.MatchString(line) && !own {
			t.Errorf("link in %q", line)
		}
		switch {
		case line == "| Severity | Rule | File | Message |":
			inFindings = true
		case strings.HasPrefix(line, "|"):
			want := 5
			if !inFindings {
				want = 3
			}
			if n := strings.Count(line, "|"); n != want || !strings.HasSuffix(line, " |") {
				t.Errorf("table row with %d pipes: %q", n, line)
			}
			if inFindings && !strings.HasPrefix(line, "| ---") {
				rows++
			}
		default:
			inFindings = false
		}
	}
	if fence != "" {
		t.Errorf("code fence %s not closed", fence)
	}
	if open != closed {
		t.Errorf("%d <details> for %d </details>", open, closed)
	}
	return rows
}

// TestSummaryWaived: the job summary, the check run and the comment list the
// waived findings with their waivers, escaped as Markdown.
func TestSummaryWaived(t *testing.T) {
	t.Parallel()
	r := reporttest.Full()
	w := finding.New(finding.PickleUnknownGlobal, "pickle imports mylab.Net")
	w.Path = "legacy/old|<b>.pkl"
	r.Waived = []finding.Waived{{Finding: w, Waiver: "pickle/* for path legacy/**", Reason: "reviewed *lab* models", Expires: "2027-01-31"}}
	var b strings.Builder
	if err := WriteSummary(&b, r, SummaryOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"<summary>1 finding waived by the policy</summary>", "| medium | pickle/unknown-global |", "reviewed &#42;lab&#42; models", "| 2027-01-31 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<b>") {
		t.Errorf("a path's HTML reached the summary:\n%s", out)
	}
	// Even a tight budget says how many were waived.
	var small strings.Builder
	if err := WriteSummary(&small, r, SummaryOptions{MaxBytes: 1500}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(small.String(), "waived by the policy") {
		t.Errorf("a small summary hides the waivers:\n%s", small.String())
	}
}
