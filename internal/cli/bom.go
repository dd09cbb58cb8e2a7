package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mlguard/mlguard/internal/bom"
	"github.com/mlguard/mlguard/internal/ci"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/policy"
	"github.com/mlguard/mlguard/internal/registry"
)

func runBOM(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mlguard bom", flag.ContinueOnError)
	fs.SetOutput(stderr)
	output := fs.String("o", "", "write the BOM to `FILE` instead of standard output")
	spec := fs.String("spec", "1.6", "CycloneDX specification `VERSION`: 1.6 or 1.7")
	offline := fs.Bool("offline", false, "ask no registry (packages get no licences or vulnerabilities from them)")
	cacheDir := fs.String("cache-dir", os.Getenv("MLGUARD_CACHE_DIR"), "keep registry answers in `DIR` (24 h)")
	jobs := fs.Int("jobs", 0, "files scanned at once (default: the number of CPUs)")
	verbose := fs.Bool("v", false, "log progress to standard error")
	policyFlag := fs.String("policy", "", "policy `NAME|FILE` whose overrides and waivers the findings in the BOM follow (default: the repository's .mlguard.yaml, else default)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: mlguard bom [flags] PATH...\n\nWrites a CycloneDX ML-BOM of the models, datasets and packages under the paths;\nexit 0 when written, 2 on an error. SOURCE_DATE_EPOCH makes the output deterministic.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitPass
	}
	if err != nil {
		return ExitError
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "mlguard bom: name at least one file or folder")
		return ExitError
	}
	sv, err := bom.ParseSpec(*spec)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard bom: --spec: %v\n", err)
		return ExitError
	}
	when, deterministic, err := bomTime(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard bom: %v\n", err)
		return ExitError
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// The repository is the one holding the first path (not the working
	// directory's); the BOM file being written is no model's file.
	repoDir := paths[0]
	if st, err := os.Stat(repoDir); err == nil && !st.IsDir() {
		repoDir = filepath.Dir(repoDir)
	}
	policyDir := repoDir
	if top, err := ci.NewGit(repoDir).Toplevel(ctx); err == nil && top != "" {
		policyDir = top
	}
	pol, err := choosePolicy(*policyFlag, "", policyDir)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard bom: %v\n", err)
		return ExitError
	}
	res, err := collect(ctx, paths, collectOptions{hash: true, jobs: *jobs, offline: *offline, cacheDir: *cacheDir, policy: pol}, logger)
	if err == nil {
		err = policy.Apply(ctx, pol, res, time.Now())
	}
	if err != nil {
		fmt.Fprintf(stderr, "mlguard bom: %v\n", err)
		return ExitError
	}
	var exclude []string
	if *output != "" {
		exclude = append(exclude, *output)
	}
	doc, err := bom.Build(ctx, inventory(res, localRepo(ctx, repoDir)), bom.Options{Spec: sv, Time: when, Deterministic: deterministic, Jobs: *jobs, Exclude: exclude})
	if err != nil {
		fmt.Fprintf(stderr, "mlguard bom: %v\n", err)
		return ExitError
	}
	w, done, err := openOutput(*output, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard bom: %v\n", err)
		return ExitError
	}
	err = bom.Encode(w, doc, sv)
	if cerr := done(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "mlguard bom: writing the BOM: %v\n", err)
		return ExitError
	}
	return ExitPass
}

// openOutput opens name for writing, or returns stdout when name is "".
func openOutput(name string, stdout io.Writer) (io.Writer, func() error, error) {
	if name == "" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

// bomTime is the BOM's timestamp: SOURCE_DATE_EPOCH when set (and then the
// output is deterministic), else now.
func bomTime(getenv func(string) string) (time.Time, bool, error) {
	v := strings.TrimSpace(getenv("SOURCE_DATE_EPOCH"))
	if v == "" {
		return time.Now().UTC().Truncate(time.Second), false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 253402300799 { // 9999-12-31
		return time.Time{}, false, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", v)
	}
	return time.Unix(n, 0).UTC(), true, nil
}

// localRepo describes the git checkout around dir, or just the folder.
func localRepo(ctx context.Context, dir string) bom.Repo {
	if a, err := filepath.Abs(dir); err == nil {
		dir = a
	}
	git := ci.NewGit(dir)
	top, err := git.Toplevel(ctx)
	if err != nil {
		return bom.Repo{Name: filepath.Base(dir)}
	}
	r := bom.Repo{Name: filepath.Base(top), URL: ci.NewGit(top).RemoteURL(ctx), Commit: ci.Head(top)}
	if i := strings.Index(r.URL, "://"); i >= 0 {
		if _, p, ok := strings.Cut(r.URL[i+3:], "/"); ok && p != "" {
			r.Name = p // owner/repo
		}
	}
	return r
}

// inventory is what the BOM describes: the result's files, findings and
// packages.
func inventory(res *finding.Result, repo bom.Repo) bom.Inventory {
	inv := bom.Inventory{Tool: res.Tool, Repo: repo, Files: res.Files, Findings: res.Findings}
	for _, p := range res.Packages {
		facts, _ := p.Facts.(*registry.Facts)
		inv.Packages = append(inv.Packages, bom.Package{Package: p.Dep, Facts: facts, Findings: p.Findings})
	}
	return inv
}
