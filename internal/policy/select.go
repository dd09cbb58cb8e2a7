package policy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// RepoFiles are the names of a repository's own policy, looked for in this
// order.
var RepoFiles = []string{".mlguard.yaml", ".mlguard.yml"}

// Select returns the effective policy a command runs with (DESIGN.md,
// --policy): a flag value that names a built-in policy picks it, any other
// non-empty value is a policy file's path (write ./default for a file
// named default); without the flag, dir's .mlguard.yaml (or .mlguard.yml;
// both is an error) when there is one, else the built-in default.
func Select(flag, dir string) (*Policy, error) {
	if flag = strings.TrimSpace(flag); flag != "" {
		if IsBuiltin(flag) {
			return Builtin(flag)
		}
		return Load(flag)
	}
	var found []string
	for _, name := range RepoFiles {
		p := filepath.Join(dir, name)
		switch _, err := os.Stat(p); {
		case err == nil:
			found = append(found, p)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("looking for the repository's policy: %w", err)
		}
	}
	switch len(found) {
	case 0:
		return Builtin(DefaultName)
	case 1:
		return Load(found[0])
	}
	return nil, fmt.Errorf("both %s and %s exist: keep one", found[0], found[1])
}

// Load reads, parses and resolves the policy file at path; its errors name
// path as written.
func Load(path string) (*Policy, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	return Resolve(p)
}

// ReadFile reads a policy file, refusing a folder and reading at most one
// byte more than MaxSize (Parse refuses that).
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the policy: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("reading the policy: %s is a folder", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the policy: %w", err)
	}
	return data, nil
}
