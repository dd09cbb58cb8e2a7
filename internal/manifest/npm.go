package manifest

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/mlguard/mlguard/internal/deps"
)

// npmExact is a single exact semver version ("1.2.3", "=1.2.3", "v1.2.3-rc.1").
var npmExact = regexp.MustCompile(`^[=v]*(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$`)

// npmDependencyFields are the package.json fields that name dependencies.
var npmDependencyFields = []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"}

// parsePackageJSON reads the dependency fields of package.json. osv-scalibr's
// packagejson extractor reports the package itself (it is meant for
// node_modules), not what it depends on, so this is ours.
func parsePackageJSON(_ context.Context, _ string, content []byte) ([]deps.Package, error) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(content, &f); err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	li := newLineIndex(content)
	var c collector
	for _, field := range npmDependencyFields {
		raw, ok := f[field]
		if !ok {
			continue
		}
		var table map[string]any
		if err := json.Unmarshal(raw, &table); err != nil {
			continue // a malformed field is not a dependency list
		}
		from := li.find(`"`+field+`"`, 1)
		for _, name := range sortedKeys(table) {
			spec, _ := table[name].(string)
			if name == "" {
				continue
			}
			p := deps.Package{Ecosystem: deps.NPM, Name: name, Range: spec, Line: li.find(`"`+name+`"`, max(from, 1))}
			if m := npmExact.FindStringSubmatch(strings.TrimSpace(spec)); m != nil {
				p.Version = m[1]
			}
			if err := c.add(p); err != nil {
				return nil, err
			}
		}
	}
	return c.pkgs, nil
}
