package ci

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// GitLab CI/CD: the predefined variables mlguard reads, as documented in
// https://docs.gitlab.com/ci/variables/predefined_variables/.

// SourceMergeRequest is CI_PIPELINE_SOURCE in a merge request pipeline
// (merged results and merge train pipelines included).
const SourceMergeRequest = "merge_request_event"

// maxGitLabText bounds the free-text variables (branch names, the project
// path); GitLab's own limits are far lower.
const maxGitLabText = 1024

// InGitLab reports whether the process runs inside a GitLab CI/CD job.
func InGitLab(getenv func(string) string) bool { return getenv("GITLAB_CI") == "true" }

// GitLabToken is the token for the GitLab API (the merge request note and
// the merge request diffs): MLGUARD_GITLAB_TOKEN, else GITLAB_TOKEN, else "".
// CI_JOB_TOKEN is never used: it cannot write notes or list a merge
// request's diffs.
func GitLabToken(getenv func(string) string) string {
	return or(strings.TrimSpace(getenv("MLGUARD_GITLAB_TOKEN")), strings.TrimSpace(getenv("GITLAB_TOKEN")))
}

// GitLab is a GitLab CI/CD job: the predefined variables that say where the
// job runs and what the pipeline changed.
type GitLab struct {
	APIURL         string // CI_API_V4_URL, without a trailing slash
	ServerURL      string // CI_SERVER_URL, without a trailing slash; "" when unset
	ProjectID      int64  // CI_PROJECT_ID
	ProjectPath    string // CI_PROJECT_PATH: group/subgroup/project
	Workspace      string // CI_PROJECT_DIR: the clone, an absolute path
	CommitSHA      string // CI_COMMIT_SHA: the commit checked out
	BeforeSHA      string // CI_COMMIT_BEFORE_SHA: the branch's previous tip; the zero SHA when there is none
	Branch         string // CI_COMMIT_BRANCH: "" in merge request and tag pipelines
	DefaultBranch  string // CI_DEFAULT_BRANCH
	PipelineSource string // CI_PIPELINE_SOURCE: push, merge_request_event, schedule, web, api, ...
	PipelineURL    string // CI_PIPELINE_URL
	JobURL         string // CI_JOB_URL

	// MergeRequest is set in a merge request pipeline, nil otherwise.
	MergeRequest *MergeRequest
}

// MergeRequest is what a merge request pipeline says of its merge request.
type MergeRequest struct {
	IID int64 // CI_MERGE_REQUEST_IID: the number shown as !IID
	// ProjectID is CI_MERGE_REQUEST_PROJECT_ID: the project the merge request
	// belongs to, whose API serves its notes and diffs. In the pipeline of a
	// merge request from a fork, run in the fork, it is the target project,
	// not CI_PROJECT_ID; CI_PROJECT_ID when the variable is unset.
	ProjectID int64
	// DiffBaseSHA is CI_MERGE_REQUEST_DIFF_BASE_SHA: the commit of the
	// target branch the merge request's diff starts from.
	DiffBaseSHA  string
	TargetBranch string // CI_MERGE_REQUEST_TARGET_BRANCH_NAME
	// SourceSHA (CI_MERGE_REQUEST_SOURCE_BRANCH_SHA) and TargetSHA
	// (CI_MERGE_REQUEST_TARGET_BRANCH_SHA) are set only in merged results
	// pipelines, where CI_COMMIT_SHA is the merge of the source branch's
	// head into the target branch's tip.
	SourceSHA string
	TargetSHA string
}

// GitLabFromEnv reads and checks the job's predefined variables. Numbers
// must be positive integers, commit ids full hexadecimal ids, addresses
// http(s) URLs without credentials; CI_PROJECT_ID and CI_COMMIT_SHA are
// required, and the API address, when CI_API_V4_URL is missing, is
// CI_SERVER_URL/api/v4.
func GitLabFromEnv(getenv func(string) string) (*GitLab, error) {
	p := &envParser{getenv: getenv}
	g := &GitLab{
		ServerURL:      p.url("CI_SERVER_URL", false),
		APIURL:         p.url("CI_API_V4_URL", false),
		ProjectID:      p.number("CI_PROJECT_ID", true),
		ProjectPath:    p.projectPath("CI_PROJECT_PATH"),
		Workspace:      p.text("CI_PROJECT_DIR"),
		CommitSHA:      p.sha("CI_COMMIT_SHA", true),
		BeforeSHA:      p.sha("CI_COMMIT_BEFORE_SHA", false),
		Branch:         p.text("CI_COMMIT_BRANCH"),
		DefaultBranch:  p.text("CI_DEFAULT_BRANCH"),
		PipelineSource: p.text("CI_PIPELINE_SOURCE"),
		PipelineURL:    p.url("CI_PIPELINE_URL", false),
		JobURL:         p.url("CI_JOB_URL", false),
	}
	if g.APIURL == "" && g.ServerURL != "" {
		g.APIURL = g.ServerURL + "/api/v4"
	}
	if g.APIURL == "" && p.err == nil {
		p.fail("neither CI_API_V4_URL nor CI_SERVER_URL is set")
	}
	if g.Workspace != "" && !filepath.IsAbs(g.Workspace) && p.err == nil {
		p.fail(fmt.Sprintf("CI_PROJECT_DIR %q is not an absolute path", g.Workspace))
	}
	if iid := getenv("CI_MERGE_REQUEST_IID"); iid != "" {
		g.MergeRequest = &MergeRequest{
			IID:          p.number("CI_MERGE_REQUEST_IID", true),
			ProjectID:    p.number("CI_MERGE_REQUEST_PROJECT_ID", false),
			DiffBaseSHA:  p.sha("CI_MERGE_REQUEST_DIFF_BASE_SHA", false),
			TargetBranch: p.text("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
			SourceSHA:    p.sha("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", false),
			TargetSHA:    p.sha("CI_MERGE_REQUEST_TARGET_BRANCH_SHA", false),
		}
		if g.MergeRequest.ProjectID == 0 {
			g.MergeRequest.ProjectID = g.ProjectID
		}
	} else if g.PipelineSource == SourceMergeRequest && p.err == nil {
		p.fail("a merge request pipeline without CI_MERGE_REQUEST_IID")
	}
	if p.err != nil {
		return nil, p.err
	}
	if g.Workspace == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("reading the GitLab environment: %w", err)
		}
		g.Workspace = wd
	}
	g.Workspace = filepath.Clean(g.Workspace)
	return g, nil
}

// envParser reads variables and keeps the first problem.
type envParser struct {
	getenv func(string) string
	err    error
}

func (p *envParser) fail(msg string) {
	if p.err == nil {
		p.err = errors.New("reading the GitLab environment: " + msg)
	}
}

// text returns a variable that must hold no control characters.
func (p *envParser) text(name string) string {
	v := p.getenv(name)
	if len(v) > maxGitLabText {
		p.fail(fmt.Sprintf("%s is longer than %d bytes", name, maxGitLabText))
		return ""
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			p.fail(fmt.Sprintf("%s %q has a control character", name, v))
			return ""
		}
	}
	return v
}

// number returns a positive decimal integer, written without sign or
// leading zeros.
func (p *envParser) number(name string, required bool) int64 {
	v := p.getenv(name)
	if v == "" {
		if required {
			p.fail(name + " is not set")
		}
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || v[0] < '1' || v[0] > '9' {
		p.fail(fmt.Sprintf("%s %q is not a positive number", name, p.short(v)))
		return 0
	}
	return n
}

// sha returns a full commit id (the zero id included).
func (p *envParser) sha(name string, required bool) string {
	v := p.getenv(name)
	if v == "" {
		if required {
			p.fail(name + " is not set")
		}
		return ""
	}
	if !isSHA(v) {
		p.fail(fmt.Sprintf("%s %q is not a full commit id", name, p.short(v)))
		return ""
	}
	return v
}

// url returns an http or https address with a host and without user
// information, query or fragment, with any trailing slash removed.
func (p *envParser) url(name string, required bool) string {
	v := p.getenv(name)
	if v == "" {
		if required {
			p.fail(name + " is not set")
		}
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		p.fail(fmt.Sprintf("%s is not a URL", name))
	case u.User != nil:
		p.fail(fmt.Sprintf("%s must not carry credentials", name))
	case u.Scheme != "https" && u.Scheme != "http":
		p.fail(fmt.Sprintf("%s %q is not an http or https URL", name, p.short(v)))
	case u.Host == "" || u.Hostname() == "":
		p.fail(fmt.Sprintf("%s %q has no host", name, p.short(v)))
	case u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		p.fail(fmt.Sprintf("%s %q has a query or fragment", name, p.short(v)))
	default:
		return strings.TrimRight(v, "/")
	}
	return ""
}

// projectPath returns group/subgroup/project: elements of letters, digits,
// '.', '_' and '-', none of them "." or "..".
func (p *envParser) projectPath(name string) string {
	v := p.text(name)
	if v == "" {
		return ""
	}
	for _, el := range strings.Split(v, "/") {
		ok := el != "" && el != "." && el != ".."
		for _, r := range el {
			ok = ok && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
		}
		if !ok {
			p.fail(fmt.Sprintf("%s %q is not a project path (group/project)", name, p.short(v)))
			return ""
		}
	}
	return v
}

// short cuts a value quoted in an error to a readable length.
func (p *envParser) short(v string) string {
	if len(v) > 80 {
		return v[:80] + "..."
	}
	return v
}

// Head is the commit the job checked out and scans: CI_COMMIT_SHA (in a
// merged results pipeline, the merge of the merge request into its
// target).
func (g *GitLab) Head() string { return g.CommitSHA }

// Base is the commit the change is compared with, the one whose manifests
// are the "before" of a dependency diff, or "" when there is none: a merge
// request's diff base (in a merged results pipeline, the target branch's tip
// that was merged with); on a branch other than the default one, the
// branch's previous tip; "" on the default branch (a full scan), for a new
// branch, a tag, a schedule or a manual run.
func (g *GitLab) Base() string {
	if mr := g.MergeRequest; mr != nil {
		return or(mr.TargetSHA, mr.DiffBaseSHA)
	}
	if g.onDefaultBranch() || !isSHA(g.BeforeSHA) || g.BeforeSHA == zeroSHA {
		return ""
	}
	return g.BeforeSHA
}

// MergeRequestHead is the merge request's own head commit (the source
// branch's tip), the commit a note about the merge request names; "" outside
// a merge request pipeline.
func (g *GitLab) MergeRequestHead() string {
	if g.MergeRequest == nil {
		return ""
	}
	return or(g.MergeRequest.SourceSHA, g.CommitSHA)
}

func (g *GitLab) onDefaultBranch() bool {
	return g.MergeRequest == nil && g.Branch != "" && g.Branch == g.DefaultBranch
}

// BaseFiles reads files as the base commit has them, from git: Changes
// fetched that commit when the clone lacked it.
func (g *GitLab) BaseFiles(git *Git, commit string) *BaseFiles {
	return &BaseFiles{Git: git, Commit: commit}
}

// Changes works out what the pipeline changed.
//
// In a merge request pipeline: git diff from Base to Head, fetching a commit
// the shallow clone lacks from origin; when git cannot answer, mrChanges
// (the merge request diffs API; nil when there is no token or the run is
// offline); when neither can, the whole workspace, with both reasons. On the
// default branch, the whole workspace. On another branch, git diff from the
// branch's previous tip, else the whole workspace. Every fallback is logged
// and recorded in the Reason.
func (g *GitLab) Changes(ctx context.Context, git *Git, mrChanges func(context.Context) ([]Change, error), log *slog.Logger) (*Changes, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, head := g.Base(), g.Head()
	ch := &Changes{Base: base, Head: head}
	if mr := g.MergeRequest; mr != nil {
		var problems []string
		if base == "" {
			problems = append(problems, "git: the pipeline names no diff base (CI_MERGE_REQUEST_DIFF_BASE_SHA is not set)")
		} else {
			files, err := g.diff(ctx, git, base, head, log)
			if err == nil {
				ch.Files, ch.Reason = files, fmt.Sprintf("git diff %.12s..%.12s of merge request !%d", base, head, mr.IID)
				return ch, nil
			}
			log.Warn("git cannot list the merge request's changes; trying the GitLab API", "err", err)
			problems = append(problems, "git: "+err.Error())
		}
		if mrChanges == nil {
			problems = append(problems, "API: not asked (no token, or offline)")
		} else {
			files, err := mrChanges(ctx)
			if err == nil {
				err = checkChanges(files)
			}
			if err == nil {
				ch.Files, ch.Reason = files, fmt.Sprintf("the changes of merge request !%d, from the GitLab API", mr.IID)
				return ch, nil
			}
			log.Warn("the GitLab API cannot list the merge request's changes either; scanning the whole workspace", "err", err)
			problems = append(problems, "API: "+err.Error())
		}
		ch.All = true
		ch.Reason = fmt.Sprintf("the changes of merge request !%d could not be listed (%s): the whole workspace is scanned", mr.IID, strings.Join(problems, "; "))
		return ch, nil
	}
	switch {
	case g.onDefaultBranch():
		ch.All, ch.Reason = true, fmt.Sprintf("a pipeline on the default branch %s: the whole workspace is scanned", g.Branch)
		return ch, nil
	case base == "":
		ch.All, ch.Reason = true, fmt.Sprintf("the %s pipeline names no earlier commit to compare with (a new branch, a tag, a schedule or a manual run): the whole workspace is scanned", or(g.PipelineSource, "unknown"))
		return ch, nil
	}
	files, err := g.diff(ctx, git, base, head, log)
	if err != nil {
		log.Warn("git cannot list the change; scanning the whole workspace", "err", err)
		ch.All, ch.Reason = true, "the changed files could not be listed ("+err.Error()+"): the whole workspace is scanned"
		return ch, nil
	}
	ch.Files, ch.Reason = files, fmt.Sprintf("git diff %.12s..%.12s", base, head)
	return ch, nil
}

// diff lists the files changed from base to head, two commits whose trees
// are all git needs: a commit the clone lacks is fetched alone (a shallow
// clone's history cannot give a merge base, so none is computed; base is
// already one).
func (g *GitLab) diff(ctx context.Context, git *Git, base, head string, log *slog.Logger) ([]Change, error) {
	if git == nil || git.bin == "" {
		return nil, ErrNoGit
	}
	for _, c := range []string{base, head} {
		if git.HasCommit(ctx, c) {
			continue
		}
		log.Info("the clone lacks a commit; fetching it from origin", "commit", c)
		if err := git.FetchCommit(ctx, c); err != nil {
			return nil, fmt.Errorf("commit %.12s is not in the clone (GIT_DEPTH) and could not be fetched: %w", c, err)
		}
	}
	return git.Diff(ctx, base, head, false)
}

// checkChanges refuses a list from the API with a path that could leave the
// checkout, and an empty list: a merge request pipeline runs because
// something changed, and an empty answer is more likely a diff GitLab has not
// computed than no change at all.
func checkChanges(files []Change) error {
	if len(files) == 0 {
		return errors.New("the API lists no changes")
	}
	for _, f := range files {
		if err := checkRepoPath(f.Path); err != nil {
			return err
		}
		if f.Previous != "" {
			if err := checkRepoPath(f.Previous); err != nil {
				return err
			}
		}
	}
	return nil
}
