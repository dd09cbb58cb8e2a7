// Package tensorflow scans TensorFlow models without loading them: the
// SavedModel protobuf (saved_model.pb: every meta graph's GraphDef and
// function library), the Keras metadata of a SavedModel (keras_metadata.pb)
// and TensorFlow Lite flatbuffers (.tflite).
//
// TensorFlow graphs are programs (TensorFlow's SECURITY.md). Most of their
// operations compute; a few read and write files, list directories, open
// network connections or call Python, and a model that uses them can do so
// on the machine that runs it. The scanner reports those operations (the
// table in ops.go), Keras Lambda layers, TFLite custom operators, and the
// TensorFlow operations inside TFLite flex operators.
package tensorflow

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	pb "github.com/mlguard/mlguard/internal/scan/protobuf"
)

// Formats the reports give.
const (
	FormatSavedModel    = "tf-savedmodel"
	FormatKerasMetadata = "tf-keras-metadata"
	FormatTFLite        = "tflite"
	FormatGraphDef      = "tf-graphdef"
)

// ScanSavedModel reads a SavedModel protobuf (saved_model.pb): for each
// MetaGraphDef, the graph's nodes and every function of its library. Ops
// from the table in ops.go are reported; the checkpoint, dataset and table
// ops that take a path are reported only when the path is built from
// constants rather than fed by the loader (as every SavedModel's saver
// is). Parameters counts the shapes of the main graph's variables
// (VarHandleOp, VariableV2), the largest over the meta graphs.
//
// Malformed protobuf and input past a limit become a finding.ScanIncomplete
// finding and err is nil; err is non-nil only when ctx is cancelled or r
// fails, with the report of what was found so far.
func ScanSavedModel(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error) {
	s := &savedModel{r: pb.NewReader(ctx, r, size, pb.DefaultLimits), check: newChecker()}
	rep := &modelfile.Report{Format: FormatSavedModel}
	root := s.r.Root()
	var f pb.Field
	sawMeta := false
	for root.Next(&f) {
		if f.Num == 2 && f.Type == pb.Bytes { // meta_graphs
			sawMeta = true
			s.metaGraph(s.r.Sub(f))
		}
	}
	rep.Findings = s.check.findings()
	rep.Parameters = s.params
	if s.overBudget {
		rep.Findings = append(rep.Findings, finding.New(finding.ScanIncomplete,
			fmt.Sprintf("the graphs hold more than %d bytes of node names and inputs; paths of checkpoint and dataset ops were not traced past that point", maxRetained)))
	}
	return finish(rep, s.r.Err(), "SavedModel", !sawMeta, "the file decodes as protobuf but has no meta graph: it is not a SavedModel mlguard can examine")
}

// ScanGraphDef reads a bare GraphDef protobuf, as TF1 tools wrote frozen
// graphs (frozen_inference_graph.pb): the same checks as ScanSavedModel on
// the graph and its function library. There are no assets: a constant
// vocabulary path in a frozen graph is reported like any fixed path.
func ScanGraphDef(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error) {
	s := &savedModel{r: pb.NewReader(ctx, r, size, pb.DefaultLimits), check: newChecker()}
	graphs := s.graphDef(s.r.Root())
	nodes := 0
	for i, g := range graphs {
		nodes += len(g.nodes)
		if i == 0 {
			s.params = variableParams(g)
		}
		for j := range g.nodes {
			s.check.node(g, &g.nodes[j], g.where, nil)
		}
	}
	rep := &modelfile.Report{Format: FormatGraphDef, ModelInfo: finding.ModelInfo{Parameters: s.params}, Findings: s.check.findings()}
	return finish(rep, s.r.Err(), "GraphDef", nodes == 0, "the file decodes as protobuf but has no graph nodes: it is not a GraphDef mlguard can examine")
}

// finish turns the reader's error into the report's last finding, or into
// the returned error when it is not about the file.
func finish(rep *modelfile.Report, err error, what string, empty bool, emptyMsg string) (*modelfile.Report, error) {
	var pe *pb.Error
	switch {
	case errors.As(err, &pe):
		msg := "the " + what + " protobuf is malformed"
		if errors.Is(err, pb.ErrLimit) {
			msg = "the " + what + " goes past a safety limit"
		}
		f := finding.New(finding.ScanIncomplete, msg+"; findings before the break are reported, the rest was not examined")
		f.Offset, f.Evidence = pe.Offset, pe.Msg
		rep.Findings = append(rep.Findings, f)
	case err != nil:
		return rep, fmt.Errorf("scanning %s: %w", what, err)
	case empty:
		rep.Findings = append(rep.Findings, finding.New(finding.ScanIncomplete, emptyMsg))
	}
	return rep, nil
}

type savedModel struct {
	r          *pb.Reader
	check      *checker
	params     int64
	retained   int64
	overBudget bool
}

// metaGraph reads a MetaGraphDef: graph_def 2, asset_file_def 6. The graphs
// are checked once the whole meta graph is read, because the assets that
// the loader rebinds come after the graph.
func (s *savedModel) metaGraph(m pb.Msg) {
	var graphs []*graph
	assets := map[string]bool{}
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 2 && f.Type == pb.Bytes:
			graphs = append(graphs, s.graphDef(s.r.Sub(f))...)
		case f.Num == 6 && f.Type == pb.Bytes:
			if name := s.assetTensor(s.r.Sub(f)); name != "" {
				assets[inputNode(name)] = true
			}
		}
	}
	var params int64
	for i, g := range graphs {
		if i == 0 {
			g.fed = assets // TF1 assets are Const nodes of the main graph
			params = variableParams(g)
		}
		for j := range g.nodes {
			s.check.node(g, &g.nodes[j], g.where, nil)
		}
	}
	s.params = max(s.params, params)
}

// assetTensor reads an AssetFileDef's tensor_info 1 (TensorInfo: name 1).
func (s *savedModel) assetTensor(m pb.Msg) string {
	var f, g pb.Field
	name := ""
	for m.Next(&f) {
		if f.Num == 1 && f.Type == pb.Bytes {
			ti := s.r.Sub(f)
			for ti.Next(&g) {
				if g.Num == 1 && g.Type == pb.Bytes {
					name, _ = s.r.Str(g, maxName)
				}
			}
		}
	}
	return name
}

// graphDef reads a GraphDef: node 1, library 2 (FunctionDefLibrary:
// function 1). The main graph comes first in the result.
func (s *savedModel) graphDef(m pb.Msg) []*graph {
	main := newGraph("the main graph")
	out := []*graph{main}
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Bytes:
			s.keep(main, readNodeDef(s.r, s.r.Sub(f), f.Off))
		case f.Num == 2 && f.Type == pb.Bytes:
			lib := s.r.Sub(f)
			var g pb.Field
			for lib.Next(&g) {
				if g.Num == 1 && g.Type == pb.Bytes {
					out = append(out, s.functionDef(s.r.Sub(g)))
				}
			}
		}
	}
	return out
}

// functionDef reads a FunctionDef: signature 1 (OpDef: name 1), node_def 3.
func (s *savedModel) functionDef(m pb.Msg) *graph {
	g := newGraph("")
	name := ""
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Bytes:
			sig := s.r.Sub(f)
			var h pb.Field
			for sig.Next(&h) {
				if h.Num == 1 && h.Type == pb.Bytes {
					name, _ = s.r.Str(h, maxName)
				}
			}
		case f.Num == 3 && f.Type == pb.Bytes:
			s.keep(g, readNodeDef(s.r, s.r.Sub(f), f.Off))
		}
	}
	g.where = fmt.Sprintf("function %q", modelfile.ClipText(name))
	return g
}

// keep adds a node to g, within the retention budget; past it, only the
// nodes the table names are kept (still checked, no longer traced through).
func (s *savedModel) keep(g *graph, n nodeDef) {
	cost := int64(len(n.name)+len(n.op)) + 64
	for _, in := range n.inputs {
		cost += int64(len(in)) + 16
	}
	s.retained += cost
	if s.retained > maxRetained {
		s.overBudget = true
		if _, ok := dangerousOps[n.op]; !ok && !isVariable(n.op) {
			return
		}
	}
	g.add(n)
}

func isVariable(op string) bool {
	return op == "VarHandleOp" || op == "VariableV2" || op == "Variable"
}

// variableParams sums the element counts of the graph's variables.
func variableParams(g *graph) int64 {
	var total int64
	for _, n := range g.nodes {
		if !isVariable(n.op) {
			continue
		}
		a, ok := n.attrs["shape"]
		if !ok || !a.shape {
			continue
		}
		count := int64(1)
		for _, d := range a.dims {
			if d < 0 {
				count = 0
				break
			}
			count = modelfile.MulSat(count, d)
		}
		total = modelfile.AddSat(total, count)
	}
	return total
}
