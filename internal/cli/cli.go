// Package cli wires mlguard's commands: flags in, exit code out. It holds no
// scanning or reporting logic of its own.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mlguard/mlguard/internal/ci"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/policy"
	jsonreport "github.com/mlguard/mlguard/internal/report/json"
	"github.com/mlguard/mlguard/internal/report/sarif"
	"github.com/mlguard/mlguard/internal/report/text"
	"github.com/mlguard/mlguard/internal/scan"
)

// Exit codes (DESIGN.md, "Contracts").
const (
	ExitPass  = 0 // the policy passes
	ExitFail  = 1 // findings at or above the threshold
	ExitError = 2 // usage or runtime error
)

// Version is the release of this build; set with -ldflags at release time.
var Version = "0.1.0"

const usage = `mlguard: a CI gate for machine-learning supply chains.

Usage:
  mlguard scan [flags] PATH...   scan model files and folders
  mlguard ci [flags]             scan what a change touched and report to the CI (the GitHub Action's entry point)
  mlguard bom [flags] PATH...    write a CycloneDX ML-BOM of the models, datasets and packages
  mlguard health PKG...          check packages' health: pypi:torch@2.5.1 npm:left-pad hf:org/model
  mlguard policy check FILE...   validate policy files; mlguard policy print shows the effective policy
  mlguard rules [--format F]     list every rule with its id, severity and summary
  mlguard version                print the version

Run 'mlguard scan -h' for the scan flags.
`

// Run executes the command in args (without the program name) and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitError
	}
	switch args[0] {
	case "scan":
		return runScan(ctx, args[1:], stdout, stderr)
	case "rules":
		return runRules(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "mlguard %s\n", Version)
		return ExitPass
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return ExitPass
	case "ci":
		return runCI(ctx, args[1:], stdout, stderr)
	case "health":
		return runHealth(ctx, args[1:], stdout, stderr)
	case "bom":
		return runBOM(ctx, args[1:], stdout, stderr)
	case "policy":
		return runPolicy(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "mlguard: unknown command %q\n\n%s", args[0], usage)
	return ExitError
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments (mlguard scan models/ --format json).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

type scanFlags struct {
	format  string
	failOn  string
	output  string
	verbose bool
	noColor bool
	jobs    int
}

// register adds the flags every reporting command shares.
func (f *scanFlags) register(fs *flag.FlagSet, formatHelp string) {
	fs.StringVar(&f.format, "format", "text", formatHelp)
	fs.StringVar(&f.output, "o", "", "write the report to `FILE` instead of standard output")
	fs.BoolVar(&f.verbose, "v", false, "list skipped files with their reasons, and log progress to standard error")
	fs.BoolVar(&f.noColor, "no-color", false, "never colour the text report (NO_COLOR is honoured too)")
	fs.IntVar(&f.jobs, "jobs", 0, "files scanned at once (default: the number of CPUs)")
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mlguard scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f scanFlags
	fs.StringVar(&f.failOn, "fail-on", "", "lowest severity that fails the run, for models and packages alike: critical, high, medium, low, info or never (default: the policy's)")
	policyFlag := fs.String("policy", "", "policy `NAME|FILE`: default, strict, audit or a policy file (default: the repository's .mlguard.yaml, else default)")
	f.register(fs, "output format: text, json or sarif")
	offline := fs.Bool("offline", false, "ask no registry about the dependencies found (only pinning and typosquats are checked)")
	cacheDir := fs.String("cache-dir", os.Getenv("MLGUARD_CACHE_DIR"), "keep registry answers in `DIR` (24 h)")
	baseRef := fs.String("base", "", "check only the dependencies added or changed since the merge base of HEAD and this git `REF` (model files are all scanned)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: mlguard scan [flags] PATH...\n\nScans model files and folders; exit 0 passes, 1 fails, 2 is an error.\n\nFlags:\n")
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
		fmt.Fprintln(stderr, "mlguard scan: name at least one file or folder to scan")
		return ExitError
	}
	pol, err := choosePolicy(*policyFlag, f.failOn, repoDir(ctx))
	if err != nil {
		fmt.Fprintf(stderr, "mlguard scan: %v\n", err)
		return ExitError
	}
	switch f.format {
	case "text", "json", "sarif":
	default:
		fmt.Fprintf(stderr, "mlguard scan: --format %q: want text, json or sarif\n", f.format)
		return ExitError
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	res, err := collect(ctx, paths, collectOptions{hash: f.format != "text" || needsHashes(pol), jobs: f.jobs, offline: *offline, cacheDir: *cacheDir, base: *baseRef, policy: pol}, logger)
	if err == nil {
		err = policy.Apply(ctx, pol, res, time.Now())
	}
	if err != nil {
		fmt.Fprintf(stderr, "mlguard scan: %v\n", err)
		return ExitError
	}
	return report(res, f, stdout, stderr, "mlguard scan")
}

// collectOptions say how mlguard scan and mlguard bom collect a result.
type collectOptions struct {
	hash     bool   // hash every model file
	jobs     int    // files scanned at once
	offline  bool   // ask no registry
	cacheDir string // registry cache
	base     string // check only the dependencies changed since this git ref
	policy   *policy.Policy
}

// collect scans the model files under paths and checks the packages of the
// manifests found there. The result is sorted but not decided.
func collect(ctx context.Context, paths []string, o collectOptions, logger *slog.Logger) (*finding.Result, error) {
	eng := scan.New(scan.Options{Hash: o.hash, Jobs: o.jobs, Logger: logger, Allow: o.policy.Pickle.Allow, Deny: o.policy.Pickle.Deny})
	rep, err := eng.Scan(ctx, paths)
	if err != nil {
		return nil, err
	}
	keep, err := pathFilter(o.policy)
	if err != nil {
		return nil, err
	}
	rep.Files = slices.DeleteFunc(rep.Files, func(f finding.File) bool { return !keep.Match(f.Path) })
	rep.Skipped = slices.DeleteFunc(rep.Skipped, func(f finding.Skipped) bool { return !keep.Match(f.Path) })
	rep.Findings = slices.DeleteFunc(rep.Findings, func(f finding.Finding) bool { return !keep.Match(f.Path) })
	res := &finding.Result{
		Tool:     finding.Tool{Name: "mlguard", Version: Version},
		Files:    nonNil(rep.Files),
		Skipped:  nonNil(rep.Skipped),
		Findings: nonNil(rep.Findings),
		Packages: []finding.Package{},
	}
	if manifests := slices.DeleteFunc(findManifests(paths), func(p string) bool { return !keep.Match(p) }); len(manifests) > 0 {
		g, err := gathererFor(ci.Inputs{Offline: o.offline, CacheDir: o.cacheDir}, os.Getenv)
		if err != nil {
			return nil, err
		}
		var base baseReader
		if o.base != "" {
			if base, err = mergeBaseReader(ctx, o.base); err != nil {
				return nil, fmt.Errorf("--base %s: %w", o.base, err)
			}
		}
		pkgs, fs := checkDependencies(ctx, "", manifests, base, g, o.policy.Thresholds(), time.Now(), logger)
		res.Packages = nonNil(pkgs)
		res.Findings = append(res.Findings, fs...)
	}
	res.Sort()
	return res, nil
}

// report writes res as f asks (to f.output, else stdout) and returns the
// exit code of its decision.
func report(res *finding.Result, f scanFlags, stdout, stderr io.Writer, prog string) int {
	out := stdout
	if f.output != "" {
		file, err := os.Create(f.output)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return ExitError
		}
		defer file.Close()
		out = file
	}
	if err := write(out, res, f); err != nil {
		fmt.Fprintf(stderr, "%s: writing the report: %v\n", prog, err)
		return ExitError
	}
	if res.Decision == finding.Fail {
		return ExitFail
	}
	return ExitPass
}

func write(w io.Writer, res *finding.Result, f scanFlags) error {
	switch f.format {
	case "json":
		return jsonreport.Write(w, res, jsonreport.Options{})
	case "sarif":
		return sarif.Write(w, res, sarif.Options{})
	}
	return text.Write(w, res, text.Options{Color: useColor(w, f.noColor), Verbose: f.verbose})
}

// useColor colours only a terminal, and never when NO_COLOR is set.
func useColor(w io.Writer, disabled bool) bool {
	if disabled || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	file, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func runRules(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mlguard rules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitPass
		}
		return ExitError
	}
	rules := finding.Rules()
	switch *format {
	case "json":
		type row struct {
			ID       string `json:"id"`
			Severity string `json:"severity"`
			Summary  string `json:"summary"`
			Help     string `json:"help"`
		}
		var rows []row
		for _, r := range rules {
			rows = append(rows, row{r.ID, r.Severity.String(), r.Summary, r.HelpURI()})
		}
		return writeJSON(stdout, stderr, rows)
	case "text":
		width := 0
		for _, r := range rules {
			width = max(width, len(r.ID))
		}
		for _, r := range rules {
			fmt.Fprintf(stdout, "%-*s  %-8s  %s\n", width, r.ID, r.Severity, r.Summary)
		}
		return ExitPass
	}
	fmt.Fprintf(stderr, "mlguard rules: --format %q: want text or json\n", *format)
	return ExitError
}

func writeJSON(stdout, stderr io.Writer, v any) int {
	b, err := marshalIndent(v)
	if err != nil {
		fmt.Fprintln(stderr, "mlguard:", err)
		return ExitError
	}
	fmt.Fprintln(stdout, strings.TrimSpace(string(b)))
	return ExitPass
}
