package ci

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v82/github"

	"github.com/mlguard/mlguard/internal/githubapi"
)

// apiClient points a go-github client at an httptest server.
func apiClient(t *testing.T, h http.Handler) *github.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := github.NewClient(srv.Client())
	u, _ := url.Parse(srv.URL + "/")
	c.BaseURL = u
	return c
}

// testRepo is a git repository with two commits: the first adds a.txt and
// old.bin, the second modifies a.txt, removes old.bin and adds new.pkl.
type testRepo struct {
	dir           string
	first, second string
}

func newTestRepo(t *testing.T) testRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "-b", "main")
	write("a.txt", "one\n")
	write("old.bin", "old\n")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	first := git("rev-parse", "HEAD")
	write("a.txt", "two\n")
	write("models/new.pkl", "\x80\x04N.")
	git("rm", "-q", "old.bin")
	git("add", ".")
	git("commit", "-q", "-m", "second")
	return testRepo{dir: dir, first: first, second: git("rev-parse", "HEAD")}
}

func prGitHub(pr *PullRequest) *GitHub {
	return &GitHub{EventName: EventPullRequest, Owner: "o", Repo: "r", PullRequest: pr}
}

// filesHandler serves a pull request's files, 100 a page, with GitHub's
// Link header, and counts the requests.
func filesHandler(t *testing.T, files []string, calls *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/repos/o/r/pulls/7/files" {
			http.NotFound(w, r)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if per != 100 {
			t.Errorf("per_page = %d, want 100", per)
		}
		lo, hi := (page-1)*per, min(page*per, len(files))
		var out []map[string]any
		for _, f := range files[min(lo, len(files)):hi] {
			status := "added"
			if strings.HasPrefix(f, "gone/") {
				status = "removed"
			}
			out = append(out, map[string]any{"sha": shaA, "filename": f, "status": status, "additions": 1, "deletions": 0, "changes": 1})
		}
		if hi < len(files) {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?per_page=100&page=%d>; rel="next"`, r.Host, r.URL.Path, page+1))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

func TestChangesPullRequestPaginated(t *testing.T) {
	t.Parallel()
	var files []string
	for i := range 250 {
		files = append(files, fmt.Sprintf("m/%03d.pt", i))
	}
	files = append(files, "gone/x.pt")
	var calls atomic.Int32
	client := apiClient(t, filesHandler(t, files, &calls))
	g := prGitHub(&PullRequest{Number: 7, HeadSHA: shaB, BaseSHA: shaA, ChangedFiles: len(files)})
	ch, err := g.Changes(context.Background(), client, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ch.All || len(ch.Files) != len(files) || calls.Load() != 3 {
		t.Fatalf("All=%v files=%d calls=%d, want a list of %d in 3 pages", ch.All, len(ch.Files), calls.Load(), len(files))
	}
	if got := ch.Scanned(); len(got) != 250 || got[0] != "m/000.pt" {
		t.Errorf("Scanned() = %d paths starting %q, want the 250 not removed", len(got), got[0])
	}
	if ch.Base != shaA || ch.Head != shaB || !strings.Contains(ch.Reason, "#7") {
		t.Errorf("base, head, reason = %s, %s, %q", ch.Base, ch.Head, ch.Reason)
	}
}

func TestChangesFallbacks(t *testing.T) {
	t.Parallel()
	repo := newTestRepo(t)
	gitFiles := []Change{
		{Path: "a.txt", Status: "modified"},
		{Path: "models/new.pkl", Status: "added"},
		{Path: "old.bin", Status: "removed"},
	}
	failing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Not Found"}`))
	})
	var calls atomic.Int32
	truncated := filesHandler(t, []string{"a.txt"}, &calls)
	tests := []struct {
		name      string
		g         *GitHub
		handler   http.Handler // nil: offline
		git       *Git
		wantAll   bool
		wantFiles []Change
		reason    string
	}{
		{
			name: "API fails, git answers", g: prGitHub(&PullRequest{Number: 7, HeadSHA: repo.second, BaseSHA: repo.first}),
			handler: failing, git: NewGit(repo.dir), wantFiles: gitFiles, reason: "git diff",
		},
		{
			name: "API lists fewer than changed, git answers", g: prGitHub(&PullRequest{Number: 7, HeadSHA: repo.second, BaseSHA: repo.first, ChangedFiles: 3500}),
			handler: truncated, git: NewGit(repo.dir), wantFiles: gitFiles, reason: "git diff",
		},
		{
			name: "offline, git answers", g: prGitHub(&PullRequest{Number: 7, HeadSHA: repo.second, BaseSHA: repo.first}),
			git: NewGit(repo.dir), wantFiles: gitFiles, reason: "git diff",
		},
		{
			name: "no git in the image", g: prGitHub(&PullRequest{Number: 7, HeadSHA: repo.second, BaseSHA: repo.first}),
			handler: failing, git: &Git{Dir: repo.dir}, wantAll: true, reason: "git is not available",
		},
		{
			name: "shallow history", g: prGitHub(&PullRequest{Number: 7, HeadSHA: repo.second, BaseSHA: shaA}),
			handler: failing, git: NewGit(repo.dir), wantAll: true, reason: "not in the checkout's history",
		},
		{
			name: "push through git", g: &GitHub{EventName: EventPush, Owner: "o", Repo: "r", Before: repo.first, After: repo.second},
			handler: failing, git: NewGit(repo.dir), wantFiles: gitFiles, reason: "git diff",
		},
		{
			name: "push of a new branch", g: &GitHub{EventName: EventPush, Before: zeroSHA, After: shaB},
			handler: failing, wantAll: true, reason: "created the branch",
		},
		{
			name: "push deleting the branch", g: &GitHub{EventName: EventPush, Before: shaA, After: zeroSHA},
			handler: failing, reason: "nothing to scan",
		},
		{
			name: "manual run", g: &GitHub{EventName: EventWorkflowDispatch},
			handler: failing, wantAll: true, reason: "workflow_dispatch event names no change",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var client *github.Client
			if tt.handler != nil {
				client = apiClient(t, tt.handler)
			}
			ch, err := tt.g.Changes(context.Background(), client, tt.git, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ch.All != tt.wantAll || !strings.Contains(ch.Reason, tt.reason) {
				t.Errorf("All=%v reason=%q; want All=%v and a reason with %q", ch.All, ch.Reason, tt.wantAll, tt.reason)
			}
			if diff := cmp.Diff(tt.wantFiles, ch.Files); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChangesCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   int
		git     *Git
		wantAll bool
	}{
		{name: "listed", files: 2},
		{name: "no files although ahead, no git", files: 0, git: &Git{}, wantAll: true},
		{name: "more than the API lists, no git", files: maxCompareFiles, git: &Git{}, wantAll: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := apiClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/repos/o/r/compare/"+shaA+"..."+shaB {
					t.Errorf("path %s", r.URL.Path)
				}
				var files []map[string]any
				for i := range tt.files {
					files = append(files, map[string]any{"filename": fmt.Sprintf("f%d.pt", i), "status": "modified"})
				}
				_ = json.NewEncoder(w).Encode(map[string]any{"status": "ahead", "files": files})
			}))
			g := &GitHub{EventName: EventMergeGroup, Owner: "o", Repo: "r", MergeBase: shaA, MergeHead: shaB}
			ch, err := g.Changes(context.Background(), client, tt.git, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ch.All != tt.wantAll || (!tt.wantAll && len(ch.Files) != tt.files) {
				t.Errorf("All=%v files=%d reason=%q", ch.All, len(ch.Files), ch.Reason)
			}
		})
	}
}

func TestChangesRefusesUnsafePaths(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"../etc/passwd", "/etc/passwd", "a/../../b", ".git/config", "a\\b", "a\x00b", "a//b", "a\nb"} {
		client := apiClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode([]map[string]any{{"filename": bad, "status": "added"}})
		}))
		g := prGitHub(&PullRequest{Number: 7, HeadSHA: shaB, BaseSHA: shaA})
		ch, err := g.Changes(context.Background(), client, &Git{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !ch.All || len(ch.Files) != 0 {
			t.Errorf("%q: All=%v files=%v; want the unsafe answer refused and the whole workspace scanned", bad, ch.All, ch.Files)
		}
	}
}

func TestParseNameStatus(t *testing.T) {
	t.Parallel()
	got, err := parseNameStatus([]byte("A\x00x y.pt\x00T\x00link\x00M\x00a\x00"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{Path: "x y.pt", Status: "added"}, {Path: "link", Status: "changed"}, {Path: "a", Status: "modified"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := parseNameStatus([]byte("A\x00")); err == nil {
		t.Error("odd field count accepted")
	}
	if got, err := parseNameStatus(nil); err != nil || got != nil {
		t.Errorf("empty output: %v, %v", got, err)
	}
}

// TestChangesAPIFailures runs every failure of the two listing calls through
// the client mlguard uses (githubapi: retries and rate-limit waits): each
// falls back to git, here absent, so the whole workspace is scanned and the
// reason says so; server errors are retried first, refusals are not.
func TestChangesAPIFailures(t *testing.T) {
	t.Parallel()
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		requests int
	}{
		{"403", 403, nil, 1},
		{"404", 404, nil, 1},
		{"422", 422, nil, 1},
		{"500", 500, nil, 4},
		{"502", 502, nil, 4},
		{"primary rate limit", 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, 1},
		{"secondary rate limit", 429, map[string]string{"Retry-After": "3600"}, 1},
	}
	events := []struct {
		name string
		g    *GitHub
	}{
		{"pull request files", prGitHub(&PullRequest{Number: 7, HeadSHA: shaB, BaseSHA: shaA})},
		{"compare", &GitHub{EventName: EventPush, Owner: "o", Repo: "r", Before: shaA, After: shaB}},
	}
	for _, ev := range events {
		for _, tt := range tests {
			t.Run(ev.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				var calls atomic.Int32
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					calls.Add(1)
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tt.status)
					fmt.Fprintf(w, `{"message":"status %d"}`, tt.status)
				}))
				t.Cleanup(srv.Close)
				client, err := githubapi.New(githubapi.Options{BaseURL: srv.URL, Token: "t",
					Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
				if err != nil {
					t.Fatal(err)
				}
				ch, err := ev.g.Changes(t.Context(), client, &Git{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !ch.All || len(ch.Files) != 0 || !strings.Contains(ch.Reason, "whole workspace") {
					t.Errorf("All=%v files=%v reason=%q; want the whole workspace", ch.All, ch.Files, ch.Reason)
				}
				if n := int(calls.Load()); n != tt.requests {
					t.Errorf("%d requests, want %d", n, tt.requests)
				}
			})
		}
	}
}
