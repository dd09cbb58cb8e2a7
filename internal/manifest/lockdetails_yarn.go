package manifest

import (
	"strconv"
	"strings"

	"github.com/mlguard/mlguard/internal/deps"
)

// yarnLockDetails reads yarn.lock in both its layouts, line by line as the
// extractor does: classic yarn's (v1) own text format, where an entry
//
//	"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.22.13":
//	  version "7.22.13"
//	  integrity sha512-...
//	  dependencies:
//	    "@babel/highlight" "^7.22.13"
//
// gives the tarball's integrity, and yarn berry's (v2+) YAML, with
// "key: value" fields and dependencies as name: "npm:^7.22.13". Berry's
// checksum is a digest of the zip archive in yarn's own cache, not of the
// package tarball, so it is not reported. A dependency resolves to the
// entry whose header lists its descriptor, name@range.
func yarnLockDetails(content []byte) map[pkgKey]details {
	type entry struct {
		descriptors []string
		version     string
		integrity   string
		deps        [][2]string // name, range
		purl        string
	}
	var entries []*entry
	berry := false
	var cur *entry
	block := ""
	for line := range strings.SplitSeq(string(content), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		switch indent := len(line) - len(strings.TrimLeft(line, " \t")); {
		case indent == 0:
			cur, block = nil, ""
			header := strings.TrimSuffix(trimmed, ":")
			if header == "__metadata" {
				berry = true
				continue
			}
			cur = &entry{}
			for d := range strings.SplitSeq(header, ",") {
				if d = yarnUnquote(strings.TrimSpace(d)); d != "" {
					cur.descriptors = append(cur.descriptors, d)
				}
			}
			entries = append(entries, cur)
		case cur == nil:
		case indent < 4:
			key, value := yarnField(trimmed)
			block = ""
			switch {
			case value == "" && strings.HasSuffix(trimmed, ":"):
				block = key
			case key == "version":
				cur.version = value
			case key == "integrity":
				cur.integrity = value
			}
		case block == "dependencies" || block == "optionalDependencies":
			if key, value := yarnField(trimmed); key != "" && value != "" {
				cur.deps = append(cur.deps, [2]string{key, value})
			}
		}
	}
	byDescriptor := map[string]*entry{}
	for _, e := range entries {
		for _, d := range e.descriptors {
			if _, dup := byDescriptor[d]; !dup {
				byDescriptor[d] = e
			}
		}
	}
	ix := newLockIndex(deps.NPM)
	for _, e := range entries {
		if e.version != "" && len(e.descriptors) > 0 {
			e.purl = ix.purl(yarnName(e.descriptors[0]), e.version)
		}
	}
	for _, e := range entries {
		if e.purl == "" {
			continue
		}
		d := ix.entry(yarnName(e.descriptors[0]), e.version)
		if !berry {
			for _, h := range strings.Fields(e.integrity) {
				ix.hash(d, h)
			}
		}
		for _, dep := range e.deps {
			to, ok := byDescriptor[dep[0]+"@"+dep[1]]
			if !ok && berry {
				to, ok = byDescriptor[dep[0]+"@npm:"+dep[1]] // before lock format 6 the npm: protocol was implied
			}
			if ok {
				ix.dependsOn(d, to.purl)
			}
		}
	}
	return ix.result()
}

// yarnName is the package name of a descriptor: "@scope/name" of
// "@scope/name@^1.0.0", and the aliased package's name for an alias
// ("string-width-cjs@npm:string-width@^4.2.0"), as the extractor names it.
func yarnName(desc string) string {
	for {
		s, scoped := strings.CutPrefix(desc, "@")
		name, rest, _ := strings.Cut(s, "@")
		if target, ok := strings.CutPrefix(rest, "npm:"); ok && strings.Contains(target, "@") {
			desc = target
			continue
		}
		if scoped {
			name = "@" + name
		}
		return name
	}
}

// yarnField splits a field line, "key value" (v1) or "key: value" (berry),
// either side possibly quoted.
func yarnField(s string) (key, value string) {
	rest := ""
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return "", ""
		}
		key, rest = s[1:end+1], s[end+2:]
	} else if i := strings.IndexAny(s, " \t"); i >= 0 {
		key, rest = s[:i], s[i:]
	} else {
		key = s
	}
	key = strings.TrimSuffix(key, ":")
	rest = strings.TrimSpace(rest)
	if r, ok := strings.CutPrefix(rest, ":"); ok {
		rest = strings.TrimSpace(r)
	}
	return key, yarnUnquote(rest)
}

func yarnUnquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		if u, err := strconv.Unquote(s); err == nil && s[0] == '"' {
			return u
		}
		return s[1 : len(s)-1]
	}
	return s
}
