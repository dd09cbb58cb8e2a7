package scan

import (
	"context"
	"io"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// formatScanner is what every format package under internal/scan exports:
// it reads headers and metadata from r, never the weights.
type formatScanner func(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error)

// scanFormat runs a format scanner on a node: a stream is spooled first
// (the scanners seek), the report's findings are attached to the node, and
// the format, architecture and parameter count become the file's when the
// node is the file itself (or the content of a compressed file).
func (j *job) scanFormat(n *node, label string, scan formatScanner) {
	cleanup, err := j.spool(n)
	if err != nil {
		j.setFormat(n, label)
		j.incomplete(n, "the "+label+" file could not be read", err)
		return
	}
	defer cleanup()
	rep, err := scan(j.ctx, n.ra, n.size, j.modelOptions(n))
	if rep != nil && rep.Format != "" {
		label = rep.Format
	}
	j.setFormat(n, label)
	if rep != nil {
		if n.depth == 0 || n.wrapped {
			j.info = rep.ModelInfo
		}
		for _, f := range rep.Findings {
			j.add(n, f)
		}
	}
	if err != nil {
		j.incomplete(n, "the "+label+" file could not be read to the end", err)
	}
}

// modelOptions are the options of a format scanner on node n: embedded files
// go through the whole engine as members of n.
func (j *job) modelOptions(n *node) modelfile.Options {
	return modelfile.Options{Nested: func(ctx context.Context, name string, r io.ReaderAt, size int64) []finding.Finding {
		// Members are relative to n: the scanner returns these findings in its
		// report, and scanFormat attaches them to n.
		sub := &job{e: j.e, ctx: ctx, budget: j.budget}
		child := &node{name: name, member: name, depth: n.depth + 1, size: size, ra: r}
		if child.depth > j.e.opt.Limits.MaxDepth {
			sub.limit(child, "an embedded file is nested deeper than the limit; not scanned")
			return sub.findings
		}
		sub.scan(child)
		j.budget = sub.budget
		return sub.findings
	}}
}
