package modelcard

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mlguard/mlguard/internal/health"
)

// maxVisits bounds the YAML nodes looked at while reading the metadata.
// Aliases let a small document name the same large list many times, and
// an anchor may even contain itself: the walk below follows the card's
// schema to a fixed depth, never the document's shape, and stops here.
const maxVisits = 1 << 16

var errNotMapping = errors.New("not a YAML mapping")

// readMeta fills c from the YAML front matter. The YAML is decoded into
// nodes only: yaml.v3 expands no alias when decoding into a yaml.Node, so
// an alias bomb costs what its text costs.
func (c *Card) readMeta(fm []byte) (err error) {
	var doc yaml.Node
	func() {
		defer func() {
			if r := recover(); r != nil { // a decoder bug must not end the scan
				err = fmt.Errorf("yaml: %v", r)
			}
		}()
		err = yaml.Unmarshal(fm, &doc)
	}()
	if err != nil {
		return err
	}
	if doc.Kind == 0 {
		return nil // empty front matter
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return errNotMapping
	}
	root := resolve(doc.Content[0])
	if root == nil || root.Kind != yaml.MappingNode {
		if root != nil && root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			return nil // only comments
		}
		return errNotMapping
	}
	w := &walker{}
	c.License = w.licence(w.get(root, "license"))
	c.LicenseName = oneLine(w.scalar(w.get(root, "license_name")), maxName)
	c.LicenseLink = oneLine(w.scalar(w.get(root, "license_link")), maxLink)
	c.BaseModels = w.ids(w.get(root, "base_model"))
	c.Datasets = w.ids(w.get(root, "datasets"))
	c.PipelineTag = w.id(w.get(root, "pipeline_tag"))
	c.LibraryName = w.id(w.get(root, "library_name"))
	c.Tags = w.ids(w.get(root, "tags"))
	c.Languages = w.ids(w.get(root, "language"))
	if c.Languages == nil {
		c.Languages = w.ids(w.get(root, "languages"))
	}
	w.modelIndex(c, w.get(root, "model-index"))
	return nil
}

// walker reads nodes within a budget of visits.
type walker struct {
	visits int
}

// resolve follows an alias to its anchored node; nil stays nil.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// visit resolves n and counts it against the budget: nil once spent.
func (w *walker) visit(n *yaml.Node) *yaml.Node {
	if w.visits >= maxVisits {
		return nil
	}
	w.visits++
	return resolve(n)
}

// get is the value of key in mapping m, the first when the key repeats; nil
// when m is not a mapping or has no such key.
func (w *walker) get(m *yaml.Node, key string) *yaml.Node {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := w.visit(m.Content[i])
		if k == nil {
			return nil
		}
		if k.Kind == yaml.ScalarNode && k.Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// items are the first maxList items of a sequence, or the node itself when
// it is not one.
func (w *walker) items(n *yaml.Node) []*yaml.Node {
	n = w.visit(n)
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.SequenceNode:
		return n.Content[:min(len(n.Content), maxList)]
	}
	return []*yaml.Node{n}
}

// scalar is a scalar's text as written; "" for null and for anything else.
func (w *walker) scalar(n *yaml.Node) string {
	n = w.visit(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

// id is a scalar as a one-line identifier: "" when longer than maxName,
// since a clipped id would name something else.
func (w *walker) id(n *yaml.Node) string {
	return bounded(w.scalar(n), maxName)
}

// bounded is s as one line, or "" when that is longer than max bytes.
func bounded(s string, max int) string {
	if len(s) > 4*max { // invalid bytes grow to 3, spaces shrink to 1
		return ""
	}
	if s = oneLine(s, 3*len(s)); len(s) > max {
		return ""
	}
	return s
}

// ids reads a string or a list of them, of mappings naming them (by "id"
// or "name"), deduplicated, in order.
func (w *walker) ids(n *yaml.Node) []string {
	var out []string
	for _, it := range w.items(n) {
		it = w.visit(it)
		if it != nil && it.Kind == yaml.MappingNode {
			if v := w.get(it, "id"); v != nil {
				it = v
			} else {
				it = w.get(it, "name")
			}
		}
		if s := w.id(it); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// licence reads `license:`, an id or an expression, or a list of them that
// all apply. Known SPDX ids take the SPDX list's case.
func (w *walker) licence(n *yaml.Node) string {
	var parts []string
	for _, it := range w.items(n) {
		s := bounded(w.scalar(it), maxLicence)
		if s == "" {
			continue
		}
		if s = canonicalLicence(s); !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	if len(parts) > 1 {
		for i, p := range parts {
			if strings.Contains(p, " ") {
				parts[i] = "(" + p + ")"
			}
		}
	}
	s := strings.Join(parts, " AND ")
	if len(s) > maxLicence {
		return "" // a clipped expression would be another licence
	}
	return s
}

// canonicalLicence spells the known SPDX ids of an id or expression in the
// SPDX list's case; anything else stays as written.
func canonicalLicence(s string) string {
	if id, ok := health.CanonicalSPDX(s); ok {
		return id
	}
	e, err := health.ParseLicence(s)
	if err != nil || e.Op == "" && e.Exception == "" {
		return s // not an expression, or a single unknown id
	}
	var walk func(l *health.Licence)
	walk = func(l *health.Licence) {
		for _, p := range l.Parts {
			walk(p)
		}
		if l.Op != "" {
			return
		}
		base := strings.TrimSuffix(l.ID, "+")
		if id, ok := health.CanonicalSPDX(base); ok {
			l.ID = id + l.ID[len(base):]
		}
		if id, ok := health.CanonicalSPDX(l.Exception); ok {
			l.Exception = id
		}
	}
	walk(e)
	return e.String()
}

// modelIndex reads the evaluation results of `model-index:`, a list of
// {name, results: [{task, dataset, metrics: [...]}]}.
func (w *walker) modelIndex(c *Card, n *yaml.Node) {
	for _, entry := range w.items(n) {
		if c.ModelName == "" {
			c.ModelName = oneLine(w.scalar(w.get(entry, "name")), maxName)
		}
		for _, res := range w.items(w.get(entry, "results")) {
			task, ds := w.get(res, "task"), w.get(res, "dataset")
			base := Metric{
				Task:          w.id(w.get(task, "type")),
				TaskName:      oneLine(w.scalar(w.get(task, "name")), maxName),
				DatasetName:   oneLine(w.scalar(w.get(ds, "name")), maxName),
				DatasetType:   w.id(w.get(ds, "type")),
				DatasetConfig: oneLine(w.scalar(w.get(ds, "config")), maxName),
				DatasetSplit:  oneLine(w.scalar(w.get(ds, "split")), maxName),
			}
			for _, mn := range w.items(w.get(res, "metrics")) {
				if len(c.Metrics) >= maxMetrics || w.visits >= maxVisits {
					return
				}
				m := base
				m.Type = w.id(w.get(mn, "type"))
				m.Name = oneLine(w.scalar(w.get(mn, "name")), maxName)
				m.Value = w.value(w.get(mn, "value"))
				v := w.visit(w.get(mn, "verified"))
				m.Verified = v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" && strings.EqualFold(v.Value, "true")
				if m.Type != "" || m.Name != "" {
					c.Metrics = append(c.Metrics, m)
				}
			}
		}
	}
}

// value is a metric's value as written: a scalar, or a list of scalars
// joined with ", ".
func (w *walker) value(n *yaml.Node) string {
	var parts []string
	size := 0
	for _, it := range w.items(n) {
		s := oneLine(w.scalar(it), maxName)
		if s == "" {
			continue
		}
		parts = append(parts, s)
		if size += len(s) + 2; size > maxName {
			break
		}
	}
	return clip(strings.Join(parts, ", "), maxName)
}
