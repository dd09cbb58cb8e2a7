package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mlguard/mlguard/internal/ci"
	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/health"
	"github.com/mlguard/mlguard/internal/policy"
	"github.com/mlguard/mlguard/internal/registry"
	jsonreport "github.com/mlguard/mlguard/internal/report/json"
	"github.com/mlguard/mlguard/internal/report/text"
)

const healthUsage = `Usage: mlguard health [flags] ECOSYSTEM:NAME[@VERSION]...

Looks packages up in their registries, OSV and deps.dev (models on the
Hugging Face Hub) and checks their health: malicious or vulnerable versions,
age, maintainers, deprecation, install scripts, typosquats, Scorecard,
source repository, licence, pinning. Ecosystems: pypi, npm, go, cargo,
maven (group:artifact), hf.

  mlguard health pypi:torch@2.5.1 npm:left-pad cargo:serde@1.0.210 hf:meta-llama/Llama-3.1-8B

Endpoints come from MLGUARD_PYPI_URL, MLGUARD_NPM_URL, MLGUARD_GOPROXY,
MLGUARD_CRATES_URL, MLGUARD_OSV_URL, MLGUARD_DEPSDEV_URL and MLGUARD_HF_URL
(mirrors such as Artifactory); the public services otherwise.

Exit status: 0 passes, 1 fails, 2 is an error.

Flags:
`

// ecosystems maps what a user types to the deps ecosystem.
var ecosystems = map[string]string{
	"pypi": deps.PyPI, "npm": deps.NPM, "go": deps.Go, "golang": deps.Go,
	"hf": deps.HuggingFace, "huggingface": deps.HuggingFace,
	"cargo": deps.Cargo, "crates": deps.Cargo, "maven": deps.Maven,
}

// parsePackageArg reads ECOSYSTEM:NAME[@VERSION]. The version separator is
// the last "@" that is not the first character of the name (npm scopes).
func parsePackageArg(s string) (deps.Package, error) {
	eco, rest, ok := strings.Cut(s, ":")
	e, known := ecosystems[strings.ToLower(eco)]
	if !ok || !known || rest == "" {
		return deps.Package{}, fmt.Errorf("%q: want ECOSYSTEM:NAME[@VERSION] with ECOSYSTEM one of pypi, npm, go, cargo, maven, hf", s)
	}
	name, version := rest, ""
	if i := strings.LastIndex(rest, "@"); i > 0 {
		name, version = rest[:i], rest[i+1:]
		if version == "" {
			return deps.Package{}, fmt.Errorf("%q: empty version after @", s)
		}
	}
	return deps.Package{Ecosystem: e, Name: name, Version: version, Manifest: s}, nil
}

func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runHealthEnv(ctx, args, stdout, stderr, os.Getenv, time.Now)
}

func runHealthEnv(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, now func() time.Time) int {
	fs := flag.NewFlagSet("mlguard health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output format: text or json")
	failOn := fs.String("fail-on", "", "lowest severity that fails the run, or never (default: the policy's)")
	policyFlag := fs.String("policy", "", "policy `NAME|FILE` for the thresholds and the decision (default: the repository's .mlguard.yaml, else default)")
	cacheDir := fs.String("cache-dir", getenv("MLGUARD_CACHE_DIR"), "keep registry answers in `DIR` (24 h)")
	offline := fs.Bool("offline", false, "ask no registry: only the checks that need none (pinning, typosquats)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), healthUsage)
		fs.PrintDefaults()
	}
	names, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitPass
	}
	if err != nil {
		return ExitError
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mlguard health: "+format+"\n", a...)
		return ExitError
	}
	if len(names) == 0 {
		return fail("name at least one package, e.g. pypi:torch@2.5.1")
	}
	if *format != "text" && *format != "json" {
		return fail("--format %q: want text or json", *format)
	}
	pol, err := choosePolicy(*policyFlag, *failOn, repoDir(ctx))
	if err != nil {
		return fail("%v", err)
	}
	var pkgs []deps.Package
	for _, n := range names {
		p, err := parsePackageArg(n)
		if err != nil {
			return fail("%v", err)
		}
		pkgs = append(pkgs, p)
	}
	g, err := gathererFor(ci.Inputs{Offline: *offline, CacheDir: *cacheDir}, getenv)
	if err != nil {
		return fail("%v", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res := &finding.Result{Tool: finding.Tool{Name: "mlguard", Version: Version}, Files: []finding.File{}, Skipped: []finding.Skipped{}}
	facts := make([]*registry.Facts, len(pkgs))
	for i, p := range pkgs {
		var hf *health.Facts
		if g != nil {
			f, err := g.Facts(ctx, p)
			if err != nil {
				log.Warn("some facts are unknown", "package", p.PURL(), "err", err)
			}
			facts[i] = f
			hf = health.FromRegistry(f, p.Pinned())
		}
		fs := health.Check(deps.Change{Package: p, Kind: deps.Added}, hf, pol.Thresholds(), now())
		res.Packages = append(res.Packages, finding.Package{PURL: p.PURL(), Change: deps.Added, Facts: orEmptyFacts(facts[i]), Findings: nonNil(fs), Dep: p})
		res.Findings = append(res.Findings, fs...)
	}
	res.Findings = nonNil(res.Findings)
	res.Sort()
	if err := policy.Apply(ctx, pol, res, now()); err != nil {
		return fail("%v", err)
	}
	if *format == "json" {
		if err := jsonreport.Write(stdout, res, jsonreport.Options{}); err != nil {
			return fail("%v", err)
		}
	} else {
		writeHealthText(stdout, res, facts)
	}
	if res.Decision == finding.Fail {
		return ExitFail
	}
	return ExitPass
}

func orEmptyFacts(f *registry.Facts) any {
	if f == nil {
		return struct{}{}
	}
	return f
}

// writeHealthText prints, per package, the facts that matter and the
// findings; every registry string is sanitized.
func writeHealthText(w io.Writer, res *finding.Result, facts []*registry.Facts) {
	for i, p := range res.Packages {
		fmt.Fprintln(w, text.Sanitize(p.PURL))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if f := facts[i]; f != nil {
			row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, text.Sanitize(v)) }
			if v, ok := f.Maintainers.Get(); ok {
				row("maintainers", fmt.Sprint(v))
			}
			if v, ok := f.FirstRelease.Get(); ok {
				row("first release", v.Format(time.DateOnly))
			}
			if v, ok := f.VersionRelease.Get(); ok {
				row("this version", v.Format(time.DateOnly))
			}
			if v, ok := f.LatestRelease.Get(); ok {
				row("latest release", v.Format(time.DateOnly))
			}
			if v, ok := f.License.Get(); ok {
				row("licence", v)
			}
			if v, ok := f.SourceRepo.Get(); ok {
				row("source", v)
			}
			if v, ok := f.Scorecard.Get(); ok {
				row("scorecard", fmt.Sprintf("%.1f", v))
			}
			if v, ok := f.Advisories.Get(); ok {
				row("advisories", fmt.Sprint(len(v)))
			}
		}
		tw.Flush()
		for _, fd := range p.Findings {
			fmt.Fprintf(w, "  %-8s %s: %s\n", strings.ToUpper(fd.Severity.String()), fd.Rule, text.Sanitize(fd.Message))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "checked %d packages: %d findings — decision: %s\n", len(res.Packages), len(res.Findings), res.Decision)
}
