package cli

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v82/github"

	"github.com/mlguard/mlguard/internal/bom"
	"github.com/mlguard/mlguard/internal/ci"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/githubapi"
	"github.com/mlguard/mlguard/internal/policy"
	"github.com/mlguard/mlguard/internal/report/github"
	"github.com/mlguard/mlguard/internal/report/sarif"
	"github.com/mlguard/mlguard/internal/scan"
)

const ciUsage = `Usage: mlguard ci [flags]

Scans what a change touched and reports where the CI shows it.

In a GitHub Actions job (GITHUB_ACTIONS=true) it reads the event, takes the
action's inputs from INPUT_* variables (flags override them) and writes
annotations, a check run, one pull request comment, the job summary, the step
outputs and a SARIF file.

In a GitLab CI/CD job (GITLAB_CI=true) it scans what the merge request
changes (the whole project on the default branch), prints the report, writes
the --code-quality-file, --sast-file, --bom-file and --sarif-file reports and,
with a token in MLGUARD_GITLAB_TOKEN or GITLAB_TOKEN, keeps one merge request
note up to date.

Anywhere else it scans the files changed since --base (or the whole folder)
and prints the report.

Exit status: 0 passes, 1 fails, 2 is an error.

Flags:
`

// publishTimeout bounds the check run and the comment together.
const publishTimeout = 5 * time.Minute

// ciConfig is the inputs after the flags have overridden them.
type ciConfig struct {
	ci.Inputs
	scanFlags
	base string
	// GitLab's report artifacts (relative to the workspace; "" writes none).
	codeQualityFile, sastFile string
}

func runCI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runCIEnv(ctx, args, stdout, stderr, os.Getenv)
}

// runCIEnv is runCI with the environment as a function, for tests.
func runCIEnv(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	inputs, inErr := ci.ReadInputs(getenv)
	cfg := ciConfig{Inputs: inputs}
	fs := flag.NewFlagSet("mlguard ci", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Policy, "policy", cfg.Policy, "policy `NAME|FILE`: default, strict, audit or a policy file (default: the repository's .mlguard.yaml, else default)")
	fs.StringVar(&cfg.Scope, "scope", cfg.Scope, "what to scan: changed (the files the change touched) or all (the whole workspace)")
	paths := fs.String("paths", strings.Join(cfg.Paths, ","), "comma-separated `GLOBS`: scan only changed files that match")
	exclude := fs.String("exclude", strings.Join(cfg.Exclude, ","), "comma-separated `GLOBS`: never scan files that match")
	fs.StringVar(&cfg.FailOn, "fail-on", cfg.FailOn, "lowest severity that fails the run, for models and packages alike, or never (default: the policy's)")
	fs.StringVar(&cfg.Comment, "comment", cfg.Comment, "pull request comment: true (when there are findings, kept up to date), always, or false")
	fs.BoolVar(&cfg.CheckRun, "check-run", cfg.CheckRun, "create the mlguard check run")
	fs.StringVar(&cfg.SARIFFile, "sarif-file", cfg.SARIFFile, "also write SARIF to `FILE` (relative to the workspace)")
	fs.StringVar(&cfg.BOMFile, "bom-file", cfg.BOMFile, "also write the CycloneDX ML-BOM of what was scanned to `FILE` (relative to the workspace)")
	fs.StringVar(&cfg.BOMSpec, "bom-spec", cfg.BOMSpec, "CycloneDX `VERSION` of the ML-BOM: 1.6 or 1.7")
	fs.StringVar(&cfg.codeQualityFile, "code-quality-file", "", "GitLab: write the Code Quality report (artifacts:reports:codequality) to `FILE`")
	fs.StringVar(&cfg.sastFile, "sast-file", "", "GitLab: write the SAST security report, schema 15.2 (artifacts:reports:sast), to `FILE`")
	fs.BoolVar(&cfg.Offline, "offline", cfg.Offline, "make no network call (changed files come from git)")
	fs.StringVar(&cfg.base, "base", "", "outside GitHub Actions: scan the files changed since this git `REF` (default: the whole folder)")
	cfg.register(fs, "outside GitHub Actions: report format, text, json or sarif")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), ciUsage)
		fs.PrintDefaults()
	}
	rest, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitPass
	}
	if err != nil {
		return ExitError
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mlguard ci: "+format+"\n", a...)
		return ExitError
	}
	if len(rest) > 0 {
		return fail("unexpected argument %q: use --paths to choose files", rest[0])
	}
	if inErr != nil {
		return fail("%v", inErr)
	}
	cfg.Paths, cfg.Exclude = ci.List(*paths), ci.List(*exclude)
	switch cfg.Comment {
	case "true", "false", "always":
	default:
		return fail("--comment %q: want true, false or always", cfg.Comment)
	}
	if cfg.Scope != "changed" && cfg.Scope != "all" {
		return fail("--scope %q: want changed or all", cfg.Scope)
	}
	switch cfg.format {
	case "text", "json", "sarif":
	default:
		return fail("--format %q: want text, json or sarif", cfg.format)
	}
	filter, err := ci.NewFilter(cfg.Paths, cfg.Exclude)
	if err != nil {
		return fail("paths: %v", err)
	}
	level := slog.LevelWarn
	if cfg.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	dir, err := os.Getwd()
	if err != nil {
		return fail("%v", err)
	}
	switch {
	case ci.InActions(getenv) && getenv("GITHUB_WORKSPACE") != "":
		dir = getenv("GITHUB_WORKSPACE")
	case ci.InGitLab(getenv) && getenv("CI_PROJECT_DIR") != "":
		dir = getenv("CI_PROJECT_DIR")
	}
	pol, err := choosePolicy(cfg.Policy, cfg.FailOn, dir)
	if err != nil {
		return fail("%v", err)
	}
	if ci.InActions(getenv) {
		return runGitHubActions(ctx, cfg, filter, pol, stdout, stderr, getenv, log)
	}
	if ci.InGitLab(getenv) {
		return runGitLab(ctx, cfg, filter, pol, stdout, stderr, getenv, log)
	}
	return runLocalCI(ctx, cfg, filter, pol, stdout, stderr, log)
}

// runLocalCI is `mlguard ci` in a plain checkout: git says what changed.
func runLocalCI(ctx context.Context, cfg ciConfig, filter *ci.Filter, pol *policy.Policy, stdout, stderr io.Writer, log *slog.Logger) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}
	ch := &ci.Changes{All: true, Reason: "no --base given: the whole folder is scanned"}
	if cfg.base != "" && cfg.Scope == "all" {
		fmt.Fprintln(stderr, "mlguard ci: --base and --scope all contradict each other")
		return ExitError
	}
	if cfg.base != "" {
		files, err := ci.NewGit(wd).DiffRef(ctx, cfg.base)
		if err != nil {
			fmt.Fprintf(stderr, "mlguard ci: --base %s: %v\n", cfg.base, err)
			return ExitError
		}
		ch = &ci.Changes{Files: files, Reason: "the files changed since " + cfg.base}
	}
	log.Info("scanning", "scope", ch.Reason)
	var base baseReader
	if cfg.base != "" {
		git := ci.NewGit(wd)
		base = func(ctx context.Context, p string) ([]byte, error) {
			return git.ShowMergeBase(ctx, cfg.base, p, ci.MaxBaseFile)
		}
	}
	g, err := gathererFor(cfg.Inputs, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}
	check := func(paths []string) ([]finding.Package, []finding.Finding) {
		return checkDependencies(ctx, wd, paths, base, g, pol.Thresholds(), time.Now(), log)
	}
	res, err := scanChanges(ctx, wd, ch, filter, pol, cfg.jobs, cfg.format != "text" || cfg.SARIFFile != "" || cfg.BOMFile != "" || needsHashes(pol), check, log)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}
	if cfg.SARIFFile != "" {
		if err := writeReportFile(wd, cfg.SARIFFile, func(w io.Writer) error { return sarif.Write(w, res, sarif.Options{}) }); err != nil {
			fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
			return ExitError
		}
	}
	if cfg.BOMFile != "" {
		if err := writeBOM(ctx, wd, cfg, res, localRepo(ctx, wd), bomScope(ch), os.Getenv); err != nil {
			fmt.Fprintf(stderr, "mlguard ci: the ML-BOM could not be written: %v\n", err)
		}
	}
	return report(res, cfg.scanFlags, stdout, stderr, "mlguard ci")
}

// runGitHubActions is the action's entry point.
func runGitHubActions(ctx context.Context, cfg ciConfig, filter *ci.Filter, pol *policy.Policy, stdout, stderr io.Writer, getenv func(string) string, log *slog.Logger) int {
	g, err := ci.FromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}
	var client *gh.Client
	if !cfg.Offline {
		if cfg.Token == "" {
			_ = github.WriteMessage(stdout, github.LevelWarning, "No GitHub token: the changed files come from git, and there is no check run or pull request comment. Pass github-token (it defaults to the workflow's token).")
		} else {
			client, err = githubapi.New(githubapi.Options{BaseURL: g.APIURL, Token: cfg.Token, Logger: log, UserAgent: "mlguard/" + Version})
			if err != nil {
				fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
				return ExitError
			}
		}
	}
	ch := &ci.Changes{All: true, Reason: "scope: all: the whole workspace is scanned", Base: g.BaseSHA(), Head: g.HeadSHA()}
	if cfg.Scope != "all" {
		ch, err = g.Changes(ctx, client, ci.NewGit(g.Workspace), log)
		if err != nil {
			fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
			return ExitError
		}
	}
	if ch.All && cfg.Scope != "all" {
		_ = github.WriteMessage(stdout, github.LevelNotice, ch.Reason)
	}
	if pr := g.PullRequest; pr != nil && g.EventName == ci.EventPullRequestTarget {
		if head := ci.Head(g.Workspace); head != pr.HeadSHA {
			_ = github.WriteMessage(stdout, github.LevelWarning, "pull_request_target: the checkout is not the pull request's head commit, so the files scanned are not the ones the pull request adds. "+
				"Check out ref ${{ github.event.pull_request.head.sha }} before mlguard (it never runs what it scans; make sure no later step does either). Files missing from the checkout are reported as scan/incomplete.")
		}
	}
	if cfg.CacheDir != "" && !filepath.IsAbs(cfg.CacheDir) {
		cfg.CacheDir = filepath.Join(g.Workspace, cfg.CacheDir)
	}
	reg, err := gathererFor(cfg.Inputs, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}
	var base baseReader // scope: all checks every package, not only the changed ones
	if commit := ch.Base; commit != "" && cfg.Scope != "all" {
		bf := &ci.BaseFiles{GitHub: g, Client: client, Git: ci.NewGit(g.Workspace), Commit: commit}
		base = bf.Read
	}
	check := func(paths []string) ([]finding.Package, []finding.Finding) {
		return checkDependencies(ctx, g.Workspace, paths, base, reg, pol.Thresholds(), time.Now(), log)
	}
	res, err := scanChanges(ctx, g.Workspace, ch, filter, pol, cfg.jobs, true, check, log)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}

	// The log: the text report for people, then one command per finding. The
	// report prints file names and model strings at the start of a line,
	// where the runner would take "::name::" for a workflow command, so
	// command processing is stopped around it with a token no input can guess.
	token, err := stopToken()
	if err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}
	fmt.Fprintf(stdout, "::stop-commands::%s\n", token)
	code := report(res, scanFlags{format: "text", verbose: cfg.verbose, noColor: true}, stdout, stderr, "mlguard ci")
	fmt.Fprintf(stdout, "::%s::\n", token)
	if code == ExitError {
		return ExitError
	}
	if err := github.WriteAnnotations(stdout, res, github.AnnotationOptions{}); err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}
	code = ExitPass
	if res.Decision == finding.Fail {
		code = ExitFail
	}
	var problems []string // what could not be written; the job goes on
	var summary bytes.Buffer
	if err := github.WriteSummary(&summary, res, github.SummaryOptions{MaxBytes: github.DefaultSummaryMaxBytes - 4<<10}); err != nil {
		problems = append(problems, err.Error())
	} else {
		summary.WriteString("\n<sub>Scope: " + github.MarkdownText(ch.Reason, 1<<10) + ".</sub>\n")
		if err := ci.AppendSummary(g.SummaryFile, summary.String()); err != nil {
			problems = append(problems, err.Error())
		}
	}
	sarifOut := ""
	if cfg.SARIFFile != "" {
		if err := writeReportFile(g.Workspace, cfg.SARIFFile, func(w io.Writer) error { return sarif.Write(w, res, sarif.Options{}) }); err != nil {
			fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
			return ExitError
		}
		sarifOut = cfg.SARIFFile
	}
	bomOut := ""
	if cfg.BOMFile != "" {
		// The commit is the one checked out and scanned (a pull request's
		// merge commit), falling back to the event's.
		repo := bom.Repo{Name: g.Owner + "/" + g.Repo, Commit: cmp.Or(ci.Head(g.Workspace), g.HeadSHA())}
		if g.ServerURL != "" && g.Owner != "" {
			repo.URL = strings.TrimSuffix(g.ServerURL, "/") + "/" + g.Owner + "/" + g.Repo
		}
		if err := writeBOM(ctx, g.Workspace, cfg, res, repo, bomScope(ch), getenv); err != nil {
			problems = append(problems, "the ML-BOM could not be written: "+err.Error())
		} else {
			bomOut = cfg.BOMFile
		}
	}

	if client != nil {
		// Publishing is bounded as a whole: retries and rate-limit waits
		// must not hold the job for ever.
		ctx, cancel := context.WithTimeout(ctx, publishTimeout)
		defer cancel()
		repo := github.Repo{Owner: g.Owner, Name: g.Repo}
		if cfg.CheckRun {
			_, err := github.PublishCheckRun(ctx, client, repo, res, github.CheckRunOptions{HeadSHA: g.HeadSHA(), DetailsURL: g.RunURL()})
			if err != nil {
				problems = append(problems, apiProblem("create the check run", "checks: write", err))
			}
		}
		if pr := g.PullRequest; pr != nil && cfg.Comment != "false" {
			action, err := github.UpsertComment(ctx, client, pr.Number, res, github.CommentOptions{
				ServerURL: g.ServerURL, Repo: repo, HeadSHA: pr.HeadSHA, RunURL: g.RunURL(), Always: cfg.Comment == "always",
			})
			if err != nil {
				problems = append(problems, apiProblem("update the pull request comment", "pull-requests: write", err))
			} else {
				log.Info("pull request comment", "action", action)
			}
		}
	}
	if len(problems) > 0 {
		_ = github.WriteMessage(stdout, github.LevelWarning, "Some reports could not be published; the annotations and the job summary have every finding.\n"+strings.Join(problems, "\n"))
	}
	outputs := [][2]string{
		{"decision", res.Decision},
		{"findings", strconv.Itoa(len(res.Findings))},
		{"sarif-file", sarifOut},
		{"bom-file", bomOut},
	}
	if err := ci.WriteOutputs(g.OutputFile, outputs); err != nil {
		fmt.Fprintf(stderr, "mlguard ci: %v\n", err)
		return ExitError
	}
	return code
}

// writeBOM writes the ML-BOM of what the run scanned to cfg.BOMFile in the
// workspace (through a temporary file and a rename, never through a link).
func writeBOM(ctx context.Context, workspace string, cfg ciConfig, res *finding.Result, repo bom.Repo, scope string, getenv func(string) string) error {
	spec, err := bom.ParseSpec(cfg.BOMSpec)
	if err != nil {
		return fmt.Errorf("bom-spec: %w", err)
	}
	when, deterministic, err := bomTime(getenv)
	if err != nil {
		return err
	}
	var exclude []string // the reports this run writes are not part of any model
	for _, f := range []string{cfg.BOMFile, cfg.SARIFFile} {
		if f != "" {
			exclude = append(exclude, filepath.Join(workspace, f))
		}
	}
	doc, err := bom.Build(ctx, inventory(res, repo), bom.Options{Spec: spec, Root: workspace, Time: when, Deterministic: deterministic,
		Jobs: cfg.jobs, Scope: scope, Exclude: exclude})
	if err != nil {
		return fmt.Errorf("building the ML-BOM: %w", err)
	}
	return writeReportFile(workspace, cfg.BOMFile, func(w io.Writer) error { return bom.Encode(w, doc, spec) })
}

// bomScope says what a CI run's BOM covers: everything, or only what
// the change touched.
func bomScope(ch *ci.Changes) string {
	if ch.All {
		return "all"
	}
	if ch.Base != "" {
		return "changed since " + ch.Base
	}
	return "changed: " + ch.Reason
}

// apiProblem says why a report could not be published, with the permission
// that a 403 usually means is missing, unless the 403 was a rate limit.
func apiProblem(what, permission string, err error) string {
	var primary *gh.RateLimitError
	var secondary *gh.AbuseRateLimitError
	status := githubapi.StatusCode(err)
	if errors.As(err, &primary) || errors.As(err, &secondary) || status == 429 {
		return fmt.Sprintf("Could not %s (HTTP %d): the GitHub API rate limit was exceeded and resets later than mlguard waits.", what, status)
	}
	switch status {
	case 403:
		return fmt.Sprintf("Could not %s (HTTP 403): the token lacks `%s`, or the pull request comes from a fork, whose token is read-only.", what, permission)
	case 404:
		return fmt.Sprintf("Could not %s (HTTP 404): the repository or pull request is not visible to the token.", what)
	}
	return fmt.Sprintf("Could not %s: %v", what, err)
}

// incompleteMessage is the scan/incomplete message for a file that Select
// could not hand to the scanners (ci.Incomplete).
func incompleteMessage(reason string) string {
	switch reason {
	case ci.ReasonMissing:
		return "the file is listed as changed but is not in the checkout, so it was not scanned: check out the change's head commit"
	case ci.ReasonLFSPointer:
		return "the checkout has a Git LFS pointer in place of this file, so the file itself was not scanned: check out with lfs: true (actions/checkout) or git lfs pull before mlguard"
	case ci.ReasonUnsafeName:
		return "the file's name has control characters or a backslash, which mlguard does not open, so it was not scanned: rename it"
	}
	return "the file was not scanned: " + reason
}

// scanChanges selects the files of the change, scans them and returns the
// decided result, with paths relative to the workspace. A changed file that
// could not be scanned (absent from the checkout, a Git LFS pointer, a name
// mlguard refuses) is a scan/incomplete finding: passing it silently would
// let a model through, e.g. on a pull_request_target job that checked out
// the base branch.
// depsCheck checks the dependencies among the selected files (nil: none).
type depsCheck func(paths []string) ([]finding.Package, []finding.Finding)

func scanChanges(ctx context.Context, workspace string, ch *ci.Changes, filter *ci.Filter, pol *policy.Policy, jobs int, hash bool, checkDeps depsCheck, log *slog.Logger) (*finding.Result, error) {
	paths, skipped, err := ci.Select(workspace, ch, filter)
	if err != nil {
		return nil, err
	}
	// The policy's paths narrow what the inputs selected.
	keep, err := pathFilter(pol)
	if err != nil {
		return nil, err
	}
	paths = slices.DeleteFunc(paths, func(p string) bool { return !keep.Match(p) })
	skipped = slices.DeleteFunc(skipped, func(s finding.Skipped) bool { return !keep.Match(s.Path) })
	var missing []finding.Finding
	kept := skipped[:0]
	for _, s := range skipped {
		if ci.Incomplete(s.Reason) {
			f := finding.New(finding.ScanIncomplete, incompleteMessage(s.Reason))
			f.Path = s.Path
			missing = append(missing, f)
			continue
		}
		kept = append(kept, s)
	}
	skipped = kept
	abs := make([]string, len(paths))
	rel := make(map[string]string, len(paths))
	for i, p := range paths {
		abs[i] = filepath.Join(workspace, filepath.FromSlash(p))
		rel[filepath.ToSlash(filepath.Clean(abs[i]))] = p
	}
	rep := &scan.Report{}
	if len(abs) > 0 {
		eng := scan.New(scan.Options{Hash: hash, Jobs: jobs, Logger: log, Allow: pol.Pickle.Allow, Deny: pol.Pickle.Deny})
		rep, err = eng.Scan(ctx, abs)
		if err != nil {
			return nil, err
		}
	}
	relPath := func(p string) string {
		if r, ok := rel[p]; ok {
			return r
		}
		return p
	}
	for i := range rep.Files {
		rep.Files[i].Path = relPath(rep.Files[i].Path)
	}
	for i := range rep.Skipped {
		rep.Skipped[i].Path = relPath(rep.Skipped[i].Path)
	}
	for i := range rep.Findings {
		rep.Findings[i].Path = relPath(rep.Findings[i].Path)
	}
	res := &finding.Result{
		Tool:     finding.Tool{Name: "mlguard", Version: Version},
		Files:    nonNil(rep.Files),
		Skipped:  nonNil(append(skipped, rep.Skipped...)),
		Findings: nonNil(append(missing, rep.Findings...)),
		Packages: []finding.Package{},
	}
	if checkDeps != nil {
		pkgs, fs := checkDeps(paths)
		res.Packages = nonNil(pkgs)
		res.Findings = append(res.Findings, fs...)
	}
	res.Sort()
	if err := policy.Apply(ctx, pol, res, time.Now()); err != nil {
		return nil, err
	}
	return res, nil
}

// writeReportFile writes a report file named by an input (relative to the
// workspace, or absolute) with fn. The checkout is the pull request's, and the
// action runs as root, so the file is never written through a link the pull
// request planted: it is written to a new temporary file in the resolved
// folder and renamed over name (which replaces a link at name rather than
// following it), and a name inside the workspace must resolve to a folder
// inside it.
func writeReportFile(workspace, name string, fn func(io.Writer) error) error {
	fail := func(err error) error { return fmt.Errorf("writing %s: %w", name, err) }
	full := name
	if !filepath.IsAbs(full) {
		full = filepath.Join(workspace, full)
	}
	full = filepath.Clean(full)
	dir, base := filepath.Split(full)
	if base == "" || base == "." || base == ".." {
		return fail(errors.New("not a file name"))
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fail(err)
	}
	if ws, err := filepath.Abs(workspace); err == nil && within(ws, full) {
		realWS, err := filepath.EvalSymlinks(ws)
		if err != nil {
			return fail(err)
		}
		if !within(realWS, realDir) {
			return fail(errors.New("its folder is a symbolic link out of the workspace"))
		}
	}
	tmp, err := os.CreateTemp(realDir, "."+base+".*.tmp")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := fn(tmp); err != nil {
		tmp.Close()
		return fail(err)
	}
	// Readable by the runner's user, who uploads it in a later step.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(realDir, base)); err != nil {
		return fail(err)
	}
	return nil
}

// within reports whether path p is root or lies under it (both cleaned and
// absolute).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// stopToken is a random token for ::stop-commands::.
func stopToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a stop-commands token: %w", err)
	}
	return "mlguard-" + hex.EncodeToString(b[:]), nil
}
