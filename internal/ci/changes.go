package ci

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"strings"

	"github.com/google/go-github/v82/github"
)

// GitHub's own limits on the lists of changed files.
const (
	// maxPRFiles is the most files the pull request files API lists
	// (https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files).
	maxPRFiles = 3000
	// maxCompareFiles is the most files the compare API lists.
	maxCompareFiles = 300
	perPage         = 100
)

// Change is one changed file, relative to the repository root with forward
// slashes.
type Change struct {
	Path     string
	Status   string // added, modified, renamed, copied, changed, removed, unchanged
	Previous string // the old path of a renamed or copied file
}

// Changes is what a run scans: a list of files, or, when that cannot be
// known, the whole workspace and the reason.
type Changes struct {
	All    bool
	Reason string // why All, or where Files came from
	Files  []Change
	Base   string // the commit the change is compared with, "" if none
	Head   string
}

// Scanned returns the paths that exist after the change: everything but
// removed files.
func (c *Changes) Scanned() []string {
	var out []string
	for _, f := range c.Files {
		if f.Status != "removed" {
			out = append(out, f.Path)
		}
	}
	return out
}

// Changes works out what the run changed. client may be nil (offline): the
// lists then come from git alone. Every fallback is logged and recorded in
// the Reason, so that the report can say why more than the change was
// scanned.
func (g *GitHub) Changes(ctx context.Context, client *github.Client, git *Git, log *slog.Logger) (*Changes, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, head := g.BaseSHA(), g.HeadSHA()
	ch := &Changes{Base: base, Head: head}
	switch {
	case g.PullRequest != nil:
		pr := g.PullRequest
		if client != nil {
			files, err := g.prFiles(ctx, client, pr.Number)
			switch {
			case err != nil:
				log.Warn("listing the pull request's files failed; trying git", "err", err)
			case len(files) >= maxPRFiles || pr.ChangedFiles > len(files):
				log.Warn("the pull request changes more files than the API lists; trying git",
					"listed", len(files), "changed", pr.ChangedFiles)
			default:
				ch.Files, ch.Reason = files, fmt.Sprintf("the files of pull request #%d", pr.Number)
				return ch, nil
			}
		}
	case g.EventName == EventPush && g.After == zeroSHA:
		ch.Reason = "the push deleted the branch: nothing to scan"
		return ch, nil
	case g.EventName == EventPush && base == "":
		ch.All, ch.Reason = true, "the push created the branch, so there is no earlier commit to compare with: the whole workspace is scanned"
		return ch, nil
	case g.EventName == EventPush || g.EventName == EventMergeGroup:
		if client != nil {
			files, err := g.compareFiles(ctx, client, base, head)
			switch {
			case err != nil:
				log.Warn("comparing the commits through the API failed; trying git", "err", err)
			case len(files) >= maxCompareFiles:
				log.Warn("the change has more files than the compare API lists; trying git", "listed", len(files))
			default:
				ch.Files, ch.Reason = files, fmt.Sprintf("the files changed between %.12s and %.12s", base, head)
				return ch, nil
			}
		}
	default:
		ch.All, ch.Reason = true, fmt.Sprintf("the %s event names no change: the whole workspace is scanned", or(g.EventName, "unknown"))
		return ch, nil
	}
	// The API could not say; git can when the history is there.
	files, err := git.Diff(ctx, base, head, g.PullRequest != nil)
	if err != nil {
		log.Warn("git cannot list the change either; scanning the whole workspace", "err", err)
		ch.All, ch.Reason = true, "the changed files could not be listed ("+err.Error()+"): the whole workspace is scanned"
		return ch, nil
	}
	ch.Files, ch.Reason = files, fmt.Sprintf("git diff %.12s...%.12s", base, head)
	return ch, nil
}

// prFiles lists every file of a pull request, page by page, up to the API's
// limit.
func (g *GitHub) prFiles(ctx context.Context, client *github.Client, number int) ([]Change, error) {
	var out []Change
	opt := &github.ListOptions{PerPage: perPage}
	for pages := 0; pages < maxPRFiles/perPage+1; pages++ {
		files, resp, err := client.PullRequests.ListFiles(ctx, g.Owner, g.Repo, number, opt)
		if err != nil {
			return nil, fmt.Errorf("listing the files of pull request #%d: %w", number, err)
		}
		for _, f := range files {
			c, err := change(f)
			if err != nil {
				return nil, fmt.Errorf("listing the files of pull request #%d: %w", number, err)
			}
			out = append(out, c)
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return out, nil
}

// compareFiles lists the files changed between two commits.
func (g *GitHub) compareFiles(ctx context.Context, client *github.Client, base, head string) ([]Change, error) {
	cmp, _, err := client.Repositories.CompareCommits(ctx, g.Owner, g.Repo, base, head, &github.ListOptions{PerPage: perPage})
	if err != nil {
		return nil, fmt.Errorf("comparing %.12s...%.12s: %w", base, head, err)
	}
	if len(cmp.Files) == 0 && cmp.GetStatus() != "identical" {
		// Commits apart but no files: a list the API left out, not an empty change.
		return nil, fmt.Errorf("comparing %.12s...%.12s: the API lists no files for a %q comparison", base, head, cmp.GetStatus())
	}
	var out []Change
	for _, f := range cmp.Files {
		c, err := change(f)
		if err != nil {
			return nil, fmt.Errorf("comparing %.12s...%.12s: %w", base, head, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func change(f *github.CommitFile) (Change, error) {
	c := Change{Path: f.GetFilename(), Status: f.GetStatus(), Previous: f.GetPreviousFilename()}
	if err := checkRepoPath(c.Path); err != nil {
		return Change{}, err
	}
	return c, nil
}

// checkRepoPath refuses a path that could leave the checkout: absolute,
// with a ".." element, a backslash, or a control character. GitHub never
// sends one, but the answer comes over the network.
func checkRepoPath(p string) error {
	bad := p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") || path.Clean(p) != p
	for _, el := range strings.Split(p, "/") {
		bad = bad || el == ".." || el == "." || el == ".git"
	}
	for _, r := range p {
		bad = bad || r < 0x20 || r == 0x7f
	}
	if bad {
		return fmt.Errorf("unsafe repository path %q", p)
	}
	return nil
}
