package manifest

import (
	"context"
	"fmt"

	"golang.org/x/mod/modfile"

	"github.com/mlguard/mlguard/internal/deps"
)

// parseGoMod reads the require directives of go.mod, with replace
// directives applied: a module replaced by another module is reported as
// that module; one replaced by a local directory is unpinned, its range the
// directory.
func parseGoMod(_ context.Context, p string, content []byte) ([]deps.Package, error) {
	f, err := modfile.Parse(p, content, nil)
	if err != nil {
		// ParseLax accepts directives from newer Go versions, but ignores replace.
		if f, err = modfile.ParseLax(p, content, nil); err != nil {
			return nil, fmt.Errorf("parsing go.mod: %w", err)
		}
	}
	var c collector
	for _, r := range f.Require {
		pkg := deps.Package{Ecosystem: deps.Go, Name: r.Mod.Path, Version: r.Mod.Version}
		if r.Syntax != nil {
			pkg.Line = r.Syntax.Start.Line
		}
		for _, rep := range f.Replace {
			if rep.Old.Path != r.Mod.Path || (rep.Old.Version != "" && rep.Old.Version != r.Mod.Version) {
				continue
			}
			if rep.New.Version == "" { // a directory
				pkg.Version, pkg.Range = "", "=> "+rep.New.Path
			} else {
				pkg.Name, pkg.Version = rep.New.Path, rep.New.Version
				pkg.Range = r.Mod.Path + " => " + rep.New.Path + " " + rep.New.Version
			}
		}
		if err := c.add(pkg); err != nil {
			return nil, err
		}
	}
	return c.pkgs, nil
}
