package manifest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/osv-scalibr/extractor"
	"gopkg.in/yaml.v3"

	"github.com/mlguard/mlguard/internal/deps"
)

// pnpm-lock.yaml is read here rather than by osv-scalibr's pnpmlock
// extractor, which decodes the packages mapping with yaml.v3: yaml.v3
// compares every pair of keys of a mapping it decodes, so a lock file of
// 40,000 one-line packages (730 KB) took 10 s and one of 16 MB would take
// hours, a hang any pull request could cause. This reader walks the YAML
// nodes once and reads what the extractor reads, the same way (a test and a
// fuzz target compare the two on the same input): the documents' packages
// keys and their name, version and resolution fields, with the same errors
// where yaml.v3's decoding would fail (a duplicate key, a field of the
// wrong kind, a lockfileVersion that is not a number). Aliases, merge keys
// and explicit tags (!!str, !!binary, ...), which pnpm never writes and
// which yaml.v3 would resolve, are refused with errPNPMYAMLFeature.

var errPNPMYAMLFeature = errors.New("YAML aliases, merge keys and explicit tags are not read in pnpm-lock.yaml (pnpm writes none)")

// yaml11Bools are the YAML 1.1 words yaml.v3 still decodes into a bool
// field when they are strings, plain or quoted.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true, "off": true, "Off": true, "OFF": true,
}

// explicitlyTagged reports whether a node carries a tag in the text (!!str,
// !foo), which pnpm never writes.
func explicitlyTagged(n *yaml.Node) bool { return n.Style&yaml.TaggedStyle != 0 }

// The shapes the extractor reads keys and versions with.
var (
	pnpmNumberStart = regexp.MustCompile(`^\d`)
	pnpmNameVersion = regexp.MustCompile(`^(.+)@([\w.-]+)(?:\(|$)`)
	pnpmCodeload    = regexp.MustCompile(`https://codeload\.github\.com(?:/[\w-.]+){2}/tar\.gz/(\w+)$`)
)

func parsePNPMLock(ctx context.Context, p string, content []byte) ([]deps.Package, error) {
	pkgs, err := readPNPMLock(ctx, p, content)
	if err != nil {
		return nil, err
	}
	return fromScalibr(pkgs)
}

// readPNPMLock lists the packages of every YAML document in content as the
// extractor does.
func readPNPMLock(ctx context.Context, p string, content []byte) ([]*extractor.Package, error) {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var out []*extractor.Package
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var root yaml.Node
		if err := dec.Decode(&root); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("could not extract: %w", err)
		}
		pkgs, err := readPNPMDocument(&root, p)
		if err != nil {
			return nil, fmt.Errorf("could not extract: %w", err)
		}
		out = append(out, pkgs...)
		if len(out) > MaxPackages {
			return nil, errTooMany
		}
	}
}

// pnpmFields checks a mapping node as yaml.v3 decoding it into a struct
// would (no duplicate key; no alias or merge key, which this reader
// refuses) and yields its pairs. A null node has no pairs; any other kind is
// the error yaml.v3 gives for decoding it into a struct.
func pnpmFields(n *yaml.Node, what string, yield func(key *yaml.Node, v *yaml.Node) error) error {
	switch {
	case n.Kind == yaml.AliasNode || explicitlyTagged(n):
		return errPNPMYAMLFeature
	case isYAMLNull(n):
		return nil
	case n.Kind != yaml.MappingNode:
		return fmt.Errorf("line %d: %s is not a mapping", n.Line, what)
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode || v.Kind == yaml.AliasNode || k.ShortTag() == "!!merge" || explicitlyTagged(k) || explicitlyTagged(v) {
			return errPNPMYAMLFeature
		}
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: a key of %s is not a scalar", k.Line, what)
		}
		// yaml.v3 takes keys with the same text for one (an empty plain
		// key and '', 1 and "1"), and drops the pair of a null key.
		if seen[k.Value] {
			return fmt.Errorf("line %d: mapping key %q already defined", k.Line, k.Value)
		}
		seen[k.Value] = true
		if isYAMLNull(k) {
			continue
		}
		if err := yield(k, v); err != nil {
			return err
		}
	}
	return nil
}

func isYAMLNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// pnpmString is a scalar decoded into a string field: its text, or "" for
// null; a mapping or a sequence is an error.
func pnpmString(n *yaml.Node, field string) (string, error) {
	switch {
	case explicitlyTagged(n):
		return "", errPNPMYAMLFeature
	case isYAMLNull(n):
		return "", nil
	case n.Kind == yaml.ScalarNode:
		return n.Value, nil
	}
	return "", fmt.Errorf("line %d: %s is not a string", n.Line, field)
}

func readPNPMDocument(root *yaml.Node, p string) ([]*extractor.Package, error) {
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, nil
	}
	doc := root.Content[0]
	if isYAMLNull(doc) {
		return nil, nil
	}
	var version string
	var packages *yaml.Node
	err := pnpmFields(doc, "the document", func(k, v *yaml.Node) (err error) {
		switch k.Value {
		case "lockfileVersion":
			version, err = pnpmString(v, "lockfileVersion")
		case "packages":
			packages = v
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	lockfileVersion, err := strconv.ParseFloat(version, 64)
	if err != nil {
		return nil, err
	}
	if packages == nil {
		return nil, nil
	}
	var out []*extractor.Package
	var errs []error
	err = pnpmFields(packages, "packages", func(keyNode, entry *yaml.Node) error {
		key := keyNode.Value
		var name, version, commit, tarball string
		err := pnpmFields(entry, "package "+strconv.Quote(key), func(field, v *yaml.Node) (err error) {
			switch field.Value {
			case "name":
				name, err = pnpmString(v, "name")
			case "version":
				version, err = pnpmString(v, "version")
			case "dev":
				switch {
				case explicitlyTagged(v):
					err = errPNPMYAMLFeature
				case isYAMLNull(v), v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool":
				case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" && yaml11Bools[v.Value]:
				default:
					err = fmt.Errorf("line %d: dev is not a boolean", v.Line)
				}
			case "resolution":
				err = pnpmFields(v, "resolution", func(rf, x *yaml.Node) (err error) {
					switch rf.Value {
					case "tarball":
						tarball, err = pnpmString(x, "tarball")
					case "commit":
						commit, err = pnpmString(x, "commit")
					case "repo", "type": // read (and checked) by the extractor, unused
						_, err = pnpmString(x, rf.Value)
					}
					return err
				})
			}
			return err
		})
		if err != nil {
			return err
		}
		keyName, keyVersion, err := pnpmKeyNameVersion(key, lockfileVersion)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		name, version = cmp.Or(name, keyName), cmp.Or(version, keyVersion)
		if name == "" || version == "" {
			return nil
		}
		if strings.HasPrefix(tarball, "https://codeload.github.com") {
			if m := pnpmCodeload.FindStringSubmatch(tarball); m != nil {
				commit = m[1]
			}
		}
		purlType := "npm"
		if commit != "" {
			purlType = "git" // a git dependency: not an npm package
		}
		out = append(out, &extractor.Package{
			Name: name, Version: version, PURLType: purlType,
			Location: extractor.LocationFromPathAndLine(p, keyNode.Line),
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// pnpmKeyNameVersion reads a packages key as the extractor does: from
// lockfileVersion 9 "name@version", before it a path "/name/version_peers"
// or "/name@version(peers)". Keys of other shapes give no name and version
// (the entry's own fields may); a key without a "/" before version 9 is an
// error.
func pnpmKeyNameVersion(key string, lockfileVersion float64) (name, version string, err error) {
	if strings.HasPrefix(key, "file:") {
		return "", "", nil
	}
	if lockfileVersion >= 9.0 {
		key = strings.Trim(key, "'")
		key, scoped := strings.CutPrefix(key, "@")
		name, version, _ = strings.Cut(key, "@")
		if scoped {
			name = "@" + name
		}
		return name, version, nil
	}
	parts := strings.Split(key, "/")
	if len(parts) < 2 {
		return "", "", fmt.Errorf("invalid dependency path: %v", key)
	}
	parts = parts[1:]
	switch {
	case strings.HasPrefix(parts[0], "@") && len(parts) >= 2:
		name, parts = parts[0]+"/"+parts[1], parts[2:]
	default:
		name, parts = parts[0], parts[1:]
	}
	if len(parts) > 0 {
		version = parts[0]
	}
	if version == "" {
		if m := pnpmNameVersion.FindStringSubmatch(name); m != nil {
			name, version = m[1], m[2]
		} else {
			name = ""
		}
	}
	if version == "" || !pnpmNumberStart.MatchString(version) {
		return "", "", nil
	}
	version, _, _ = strings.Cut(version, "_")
	return name, version, nil
}
