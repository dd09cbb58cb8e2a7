package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/mlguard/mlguard/internal/bom"
	"github.com/mlguard/mlguard/internal/ci"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/policy"
	"github.com/mlguard/mlguard/internal/report/gitlab"
	"github.com/mlguard/mlguard/internal/report/sarif"
)

// maxMRDiffPages bounds the merge request changes API (100 files a page).
const maxMRDiffPages = 30

// runGitLab is `mlguard ci` in a GitLab CI job: the merge request's changes
// (git against the diff base, fetched when the clone is shallow, else the
// merge request changes API), the reports as artifacts (Code Quality, SAST,
// CycloneDX, SARIF) and one merge request note kept up to date. The job's
// status follows the policy's decision.
func runGitLab(ctx context.Context, cfg ciConfig, filter *ci.Filter, pol *policy.Policy, stdout, stderr io.Writer, getenv func(string) string, log *slog.Logger) int {
	g, err := ci.GitLabFromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}
	var client *gl.Client
	if !cfg.Offline {
		client, err = gitlab.NewClient(g.APIURL, ci.GitLabToken(getenv))
		switch {
		case errors.Is(err, gitlab.ErrNoToken):
			fmt.Fprintln(stdout, "mlguard: no MLGUARD_GITLAB_TOKEN (or GITLAB_TOKEN): no merge request note; the reports are still written and the job still follows the policy. CI_JOB_TOKEN cannot write notes.")
		case err != nil:
			fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
			return ExitError
		}
	}
	git := ci.NewGit(g.Workspace)
	ch := &ci.Changes{All: true, Reason: "scope: all: the whole workspace is scanned"}
	if cfg.Scope != "all" {
		var mrChanges func(context.Context) ([]ci.Change, error)
		if client != nil && g.MergeRequest != nil {
			mrChanges = func(ctx context.Context) ([]ci.Change, error) { return mergeRequestChanges(ctx, client, g) }
		}
		if ch, err = g.Changes(ctx, git, mrChanges, log); err != nil {
			fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
			return ExitError
		}
		if ch.All {
			fmt.Fprintln(stdout, "mlguard: "+ch.Reason)
		}
	}
	reg, err := gathererFor(cfg.Inputs, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}
	var base baseReader
	if commit := g.Base(); commit != "" && cfg.Scope != "all" {
		base = g.BaseFiles(git, commit).Read
	}
	check := func(paths []string) ([]finding.Package, []finding.Finding) {
		return checkDependencies(ctx, g.Workspace, paths, base, reg, pol.Thresholds(), time.Now(), log)
	}
	start := time.Now()
	res, err := scanChanges(ctx, g.Workspace, ch, filter, pol, cfg.jobs, true, check, log)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}
	end := time.Now()
	code := report(res, scanFlags{format: "text", verbose: cfg.verbose, noColor: true}, stdout, stderr, "mlguard ci")
	if code == ExitError {
		return ExitError
	}

	// Reports: a report that cannot be written is a warning; the job
	// still follows the decision.
	var problems []string
	when, deterministic, err := bomTime(getenv)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if deterministic {
		start, end = when, when
	}
	write := func(name string, fn func(io.Writer) error) {
		if name == "" {
			return
		}
		if err := writeReportFile(g.Workspace, name, fn); err != nil {
			problems = append(problems, err.Error())
		}
	}
	write(cfg.codeQualityFile, func(w io.Writer) error { return gitlab.WriteCodeQuality(w, res) })
	write(cfg.sastFile, func(w io.Writer) error {
		return gitlab.WriteSAST(w, res, gitlab.SASTOptions{StartTime: start, EndTime: end, ToolVersion: Version})
	})
	write(cfg.SARIFFile, func(w io.Writer) error { return sarif.Write(w, res, sarif.Options{}) })
	if cfg.BOMFile != "" {
		repo := bom.Repo{Name: g.ProjectPath, Commit: g.CommitSHA}
		if g.ServerURL != "" && g.ProjectPath != "" {
			repo.URL = g.ServerURL + "/" + g.ProjectPath
		}
		if err := writeBOM(ctx, g.Workspace, cfg, res, repo, bomScope(ch), getenv); err != nil {
			problems = append(problems, "the ML-BOM could not be written: "+err.Error())
		}
	}

	if mr := g.MergeRequest; client != nil && mr != nil && cfg.Comment != "false" {
		ctx, cancel := context.WithTimeout(ctx, publishTimeout)
		defer cancel()
		projectURL := ""
		if g.ServerURL != "" && g.ProjectPath != "" {
			projectURL = g.ServerURL + "/" + g.ProjectPath
		}
		action, err := gitlab.UpsertNote(ctx, client, strconv.FormatInt(mr.ProjectID, 10), mr.IID, res, gitlab.NoteOptions{
			ProjectURL: projectURL, HeadSHA: g.MergeRequestHead(), PipelineURL: g.PipelineURL, Always: cfg.Comment == "always",
		})
		if err != nil {
			problems = append(problems, "the merge request note could not be updated: "+err.Error())
		} else {
			log.Info("merge request note", "action", action)
		}
	}
	if len(problems) > 0 {
		fmt.Fprintln(stdout, "mlguard: some reports could not be published; the job log above has every finding:\n  "+strings.Join(problems, "\n  "))
	}
	if res.Decision == finding.Fail {
		return ExitFail
	}
	return ExitPass
}

// mergeRequestChanges lists the files a merge request changes through the
// merge request diffs API, paginated and bounded.
func mergeRequestChanges(ctx context.Context, client *gl.Client, g *ci.GitLab) ([]ci.Change, error) {
	var out []ci.Change
	opt := &gl.ListMergeRequestDiffsOptions{ListOptions: gl.ListOptions{PerPage: 100, Page: 1}}
	for page := 0; page < maxMRDiffPages; page++ {
		diffs, resp, err := client.MergeRequests.ListMergeRequestDiffs(g.MergeRequest.ProjectID, g.MergeRequest.IID, opt, gl.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("listing the changes of merge request !%d: %w", g.MergeRequest.IID, err)
		}
		for _, d := range diffs {
			c := ci.Change{Path: d.NewPath, Status: "modified"}
			switch {
			case d.DeletedFile:
				c.Path, c.Status = d.OldPath, "removed"
			case d.NewFile:
				c.Status = "added"
			case d.RenamedFile:
				c.Status, c.Previous = "renamed", d.OldPath
			}
			out = append(out, c)
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
	return nil, fmt.Errorf("merge request !%d changes more than %d files", g.MergeRequest.IID, maxMRDiffPages*100)
}
