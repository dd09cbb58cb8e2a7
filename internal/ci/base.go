package ci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v82/github"
)

// MaxBaseFile bounds the size of a base version read for comparison
// (manifests and lock files; models are never compared with their base).
const MaxBaseFile = 16 << 20

// BaseFiles reads files as they were in the commit a change is compared
// with: from git when the commit is in the local history, else from the
// contents API, so that a shallow checkout is enough.
type BaseFiles struct {
	GitHub *GitHub
	Client *github.Client // nil: git only
	Git    *Git
	Commit string
}

// Read returns the file at path in the base commit, or ErrNotExist when the
// path is new.
func (b *BaseFiles) Read(ctx context.Context, path string) ([]byte, error) {
	if err := checkRepoPath(path); err != nil {
		return nil, err
	}
	if b.Commit == "" {
		return nil, fmt.Errorf("reading the base of %s: there is no base commit", path)
	}
	data, err := b.Git.Show(ctx, b.Commit, path, MaxBaseFile)
	if err == nil || errors.Is(err, ErrNotExist) {
		return data, err
	}
	if b.Client == nil {
		return nil, fmt.Errorf("reading the base of %s: %w", path, err)
	}
	return b.fromAPI(ctx, path)
}

// fromAPI asks the contents API. Files up to 1 MB come base64-encoded in the
// JSON; larger ones only through the raw media type.
func (b *BaseFiles) fromAPI(ctx context.Context, path string) ([]byte, error) {
	g := b.GitHub
	opt := &github.RepositoryContentGetOptions{Ref: b.Commit}
	file, dir, resp, err := b.Client.Repositories.GetContents(ctx, g.Owner, g.Repo, path, opt)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, ErrNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("reading the base of %s: %w", path, err)
	}
	if file == nil || dir != nil || file.GetType() != "file" {
		return nil, ErrNotExist // a folder or a submodule where the file is now
	}
	if file.GetSize() > MaxBaseFile {
		return nil, fmt.Errorf("reading the base of %s: %d bytes is more than the limit of %d", path, file.GetSize(), MaxBaseFile)
	}
	if file.GetEncoding() == "base64" {
		data, err := file.GetContent()
		if err != nil {
			return nil, fmt.Errorf("reading the base of %s: decoding the content: %w", path, err)
		}
		return []byte(data), nil
	}
	req, err := b.Client.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/contents/%s?ref=%s", url.PathEscape(g.Owner), url.PathEscape(g.Repo), escapePath(path), url.QueryEscape(b.Commit)), nil)
	if err != nil {
		return nil, fmt.Errorf("reading the base of %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/vnd.github.raw+json")
	resp, err = b.Client.BareDo(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("reading the base of %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBaseFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading the base of %s: %w", path, err)
	}
	if len(data) > MaxBaseFile {
		return nil, fmt.Errorf("reading the base of %s: more than the limit of %d bytes", path, MaxBaseFile)
	}
	return data, nil
}

// escapePath escapes each element of a repository path for a URL.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, el := range parts {
		parts[i] = url.PathEscape(el)
	}
	return strings.Join(parts, "/")
}
