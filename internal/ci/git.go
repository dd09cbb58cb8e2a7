package ci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ErrNoGit is returned when git is not installed (the action's image has
// none) or the folder is not a git checkout.
var ErrNoGit = errors.New("git is not available")

// ErrNotExist is returned for a file that is not in the named commit.
var ErrNotExist = errors.New("the file does not exist in that commit")

// maxGitOutput bounds what is read from one git command.
const maxGitOutput = 64 << 20

// Git runs git in a checkout. A nil *Git, or one whose binary was not found,
// answers ErrNoGit to everything.
type Git struct {
	Dir string
	bin string
}

// NewGit finds git for the checkout in dir.
func NewGit(dir string) *Git {
	bin, err := exec.LookPath("git")
	if err != nil {
		return &Git{Dir: dir}
	}
	return &Git{Dir: dir, bin: bin}
}

// run runs git with args and returns its standard output, at most max
// bytes. safe.directory is set because the runner mounts the workspace into
// the container owned by another user, which git otherwise refuses.
func (g *Git) run(ctx context.Context, max int64, args ...string) ([]byte, error) {
	if g == nil || g.bin == "" {
		return nil, ErrNoGit
	}
	cmd := exec.CommandContext(ctx, g.bin, append([]string{"-c", "safe.directory=*", "-C", g.Dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4 << 10}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running git: %w", err)
	}
	b, rerr := io.ReadAll(io.LimitReader(out, max+1))
	if int64(len(b)) > max {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("git %s: the output is larger than %d bytes", args[0], max)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	if rerr != nil {
		return nil, fmt.Errorf("git %s: %w", args[0], rerr)
	}
	return b, nil
}

// HasCommit reports whether the commit is in the local history (a shallow
// checkout has only the tip).
func (g *Git) HasCommit(ctx context.Context, sha string) bool {
	if !isSHA(sha) {
		return false
	}
	_, err := g.run(ctx, 1<<10, "cat-file", "-e", sha+"^{commit}")
	return err == nil
}

// fetchTimeout bounds one FetchCommit: one commit and its tree, never the
// history.
const fetchTimeout = 2 * time.Minute

// FetchCommit fetches one commit, without its history, from the origin
// remote into a shallow clone that lacks it (GitLab clones GIT_DEPTH
// commits): git fetch --no-tags --depth=1 origin <sha>. Only a full
// hexadecimal commit id is accepted, so nothing the caller passes can be
// read as an option or a refspec. Credentials in a URL that git prints in
// its error are removed: the runner's origin URL can carry the job token.
func (g *Git) FetchCommit(ctx context.Context, sha string) error {
	if !isSHA(sha) {
		return fmt.Errorf("fetching %q: not a full commit id", sha)
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	_, err := g.run(ctx, 64<<10, "fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "--depth=1", "origin", sha)
	if err != nil {
		if errors.Is(err, ErrNoGit) {
			return err
		}
		msg := strings.Join(strings.Fields(redactURLCredentials(err.Error())), " ") // one line: it ends up in a report
		return fmt.Errorf("fetching commit %.12s from origin: %s", sha, msg)
	}
	if !g.HasCommit(ctx, sha) {
		return fmt.Errorf("fetching commit %.12s from origin: the fetch succeeded but the commit is not in the clone", sha)
	}
	return nil
}

// urlCredentials matches the user information of a URL: scheme://user:pass@.
var urlCredentials = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s'"]*@`)

// redactURLCredentials removes user names, passwords and tokens from the
// URLs in s.
func redactURLCredentials(s string) string {
	return urlCredentials.ReplaceAllString(s, "${1}")
}

// Diff lists the files changed from base to head; with mergeBase, from
// their merge base to head, as a pull request shows it.
func (g *Git) Diff(ctx context.Context, base, head string, mergeBase bool) ([]Change, error) {
	if g == nil || g.bin == "" {
		return nil, ErrNoGit
	}
	if base == "" || head == "" {
		return nil, errors.New("no commits to compare")
	}
	for _, c := range []string{base, head} {
		if !g.HasCommit(ctx, c) {
			return nil, fmt.Errorf("commit %.12s is not in the checkout's history (a shallow clone? set fetch-depth: 0)", c)
		}
	}
	sep := ".."
	if mergeBase {
		sep = "..."
	}
	out, err := g.run(ctx, maxGitOutput, "diff", "--name-status", "-z", "--no-renames", "--no-ext-diff", base+sep+head, "--")
	if err != nil {
		return nil, err
	}
	return parseNameStatus(out)
}

// DiffRef lists the files changed since the merge base of ref and HEAD, as
// the working tree has them: commits, uncommitted edits and untracked files
// that .gitignore does not exclude (mlguard ci outside a CI).
func (g *Git) DiffRef(ctx context.Context, ref string) ([]Change, error) {
	if strings.HasPrefix(ref, "-") {
		return nil, fmt.Errorf("bad ref %q", ref)
	}
	out, err := g.run(ctx, maxGitOutput, "diff", "--name-status", "-z", "--no-renames", "--no-ext-diff", "--merge-base", ref, "--")
	if err != nil {
		return nil, err
	}
	changes, err := parseNameStatus(out)
	if err != nil {
		return nil, err
	}
	untracked, err := g.run(ctx, maxGitOutput, "ls-files", "-z", "--others", "--exclude-standard")
	if err != nil {
		return nil, err
	}
	for _, p := range strings.Split(strings.TrimSuffix(string(untracked), "\x00"), "\x00") {
		if p == "" {
			continue
		}
		if err := checkRepoPath(p); err != nil {
			return nil, fmt.Errorf("git ls-files: %w", err)
		}
		changes = append(changes, Change{Path: p, Status: "added"})
	}
	return changes, nil
}

// parseNameStatus reads `git diff --name-status -z --no-renames`: a status
// letter and a path, each ended by NUL.
func parseNameStatus(out []byte) ([]Change, error) {
	fields := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(fields) == 1 && fields[0] == "" {
		return nil, nil
	}
	if len(fields)%2 != 0 {
		return nil, errors.New("git diff: unexpected output")
	}
	var changes []Change
	for i := 0; i < len(fields); i += 2 {
		if fields[i] == "" {
			return nil, errors.New("git diff: unexpected output")
		}
		status := map[byte]string{'A': "added", 'M': "modified", 'D': "removed", 'T': "changed"}[fields[i][0]]
		if status == "" {
			status = "changed"
		}
		if err := checkRepoPath(fields[i+1]); err != nil {
			return nil, fmt.Errorf("git diff: %w", err)
		}
		changes = append(changes, Change{Path: fields[i+1], Status: status})
	}
	return changes, nil
}

// Show returns the file at path in commit rev, at most max bytes, or
// ErrNotExist.
func (g *Git) Show(ctx context.Context, rev, path string, max int64) ([]byte, error) {
	if err := checkRepoPath(path); err != nil {
		return nil, err
	}
	if !g.HasCommit(ctx, rev) {
		return nil, fmt.Errorf("commit %.12s is not in the checkout's history", rev)
	}
	if _, err := g.run(ctx, 1<<10, "cat-file", "-e", rev+":"+path); err != nil {
		return nil, ErrNotExist
	}
	return g.run(ctx, max, "cat-file", "blob", rev+":"+path)
}

// ShowMergeBase returns the file at path as the merge base of ref and HEAD
// has it (mlguard ci --base), or ErrNotExist.
func (g *Git) ShowMergeBase(ctx context.Context, ref, path string, max int64) ([]byte, error) {
	base, err := g.MergeBase(ctx, ref)
	if err != nil {
		return nil, err
	}
	return g.Show(ctx, base, path, max)
}

// MergeBase returns the commit id of the merge base of ref and HEAD.
func (g *Git) MergeBase(ctx context.Context, ref string) (string, error) {
	if strings.HasPrefix(ref, "-") {
		return "", fmt.Errorf("bad ref %q", ref)
	}
	out, err := g.run(ctx, 1<<10, "merge-base", ref, "HEAD")
	if err != nil {
		return "", err
	}
	sha := strings.TrimSpace(string(out))
	if !isSHA(sha) {
		return "", fmt.Errorf("git merge-base gave %q, not a commit id", sha)
	}
	return sha, nil
}

// Toplevel returns the absolute path of the checkout's top folder, the one
// that paths in commits are relative to.
func (g *Git) Toplevel(ctx context.Context) (string, error) {
	out, err := g.run(ctx, 4<<10, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// Head reads the commit checked out in dir from .git itself, without the
// git binary: a detached HEAD's id, or the commit its branch points at
// (loose or packed ref). It returns "" when that cannot be read.
func Head(dir string) string {
	gitDir := filepath.Join(dir, ".git")
	if b, err := readSmall(gitDir); err == nil && bytes.HasPrefix(b, []byte("gitdir: ")) { // a worktree or submodule
		p := strings.TrimSpace(string(b[len("gitdir: "):]))
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		gitDir = p
	}
	b, err := readSmall(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return ""
	}
	h := strings.TrimSpace(string(b))
	if isSHA(h) {
		return h
	}
	ref, ok := strings.CutPrefix(h, "ref: ")
	if !ok || !strings.HasPrefix(ref, "refs/") || strings.Contains(ref, "..") {
		return ""
	}
	for _, d := range []string{gitDir, commonDir(gitDir)} {
		if b, err := readSmall(filepath.Join(d, filepath.FromSlash(ref))); err == nil && isSHA(strings.TrimSpace(string(b))) {
			return strings.TrimSpace(string(b))
		}
		if b, err := readSmall(filepath.Join(d, "packed-refs")); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if sha, name, ok := strings.Cut(strings.TrimSpace(line), " "); ok && name == ref && isSHA(sha) {
					return sha
				}
			}
		}
	}
	return ""
}

// commonDir is where a linked worktree keeps the shared refs.
func commonDir(gitDir string) string {
	b, err := readSmall(filepath.Join(gitDir, "commondir"))
	if err != nil {
		return gitDir
	}
	p := strings.TrimSpace(string(b))
	if !filepath.IsAbs(p) {
		p = filepath.Join(gitDir, p)
	}
	return p
}

// readSmall reads a regular file of at most 16 MiB (packed-refs can be big).
func readSmall(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	return io.ReadAll(io.LimitReader(f, 16<<20))
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// RemoteURL returns the web address of the origin remote without any
// credentials: https://host/owner/repo for https, ssh and scp-style
// (git@host:owner/repo.git) remotes; "" when there is none.
func (g *Git) RemoteURL(ctx context.Context) string {
	out, err := g.run(ctx, 4<<10, "remote", "get-url", "origin")
	if err != nil {
		return ""
	}
	return WebURL(strings.TrimSpace(string(out)))
}

// WebURL turns a git remote address into its https web address, dropping
// any user name, password or token; "" when it is not a remote on a host.
func WebURL(remote string) string {
	host, p := "", ""
	if u, err := url.Parse(remote); err == nil && u.Host != "" {
		switch u.Scheme {
		case "https", "http", "ssh", "git":
		default:
			return ""
		}
		host, p = u.Hostname(), u.Path
		if port := u.Port(); port != "" && (u.Scheme == "https" || u.Scheme == "http") {
			host += ":" + port
		}
	} else if at, rest, ok := strings.Cut(remote, "@"); ok && !strings.Contains(at, "/") {
		h, pp, ok := strings.Cut(rest, ":") // scp-like: user@host:owner/repo.git
		if !ok || strings.Contains(h, "/") {
			return ""
		}
		host, p = h, "/"+strings.TrimPrefix(pp, "/")
	} else {
		return ""
	}
	p = strings.TrimSuffix(strings.TrimSuffix(p, "/"), ".git")
	if host == "" || p == "" || p == "/" {
		return ""
	}
	return (&url.URL{Scheme: "https", Host: host, Path: p}).String()
}
