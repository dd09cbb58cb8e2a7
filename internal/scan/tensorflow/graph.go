package tensorflow

import (
	"fmt"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	pb "github.com/mlguard/mlguard/internal/scan/protobuf"
)

const (
	maxName  = 64 << 10 // names and ops longer than this are cut (messages clip them further)
	maxValue = 4 << 10  // attribute strings and constant paths are cut to this
	maxTrace = 10_000   // nodes visited to find where one path input comes from
	// maxTraceTotal bounds the nodes visited tracing paths in one file.
	maxTraceTotal = 20_000_000
	// maxRetained bounds the bytes of node names and inputs kept to trace
	// paths, over the whole file.
	maxRetained = 256 << 20
)

// attrVal is the part of an AttrValue mlguard uses.
type attrVal struct {
	s     string   // s
	list  []string // list.s
	str   string   // tensor.string_val[0] (a Const's value)
	isStr bool     // tensor holds a string value
	dims  []int64  // shape.dim[].size
	shape bool     // shape is set with a known rank
}

// wantedAttrs are the attributes read; the others are skipped.
var wantedAttrs = map[string]bool{
	"value": true, "output_stream": true, "debug_urls": true, "memory_region_name": true, "shape": true,
}

// nodeDef is the part of a NodeDef mlguard uses.
type nodeDef struct {
	name, op string
	inputs   []string
	attrs    map[string]attrVal
	off      int64
}

// readNodeDef reads a NodeDef: name 1, op 2, input 3, attr 5 (map entries
// key 1, value 2).
func readNodeDef(r *pb.Reader, m pb.Msg, off int64) nodeDef {
	n := nodeDef{off: off}
	var f pb.Field
	for m.Next(&f) {
		if f.Type != pb.Bytes {
			continue
		}
		switch f.Num {
		case 1:
			n.name, _ = r.Str(f, maxName)
		case 2:
			n.op, _ = r.Str(f, maxName)
		case 3:
			in, _ := r.Str(f, maxName)
			n.inputs = append(n.inputs, in)
		case 5:
			key, v, ok := readAttrEntry(r, r.Sub(f))
			if ok {
				if n.attrs == nil {
					n.attrs = map[string]attrVal{}
				}
				n.attrs[key] = v
			}
		}
	}
	return n
}

func readAttrEntry(r *pb.Reader, m pb.Msg) (string, attrVal, bool) {
	var f pb.Field
	var key string
	var val pb.Field
	have := false
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Bytes:
			key, _ = r.Str(f, maxName)
		case f.Num == 2 && f.Type == pb.Bytes:
			val, have = f, true
		}
	}
	if !have || !wantedAttrs[key] {
		return "", attrVal{}, false
	}
	return key, readAttrValue(r, r.Sub(val)), true
}

// readAttrValue reads an AttrValue: list 1 (ListValue: s 2), s 2, shape 7
// (TensorShapeProto: dim 2 {size 1}, unknown_rank 3), tensor 8
// (TensorProto: string_val 8).
func readAttrValue(r *pb.Reader, m pb.Msg) attrVal {
	var v attrVal
	var f pb.Field
	for m.Next(&f) {
		if f.Type != pb.Bytes {
			continue
		}
		switch f.Num {
		case 2:
			v.s, _ = r.Str(f, maxValue)
		case 1:
			l := r.Sub(f)
			var g pb.Field
			for l.Next(&g) {
				if g.Num == 2 && g.Type == pb.Bytes && len(v.list) < 64 {
					s, _ := r.Str(g, maxValue)
					v.list = append(v.list, s)
				}
			}
		case 7:
			v.dims, v.shape = readShape(r, r.Sub(f))
		case 8:
			t := r.Sub(f)
			var g pb.Field
			for t.Next(&g) {
				if g.Num == 8 && g.Type == pb.Bytes && !v.isStr {
					v.str, _ = r.Str(g, maxValue)
					v.isStr = true
				}
			}
		}
	}
	return v
}

func readShape(r *pb.Reader, m pb.Msg) ([]int64, bool) {
	var dims []int64
	known := true
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 2 && f.Type == pb.Bytes:
			size := int64(0)
			d := r.Sub(f)
			var g pb.Field
			for d.Next(&g) {
				if g.Num == 1 && g.Type == pb.Varint {
					size = int64(g.V)
				}
			}
			if len(dims) < 64 {
				dims = append(dims, size)
			}
		case f.Num == 3 && f.Type == pb.Varint && f.V != 0:
			known = false
		}
	}
	return dims, known
}

// graph is one GraphDef or FunctionDef body, indexed for tracing.
type graph struct {
	where  string // "the main graph", `function "f"`
	nodes  []nodeDef
	byName map[string]int
	fed    map[string]bool // node names bound by the loader (assets)
}

func newGraph(where string) *graph {
	return &graph{where: where, byName: map[string]int{}}
}

func (g *graph) add(n nodeDef) {
	if _, dup := g.byName[n.name]; !dup {
		g.byName[n.name] = len(g.nodes)
	}
	g.nodes = append(g.nodes, n)
}

// inputNode is the node an input names: "node", "node:1" in a GraphDef,
// "node:out:0" or "arg" in a function; "" for control inputs ("^node").
func inputNode(in string) string {
	if strings.HasPrefix(in, "^") {
		return ""
	}
	if i := strings.IndexByte(in, ':'); i >= 0 {
		return in[:i]
	}
	return in
}

// traceFed follows the data inputs back from in and reports whether the
// value can come from the loader: a Placeholder, PlaceholderWithDefault,
// _Arg, a function argument (a name that is no node of the function), or
// an asset the loader rebinds. Otherwise the value is built from constants
// in the graph, and konst is the first string constant met.
func (g *graph) traceFed(in string, budget *int64) (fed bool, konst string) {
	seen := map[string]bool{}
	queue := []string{inputNode(in)}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		*budget--
		if len(seen) > maxTrace || *budget < 0 {
			return true, "" // too far to tell: stay silent rather than guess
		}
		i, ok := g.byName[name]
		if !ok || g.fed[name] {
			return true, ""
		}
		n := &g.nodes[i]
		switch n.op {
		case "Placeholder", "PlaceholderWithDefault", "_Arg":
			return true, ""
		case "Const":
			if a := n.attrs["value"]; a.isStr && konst == "" {
				konst = a.str
			}
			continue
		}
		for _, in := range n.inputs {
			queue = append(queue, inputNode(in))
		}
	}
	return false, konst
}

// opFinding gathers the nodes of one op in one graph.
type opFinding struct {
	op       string
	risk     opRisk
	where    string
	first    *nodeDef
	evidence string
	count    int
}

// checker finds dangerous ops in graphs and gathers them per op and graph.
type checker struct {
	found  map[string]*opFinding
	order  []string
	extra  []finding.Finding // other findings met while checking
	budget int64             // trace steps left
}

func newChecker() *checker { return &checker{found: map[string]*opFinding{}, budget: maxTraceTotal} }

// node checks one node of g (g may be nil when there is no graph to trace
// in, as in a TFLite flex op; constant tells then whether the path inputs
// are constant tensors).
func (c *checker) node(g *graph, n *nodeDef, where string, constant func(i int) (bool, string)) {
	risk, ok := dangerousOps[n.op]
	if !ok {
		return
	}
	// pathOf says whether path input i is built from constants, and the
	// first string constant on the way.
	pathOf := func(i int) (bool, string) {
		switch {
		case g != nil && i < len(n.inputs):
			fed, k := g.traceFed(n.inputs[i], &c.budget)
			return !fed, k
		case g == nil && constant != nil:
			return constant(i)
		}
		return false, ""
	}
	evidence := ""
	switch risk.check {
	case fixedPath:
		fixed := false
		for _, i := range risk.inputs {
			if isConst, val := pathOf(i); isConst {
				fixed = true
				if val != "" {
					evidence = fmt.Sprintf("path %q", modelfile.ClipText(val))
				}
			}
		}
		if !fixed {
			return
		}
	case fileStream, debugURLs:
		var hit bool
		if hit, evidence = risk.triggered(n); !hit {
			return
		}
	default:
		for _, i := range risk.inputs {
			if isConst, val := pathOf(i); isConst && val != "" {
				evidence = fmt.Sprintf("path %q", modelfile.ClipText(val))
			}
		}
		if a, ok := n.attrs["memory_region_name"]; ok && a.s != "" {
			evidence = fmt.Sprintf("memory_region_name=%q", modelfile.ClipText(a.s))
		}
	}
	key := n.op + "\x00" + where
	f, ok := c.found[key]
	if !ok {
		f = &opFinding{op: n.op, risk: risk, where: where, first: n, evidence: evidence}
		c.found[key] = f
		c.order = append(c.order, key)
	}
	f.count++
}

// findings renders what was gathered, one finding per op and graph.
func (c *checker) findings() []finding.Finding {
	var out []finding.Finding
	if c.budget < 0 {
		out = append(out, finding.New(finding.ScanIncomplete, fmt.Sprintf(
			"tracing where checkpoint and dataset paths come from took more than %d steps; the paths of later ops were not traced", maxTraceTotal)))
	}
	for _, key := range c.order {
		f := c.found[key]
		nodes := fmt.Sprintf("node %q", modelfile.ClipText(f.first.name))
		if f.count > 1 {
			nodes = fmt.Sprintf("%d nodes, first %q,", f.count, modelfile.ClipText(f.first.name))
		}
		msg := fmt.Sprintf("%s (%s in %s) %s", f.op, nodes, f.where, f.risk.what)
		if f.evidence != "" {
			msg += ": " + f.evidence
		}
		fd := finding.New(finding.TensorFlowDangerousOp, msg)
		fd.Severity = f.risk.sev
		fd.Offset = f.first.off
		fd.Evidence = f.op
		if f.evidence != "" {
			fd.Evidence += " " + f.evidence
		}
		out = append(out, fd)
	}
	return out
}
