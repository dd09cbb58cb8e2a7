// Package onnx scans ONNX models (a protobuf ModelProto) without loading
// them. It walks the main graph, the graphs nested in node attributes (If
// branches, Loop and Scan bodies, at any depth), training graphs and
// model-local functions, and reads each tensor's header (shape, data
// location, external data entries) while skipping its data by offset, so a
// 2 GB model costs a few kilobytes of reads.
//
// It reports operators from domains that neither ONNX nor ONNX Runtime
// implement (loading them needs a custom operator library: native code) and
// external data locations that leave the model's folder (absolute paths,
// "..", drives, UNC shares, NUL bytes, ONNX Runtime's memory-address marker),
// the CVE-2022-25882 / CVE-2024-27318 / CVE-2024-27319 family.
package onnx

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	pb "github.com/mlguard/mlguard/internal/scan/protobuf"
)

// Format is the name the report gives the layout.
const Format = "onnx"

const (
	maxName     = 64 << 10 // names, domains and op types longer than this are cut (messages clip them further)
	maxLocation = 64 << 10 // an external data location longer than this is not a path any OS opens
	maxListed   = 8        // operators or tensors named in one finding
)

// standardDomains are the operator sets of the ONNX standard; "" and
// "ai.onnx" are the same set.
var standardDomains = map[string]bool{
	"":                         true,
	"ai.onnx":                  true,
	"ai.onnx.ml":               true,
	"ai.onnx.training":         true,
	"ai.onnx.preview":          true,
	"ai.onnx.preview.training": true,
}

// runtimeDomains are operator sets that every ONNX Runtime build carries
// (its contrib and layout-optimised kernels): models exported for or
// optimised by ONNX Runtime use them routinely, and no library is loaded.
var runtimeDomains = map[string]bool{
	"com.microsoft":              true,
	"com.microsoft.nchwc":        true,
	"com.microsoft.experimental": true,
	"com.ms.internal.nhwc":       true,
}

// ortMemAddr is the location ONNX Runtime reads as "the offset is a pointer
// into this process's memory" (onnxruntime/core/framework/tensorprotoutils.h).
const ortMemAddr = "*/_ORT_MEM_ADDR_/*"

// Scan reads the ONNX model in the size bytes of r.
//
// The report's Architecture is the main graph's name (ONNX records no
// architecture name; exporters name the graph after the model or the
// tool), its Producer the exporter, "pytorch 2.1.0". Parameters
// is the sum, over the initializers of every graph, of the product of their
// dims (a sparse initializer counts its stored values), external data
// included. DType is the data type of the initializers that hold most of
// those parameters ("FLOAT", "FLOAT16"; see DataTypeName). Producer is
// producer_name and producer_version, "pytorch 2.1.0".
//
// Inputs are the main graph's declared inputs less those an initializer
// names (exporters before IR version 4 list every weight as an input);
// Outputs are its declared outputs. Each has its name, its element type
// and its shape: one entry per dimension, the number, the symbol
// ("batch") or "?", nil for an unknown rank and empty for a scalar. Types
// other than tensors are spelled out in DType ("sequence(map(INT64,FLOAT))")
// with no shape. At most maxIO inputs and maxIO outputs are listed, and
// maxDims dimensions each; past that a last entry "… N more" counts the
// rest.
//
// Malformed or truncated protobuf, and input past a limit, are reported as a
// finding.ScanIncomplete finding (everything found before the break is
// kept) and err is nil. err is non-nil only when the scan could not go on
// for a reason outside the file (ctx cancelled, a read error); the report
// then holds what was found so far, and the caller reports the file as not
// fully scanned.
func Scan(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error) {
	s := &scanner{
		r:         pb.NewReader(ctx, r, size, pb.DefaultLimits),
		ops:       map[string]*domainUse{},
		functions: map[opKey]bool{},
		locations: map[string]*locationUse{},
		info:      info{seed: maphash.MakeSeed()},
	}
	s.model(s.r.Root())
	rep := &modelfile.Report{Format: Format, ModelInfo: finding.ModelInfo{
		Architecture: s.architecture(),
		Parameters:   s.params,
		DType:        s.info.dtype(),
		Producer:     s.producerText(),
		Inputs:       s.info.finishInputs(),
		Outputs:      s.info.outputs.list(),
	}}
	rep.Findings = s.findings()

	err := s.r.Err()
	var pe *pb.Error
	switch {
	case errors.As(err, &pe):
		msg := "the ONNX protobuf is malformed"
		if errors.Is(err, pb.ErrLimit) {
			msg = "the ONNX model goes past a safety limit"
		}
		f := finding.New(finding.ScanIncomplete, msg+"; findings before the break are reported, the rest was not examined")
		f.Offset, f.Evidence = pe.Offset, pe.Msg
		rep.Findings = append(rep.Findings, f)
	case err != nil:
		return rep, fmt.Errorf("scanning ONNX model: %w", err)
	case !s.sawIR && !s.sawGraph:
		rep.Findings = append(rep.Findings, finding.New(finding.ScanIncomplete,
			"the file decodes as protobuf but has neither an ir_version nor a graph: it is not an ONNX model mlguard can examine"))
	}
	return rep, nil
}

type opKey struct{ domain, op string }

// domainUse gathers the nodes of one operator domain.
type domainUse struct {
	domain string
	first  int64  // offset of the first node
	where  string // where the first node sits
	ops    []string
	count  map[string]int
}

// locationUse gathers the tensors that name one external data location.
type locationUse struct {
	location string
	risk     string
	first    int64
	where    string
	tensors  []string // the first few
	count    int
}

type scanner struct {
	r *pb.Reader

	sawIR, sawGraph bool
	producer        string
	producerVersion string
	graphName       string

	params int64
	info   info

	ops         map[string]*domainUse // by domain
	domainOrder []string
	functions   map[opKey]bool // model-local functions, by (domain, name)
	locations   map[string]*locationUse
	locOrder    []string
	longLoc     []finding.Finding
}

func (s *scanner) str(f pb.Field, n int) string {
	v, _ := s.r.Str(f, n)
	return v
}

// ModelProto: ir_version 1, producer_name 2, producer_version 3, domain 4,
// graph 7, opset_import 8, training_info 20, functions 25.
func (s *scanner) model(m pb.Msg) {
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Varint:
			s.sawIR = true
		case f.Num == 2 && f.Type == pb.Bytes:
			s.producer = s.str(f, maxName)
		case f.Num == 3 && f.Type == pb.Bytes:
			s.producerVersion = s.str(f, maxName)
		case f.Num == 7 && f.Type == pb.Bytes:
			s.sawGraph = true
			s.graph(s.r.Sub(f), "the main graph", true)
		case f.Num == 20 && f.Type == pb.Bytes:
			s.trainingInfo(s.r.Sub(f))
		case f.Num == 25 && f.Type == pb.Bytes:
			s.function(s.r.Sub(f))
		}
	}
}

// TrainingInfoProto: initialization 1, algorithm 2 (both GraphProto).
func (s *scanner) trainingInfo(m pb.Msg) {
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Bytes:
			s.graph(s.r.Sub(f), "a training initialization graph", false)
		case f.Num == 2 && f.Type == pb.Bytes:
			s.graph(s.r.Sub(f), "a training algorithm graph", false)
		}
	}
}

// GraphProto: node 1, name 2, initializer 5, input 11, output 12,
// sparse_initializer 15. Initializers of every graph count as parameters: a
// nested graph's initializers are weights too. Inputs and outputs are read
// for the main graph only.
func (s *scanner) graph(m pb.Msg, where string, main bool) {
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Bytes:
			s.node(s.r.Sub(f), where)
		case f.Num == 2 && f.Type == pb.Bytes && main:
			s.graphName = s.str(f, maxName)
		case f.Num == 5 && f.Type == pb.Bytes:
			name := s.tensor(s.r.Sub(f), where, true)
			if main {
				s.info.initializer(name)
			}
		case f.Num == 15 && f.Type == pb.Bytes:
			name := s.sparseTensor(s.r.Sub(f), where, true)
			if main {
				s.info.initializer(name)
			}
		case f.Num == 11 && f.Type == pb.Bytes && main:
			s.input(s.r.Sub(f))
		case f.Num == 12 && f.Type == pb.Bytes && main:
			s.output(s.r.Sub(f))
		}
	}
}

// NodeProto: name 3, op_type 4, attribute 5, domain 7. The serialized order
// puts name and op_type before the attributes; nested graphs are named after
// what has been read so far.
func (s *scanner) node(m pb.Msg, where string) {
	var f pb.Field
	var name, op, domain string
	var off int64 = -1
	for m.Next(&f) {
		if off < 0 {
			off = f.Off
		}
		switch {
		case f.Num == 3 && f.Type == pb.Bytes:
			name = s.str(f, maxName)
		case f.Num == 4 && f.Type == pb.Bytes:
			op = s.str(f, maxName)
		case f.Num == 7 && f.Type == pb.Bytes:
			domain = s.str(f, maxName)
		case f.Num == 5 && f.Type == pb.Bytes:
			s.attribute(s.r.Sub(f), fmt.Sprintf("%s node %q", modelfile.ClipText(op), modelfile.ClipText(name)), where)
		}
	}
	if off >= 0 {
		s.useOp(domain, op, off, where)
	}
}

// AttributeProto: name 1, t 5, g 6, tensors 10, graphs 11, sparse_tensor 22,
// sparse_tensors 23. Tensors in attributes (a Constant's value) can hold
// external data like initializers, and graphs are If/Loop/Scan bodies.
func (s *scanner) attribute(m pb.Msg, owner, where string) {
	var f pb.Field
	var attr string
	sub := func() string {
		return fmt.Sprintf("attribute %q of %s in %s", modelfile.ClipText(attr), owner, where)
	}
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Bytes:
			attr = s.str(f, maxName)
		case (f.Num == 5 || f.Num == 10) && f.Type == pb.Bytes:
			s.tensor(s.r.Sub(f), sub(), false)
		case (f.Num == 6 || f.Num == 11) && f.Type == pb.Bytes:
			s.graph(s.r.Sub(f), "the graph in "+sub(), false)
		case (f.Num == 22 || f.Num == 23) && f.Type == pb.Bytes:
			s.sparseTensor(s.r.Sub(f), sub(), false)
		}
	}
}

// FunctionProto: name 1, node 7, opset_import 9, domain 10, attribute_proto 11.
func (s *scanner) function(m pb.Msg) {
	var f pb.Field
	var name, domain string
	for m.Next(&f) {
		where := fmt.Sprintf("function %q", modelfile.ClipText(name))
		switch {
		case f.Num == 1 && f.Type == pb.Bytes:
			name = s.str(f, maxName)
		case f.Num == 10 && f.Type == pb.Bytes:
			domain = s.str(f, maxName)
		case f.Num == 7 && f.Type == pb.Bytes:
			s.node(s.r.Sub(f), where)
		case f.Num == 11 && f.Type == pb.Bytes:
			s.attribute(s.r.Sub(f), "the defaults", where)
		}
	}
	s.functions[opKey{domain, name}] = true
}

// TensorProto: dims 1, data_type 2, name 8, external_data 13,
// data_location 14. The data fields (raw_data 9 and the typed ones) are
// skipped without being read. It returns the tensor's name.
func (s *scanner) tensor(m pb.Msg, where string, initializer bool) string {
	var f pb.Field
	var name string
	var dataType int32
	count, ok := int64(1), true
	for m.Next(&f) {
		switch {
		case f.Num == 1 && (f.Type == pb.Varint || f.Type == pb.Bytes):
			s.r.Varints(f, func(d uint64) bool {
				if int64(d) < 0 {
					ok = false
					return false
				}
				count = modelfile.MulSat(count, int64(d))
				return true
			})
		case f.Num == 2 && f.Type == pb.Varint:
			dataType = int32(f.V) // an int32 field: protobuf keeps the low 32 bits
		case f.Num == 8 && f.Type == pb.Bytes:
			name = s.str(f, maxName)
		case f.Num == 13 && f.Type == pb.Bytes:
			s.externalData(s.r.Sub(f), f.Off, name, where)
		}
	}
	if initializer && ok {
		s.params = modelfile.AddSat(s.params, count)
		s.info.weights(dataType, count)
	}
	return name
}

// SparseTensorProto: values 1, indices 2 (TensorProto), dims 3. The stored
// values are what a sparse initializer contributes to the parameter count,
// and their name is the sparse tensor's, which it returns.
func (s *scanner) sparseTensor(m pb.Msg, where string, initializer bool) (name string) {
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Bytes:
			name = s.tensor(s.r.Sub(f), where, initializer)
		case f.Num == 2 && f.Type == pb.Bytes:
			s.tensor(s.r.Sub(f), where, false)
		}
	}
	return name
}

// externalData reads one StringStringEntryProto (key 1, value 2) of a
// tensor's external_data. The onnx package and ONNX Runtime both join the
// "location" value to the model's folder, whatever data_location says.
func (s *scanner) externalData(m pb.Msg, off int64, tensor, where string) {
	var f pb.Field
	var key, value string
	full := true
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Bytes:
			key = s.str(f, maxName)
		case f.Num == 2 && f.Type == pb.Bytes:
			value, full = s.r.Str(f, maxLocation)
		}
	}
	if key != "location" {
		return
	}
	if tensor == "" {
		tensor = "(unnamed)"
	}
	if !full {
		f := finding.New(finding.ScanIncomplete, fmt.Sprintf("tensor %q in %s names an external data location longer than %d bytes, which was not checked", modelfile.ClipText(tensor), where, maxLocation))
		f.Offset, f.Evidence = off, fmt.Sprintf("location: %q", modelfile.ClipText(value))
		s.longLoc = append(s.longLoc, f)
		return
	}
	risk := LocationRisk(value)
	if risk == "" {
		return
	}
	u, ok := s.locations[value]
	if !ok {
		u = &locationUse{location: value, risk: risk, first: off, where: where}
		s.locations[value] = u
		s.locOrder = append(s.locOrder, value)
	}
	if len(u.tensors) < maxListed {
		u.tensors = append(u.tensors, tensor)
	}
	u.count++
}

// LocationRisk says how an external data location escapes the model's
// folder, or returns "" for a plain relative path inside it. Backslashes
// count as separators, as they do on Windows.
func LocationRisk(loc string) string {
	if loc == ortMemAddr {
		return "is ONNX Runtime's in-memory marker, which makes the runtime read the offset as a raw memory address"
	}
	if strings.IndexByte(loc, 0) >= 0 {
		return "contains a NUL byte, which cuts the path short in C and C++ loaders"
	}
	p := strings.ReplaceAll(loc, `\`, "/")
	switch {
	case strings.HasPrefix(p, "//"):
		return "is a UNC or network path"
	case strings.HasPrefix(p, "/"):
		return "is an absolute path"
	case len(p) >= 2 && p[1] == ':' && ('a' <= p[0]|0x20 && p[0]|0x20 <= 'z'):
		return "names a Windows drive"
	}
	if c := path.Clean(p); c == ".." || strings.HasPrefix(c, "../") {
		return "climbs out of the model's folder with '..'"
	}
	return ""
}

func (s *scanner) useOp(domain, op string, off int64, where string) {
	u, ok := s.ops[domain]
	if !ok {
		u = &domainUse{domain: domain, first: off, where: where, count: map[string]int{}}
		s.ops[domain] = u
		s.domainOrder = append(s.domainOrder, domain)
	}
	if u.count[op] == 0 {
		u.ops = append(u.ops, op)
	}
	u.count[op]++
}

// findings turns what was gathered into findings, in file order.
func (s *scanner) findings() []finding.Finding {
	var out []finding.Finding
	for _, d := range s.domainOrder {
		u := s.ops[d]
		if standardDomains[d] || runtimeDomains[d] {
			continue
		}
		// Nodes that call a function defined in the model are expanded from
		// its body, which is examined like the graph.
		ops := slices.DeleteFunc(slices.Clone(u.ops), func(op string) bool { return s.functions[opKey{d, op}] })
		if len(ops) == 0 {
			continue
		}
		n := 0
		for _, op := range ops {
			n += u.count[op]
		}
		f := finding.New(finding.ONNXCustomOperator, fmt.Sprintf(
			"%d node(s) use operator(s) %s of domain %q, which neither ONNX nor ONNX Runtime implements (first in %s): running the model needs a custom operator library, native code loaded by the application",
			n, list(ops, len(ops)), modelfile.ClipText(d), u.where))
		f.Offset = u.first
		f.Evidence = fmt.Sprintf("%q: %s", modelfile.ClipText(d), list(ops, len(ops)))
		out = append(out, f)
	}
	for _, loc := range s.locOrder {
		u := s.locations[loc]
		f := finding.New(finding.ONNXExternalDataPath, fmt.Sprintf(
			"tensor(s) %s (first in %s) load external data from %q, which %s: loading the model reads that file",
			list(u.tensors, u.count), u.where, modelfile.ClipText(loc), u.risk))
		f.Offset = u.first
		f.Evidence = fmt.Sprintf("location: %q", modelfile.ClipText(loc))
		out = append(out, f)
	}
	return append(out, s.longLoc...)
}

func (s *scanner) architecture() string {
	return cleanText(s.graphName, 200)
}

// list quotes up to maxListed names of total, saying how many more there are.
func list(names []string, total int) string {
	var b strings.Builder
	for i, n := range names {
		if i == maxListed {
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", modelfile.ClipText(n))
	}
	if shown := min(len(names), maxListed); total > shown {
		fmt.Fprintf(&b, " and %d more", total-shown)
	}
	return b.String()
}
