package manifest

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/google/osv-scalibr/clients/datasource"

	"github.com/mlguard/mlguard/internal/deps"
)

// Limits on the expansion of Maven properties (${name}), which scalibr's
// pomxml extractor (through deps.dev/util/maven) performs recursively and
// without memory, twice over: a few hundred bytes of properties that each
// name the previous one twice take it minutes.
const (
	maxPOMDepth          = 1_000   // elements nested in elements
	maxPOMPropertyDepth  = 64      // properties named inside properties
	maxPOMPropertyCost   = 256     // lookups to expand one property
	maxPOMPropertyLength = 1 << 16 // bytes one property expands to
	maxPOMExpansions     = 1 << 20 // lookups to expand every reference in the file
	maxPOMExpandedBytes  = 1 << 20 // bytes every reference in the file expands to
)

// parsePOM reads a Maven pom.xml through scalibr's pomxml extractor and
// corrects what it gets wrong for a gate:
//   - a version range is reported as its lower bound ("[1.0,2.0)" as 1.0),
//     so the version as written is looked up here and a range is unpinned;
//   - a dependency whose version (or any other field) names a property that
//     cannot be resolved, typically one from a parent POM, is dropped; it is
//     reported here, unpinned, the property as its range, rather than lost;
//   - property expansion costs are unbounded: they are checked first.
//
// A dependency without a version (managed by a parent POM) is unpinned with
// range "*". The extractor's parent POM lookup (relativePath, ../pom.xml)
// sees only this file: scalibrParser hands it a file system holding nothing
// else, and no registry client.
func parsePOM(ctx context.Context, p string, content []byte) ([]deps.Package, error) {
	raw, err := readPOM(content)
	if err != nil {
		return nil, err
	}
	pkgs, err := scalibrParser(scalibrPOM)(ctx, p, content)
	if err != nil {
		return nil, err
	}
	return raw.correct(pkgs)
}

// pomDep is a dependency element as written.
type pomDep struct {
	group, artifact, version string
	line                     int
}

// pomRaw is what parsePOM needs of a POM as written.
type pomRaw struct {
	props   map[string]string // what the extractor interpolates with: <properties> and the project.* built-ins
	deps    []pomDep          // <dependencies>
	managed []pomDep          // <dependencyManagement>
}

// readPOM reads the dependencies, dependency management and properties of
// a POM, and fails when expanding its properties would cost more than the
// limits above. It decodes as the extractor does (charset conversion, HTML
// entities) and, like it, ignores what follows the root element.
func readPOM(content []byte) (*pomRaw, error) {
	dec := datasource.NewMavenDecoder(bytes.NewReader(content))
	type elem struct {
		name string
		text strings.Builder // character data of the element itself, as xml.Unmarshal gives a string field
	}
	var (
		stack  []*elem
		raw    = &pomRaw{props: map[string]string{}}
		cur    *pomDep
		defs   = map[string][]string{} // every definition of a property, in profiles too
		refs   = map[string]int{}      // properties referenced from element text and attributes
		fields = map[string]string{}   // project and parent groupId and version
	)
	path := func(names ...string) bool { // the open elements below the root are these
		if len(stack) != len(names)+1 {
			return false
		}
		for i, n := range names {
			if stack[i+1].name != n {
				return false
			}
		}
		return true
	}
read:
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, fmt.Errorf("decoding XML: %w", io.ErrUnexpectedEOF) // no root element, or an unclosed one
		}
		if err != nil {
			return nil, fmt.Errorf("decoding XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxPOMDepth {
				return nil, fmt.Errorf("elements nested deeper than %d: %w", maxPOMDepth, ErrTooLarge)
			}
			for _, a := range t.Attr {
				countPropertyRefs(a.Value, refs)
			}
			stack = append(stack, &elem{name: t.Name.Local})
			if path("dependencies", "dependency") || path("dependencyManagement", "dependencies", "dependency") {
				line, _ := dec.InputPos()
				cur = &pomDep{line: line}
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.EndElement:
			text := stack[len(stack)-1].text.String()
			value := strings.TrimSpace(text)
			countPropertyRefs(text, refs)
			switch {
			case len(stack) >= 2 && stack[len(stack)-2].name == "properties":
				name := stack[len(stack)-1].name
				defs[name] = append(defs[name], value)
				if path("properties", name) {
					raw.props[name] = value // the last definition wins
				}
			case path("groupId"), path("version"), path("parent", "groupId"), path("parent", "version"):
				var key []string
				for _, e := range stack[1:] {
					key = append(key, e.name)
				}
				fields[strings.Join(key, ".")] = value
			case cur != nil && (path("dependencies", "dependency", "groupId") ||
				path("dependencyManagement", "dependencies", "dependency", "groupId")):
				cur.group = value
			case cur != nil && (path("dependencies", "dependency", "artifactId") ||
				path("dependencyManagement", "dependencies", "dependency", "artifactId")):
				cur.artifact = value
			case cur != nil && (path("dependencies", "dependency", "version") ||
				path("dependencyManagement", "dependencies", "dependency", "version")):
				cur.version = value
			case cur != nil && path("dependencies", "dependency"):
				raw.deps = append(raw.deps, *cur)
				cur = nil
			case cur != nil && path("dependencyManagement", "dependencies", "dependency"):
				raw.managed = append(raw.managed, *cur)
				cur = nil
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				break read // the root element is closed
			}
		}
	}
	// The project properties the extractor adds (deps.dev's propertyMap):
	// a bare name only when <properties> does not define it.
	for _, k := range []string{"groupId", "version", "parent.groupId", "parent.version"} {
		v := fields[k]
		if v == "" {
			continue
		}
		for _, name := range []string{k, "pom." + k, "project." + k} {
			defs[name] = append(defs[name], v)
		}
		if _, ok := raw.props[k]; !ok {
			raw.props[k] = v
		}
		raw.props["pom."+k] = v
		raw.props["project."+k] = v
	}
	if err := checkPOMExpansion(defs, refs); err != nil {
		return nil, err
	}
	return raw, nil
}

// countPropertyRefs counts the ${name} references in s, read as the
// extractor reads them: from each "${" to the next "}".
func countPropertyRefs(s string, refs map[string]int) {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return
		}
		refs[s[i+2:i+j]]++
		s = s[i+j+1:]
	}
}

// checkPOMExpansion bounds what expanding the properties will cost the
// extractor. The property graph (every definition of a name counts, in any
// profile) may only loop on itself, which expansion cuts at once; longer
// loops are refused. Over that graph, the cost of expanding a name (lookups,
// and bytes produced) is computed once per name, an upper bound of what the
// extractor's unmemoized expansion does; a reference costs as much wherever
// it appears, since each string is expanded afresh. Both the cost of each
// property and the total over every reference in the file are capped. The
// extractor expands twice, the second time over the first's output, which
// the per-property caps keep bounded too.
func checkPOMExpansion(defs map[string][]string, refs map[string]int) error {
	type cost struct{ lookups, bytes int }
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	costs := map[string]cost{}
	var visit func(name string, depth int) (cost, error)
	visit = func(name string, depth int) (cost, error) {
		switch state[name] {
		case open:
			return cost{}, fmt.Errorf("properties that refer to each other through ${%s}", name)
		case done:
			return costs[name], nil
		}
		if depth > maxPOMPropertyDepth {
			return cost{}, fmt.Errorf("properties nested deeper than %d: %w", maxPOMPropertyDepth, ErrTooLarge)
		}
		state[name] = open
		var c cost
		for _, v := range defs[name] {
			for {
				i := strings.Index(v, "${")
				if i < 0 {
					break
				}
				j := strings.IndexByte(v[i:], '}')
				if j < 0 {
					break
				}
				ref := v[i+2 : i+j]
				c.bytes += i
				c.lookups++
				switch _, defined := defs[ref]; {
				case ref == name || !defined: // a loop on itself is cut; an unknown name stays as written
					c.bytes += j + 1
				default:
					rc, err := visit(ref, depth+1)
					if err != nil {
						return cost{}, err
					}
					c.lookups += rc.lookups
					c.bytes += rc.bytes
				}
				if c.lookups > maxPOMPropertyCost || c.bytes > maxPOMPropertyLength {
					break
				}
				v = v[i+j+1:]
			}
			c.bytes += len(v)
			if c.lookups > maxPOMPropertyCost || c.bytes > maxPOMPropertyLength {
				return cost{}, fmt.Errorf("property ${%s} expands beyond %d lookups or %d bytes: %w",
					name, maxPOMPropertyCost, maxPOMPropertyLength, ErrTooLarge)
			}
		}
		state[name] = done
		costs[name] = c
		return c, nil
	}
	for _, name := range sortedKeys(defs) { // every property: the second expansion may form any name
		if _, err := visit(name, 0); err != nil {
			return err
		}
	}
	var lookups, size int
	for ref, n := range refs {
		c, ok := costs[ref]
		if !ok {
			c = cost{0, len(ref) + 3}
		}
		lookups += n * (c.lookups + 1)
		size += n * c.bytes
		if lookups > maxPOMExpansions || size > maxPOMExpandedBytes {
			return fmt.Errorf("property references expand beyond %d lookups or %d bytes: %w",
				maxPOMExpansions, maxPOMExpandedBytes, ErrTooLarge)
		}
	}
	return nil
}

// interpolate expands the ${name} properties in s as the extractor does
// (deps.dev/util/maven): recursively, a name being expanded is not expanded
// again within itself, and an unknown name stays as written. ok is false
// when some name was not resolved. checkPOMExpansion bounds its cost.
func (raw *pomRaw) interpolate(s string, resolving map[string]bool) (string, bool) {
	ok := true
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		name := s[2:j]
		if resolving[name] {
			ok = false
			break
		}
		resolving[name] = true
		if v, defined := raw.props[name]; defined {
			v, vok := raw.interpolate(v, resolving)
			ok = ok && vok
			b.WriteString(v)
		} else {
			b.WriteString(s[:j+1])
			ok = false
		}
		resolving[name] = false
		s = s[j+1:]
	}
	b.WriteString(s)
	return b.String(), ok
}

func (raw *pomRaw) resolve(s string) (string, bool) {
	return raw.interpolate(s, map[string]bool{})
}

// name is group:artifact of d, when both resolve.
func (raw *pomRaw) name(d pomDep) (string, bool) {
	g, gok := raw.resolve(d.group)
	a, aok := raw.resolve(d.artifact)
	name := g + ":" + a
	return name, gok && aok && validMavenName(name)
}

// written is the version of d as written or, when it gives none, that of
// its dependency management entry m.
func written(d, m pomDep) string {
	if d.version != "" {
		return d.version
	}
	return m.version
}

// version is the pinned version or the range of d, with m its dependency
// management entry.
func (raw *pomRaw) version(d, m pomDep) (version, rng string) {
	w := written(d, m)
	if w == "" {
		return "", "*" // managed by a parent POM or an imported BOM
	}
	v, ok := raw.resolve(w)
	if !ok {
		return "", w // a property we cannot resolve, e.g. from a parent POM
	}
	return mavenVersion(v)
}

// correct replaces the extractor's versions by those read here and adds the
// dependencies it dropped. A package it reports that is not among the
// <dependencies> read here (one from an active profile) keeps its reading.
func (raw *pomRaw) correct(pkgs []deps.Package) ([]deps.Package, error) {
	last := map[string]pomDep{} // the extractor keeps the last dependency of a name
	var names []string
	for _, d := range raw.deps {
		name, ok := raw.name(d)
		if !ok {
			continue
		}
		if _, seen := last[name]; !seen {
			names = append(names, name)
		}
		last[name] = d
	}
	managed := map[string]pomDep{} // and the first management entry
	for _, d := range raw.managed {
		if name, ok := raw.name(d); ok {
			if _, seen := managed[name]; !seen {
				managed[name] = d
			}
		}
	}
	reported := map[string]bool{}
	for i, p := range pkgs {
		reported[p.Name] = true
		d, ok := last[p.Name]
		if !ok {
			continue
		}
		v, rng := raw.version(d, managed[p.Name])
		if v != "" && v != p.Version { // the extractor resolved it otherwise (a profile's property)
			v, rng = "", written(d, managed[p.Name])
		}
		pkgs[i].Version, pkgs[i].Range = v, rng
	}
	for _, name := range names {
		if reported[name] {
			continue
		}
		d := last[name]
		v, rng := raw.version(d, managed[name])
		p := deps.Package{Ecosystem: deps.Maven, Name: name, Version: v, Range: rng, Line: d.line}
		if len(pkgs) >= MaxPackages {
			return nil, errTooMany
		}
		pkgs = append(pkgs, p)
	}
	sort.SliceStable(pkgs, func(i, j int) bool {
		a, b := pkgs[i], pkgs[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Line < b.Line
	})
	return pkgs, nil
}
