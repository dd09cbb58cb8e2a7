package github

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	gh "github.com/google/go-github/v82/github"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/githubapi"
	"github.com/mlguard/mlguard/internal/report/markdown"
	"github.com/mlguard/mlguard/internal/report/reporttest"
)

var commentOpts = CommentOptions{
	ServerURL: "https://github.com",
	Repo:      testRepo,
	HeadSHA:   testSHA,
	RunURL:    "https://github.com/mlguard-test/models/actions/runs/42",
}

func TestRenderComment(t *testing.T) {
	t.Parallel()
	noLinks := commentOpts
	noLinks.ServerURL, noLinks.RunURL = "", "javascript:alert(1)"
	tests := []struct {
		golden string
		result *finding.Result
		opts   CommentOptions
		rows   int
	}{
		{"comment-full.md", reporttest.Full(), commentOpts, 6},
		{"comment-empty.md", reporttest.Empty(), commentOpts, 0},
		{"comment-injection.md", injection(), commentOpts, 4},
		{"comment-nolinks.md", passing(), noLinks, 1},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			got := RenderComment(tt.result, tt.opts)
			reporttest.Golden(t, tt.golden, []byte(got), *update)
			if rows := checkComment(t, got, tt.opts); rows != tt.rows {
				t.Errorf("%d finding rows, want %d", rows, tt.rows)
			}
		})
	}
}

func TestRenderCommentNil(t *testing.T) {
	t.Parallel()
	got := RenderComment(nil, commentOpts)
	if !strings.HasPrefix(got, CommentMarker+"\n## ❔ mlguard: no decision\n") {
		t.Errorf("nil result:\n%s", got)
	}
}

// TestCommentCap fills far more than 64 KB: the least severe rows are
// dropped whole, and the note counts them.
func TestCommentCap(t *testing.T) {
	t.Parallel()
	r := many(5000)
	for i := range r.Findings {
		r.Findings[i].Evidence = strings.Repeat("é", 300)
	}
	got := RenderComment(r, commentOpts)
	if len(got) > 65536 || len(got) < 60_000 {
		t.Errorf("%d bytes", len(got))
	}
	rows := checkComment(t, got, commentOpts)
	if rows == 0 {
		t.Fatal("no rows")
	}
	note := fmt.Sprintf("**%d more findings not shown**: a comment is limited in size.", 5000-rows)
	if !strings.Contains(got, note) {
		t.Errorf("no note %q", note)
	}
	if n := strings.Count(got, "| critical |"); n != rows { // 1000 critical, far more than fit
		t.Errorf("%d critical rows of %d", n, rows)
	}
	if strings.Count(got, "<summary>critical ") != rows {
		t.Errorf("rows and details blocks differ")
	}
	if !strings.Contains(got, "[Workflow run]("+commentOpts.RunURL+")") {
		t.Error("the link to the run is gone")
	}
}

// checkComment asserts that out is a comment within GitHub's limit, that
// every link in it is one of the comment's own (rule documentation, files at
// the head commit, the run), and what checkMarkdown asserts once those are
// taken out; it returns the number of finding rows.
func checkComment(t *testing.T, out string, opts CommentOptions) int {
	t.Helper()
	if !strings.HasPrefix(out, CommentMarker+"\n") {
		t.Errorf("the comment does not start with the marker:\n%s", out)
	}
	if len(out) > 65536 {
		t.Errorf("%d bytes", len(out))
	}
	own := []string{regexp.QuoteMeta(finding.RepoURL + "/blob/main/docs/rules.md")}
	for _, u := range []string{blobBase(opts), markdown.SafeURL(opts.RunURL)} {
		if u != "" {
			own = append(own, regexp.QuoteMeta(u))
		}
	}
	link := regexp.MustCompile(`\]\(([^)]*)\)`)
	ownLink := regexp.MustCompile(`^(` + strings.Join(own, "|") + `)[^\s()<>]*$`)
	for _, m := range link.FindAllStringSubmatch(out, -1) {
		if !ownLink.MatchString(m[1]) {
			t.Errorf("link to %q", m[1])
		}
	}
	return checkMarkdown(t, []byte(link.ReplaceAllStringFunc(out, func(m string) string {
		if strings.Contains(m, "/docs/rules.md") {
			return m // checkMarkdown knows these
		}
		return "]"
	})))
}

// commentAPI is a fake of the issue comments endpoints of pull request 7:
// pages of comments as listed, with Link headers, and fail[method] as the
// status of every request with that method.
type commentAPI struct {
	pages [][]*gh.IssueComment
	fail  map[string]int
	// me is the login GET /user answers; "" answers 403 as it does to the
	// workflow's token. meStatus, when set, is the status it answers.
	me       string
	meStatus int
}

func (a commentAPI) reply(_ int, r *http.Request, _ []byte) (int, http.Header, string) {
	if r.URL.Path == "/user" {
		switch {
		case a.meStatus != 0:
			return a.meStatus, nil, fmt.Sprintf(`{"message":"failure %d"}`, a.meStatus)
		case a.me == "":
			return 403, nil, `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/users/users#get-the-authenticated-user","status":"403"}`
		}
		return 200, nil, fmt.Sprintf(`{"login":%q,"type":"User"}`, a.me)
	}
	if code, ok := a.fail[r.Method]; ok {
		return code, nil, fmt.Sprintf(`{"message":"failure %d"}`, code)
	}
	switch r.Method {
	case "GET":
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		var h http.Header
		if page < len(a.pages) {
			next := fmt.Sprintf("<http://%s%s?page=%d&per_page=100>; rel=\"next\"", r.Host, r.URL.Path, page+1)
			h = http.Header{"Link": {next}}
		}
		var comments []*gh.IssueComment
		if page <= len(a.pages) {
			comments = a.pages[page-1]
		}
		b, _ := json.Marshal(comments)
		return 200, h, string(b)
	case "PATCH":
		return 200, nil, `{"id":1}`
	default:
		return 201, nil, `{"id":999}`
	}
}

func comment(id int64, userType, body string) *gh.IssueComment {
	return &gh.IssueComment{ID: gh.Ptr(id), Body: gh.Ptr(body), User: &gh.User{Login: gh.Ptr("u"), Type: gh.Ptr(userType)}}
}

func TestUpsertComment(t *testing.T) {
	t.Parallel()
	full, empty := reporttest.Full(), reporttest.Empty()
	fullBody, clearBody := RenderComment(full, commentOpts), RenderComment(empty, commentOpts)
	always := commentOpts
	always.Always = true
	const (
		list     = "GET /repos/mlguard-test/models/issues/7/comments?per_page=100"
		list2    = "GET /repos/mlguard-test/models/issues/7/comments?page=2&per_page=100"
		create   = "POST /repos/mlguard-test/models/issues/7/comments"
		update11 = "PATCH /repos/mlguard-test/models/issues/comments/11"
		update21 = "PATCH /repos/mlguard-test/models/issues/comments/21"
		me       = "GET /user"
	)
	others := []*gh.IssueComment{comment(1, "User", "LGTM"), comment(2, "Bot", "coverage: 80%")}
	stale := CommentMarker + "\nold"
	tests := []struct {
		name     string
		api      commentAPI
		result   *finding.Result
		opts     CommentOptions
		want     CommentAction
		status   int
		requests []string
		sent     string // the body of the POST or PATCH
	}{
		{
			name: "no comment yet, findings: create", api: commentAPI{pages: [][]*gh.IssueComment{others}},
			result: full, opts: commentOpts, want: CommentCreated, requests: []string{list, create}, sent: fullBody,
		},
		{
			name:   "marker on page 2: update",
			api:    commentAPI{pages: [][]*gh.IssueComment{others, {comment(20, "User", "hm"), comment(21, "Bot", stale)}}},
			result: full, opts: commentOpts, want: CommentUpdated, requests: []string{list, list2, update21}, sent: fullBody,
		},
		{
			name:   "a bot's comment is preferred",
			api:    commentAPI{pages: [][]*gh.IssueComment{{comment(11, "User", "quoting "+stale)}, {comment(21, "Bot", stale)}}},
			result: full, opts: commentOpts, want: CommentUpdated, requests: []string{list, list2, update21}, sent: fullBody,
		},
		{
			name:   "a user's comment with the marker, not the token's user: left alone, a new one posted",
			api:    commentAPI{pages: [][]*gh.IssueComment{{comment(11, "User", stale)}, others}},
			result: full, opts: commentOpts, want: CommentCreated, requests: []string{list, list2, me, create}, sent: fullBody,
		},
		{
			name:   "a user's comment with the marker, another user than the PAT's: left alone",
			api:    commentAPI{pages: [][]*gh.IssueComment{{comment(11, "User", stale)}}, me: "someone-else"},
			result: full, opts: commentOpts, want: CommentCreated, requests: []string{list, me, create}, sent: fullBody,
		},
		{
			name:   "the PAT's own comment: updated",
			api:    commentAPI{pages: [][]*gh.IssueComment{{comment(11, "User", stale)}, others}, me: "u"},
			result: full, opts: commentOpts, want: CommentUpdated, requests: []string{list, list2, me, update11}, sent: fullBody,
		},
		{
			name:   "a user's comment, and GET /user fails: nothing posted",
			api:    commentAPI{pages: [][]*gh.IssueComment{{comment(11, "User", stale)}}, meStatus: 502},
			result: full, opts: commentOpts, want: CommentNone, status: 502, requests: []string{list, me, me, me, me},
		},
		{
			name:   "a bot's comment that only quotes the marker is not mlguard's",
			api:    commentAPI{pages: [][]*gh.IssueComment{{comment(11, "Bot", "> "+stale)}}},
			result: full, opts: commentOpts, want: CommentCreated, requests: []string{list, create}, sent: fullBody,
		},
		{
			name:   "identical: no request",
			api:    commentAPI{pages: [][]*gh.IssueComment{{comment(11, "Bot", fullBody)}}},
			result: full, opts: commentOpts, want: CommentUnchanged, requests: []string{list},
		},
		{
			name:   "clean with a comment: all clear",
			api:    commentAPI{pages: [][]*gh.IssueComment{{comment(11, "Bot", fullBody)}}},
			result: empty, opts: commentOpts, want: CommentUpdated, requests: []string{list, update11}, sent: clearBody,
		},
		{
			name: "clean without a comment: nothing", api: commentAPI{pages: [][]*gh.IssueComment{others}},
			result: empty, opts: commentOpts, want: CommentNone, requests: []string{list},
		},
		{
			name: "clean without a comment, always: create", api: commentAPI{pages: [][]*gh.IssueComment{nil}},
			result: empty, opts: always, want: CommentCreated, requests: []string{list, create}, sent: clearBody,
		},
		{
			name: "403 on POST", api: commentAPI{pages: [][]*gh.IssueComment{others}, fail: map[string]int{"POST": 403}},
			result: full, opts: commentOpts, want: CommentNone, status: 403, requests: []string{list, create}, sent: fullBody,
		},
		{
			name: "500 on POST is not retried", api: commentAPI{pages: [][]*gh.IssueComment{others}, fail: map[string]int{"POST": 500}},
			result: full, opts: commentOpts, want: CommentNone, status: 500, requests: []string{list, create}, sent: fullBody,
		},
		{
			name: "404 on list", api: commentAPI{fail: map[string]int{"GET": 404}},
			result: full, opts: commentOpts, want: CommentNone, status: 404, requests: []string{list},
		},
		{
			name: "500 on list, retried", api: commentAPI{fail: map[string]int{"GET": 500}},
			result: full, opts: commentOpts, want: CommentNone, status: 500, requests: []string{list, list, list, list},
		},
		{
			name:   "422 on PATCH",
			api:    commentAPI{pages: [][]*gh.IssueComment{{comment(11, "Bot", stale)}}, fail: map[string]int{"PATCH": 422}},
			result: full, opts: commentOpts, want: CommentNone, status: 422, requests: []string{list, update11}, sent: fullBody,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api, c := newFakeGitHub(t, tt.api.reply)
			got, err := UpsertComment(t.Context(), c, 7, tt.result, tt.opts)
			if got != tt.want {
				t.Errorf("action %q, want %q", got, tt.want)
			}
			if status := githubapi.StatusCode(err); status != tt.status || (err != nil) != (tt.status != 0) {
				t.Errorf("error %v (status %d), want status %d", err, status, tt.status)
			}
			calls := api.seen()
			if diff := cmp.Diff(tt.requests, api.requests()); diff != "" {
				t.Fatalf("requests (-want +got):\n%s", diff)
			}
			if last := calls[len(calls)-1]; last.Method != "GET" {
				var sent gh.IssueComment
				if err := json.Unmarshal(last.Body, &sent); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.sent, sent.GetBody()); diff != "" {
					t.Errorf("body sent (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestUpsertCommentTooManyPages checks that a search cut short creates
// nothing, lest there be a second comment.
func TestUpsertCommentTooManyPages(t *testing.T) {
	t.Parallel()
	pages := make([][]*gh.IssueComment, maxCommentPages+1)
	for i := range pages {
		pages[i] = []*gh.IssueComment{comment(int64(i), "User", "chat")}
	}
	api, c := newFakeGitHub(t, commentAPI{pages: pages}.reply)
	got, err := UpsertComment(t.Context(), c, 7, reporttest.Full(), commentOpts)
	if got != CommentNone || err == nil || !strings.Contains(err.Error(), "not searched beyond the first 5000 comments") {
		t.Errorf("action %q, error %v", got, err)
	}
	if n := len(api.seen()); n != maxCommentPages {
		t.Errorf("%d requests, want %d", n, maxCommentPages)
	}
}

func TestUpsertCommentInvalid(t *testing.T) {
	t.Parallel()
	api, c := newFakeGitHub(t, commentAPI{}.reply)
	bad := commentOpts
	bad.Repo = Repo{"o", "r/../x"}
	for name, call := range map[string]func() (CommentAction, error){
		"nil client": func() (CommentAction, error) {
			return UpsertComment(t.Context(), nil, 7, reporttest.Full(), commentOpts)
		},
		"nil result": func() (CommentAction, error) { return UpsertComment(t.Context(), c, 7, nil, commentOpts) },
		"number 0":   func() (CommentAction, error) { return UpsertComment(t.Context(), c, 0, reporttest.Full(), commentOpts) },
		"bad repo":   func() (CommentAction, error) { return UpsertComment(t.Context(), c, 7, reporttest.Full(), bad) },
	} {
		if got, err := call(); got != CommentNone || err == nil {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	if n := len(api.seen()); n != 0 {
		t.Errorf("%d requests", n)
	}
}
