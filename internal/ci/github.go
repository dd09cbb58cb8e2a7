// Package ci works out where mlguard runs and what changed: the GitHub
// Actions environment and event, the files a pull request or push changed
// (from the API, else git, else everything, saying why), the base version of
// a changed file, and the action's inputs and file commands. It scans and
// reports nothing itself.
package ci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Event names this package understands; any other event scans the whole
// workspace.
const (
	EventPullRequest       = "pull_request"
	EventPullRequestTarget = "pull_request_target"
	EventPush              = "push"
	EventMergeGroup        = "merge_group"
	EventWorkflowDispatch  = "workflow_dispatch"
)

// maxEventBytes bounds the event payload read from GITHUB_EVENT_PATH; real
// payloads are a few tens of KiB.
const maxEventBytes = 16 << 20

// zeroSHA is what a push event names as "before" for a new branch and as
// "after" for a deleted one.
const zeroSHA = "0000000000000000000000000000000000000000"

// GitHub is a GitHub Actions run: the GITHUB_* variables and the parts of the
// event payload that say what changed.
type GitHub struct {
	EventName   string
	Owner, Repo string // GITHUB_REPOSITORY
	SHA         string // GITHUB_SHA: the commit checked out by default
	Ref         string
	Workspace   string
	APIURL      string
	ServerURL   string
	RunID       string
	RunAttempt  string
	OutputFile  string // GITHUB_OUTPUT
	SummaryFile string // GITHUB_STEP_SUMMARY

	// PullRequest is set for pull_request and pull_request_target.
	PullRequest *PullRequest
	// Before and After are the push event's range; After is the zero SHA
	// when the push deleted the branch.
	Before, After string
	// MergeBase and MergeHead are a merge_group's range.
	MergeBase, MergeHead string
}

// PullRequest is what mlguard needs of a pull request event.
type PullRequest struct {
	Number       int
	HeadSHA      string
	HeadRef      string
	HeadRepo     string // owner/name of the head repository
	BaseSHA      string
	BaseRef      string
	ChangedFiles int  // as counted by GitHub; 0 when the payload lacks it
	Fork         bool // the head repository is not the base repository
}

// InActions reports whether the process runs inside a GitHub Actions job.
func InActions(getenv func(string) string) bool { return getenv("GITHUB_ACTIONS") == "true" }

// FromEnv reads the run's variables and its event payload. Missing optional
// variables take GitHub.com's defaults; a missing or unreadable payload is
// an error only for events whose payload says what changed.
func FromEnv(getenv func(string) string) (*GitHub, error) {
	g := &GitHub{
		EventName:   getenv("GITHUB_EVENT_NAME"),
		SHA:         getenv("GITHUB_SHA"),
		Ref:         getenv("GITHUB_REF"),
		Workspace:   getenv("GITHUB_WORKSPACE"),
		APIURL:      or(getenv("GITHUB_API_URL"), "https://api.github.com"),
		ServerURL:   strings.TrimRight(or(getenv("GITHUB_SERVER_URL"), "https://github.com"), "/"),
		RunID:       getenv("GITHUB_RUN_ID"),
		RunAttempt:  getenv("GITHUB_RUN_ATTEMPT"),
		OutputFile:  getenv("GITHUB_OUTPUT"),
		SummaryFile: getenv("GITHUB_STEP_SUMMARY"),
	}
	repo := getenv("GITHUB_REPOSITORY")
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("reading the GitHub environment: GITHUB_REPOSITORY %q is not owner/name", repo)
	}
	g.Owner, g.Repo = owner, name
	if g.Workspace == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("reading the GitHub environment: %w", err)
		}
		g.Workspace = wd
	}
	switch g.EventName {
	case EventPullRequest, EventPullRequestTarget, EventPush, EventMergeGroup:
	default:
		return g, nil
	}
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return nil, fmt.Errorf("reading the %s event: GITHUB_EVENT_PATH is not set", g.EventName)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the %s event: %w", g.EventName, err)
	}
	defer f.Close()
	if err := g.parseEvent(io.LimitReader(f, maxEventBytes+1)); err != nil {
		return nil, fmt.Errorf("reading the %s event from %s: %w", g.EventName, path, err)
	}
	return g, nil
}

type eventRepo struct {
	FullName string `json:"full_name"`
}

type eventBranch struct {
	SHA  string    `json:"sha"`
	Ref  string    `json:"ref"`
	Repo eventRepo `json:"repo"`
}

// event holds the fields of the payloads this package reads; see
// https://docs.github.com/en/webhooks/webhook-events-and-payloads.
type event struct {
	Number      int `json:"number"`
	PullRequest *struct {
		Number       int         `json:"number"`
		Head         eventBranch `json:"head"`
		Base         eventBranch `json:"base"`
		ChangedFiles int         `json:"changed_files"`
	} `json:"pull_request"`
	Before     string `json:"before"`
	After      string `json:"after"`
	MergeGroup *struct {
		HeadSHA string `json:"head_sha"`
		BaseSHA string `json:"base_sha"`
	} `json:"merge_group"`
}

func (g *GitHub) parseEvent(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(b) > maxEventBytes {
		return fmt.Errorf("the payload is larger than %d bytes", maxEventBytes)
	}
	var ev event
	if err := json.Unmarshal(b, &ev); err != nil {
		return fmt.Errorf("decoding the payload: %w", err)
	}
	switch g.EventName {
	case EventPullRequest, EventPullRequestTarget:
		pr := ev.PullRequest
		if pr == nil {
			return errors.New("the payload has no pull_request")
		}
		n := pr.Number
		if n == 0 {
			n = ev.Number
		}
		if n <= 0 || !isSHA(pr.Head.SHA) || !isSHA(pr.Base.SHA) {
			return errors.New("the pull_request lacks its number or head and base commits")
		}
		g.PullRequest = &PullRequest{
			Number: n, HeadSHA: pr.Head.SHA, HeadRef: pr.Head.Ref, HeadRepo: pr.Head.Repo.FullName,
			BaseSHA: pr.Base.SHA, BaseRef: pr.Base.Ref, ChangedFiles: pr.ChangedFiles,
			Fork: pr.Head.Repo.FullName != "" && !strings.EqualFold(pr.Head.Repo.FullName, pr.Base.Repo.FullName),
		}
	case EventPush:
		if !isSHA(ev.After) {
			return errors.New("the push lacks its after commit")
		}
		g.Before, g.After = ev.Before, ev.After
	case EventMergeGroup:
		mg := ev.MergeGroup
		if mg == nil || !isSHA(mg.HeadSHA) || !isSHA(mg.BaseSHA) {
			return errors.New("the merge_group lacks its head and base commits")
		}
		g.MergeBase, g.MergeHead = mg.BaseSHA, mg.HeadSHA
	}
	return nil
}

// HeadSHA is the commit reports attach to: a pull request's head (a check
// run on the merge commit would not show on the pull request), else the
// pushed or queued commit, else GITHUB_SHA.
func (g *GitHub) HeadSHA() string {
	switch {
	case g.PullRequest != nil:
		return g.PullRequest.HeadSHA
	case g.MergeHead != "":
		return g.MergeHead
	case isSHA(g.After) && g.After != zeroSHA:
		return g.After
	}
	return g.SHA
}

// BaseSHA is the commit a change is compared with, or "" when there is none
// (a new branch, a manual run).
func (g *GitHub) BaseSHA() string {
	switch {
	case g.PullRequest != nil:
		return g.PullRequest.BaseSHA
	case g.MergeBase != "":
		return g.MergeBase
	case isSHA(g.Before) && g.Before != zeroSHA:
		return g.Before
	}
	return ""
}

// RunURL links to the workflow run, or "" when the run id is unknown.
func (g *GitHub) RunURL() string {
	if g.RunID == "" {
		return ""
	}
	u := fmt.Sprintf("%s/%s/%s/actions/runs/%s", g.ServerURL, g.Owner, g.Repo, g.RunID)
	if n, err := strconv.Atoi(g.RunAttempt); err == nil && n > 1 {
		u += "/attempts/" + g.RunAttempt
	}
	return u
}

// isSHA reports whether s is a full hexadecimal commit id (SHA-1 or SHA-256).
func isSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
