package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v82/github"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/githubapi"
	"github.com/mlguard/mlguard/internal/report/markdown"
)

// CommentMarker starts the pull request comment, so that later runs find it
// again and update it rather than add another.
const CommentMarker = "<!-- mlguard:pr-comment -->"

// Limits of the pull request comment.
const (
	// maxCommentBytes bounds the comment's body (GitHub accepts 65536
	// characters; a byte is never less than one).
	maxCommentBytes = 65536
	// commentsPerPage and maxCommentPages bound the search for an
	// existing comment to the first 5000 comments of a pull request.
	commentsPerPage = 100
	maxCommentPages = 50
)

// CommentOptions say where the comment's links lead and when to post it.
type CommentOptions struct {
	ServerURL string // GITHUB_SERVER_URL, for links to files at HeadSHA: {server}/{owner}/{repo}/blob/{sha}/{path}
	Repo      Repo
	HeadSHA   string
	RunURL    string // the workflow run
	Always    bool   // post an "all clear" comment even when no comment existed yet
}

// CommentAction is what UpsertComment did.
type CommentAction string

// The values of CommentAction.
const (
	CommentCreated   CommentAction = "created"
	CommentUpdated   CommentAction = "updated"
	CommentUnchanged CommentAction = "unchanged" // the comment already said the same
	CommentNone      CommentAction = "none"      // no comment, and nothing worth one
)

// RenderComment is the Markdown of the pull request comment: CommentMarker,
// the decision and counts, a table of the findings (rule linked to its
// documentation, file to its blob at opts.HeadSHA), for each finding a
// collapsed block with the evidence and what to do, the skipped files, the
// link to the workflow run and the tool version. When there is nothing to
// report, a short "all clear". It is at most 65536 bytes: the least severe
// rows are dropped whole, with a note, when the findings do not all fit. A
// nil result renders as one without a decision.
func RenderComment(r *finding.Result, opts CommentOptions) string {
	if r == nil {
		r = &finding.Result{}
	}
	tail := ""
	if u := markdown.SafeURL(opts.RunURL); u != "" {
		tail = "\n[Workflow run](" + u + ")\n"
	}
	if len(r.Findings) == 0 && r.Decision == finding.Pass {
		return CommentMarker + "\n## ✅ mlguard: all clear\n\n" + markdown.Counts(r, false) + tail + footer(r.Tool)
	}
	blob := blobBase(opts)
	l := layout{
		head:           CommentMarker + "\n" + heading(r),
		row:            func(f finding.Finding) string { return tableRow(f, fileCell(f, blob)) },
		details:        commentDetails,
		detailsHeading: "\n### Details\n",
		omitted: func(n int) string {
			return omittedNote(n, "a comment is limited in size. The job summary of the workflow run and the SARIF report list every finding.")
		},
		skipped: r.Skipped,
		waived:  r.Waived,
		tail:    tail,
		foot:    footer(r.Tool),
		limit:   maxCommentBytes,
	}
	out, _, err := l.render(finding.BySeverity(r.Findings))
	if err != nil { // a run URL or tool name of tens of kilobytes
		return CommentMarker + "\n" + heading(r)
	}
	return out
}

// commentDetails is a finding's evidence and what to do about it, collapsed.
func commentDetails(f finding.Finding) string {
	more := ""
	if known, ok := finding.Lookup(f.Rule); ok {
		more = "**What to do.** " + md(known.Remediation) + " [More about " + md(known.ID) + "](" + known.HelpURL() + ")\n\n"
	}
	if more == "" && f.Evidence == "" {
		return ""
	}
	return detailsBlock(f, more)
}

// fileCell is the File cell of a finding: its path linked to the file at
// the head commit when blob is set, then the archive member.
func fileCell(f finding.Finding, blob string) string {
	if blob == "" || f.Path == "" {
		return md(location(f))
	}
	u := blob + markdown.EscapePath(f.Path)
	if f.Line > 0 {
		u += "#L" + strconv.Itoa(f.Line)
	}
	cell := "[" + md(f.Path) + "](" + u + ")"
	if f.Member != "" {
		cell += md("!" + markdown.Clip(f.Member, maxText))
	}
	return cell
}

// blobBase is "{server}/{owner}/{repo}/blob/{sha}/", or "" when opts lack
// any of them.
func blobBase(opts CommentOptions) string {
	server := markdown.SafeURL(strings.TrimRight(opts.ServerURL, "/"))
	if server == "" || opts.HeadSHA == "" || opts.Repo.validate() != nil {
		return ""
	}
	return server + "/" + opts.Repo.Owner + "/" + opts.Repo.Name + "/blob/" + markdown.EscapePath(opts.HeadSHA) + "/"
}

// UpsertComment keeps one mlguard comment on pull request number up to date.
// It lists the pull request's comments (at most 5000) for mlguard's own (see
// findComment), and then:
// leaves it when it already says the same (CommentUnchanged), or edits it
// (CommentUpdated); without one, it posts a new comment when there are
// findings or opts.Always is set (CommentCreated), and otherwise does nothing
// (CommentNone). It never posts a second comment: when the search was cut
// short, it returns an error rather than create one. Errors from go-github
// are wrapped, so githubapi.StatusCode still finds their status.
func UpsertComment(ctx context.Context, c *gh.Client, number int, r *finding.Result, opts CommentOptions) (CommentAction, error) {
	switch {
	case c == nil:
		return CommentNone, errors.New("updating pull request comment: nil client")
	case r == nil:
		return CommentNone, errors.New("updating pull request comment: nil result")
	case number <= 0:
		return CommentNone, fmt.Errorf("updating pull request comment: invalid pull request number %d", number)
	}
	repo := opts.Repo
	if err := repo.validate(); err != nil {
		return CommentNone, fmt.Errorf("updating pull request comment: %w", err)
	}
	body := RenderComment(r, opts)
	existing, complete, err := findComment(ctx, c, repo, number)
	if err != nil {
		return CommentNone, err
	}
	switch {
	case existing != nil && existing.GetBody() == body:
		return CommentUnchanged, nil
	case existing != nil:
		if _, _, err := c.Issues.EditComment(ctx, repo.Owner, repo.Name, existing.GetID(), &gh.IssueComment{Body: &body}); err != nil {
			return CommentNone, fmt.Errorf("updating comment %d on %s#%d: %w", existing.GetID(), repo, number, err)
		}
		return CommentUpdated, nil
	case len(r.Findings) == 0 && !opts.Always:
		return CommentNone, nil
	case !complete:
		return CommentNone, fmt.Errorf("creating comment on %s#%d: not searched beyond the first %d comments, so one may exist already",
			repo, number, commentsPerPage*maxCommentPages)
	}
	// A server error after a POST does not prove that nothing was posted:
	// no retry then, lest there be two comments.
	if _, _, err := c.Issues.CreateComment(githubapi.WithoutServerErrorRetries(ctx), repo.Owner, repo.Name, number, &gh.IssueComment{Body: &body}); err != nil {
		return CommentNone, fmt.Errorf("creating comment on %s#%d: %w", repo, number, err)
	}
	return CommentCreated, nil
}

// findComment returns mlguard's earlier comment, or nil; complete is false
// when there were more comments than it looked at. A comment is mlguard's
// when its body starts with CommentMarker and a bot posted it (the workflow's
// token posts as github-actions[bot], an app's token as the app), or, when no
// bot did, the token's own user (a personal access token). Anyone can write
// the marker: a comment by anyone else is never taken for mlguard's, lest a
// pull request's author have the report written into a comment they can
// edit back, or keep it from being posted at all. The token's user is asked
// for (GET /user) only when a user's comment carries the marker.
func findComment(ctx context.Context, c *gh.Client, repo Repo, number int) (found *gh.IssueComment, complete bool, err error) {
	var byUsers []*gh.IssueComment
	opt := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: commentsPerPage}}
	for range maxCommentPages {
		comments, resp, err := c.Issues.ListComments(ctx, repo.Owner, repo.Name, number, opt)
		if err != nil {
			return nil, false, fmt.Errorf("listing comments on %s#%d: %w", repo, number, err)
		}
		for _, cm := range comments {
			if !strings.HasPrefix(cm.GetBody(), CommentMarker) {
				continue
			}
			if cm.GetUser().GetType() == "Bot" {
				return cm, true, nil
			}
			byUsers = append(byUsers, cm)
		}
		if resp.NextPage == 0 {
			complete = true
			break
		}
		opt.Page = resp.NextPage
	}
	if len(byUsers) == 0 {
		return nil, complete, nil
	}
	me, _, err := c.Users.Get(ctx, "")
	if err != nil {
		var primary *gh.RateLimitError
		var secondary *gh.AbuseRateLimitError
		switch status := githubapi.StatusCode(err); {
		case errors.As(err, &primary) || errors.As(err, &secondary):
		case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound:
			// An installation token (the workflow's) has no user: only a
			// bot's comment can be mlguard's.
			return nil, complete, nil
		}
		return nil, false, fmt.Errorf("finding out which comment on %s#%d is mlguard's: %w", repo, number, err)
	}
	for _, cm := range byUsers {
		if me.GetLogin() != "" && strings.EqualFold(cm.GetUser().GetLogin(), me.GetLogin()) {
			return cm, true, nil
		}
	}
	return nil, complete, nil
}
