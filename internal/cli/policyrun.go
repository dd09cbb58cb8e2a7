package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/mlguard/mlguard/internal/ci"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/policy"
)

// choosePolicy is the policy a run decides by: --policy (a built-in name or
// a file), else the repository's .mlguard.yaml in dir, else the built-in
// default. A --fail-on given on the command line (or the action's fail-on
// input) sets both areas' thresholds over the policy's.
func choosePolicy(flag, failOn, dir string) (*policy.Policy, error) {
	p, err := policy.Select(flag, dir)
	if err != nil {
		return nil, err
	}
	if failOn != "" {
		if failOn != policy.Never {
			if _, err := finding.ParseSeverity(failOn); err != nil {
				return nil, fmt.Errorf("fail-on: %w", err)
			}
		}
		p.FailOn = policy.FailOn{Models: failOn, Packages: failOn}
	}
	return p, nil
}

// repoDir is where a local command looks for .mlguard.yaml: the git
// checkout's top folder around the working directory, or the directory.
func repoDir(ctx context.Context) string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	if top, err := ci.NewGit(wd).Toplevel(ctx); err == nil && top != "" {
		return top
	}
	return wd
}

// needsHashes reports whether the policy's waivers pin files by digest, so
// the scan must hash every file.
func needsHashes(p *policy.Policy) bool {
	for _, w := range p.Ignore {
		if w.SHA256 != "" {
			return true
		}
	}
	return false
}

// pathFilter is the policy's path globs as a filter over repository paths.
func pathFilter(p *policy.Policy) (*ci.Filter, error) {
	return ci.NewFilter(p.Paths.Include, p.Paths.Exclude)
}
