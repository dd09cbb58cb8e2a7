package ci

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/glob"
)

// Filter keeps the paths that match one of Include (all when Include is
// empty) and none of Exclude. Patterns are globs over repository paths with
// forward slashes (package glob): `*` and `?` stay within a folder, `**`
// crosses folders, `[...]` is a class, a pattern without a slash matches a
// file name in any folder (like .gitignore) and a pattern ending in a slash
// matches everything under that folder.
type Filter struct {
	include, exclude []*glob.Glob
}

// NewFilter compiles the patterns.
func NewFilter(include, exclude []string) (*Filter, error) {
	f := &Filter{}
	for _, list := range []struct {
		in  []string
		out *[]*glob.Glob
	}{{include, &f.include}, {exclude, &f.exclude}} {
		for _, p := range list.in {
			g, err := glob.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %w", p, err)
			}
			*list.out = append(*list.out, g)
		}
	}
	return f, nil
}

// Empty reports whether the filter keeps everything.
func (f *Filter) Empty() bool { return f == nil || len(f.include)+len(f.exclude) == 0 }

// Match reports whether the repository path p is kept.
func (f *Filter) Match(p string) bool {
	if f.Empty() {
		return true
	}
	matches := func(globs []*glob.Glob) bool {
		for _, g := range globs {
			if g.Match(p) {
				return true
			}
		}
		return false
	}
	return (len(f.include) == 0 || matches(f.include)) && !matches(f.exclude)
}

// Skip reasons of a changed file that was not scanned though it may hold a
// model: the caller reports each as a scan/incomplete finding (fail closed),
// never as a file merely skipped.
const (
	// ReasonMissing: the change lists the file but the checkout lacks it.
	ReasonMissing = "listed as changed but not in the checkout"
	// ReasonUnsafeName: the name has a control character, a backslash or
	// another element that mlguard does not accept in a path; git and GitHub
	// accept them, so a pull request can name a model that way.
	ReasonUnsafeName = "a name with characters mlguard does not accept in a path (control characters, a backslash)"
	// ReasonLFSPointer: the checkout has a Git LFS pointer where the file
	// should be (actions/checkout without lfs: true).
	ReasonLFSPointer = "a Git LFS pointer: the file itself is not in the checkout"
)

// Incomplete reports whether a skip reason from Select means that a file
// that may be a model was not scanned.
func Incomplete(reason string) bool {
	switch reason {
	case ReasonMissing, ReasonUnsafeName, ReasonLFSPointer:
		return true
	}
	return false
}

// lfsPointerPrefix starts every Git LFS pointer file
// (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md); a pointer is
// smaller than maxLFSPointer bytes.
const (
	lfsPointerPrefix = "version https://git-lfs.github.com/spec/v1\n"
	maxLFSPointer    = 1024
)

// isLFSPointer reports whether the regular file at p is a Git LFS pointer.
func isLFSPointer(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxLFSPointer))
	if err != nil || len(b) >= maxLFSPointer {
		return false
	}
	return strings.HasPrefix(string(b), lfsPointerPrefix) && strings.Contains(string(b), "\noid sha256:")
}

// Select turns the change into the files to scan, as paths relative to the
// workspace with forward slashes. It never returns a path outside the
// workspace: a changed file that is a symbolic link leading out of it (a
// pull request could point one at the runner's secrets) is skipped with its
// reason, and so is a changed path that is no longer a regular file. A file
// it cannot scan though it may be a model (see Incomplete) is skipped with
// one of the Reason constants, for the caller to report.
func Select(workspace string, ch *Changes, filter *Filter) ([]string, []finding.Skipped, error) {
	root, err := filepath.EvalSymlinks(workspace)
	if err != nil {
		return nil, nil, fmt.Errorf("resolving the workspace: %w", err)
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, nil, fmt.Errorf("resolving the workspace: %w", err)
	}
	var candidates []string
	if ch.All {
		candidates, err = listFiles(root)
		if err != nil {
			return nil, nil, err
		}
	} else {
		candidates = ch.Scanned()
	}
	var paths []string
	var skipped []finding.Skipped
	seen := map[string]bool{}
	for _, p := range candidates {
		if seen[p] || !filter.Match(p) {
			continue
		}
		seen[p] = true
		if err := checkRepoPath(p); err != nil {
			skipped = append(skipped, finding.Skipped{Path: p, Reason: ReasonUnsafeName})
			continue
		}
		if reason := insideWorkspace(root, p); reason != "" {
			skipped = append(skipped, finding.Skipped{Path: p, Reason: reason})
			continue
		}
		if isLFSPointer(filepath.Join(root, filepath.FromSlash(p))) {
			skipped = append(skipped, finding.Skipped{Path: p, Reason: ReasonLFSPointer})
			continue
		}
		paths = append(paths, p)
	}
	return paths, skipped, nil
}

// insideWorkspace returns "" when the repository path p names a regular
// file inside root (following links that stay inside), else why not.
func insideWorkspace(root, p string) string {
	full := filepath.Join(root, filepath.FromSlash(p))
	st, err := os.Lstat(full)
	switch {
	case os.IsNotExist(err):
		return ReasonMissing
	case err != nil:
		return "cannot be read: " + err.Error()
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "broken symbolic link"
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "symbolic link out of the workspace, not followed"
	}
	if st.Mode()&fs.ModeSymlink != 0 || real != full {
		if t, err := os.Stat(real); err != nil || !t.Mode().IsRegular() {
			return "symbolic link to something other than a file, not followed"
		}
		return ""
	}
	if !st.Mode().IsRegular() {
		if st.IsDir() {
			return "a folder (a submodule?), not a file"
		}
		return "not a regular file"
	}
	return ""
}

// listFiles lists every file under root, as repository paths, without
// descending into .git (or listing a submodule's .git file) or following
// links to folders.
func listFiles(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() && p != root {
				return fs.SkipDir
			}
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != root {
				return fs.SkipDir
			}
			return nil
		}
		if d.Name() == ".git" { // a submodule's or worktree's link to its repository
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		out = append(out, path.Clean(filepath.ToSlash(rel)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the workspace: %w", err)
	}
	return out, nil
}
