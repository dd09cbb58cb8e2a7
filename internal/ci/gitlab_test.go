package ci

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// glEnv is a merge request pipeline as GitLab.com sets it, trimmed to what
// mlguard reads plus a few variables it ignores.
func glEnv(kv ...string) map[string]string {
	m := map[string]string{
		"GITLAB_CI":                           "true",
		"CI_SERVER_URL":                       "https://gitlab.example.com",
		"CI_API_V4_URL":                       "https://gitlab.example.com/api/v4",
		"CI_PROJECT_ID":                       "4242",
		"CI_PROJECT_PATH":                     "ml/sub.group/models",
		"CI_PROJECT_DIR":                      "/builds/ml/sub.group/models",
		"CI_COMMIT_SHA":                       shaB,
		"CI_COMMIT_BEFORE_SHA":                zeroSHA,
		"CI_COMMIT_REF_NAME":                  "feature",
		"CI_DEFAULT_BRANCH":                   "main",
		"CI_PIPELINE_SOURCE":                  SourceMergeRequest,
		"CI_PIPELINE_URL":                     "https://gitlab.example.com/ml/sub.group/models/-/pipelines/77",
		"CI_JOB_URL":                          "https://gitlab.example.com/ml/sub.group/models/-/jobs/99",
		"CI_JOB_TOKEN":                        "not-read",
		"CI_MERGE_REQUEST_IID":                "12",
		"CI_MERGE_REQUEST_DIFF_BASE_SHA":      shaA,
		"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "-" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

// glBranch is a push pipeline on a branch.
func glBranch(kv ...string) map[string]string {
	return glEnv(append([]string{
		"CI_PIPELINE_SOURCE", "push", "CI_MERGE_REQUEST_IID", "-", "CI_MERGE_REQUEST_DIFF_BASE_SHA", "-",
		"CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "-", "CI_COMMIT_BRANCH", "feature", "CI_COMMIT_BEFORE_SHA", shaC,
	}, kv...)...)
}

func TestInGitLab(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"true": true, "": false, "1": false, "TRUE": false} {
		if got := InGitLab(env(map[string]string{"GITLAB_CI": v})); got != want {
			t.Errorf("GITLAB_CI=%q: %v, want %v", v, got, want)
		}
	}
}

func TestGitLabToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"MLGUARD_GITLAB_TOKEN": "glpat-a", "GITLAB_TOKEN": "glpat-b", "CI_JOB_TOKEN": "j"}, "glpat-a"},
		{map[string]string{"GITLAB_TOKEN": " glpat-b\n", "CI_JOB_TOKEN": "j"}, "glpat-b"},
		{map[string]string{"MLGUARD_GITLAB_TOKEN": " ", "GITLAB_TOKEN": "glpat-b"}, "glpat-b"},
		{map[string]string{"CI_JOB_TOKEN": "j"}, ""},
	}
	for _, tt := range tests {
		if got := GitLabToken(env(tt.vars)); got != tt.want {
			t.Errorf("GitLabToken(%v) = %q, want %q", tt.vars, got, tt.want)
		}
	}
}

// glMergeRequest is what glEnv() reads as, with the merge request in the
// project mrProject.
func glMergeRequest(mrProject int64) *GitLab {
	return &GitLab{
		APIURL: "https://gitlab.example.com/api/v4", ServerURL: "https://gitlab.example.com", ProjectID: 4242,
		ProjectPath: "ml/sub.group/models", Workspace: "/builds/ml/sub.group/models", CommitSHA: shaB,
		BeforeSHA: zeroSHA, DefaultBranch: "main", PipelineSource: SourceMergeRequest,
		PipelineURL:  "https://gitlab.example.com/ml/sub.group/models/-/pipelines/77",
		JobURL:       "https://gitlab.example.com/ml/sub.group/models/-/jobs/99",
		MergeRequest: &MergeRequest{IID: 12, ProjectID: mrProject, DiffBaseSHA: shaA, TargetBranch: "main"},
	}
}

func TestGitLabFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		vars      map[string]string
		want      *GitLab
		base      string
		mrHead    string
		wantError string // a substring of the error; "" for none
	}{
		{
			name: "merge request pipeline", vars: glEnv(),
			want: glMergeRequest(4242),
			base: shaA, mrHead: shaB,
		},
		{
			name: "merge request from a fork, in the fork's pipeline", vars: glEnv("CI_MERGE_REQUEST_PROJECT_ID", "17"),
			want: glMergeRequest(17),
			base: shaA, mrHead: shaB,
		},
		{name: "merge request project id not a number", vars: glEnv("CI_MERGE_REQUEST_PROJECT_ID", "ml/models"), wantError: "CI_MERGE_REQUEST_PROJECT_ID"},
		{
			name: "merged results pipeline",
			vars: glEnv("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", shaC, "CI_MERGE_REQUEST_TARGET_BRANCH_SHA", shaA,
				"CI_MERGE_REQUEST_DIFF_BASE_SHA", zeroSHA[:39]+"1"),
			base: shaA, mrHead: shaC,
		},
		{
			name: "branch pipeline", vars: glBranch(),
			base: shaC,
		},
		{
			name: "branch pipeline, new branch", vars: glBranch("CI_COMMIT_BEFORE_SHA", zeroSHA),
			base: "",
		},
		{
			name: "default branch", vars: glBranch("CI_COMMIT_BRANCH", "main"),
			base: "",
		},
		{
			name: "schedule", vars: glBranch("CI_PIPELINE_SOURCE", "schedule", "CI_COMMIT_BEFORE_SHA", "-"),
			base: "",
		},
		{
			name: "API address from the server address, slashes trimmed",
			vars: glEnv("CI_API_V4_URL", "-", "CI_SERVER_URL", "http://gitlab.internal:8080/"),
			base: shaA, mrHead: shaB,
		},
		{name: "no project id", vars: glEnv("CI_PROJECT_ID", "-"), wantError: "CI_PROJECT_ID is not set"},
		{name: "project id not a number", vars: glEnv("CI_PROJECT_ID", "ml/models"), wantError: "CI_PROJECT_ID"},
		{name: "project id zero", vars: glEnv("CI_PROJECT_ID", "0"), wantError: "not a positive number"},
		{name: "project id signed", vars: glEnv("CI_PROJECT_ID", "+42"), wantError: "not a positive number"},
		{name: "project id negative", vars: glEnv("CI_PROJECT_ID", "-42"), wantError: "not a positive number"},
		{name: "project id leading zero", vars: glEnv("CI_PROJECT_ID", "042"), wantError: "not a positive number"},
		{name: "project id too big", vars: glEnv("CI_PROJECT_ID", "99999999999999999999"), wantError: "not a positive number"},
		{name: "merge request iid not a number", vars: glEnv("CI_MERGE_REQUEST_IID", "12abc"), wantError: "CI_MERGE_REQUEST_IID"},
		{name: "merge request source without iid", vars: glEnv("CI_MERGE_REQUEST_IID", "-"), wantError: "without CI_MERGE_REQUEST_IID"},
		{name: "no commit", vars: glEnv("CI_COMMIT_SHA", "-"), wantError: "CI_COMMIT_SHA is not set"},
		{name: "short commit", vars: glEnv("CI_COMMIT_SHA", "bbbbbbbb"), wantError: "CI_COMMIT_SHA"},
		{name: "diff base not a commit", vars: glEnv("CI_MERGE_REQUEST_DIFF_BASE_SHA", "--upload-pack=touch /tmp/x"), wantError: "CI_MERGE_REQUEST_DIFF_BASE_SHA"},
		{name: "before not a commit", vars: glBranch("CI_COMMIT_BEFORE_SHA", "HEAD~1"), wantError: "CI_COMMIT_BEFORE_SHA"},
		{name: "no API address", vars: glEnv("CI_API_V4_URL", "-", "CI_SERVER_URL", "-"), wantError: "neither CI_API_V4_URL nor CI_SERVER_URL"},
		{name: "API address not http", vars: glEnv("CI_API_V4_URL", "file:///etc/passwd"), wantError: "not an http or https URL"},
		{name: "API address without host", vars: glEnv("CI_API_V4_URL", "https:///api/v4"), wantError: "has no host"},
		{name: "API address with credentials", vars: glEnv("CI_API_V4_URL", "https://u:glpat-secret@gitlab.example.com/api/v4"), wantError: "must not carry credentials"},
		{name: "server address with a query", vars: glEnv("CI_SERVER_URL", "https://gitlab.example.com/?x=1"), wantError: "query"},
		{name: "job address javascript", vars: glEnv("CI_JOB_URL", "javascript:alert(1)"), wantError: "CI_JOB_URL"},
		{name: "pipeline address not a URL", vars: glEnv("CI_PIPELINE_URL", "http://[::1"), wantError: "CI_PIPELINE_URL is not a URL"},
		{name: "relative workspace", vars: glEnv("CI_PROJECT_DIR", "builds/x"), wantError: "not an absolute path"},
		{name: "branch with a newline", vars: glBranch("CI_COMMIT_BRANCH", "main\n::error::x"), wantError: "control character"},
		{name: "target branch too long", vars: glEnv("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", strings.Repeat("a", 2000)), wantError: "longer than"},
		{name: "project path with ..", vars: glEnv("CI_PROJECT_PATH", "ml/../models"), wantError: "not a project path"},
		{name: "project path with a space", vars: glEnv("CI_PROJECT_PATH", "ml/my models"), wantError: "not a project path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := GitLabFromEnv(env(tt.vars))
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("err = %v, want one with %q", err, tt.wantError)
				}
				if strings.Contains(err.Error(), "glpat-secret") {
					t.Errorf("the error prints the credentials: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, g); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
			if got := g.Base(); got != tt.base {
				t.Errorf("Base() = %q, want %q", got, tt.base)
			}
			if got := g.Head(); got != tt.vars["CI_COMMIT_SHA"] {
				t.Errorf("Head() = %q, want CI_COMMIT_SHA", got)
			}
			if got := g.MergeRequestHead(); got != tt.mrHead {
				t.Errorf("MergeRequestHead() = %q, want %q", got, tt.mrHead)
			}
			if !strings.HasPrefix(g.APIURL, "http") || strings.HasSuffix(g.APIURL, "/") || !strings.HasSuffix(g.APIURL, "/api/v4") {
				t.Errorf("APIURL = %q", g.APIURL)
			}
		})
	}
}

func TestGitLabFromEnvWorkspaceDefault(t *testing.T) {
	t.Parallel()
	g, err := GitLabFromEnv(env(glEnv("CI_PROJECT_DIR", "-")))
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if g.Workspace != wd {
		t.Errorf("Workspace = %q, want the working folder %q", g.Workspace, wd)
	}
}

// runGit runs git in dir with a fixed identity and returns its trimmed
// output.
func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", "-c", "protocol.file.allow=always"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// shallowClone clones origin (a folder) with file:// and --depth 1, as a
// GitLab runner does with GIT_DEPTH, and returns the clone's folder.
// The origin answers requests for any commit, as GitLab's Gitaly does.
func shallowClone(t *testing.T, origin string) string {
	t.Helper()
	runGit(t, origin, "config", "uploadpack.allowAnySHA1InWant", "true")
	dir := filepath.Join(t.TempDir(), "clone")
	runGit(t, t.TempDir(), "clone", "-q", "--depth", "1", "file://"+origin, dir)
	if got := runGit(t, dir, "rev-parse", "--is-shallow-repository"); got != "true" {
		t.Fatalf("the clone is not shallow: %s", got)
	}
	return dir
}

// gitFiles is what newTestRepo's second commit changed.
var gitFiles = []Change{
	{Path: "a.txt", Status: "modified"},
	{Path: "models/new.pkl", Status: "added"},
	{Path: "old.bin", Status: "removed"},
}

func mrGitLab(base, head string) *GitLab {
	return &GitLab{ProjectID: 1, CommitSHA: head, PipelineSource: SourceMergeRequest,
		MergeRequest: &MergeRequest{IID: 12, DiffBaseSHA: base, TargetBranch: "main"}}
}

func TestFetchCommitShallowClone(t *testing.T) {
	t.Parallel()
	repo := newTestRepo(t)
	clone := shallowClone(t, repo.dir)
	git := NewGit(clone)
	ctx := context.Background()
	if git.HasCommit(ctx, repo.first) {
		t.Fatal("the shallow clone already has the first commit")
	}
	if err := git.FetchCommit(ctx, repo.first); err != nil {
		t.Fatal(err)
	}
	if !git.HasCommit(ctx, repo.first) {
		t.Error("the first commit is still missing after the fetch")
	}
	if got := runGit(t, clone, "rev-parse", "HEAD"); got != repo.second {
		t.Errorf("HEAD moved to %s", got)
	}
	if got := runGit(t, clone, "rev-list", "--count", repo.first); got != "1" {
		t.Errorf("the fetch brought %s commits of history, want only the commit", got)
	}
}

func TestFetchCommitRefusals(t *testing.T) {
	t.Parallel()
	repo := newTestRepo(t)
	git := NewGit(repo.dir)
	ctx := context.Background()
	for _, bad := range []string{"", "HEAD", "--upload-pack=touch /tmp/pwned", "-c", "main", shaA[:39], strings.ToUpper(shaA), shaA + ":refs/heads/x"} {
		if err := git.FetchCommit(ctx, bad); err == nil || !strings.Contains(err.Error(), "not a full commit id") {
			t.Errorf("FetchCommit(%q) = %v, want a refusal before git runs", bad, err)
		}
	}
	if err := (*Git)(nil).FetchCommit(ctx, shaA); !errors.Is(err, ErrNoGit) {
		t.Errorf("nil Git: %v, want ErrNoGit", err)
	}
	if err := (&Git{Dir: repo.dir}).FetchCommit(ctx, shaA); !errors.Is(err, ErrNoGit) {
		t.Errorf("no git binary: %v, want ErrNoGit", err)
	}
	// No origin remote: git fails, and says so.
	if err := git.FetchCommit(ctx, shaA); err == nil || !strings.Contains(err.Error(), "fetching commit aaaaaaaaaaaa from origin") || strings.Contains(err.Error(), "\n") {
		t.Errorf("no origin: %q, want one line saying the fetch failed", err)
	}
}

func TestFetchCommitCancelled(t *testing.T) {
	t.Parallel()
	repo := newTestRepo(t)
	clone := shallowClone(t, repo.dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewGit(clone).FetchCommit(ctx, repo.first); err == nil {
		t.Error("a cancelled fetch succeeded")
	}
}

func TestRedactURLCredentials(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"fatal: unable to access 'https://gitlab-ci-token:glcbt-64_secret@gitlab.example.com/ml/models.git/': 403": "fatal: unable to access 'https://gitlab.example.com/ml/models.git/': 403",
		"remote: https://oauth2:glpat-x@h/p and http://u@h2/q":                                                     "remote: https://h/p and http://h2/q",
		"ssh://git@gitlab.example.com:22/ml/models.git":                                                            "ssh://gitlab.example.com:22/ml/models.git",
		"no URL here, just user@host":                                                                              "no URL here, just user@host",
	} {
		if got := redactURLCredentials(in); got != want {
			t.Errorf("redactURLCredentials(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}

func TestGitLabChangesMergeRequest(t *testing.T) {
	t.Parallel()
	repo := newTestRepo(t)
	shallow := shallowClone(t, repo.dir)
	// A shallow clone whose origin is gone: the base can be neither found nor fetched.
	orphan := shallowClone(t, repo.dir)
	runGit(t, orphan, "remote", "set-url", "origin", "file://"+filepath.Join(t.TempDir(), "gone"))

	apiFiles := []Change{{Path: "models/new.pkl", Status: "added"}}
	api := func(files []Change, err error) (func(context.Context) ([]Change, error), *atomic.Int32) {
		var calls atomic.Int32
		return func(context.Context) ([]Change, error) { calls.Add(1); return files, err }, &calls
	}
	tests := []struct {
		name      string
		g         *GitLab
		git       *Git
		apiFiles  []Change
		apiErr    error
		noAPI     bool
		wantAPI   bool // the API was asked
		wantAll   bool
		wantFiles []Change
		reason    []string
	}{
		{
			name: "full clone, git answers", g: mrGitLab(repo.first, repo.second), git: NewGit(repo.dir),
			wantFiles: gitFiles, reason: []string{"git diff", "merge request !12"},
		},
		{
			name: "shallow clone, the base is fetched", g: mrGitLab(repo.first, repo.second), git: NewGit(shallow),
			wantFiles: gitFiles, reason: []string{"git diff"},
		},
		{
			name: "shallow clone, origin gone, the API answers", g: mrGitLab(repo.first, repo.second), git: NewGit(orphan),
			apiFiles: apiFiles, wantAPI: true, wantFiles: apiFiles, reason: []string{"from the GitLab API", "!12"},
		},
		{
			name: "no git in the image, the API answers", g: mrGitLab(repo.first, repo.second), git: &Git{Dir: repo.dir},
			apiFiles: apiFiles, wantAPI: true, wantFiles: apiFiles, reason: []string{"from the GitLab API"},
		},
		{
			name: "no diff base, the API answers", g: mrGitLab("", repo.second), git: NewGit(repo.dir),
			apiFiles: apiFiles, wantAPI: true, wantFiles: apiFiles, reason: []string{"from the GitLab API"},
		},
		{
			name: "origin gone, the API fails", g: mrGitLab(repo.first, repo.second), git: NewGit(orphan),
			apiErr: errors.New("GET .../diffs: 401 Unauthorized"), wantAPI: true, wantAll: true,
			reason: []string{"could not be listed", "git: commit", "could not be fetched", "API: GET .../diffs: 401", "whole workspace"},
		},
		{
			name: "origin gone, no token", g: mrGitLab(repo.first, repo.second), git: NewGit(orphan), noAPI: true,
			wantAll: true, reason: []string{"API: not asked", "whole workspace"},
		},
		{
			name: "the API names an unsafe path", g: mrGitLab(repo.first, repo.second), git: &Git{},
			apiFiles: []Change{{Path: "../../etc/passwd", Status: "added"}}, wantAPI: true, wantAll: true,
			reason: []string{"unsafe repository path"},
		},
		{
			name: "the API names an unsafe old path", g: mrGitLab(repo.first, repo.second), git: &Git{},
			apiFiles: []Change{{Path: "a.pt", Status: "renamed", Previous: ".git/config"}}, wantAPI: true, wantAll: true,
			reason: []string{"unsafe repository path"},
		},
		{
			name: "the API lists nothing", g: mrGitLab(repo.first, repo.second), git: &Git{},
			apiFiles: nil, wantAPI: true, wantAll: true, reason: []string{"the API lists no changes"},
		},
		{
			name: "a base that exists nowhere", g: mrGitLab(shaA, repo.second), git: NewGit(shallow),
			apiFiles: apiFiles, wantAPI: true, wantFiles: apiFiles, reason: []string{"from the GitLab API"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the shallow clone is shared, and its first case fetches the base.
			mrChanges, calls := api(tt.apiFiles, tt.apiErr)
			if tt.noAPI {
				mrChanges = nil
			}
			ch, err := tt.g.Changes(context.Background(), tt.git, mrChanges, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("reason: %s", ch.Reason)
			if ch.All != tt.wantAll {
				t.Errorf("All = %v, want %v (reason %q)", ch.All, tt.wantAll, ch.Reason)
			}
			for _, r := range tt.reason {
				if !strings.Contains(ch.Reason, r) {
					t.Errorf("reason %q lacks %q", ch.Reason, r)
				}
			}
			if diff := cmp.Diff(tt.wantFiles, ch.Files); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if asked := calls.Load() > 0; asked != tt.wantAPI {
				t.Errorf("API asked: %v, want %v", asked, tt.wantAPI)
			}
			if ch.Base != tt.g.Base() || ch.Head != repo.second {
				t.Errorf("Base, Head = %q, %q", ch.Base, ch.Head)
			}
		})
	}
}

func TestGitLabChangesBranch(t *testing.T) {
	t.Parallel()
	repo := newTestRepo(t)
	shallow := shallowClone(t, repo.dir)
	branch := func(name, before string) *GitLab {
		return &GitLab{ProjectID: 1, CommitSHA: repo.second, BeforeSHA: before, Branch: name, DefaultBranch: "main", PipelineSource: "push"}
	}
	tests := []struct {
		name      string
		g         *GitLab
		git       *Git
		wantAll   bool
		wantFiles []Change
		wantBase  string
		reason    string
	}{
		{name: "push to a branch", g: branch("feature", repo.first), git: NewGit(repo.dir), wantFiles: gitFiles, wantBase: repo.first, reason: "git diff"},
		{name: "push to a branch, shallow clone", g: branch("feature", repo.first), git: NewGit(shallow), wantFiles: gitFiles, wantBase: repo.first, reason: "git diff"},
		{name: "default branch", g: branch("main", repo.first), git: NewGit(repo.dir), wantAll: true, reason: "default branch main: the whole workspace"},
		{name: "new branch", g: branch("feature", zeroSHA), git: NewGit(repo.dir), wantAll: true, reason: "push pipeline names no earlier commit"},
		{name: "tag", g: &GitLab{CommitSHA: repo.second, BeforeSHA: zeroSHA, DefaultBranch: "main", PipelineSource: "push"}, git: NewGit(repo.dir), wantAll: true, reason: "no earlier commit"},
		{name: "schedule", g: &GitLab{CommitSHA: repo.second, Branch: "feature", DefaultBranch: "main", PipelineSource: "schedule"}, git: NewGit(repo.dir), wantAll: true, reason: "schedule pipeline"},
		{name: "no git", g: branch("feature", repo.first), git: &Git{}, wantAll: true, wantBase: repo.first, reason: "git is not available"},
		{name: "before is gone (force push)", g: branch("feature", shaA), git: NewGit(repo.dir), wantAll: true, wantBase: shaA, reason: "could not be fetched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := tt.g.Changes(context.Background(), tt.git, func(context.Context) ([]Change, error) {
				t.Error("the merge request API was asked outside a merge request pipeline")
				return nil, nil
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ch.All != tt.wantAll || !strings.Contains(ch.Reason, tt.reason) {
				t.Errorf("All=%v reason=%q; want All=%v and a reason with %q", ch.All, ch.Reason, tt.wantAll, tt.reason)
			}
			if diff := cmp.Diff(tt.wantFiles, ch.Files); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if ch.Base != tt.wantBase {
				t.Errorf("Base = %q, want %q", ch.Base, tt.wantBase)
			}
		})
	}
}

// TestGitLabChangesMergedResults builds the history of a merged results
// pipeline: the target branch moved on after the merge request branched
// off, and the job checks out the merge of the two. Only the merge
// request's own change is listed, not the target branch's.
func TestGitLabChangesMergedResults(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	write := func(name, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runGit(t, dir, "init", "-q", "-b", "main")
	write("requirements.txt", "torch==2.3.0\n")
	runGit(t, dir, "add", ".")
	runGit(t, dir, "commit", "-q", "-m", "base")
	diffBase := runGit(t, dir, "rev-parse", "HEAD")
	runGit(t, dir, "checkout", "-q", "-b", "feature")
	write("models/new.pkl", "\x80\x04N.")
	runGit(t, dir, "add", ".")
	runGit(t, dir, "commit", "-q", "-m", "add a model")
	source := runGit(t, dir, "rev-parse", "HEAD")
	runGit(t, dir, "checkout", "-q", "main")
	write("other.txt", "someone else's change\n")
	runGit(t, dir, "add", ".")
	runGit(t, dir, "commit", "-q", "-m", "target moves on")
	target := runGit(t, dir, "rev-parse", "HEAD")
	runGit(t, dir, "merge", "-q", "--no-ff", "-m", "merged result", "feature")
	merged := runGit(t, dir, "rev-parse", "HEAD")

	for _, clone := range []struct {
		name string
		dir  string
	}{{"full", dir}, {"shallow", shallowClone(t, dir)}} {
		g := &GitLab{CommitSHA: merged, PipelineSource: SourceMergeRequest,
			MergeRequest: &MergeRequest{IID: 3, DiffBaseSHA: diffBase, SourceSHA: source, TargetSHA: target}}
		ch, err := g.Changes(context.Background(), NewGit(clone.dir), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []Change{{Path: "models/new.pkl", Status: "added"}}
		if diff := cmp.Diff(want, ch.Files); diff != "" || ch.All {
			t.Errorf("%s clone: All=%v reason=%q files (-want +got):\n%s", clone.name, ch.All, ch.Reason, diff)
		}
		if ch.Base != target || ch.Head != merged || g.MergeRequestHead() != source {
			t.Errorf("%s clone: base %s head %s, want the target's tip and the merged result", clone.name, ch.Base, ch.Head)
		}
	}
}

// TestGitLabBaseFiles reads the base version of a manifest in a shallow
// clone, once Changes has fetched the base commit.
func TestGitLabBaseFiles(t *testing.T) {
	t.Parallel()
	repo := newTestRepo(t)
	clone := shallowClone(t, repo.dir)
	g := mrGitLab(repo.first, repo.second)
	git := NewGit(clone)
	ctx := context.Background()
	bf := g.BaseFiles(git, g.Base())
	if _, err := bf.Read(ctx, "a.txt"); err == nil {
		t.Fatal("read the base before it was fetched")
	}
	if _, err := g.Changes(ctx, git, nil, nil); err != nil {
		t.Fatal(err)
	}
	got, err := bf.Read(ctx, "a.txt")
	if err != nil || string(got) != "one\n" {
		t.Errorf("a.txt at the base = %q, %v; want %q", got, err, "one\n")
	}
	if _, err := bf.Read(ctx, "models/new.pkl"); !errors.Is(err, ErrNotExist) {
		t.Errorf("a file the change adds: %v, want ErrNotExist", err)
	}
}

// FuzzGitLabFromEnv feeds arbitrary values to the variables that are
// parsed: an accepted environment always holds what the checks promise.
func FuzzGitLabFromEnv(f *testing.F) {
	f.Add("4242", "12", "https://gitlab.example.com/api/v4", shaB, shaA, zeroSHA, "feature", "ml/models", "/builds/ml/models")
	f.Add("1", "", "http://h:8080/api/v4/", shaB, "", shaC, "main", "", "")
	f.Add("+1", "0", "https://u:p@h/", "x", "y", "z", "a\nb", "a/../b", "rel")
	f.Add("99999999999999999999", "-1", "javascript:alert(1)", shaB, shaB, shaB, "", "a//b", "/")
	f.Fuzz(func(t *testing.T, projectID, iid, apiURL, sha, base, before, branch, path, dir string) {
		vars := map[string]string{
			"CI_PROJECT_ID": projectID, "CI_MERGE_REQUEST_IID": iid, "CI_API_V4_URL": apiURL, "CI_COMMIT_SHA": sha,
			"CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "CI_COMMIT_BEFORE_SHA": before, "CI_COMMIT_BRANCH": branch,
			"CI_DEFAULT_BRANCH": "main", "CI_PROJECT_PATH": path, "CI_PROJECT_DIR": dir,
		}
		g, err := GitLabFromEnv(env(vars))
		if err != nil {
			return
		}
		u, uerr := url.Parse(g.APIURL)
		if g.ProjectID <= 0 || !isSHA(g.CommitSHA) || uerr != nil || u.User != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			t.Fatalf("accepted %+v", g)
		}
		if g.MergeRequest != nil && g.MergeRequest.IID <= 0 {
			t.Fatalf("accepted merge request %+v", g.MergeRequest)
		}
		if b := g.Base(); b != "" && !isSHA(b) {
			t.Fatalf("Base() = %q", b)
		}
		if !filepath.IsAbs(g.Workspace) || strings.ContainsAny(g.Branch, "\n\r\x00") {
			t.Fatalf("workspace %q branch %q", g.Workspace, g.Branch)
		}
		for _, el := range strings.Split(g.ProjectPath, "/") {
			if g.ProjectPath != "" && (el == "" || el == "..") {
				t.Fatalf("project path %q", g.ProjectPath)
			}
		}
	})
}
