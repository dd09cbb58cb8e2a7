// Package policies holds mlguard's built-in policies, embedded in the
// binary: default (what runs when a repository names none), strict and
// audit. Package internal/policy parses and resolves them; this package
// only carries the files.
package policies

import (
	"embed"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Names returns the built-in policies' names, sorted: the file names without
// ".yaml".
func Names() []string {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic("policies: reading the embedded files: " + err.Error()) // cannot happen: embedded at build time
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Read returns the YAML of the built-in policy name, and false when there
// is none of that name.
func Read(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return nil, false
	}
	b, err := files.ReadFile(path.Join(".", name+".yaml"))
	if err != nil {
		return nil, false
	}
	return b, true
}
