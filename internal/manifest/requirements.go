package manifest

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/mlguard/mlguard/internal/deps"
)

// pep508Name is a PEP 508 distribution name at the start of a requirement.
var pep508Name = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)`)

// eggName is the #egg= fragment of a VCS or URL requirement.
var eggName = regexp.MustCompile(`[#&]egg=([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)`)

// requirement is one parsed PEP 508 requirement.
type requirement struct {
	name    string
	version string // set only for a single == (no wildcard) or === specifier
	spec    string // the requirement as written, without markers and options
}

// parsePEP508 parses a PEP 508 requirement ("torch[cuda]>=2.1,<3; python_version>'3.8'",
// "pkg @ https://..."). ok is false when it names no distribution.
func parsePEP508(s string) (requirement, bool) {
	s = strings.TrimSpace(s)
	m := pep508Name.FindString(s)
	if m == "" {
		return requirement{}, false
	}
	rest := strings.TrimSpace(s[len(m):])
	if strings.HasPrefix(rest, "[") { // extras
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return requirement{}, false
		}
		rest = strings.TrimSpace(rest[end+1:])
	}
	if strings.HasPrefix(rest, "@") { // direct reference: never pinned to a registry version
		url := strings.TrimSpace(rest[1:])
		if i := strings.Index(url, " ;"); i >= 0 {
			url = url[:i]
		}
		url = strings.TrimSpace(url)
		return requirement{name: m, spec: m + " @ " + url}, url != ""
	}
	if i := strings.IndexByte(rest, ';'); i >= 0 { // markers
		rest = rest[:i]
	}
	specs := strings.TrimSpace(rest)
	if strings.HasPrefix(specs, "(") && strings.HasSuffix(specs, ")") {
		specs = strings.TrimSpace(specs[1 : len(specs)-1])
	}
	if specs != "" && !strings.ContainsAny(specs[:1], "=<>!~") {
		return requirement{}, false // garbage after the name
	}
	r := requirement{name: m, spec: m + specs}
	if specs != "" && !strings.Contains(specs, ",") {
		switch {
		case strings.HasPrefix(specs, "==="):
			r.version = strings.TrimSpace(specs[3:])
		case strings.HasPrefix(specs, "=="):
			if v := strings.TrimSpace(specs[2:]); !strings.Contains(v, "*") {
				r.version = v
			}
		}
	}
	return r, true
}

// logicalLines joins backslash continuations and strips comments, calling
// fn with each non-empty logical line and the line it starts on.
func logicalLines(content []byte, fn func(line string, lineno int) error) error {
	var b strings.Builder
	start := 0
	lines := strings.Split(string(content), "\n")
	for i, raw := range lines {
		raw = strings.TrimSuffix(raw, "\r")
		if b.Len() == 0 {
			start = i + 1
		}
		cont := strings.HasSuffix(raw, `\`)
		if cont {
			raw = raw[:len(raw)-1]
		}
		if b.Len()+len(raw) > MaxLineLength {
			return fmt.Errorf("line %d: longer than %d bytes: %w", start, MaxLineLength, ErrTooLarge)
		}
		b.WriteString(raw)
		if cont && i < len(lines)-1 {
			b.WriteByte(' ')
			continue
		}
		line := stripComment(b.String())
		b.Reset()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := fn(strings.TrimSpace(line), start); err != nil {
			return err
		}
	}
	return nil
}

// stripComment drops a # comment that starts the line or follows
// whitespace, as pip does (a # inside a URL fragment survives).
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

// reqOptionsWithValue are requirements-file options that take an argument
// and name no package.
var reqOptionsWithValue = map[string]bool{
	"-i": true, "--index-url": true, "--extra-index-url": true, "-f": true, "--find-links": true,
	"--trusted-host": true, "--no-binary": true, "--only-binary": true, "--use-feature": true,
	"--prefer-binary": false, "--pre": false, "--no-index": false, "--require-hashes": false,
}

// parseRequirements reads a pip requirements file. Includes (-r, -c) are not
// followed: Includes reports them.
func parseRequirements(_ context.Context, _ string, content []byte) ([]deps.Package, error) {
	var c collector
	err := logicalLines(content, func(line string, lineno int) error {
		fields := strings.Fields(line)
		first := fields[0]
		switch {
		case first == "-r" || first == "-c" || strings.HasPrefix(first, "--requirement") ||
			strings.HasPrefix(first, "--constraint") || strings.HasPrefix(first, "-r") || strings.HasPrefix(first, "-c"):
			return nil // includes: see Includes
		case first == "-e" || strings.HasPrefix(first, "--editable"):
			target := ""
			if first == "-e" || first == "--editable" {
				if len(fields) > 1 {
					target = fields[1]
				}
			} else if _, v, ok := strings.Cut(first, "="); ok {
				target = v
			} else {
				target = strings.TrimPrefix(first, "-e")
			}
			if p, ok := urlRequirement(target, lineno); ok {
				return c.add(p)
			}
			return nil
		case strings.HasPrefix(first, "-"):
			return nil // global options
		}
		if p, ok := requirementPackage(line, lineno); ok {
			return c.add(p)
		}
		return nil // a local path or something we cannot name
	})
	return c.pkgs, err
}

// requirementPackage reads one requirement as pip reads a requirements
// line (options, includes and comments already handled): a PEP 508
// requirement ("torch==2.1.0" pinned, "numpy>=1.24" a range, "pkg @ URL"),
// or a bare URL or VCS reference. setup.py and setup.cfg use it too.
func requirementPackage(line string, lineno int) (deps.Package, bool) {
	// Per-requirement options (--hash=..., --config-settings) follow the
	// requirement after whitespace; markers may contain spaces too, so cut
	// at the first " --".
	req := line
	if i := strings.Index(req, " --"); i >= 0 {
		req = req[:i]
	}
	req = strings.TrimSpace(req)
	if p, ok := urlRequirement(req, lineno); ok {
		return p, true
	}
	r, ok := parsePEP508(req)
	if !ok {
		return deps.Package{}, false
	}
	return deps.Package{Ecosystem: deps.PyPI, Name: r.name, Version: r.version, Range: r.spec, Line: lineno, Hashes: requirementHashes(line)}, true
}

// urlRequirement handles a bare URL or VCS reference ("git+https://...#egg=x",
// "https://.../torch-2.1.0-cp311-....whl"): unpinned, the URL as its range.
func urlRequirement(s string, lineno int) (deps.Package, bool) {
	if !strings.Contains(s, "://") || strings.Contains(s, " @ ") {
		return deps.Package{}, false
	}
	if i := strings.Index(s, " ;"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	name := ""
	if m := eggName.FindStringSubmatch(s); m != nil {
		name = m[1]
	} else {
		file := path.Base(strings.SplitN(strings.SplitN(s, "#", 2)[0], "?", 2)[0])
		if strings.HasSuffix(file, ".whl") || strings.HasSuffix(file, ".tar.gz") || strings.HasSuffix(file, ".zip") {
			name = pep508Name.FindString(strings.SplitN(file, "-", 2)[0])
		}
	}
	if name == "" {
		return deps.Package{}, false
	}
	return deps.Package{Ecosystem: deps.PyPI, Name: name, Range: s, Line: lineno}, true
}

// Include is a file that a requirements file pulls in with -r or -c.
type Include struct {
	Path       string // relative to the repository, resolved against the including file
	Constraint bool   // -c: constrains versions but adds no packages
	Line       int
}

// Includes lists the -r/--requirement and -c/--constraint files that the
// requirements file at path names. Parse does not follow them; a caller that
// has the repository can. Remote includes (URLs) are listed as written.
func Includes(p string, content []byte) []Include {
	if len(content) > MaxContentSize {
		return nil
	}
	var out []Include
	dir := path.Dir(strings.ReplaceAll(p, `\`, "/"))
	_ = logicalLines(content, func(line string, lineno int) error {
		fields := strings.Fields(line)
		opt, arg := fields[0], ""
		if o, v, ok := strings.Cut(opt, "="); ok && strings.HasPrefix(o, "--") {
			opt, arg = o, v
		} else if len(opt) > 2 && (strings.HasPrefix(opt, "-r") || strings.HasPrefix(opt, "-c")) && !strings.HasPrefix(opt, "--") {
			opt, arg = opt[:2], opt[2:]
		} else if len(fields) > 1 {
			arg = fields[1]
		}
		var constraint bool
		switch opt {
		case "-r", "--requirement":
		case "-c", "--constraint":
			constraint = true
		default:
			return nil
		}
		if arg == "" || len(out) >= MaxPackages {
			return nil
		}
		if !strings.Contains(arg, "://") && !path.IsAbs(arg) {
			arg = path.Join(dir, arg)
		}
		out = append(out, Include{Path: arg, Constraint: constraint, Line: lineno})
		return nil
	})
	return out
}
