package onnx

import (
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"unicode"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	pb "github.com/mlguard/mlguard/internal/scan/protobuf"
)

// What the report says about the model besides findings: the producer, the
// main graph's declared inputs and outputs, and the element type holding most
// of the weights. All of it is bounded whatever the file says.
const (
	// maxIO is how many inputs, and how many outputs, are recorded. When a
	// graph declares more, the list ends with one extra entry named
	// "… N more" (no dtype, no shape) counting the rest.
	maxIO = 64
	// maxDims is how many dimensions of one input or output are recorded;
	// a longer shape ends with one extra entry "… N more".
	maxDims = 16
	// maxDimText clips a symbolic dimension name.
	maxDimText = 64
	// maxTypeDepth is how deep sequence, map and optional types are spelled
	// out; a deeper element type is written "…".
	maxTypeDepth = 8
	// maxInitNames is how many main-graph initializer names are remembered
	// (as 64-bit hashes) to tell real inputs from weights listed as inputs.
	// Past it, an input named after a later initializer is listed as an
	// input. Real models have thousands of initializers at most.
	maxInitNames = 1 << 18
	// maxOtherTypes is how many data_type values outside the known enum are
	// tallied for DType.
	maxOtherTypes = 16
)

// dataTypes are the names of TensorProto.DataType values (onnx.proto, IR
// version 13), indexed by value.
var dataTypes = [...]string{
	0:  "UNDEFINED",
	1:  "FLOAT",
	2:  "UINT8",
	3:  "INT8",
	4:  "UINT16",
	5:  "INT16",
	6:  "INT32",
	7:  "INT64",
	8:  "STRING",
	9:  "BOOL",
	10: "FLOAT16",
	11: "DOUBLE",
	12: "UINT32",
	13: "UINT64",
	14: "COMPLEX64",
	15: "COMPLEX128",
	16: "BFLOAT16",
	17: "FLOAT8E4M3FN",
	18: "FLOAT8E4M3FNUZ",
	19: "FLOAT8E5M2",
	20: "FLOAT8E5M2FNUZ",
	21: "UINT4",
	22: "INT4",
	23: "FLOAT4E2M1",
	24: "FLOAT8E8M0",
	25: "UINT2",
	26: "INT2",
}

// DataTypeName spells a TensorProto.DataType value as onnx.proto does
// ("FLOAT", "INT64", "BFLOAT16"), or "DataType(N)" for a value it does not
// define.
func DataTypeName(v int32) string {
	if v >= 0 && int(v) < len(dataTypes) {
		return dataTypes[v]
	}
	return "DataType(" + strconv.FormatInt(int64(v), 10) + ")"
}

// ioList gathers the main graph's inputs or outputs.
type ioList struct {
	tensors []finding.Tensor
	hashes  []uint64 // of the names of tensors, for inputs
	more    int      // declared past maxIO (and not known to be initializers)
}

// list is what the report shows: the recorded entries, then a "… N more"
// entry when some were not recorded.
func (l *ioList) list() []finding.Tensor {
	if len(l.tensors) == 0 && l.more == 0 {
		return nil
	}
	out := l.tensors
	if l.more > 0 {
		out = append(out, finding.Tensor{Name: fmt.Sprintf("… %d more", l.more)})
	}
	return out
}

// info gathers what the report's ModelInfo needs besides the architecture
// and the parameter count.
type info struct {
	seed      maphash.Seed
	initNames map[uint64]struct{} // hashes of the main graph's initializer names
	inputs    ioList
	outputs   ioList

	// Parameters per data type, for DType.
	byType     [len(dataTypes)]int64
	otherTypes map[int32]int64
}

func (in *info) hash(name string) uint64 { return maphash.String(in.seed, name) }

// initializer notes a main-graph initializer (or sparse initializer) name.
func (in *info) initializer(name string) {
	if in.initNames == nil {
		in.initNames = map[uint64]struct{}{}
	}
	if len(in.initNames) < maxInitNames {
		in.initNames[in.hash(name)] = struct{}{}
	}
}

func (in *info) isInitializer(h uint64) bool {
	_, ok := in.initNames[h]
	return ok
}

// weights adds an initializer's element count to its data type's tally.
// UNDEFINED (0, or no data_type) is not a type and is not tallied.
func (in *info) weights(dataType int32, count int64) {
	switch {
	case dataType == 0:
	case dataType > 0 && int(dataType) < len(in.byType):
		in.byType[dataType] = modelfile.AddSat(in.byType[dataType], count)
	default:
		if in.otherTypes == nil {
			in.otherTypes = map[int32]int64{}
		}
		if _, ok := in.otherTypes[dataType]; ok || len(in.otherTypes) < maxOtherTypes {
			in.otherTypes[dataType] = modelfile.AddSat(in.otherTypes[dataType], count)
		}
	}
}

// dtype is the data type holding the most parameters (the smaller enum value
// on a tie), or "" when no initializer holds any.
func (in *info) dtype() string {
	var best int32
	var most int64
	consider := func(t int32, n int64) {
		if n > most || n == most && n > 0 && t < best {
			best, most = t, n
		}
	}
	for t, n := range in.byType {
		consider(int32(t), n)
	}
	for t, n := range in.otherTypes {
		consider(t, n)
	}
	if most == 0 {
		return ""
	}
	return DataTypeName(best)
}

// finishInputs drops the recorded inputs named by an initializer met after
// them (sparse_initializer, field 15, is written after input, field 11):
// the graph declares them as inputs only so callers may override them.
func (in *info) finishInputs() []finding.Tensor {
	l := &in.inputs
	kept := l.tensors[:0]
	for i, t := range l.tensors {
		if !in.isInitializer(l.hashes[i]) {
			kept = append(kept, t)
		}
	}
	l.tensors = kept
	return l.list()
}

// input reads one ValueInfoProto of the main graph's input. Inputs named by
// an initializer already met (initializer, field 5, is written before
// input) are weights, not inputs: exporters before IR version 4 had to list
// every initializer as an input.
func (s *scanner) input(m pb.Msg) {
	l := &s.info.inputs
	if len(l.tensors) >= maxIO {
		// Only the name matters now, to know whether to count it.
		name := s.valueInfoName(m)
		if !s.info.isInitializer(s.info.hash(name)) {
			l.more++
		}
		return
	}
	t, name := s.valueInfo(m)
	h := s.info.hash(name)
	if s.info.isInitializer(h) {
		return
	}
	l.tensors = append(l.tensors, t)
	l.hashes = append(l.hashes, h)
}

// output reads one ValueInfoProto of the main graph's output.
func (s *scanner) output(m pb.Msg) {
	l := &s.info.outputs
	if len(l.tensors) >= maxIO {
		l.more++
		return
	}
	t, _ := s.valueInfo(m)
	l.tensors = append(l.tensors, t)
}

// valueInfoName reads only the name of a ValueInfoProto.
func (s *scanner) valueInfoName(m pb.Msg) string {
	var f pb.Field
	var name string
	for m.Next(&f) {
		if f.Num == 1 && f.Type == pb.Bytes {
			name = s.str(f, maxName)
		}
	}
	return name
}

// ValueInfoProto: name 1, type 2 (TypeProto), doc_string 3. A value
// without a type has an empty DType and a nil Shape.
func (s *scanner) valueInfo(m pb.Msg) (t finding.Tensor, name string) {
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Bytes:
			name = s.str(f, maxName)
		case f.Num == 2 && f.Type == pb.Bytes:
			t.DType, t.Shape = s.typeProto(s.r.Sub(f), 0)
		}
	}
	t.Name = cleanText(name, 200)
	return t, name
}

// TypeProto is a oneof: tensor_type 1, sequence_type 4, map_type 5,
// opaque_type 7, sparse_tensor_type 8, optional_type 9 (the last one
// written wins, as protobuf has it).
//
// A tensor's DType is its element type ("FLOAT") and its Shape the
// declared dimensions. Other kinds have a nil Shape and a DType that spells
// out the type: "sequence(FLOAT)", "map(INT64,FLOAT)",
// "sequence(map(STRING,FLOAT))" (a ZipMap output), "optional(INT64)",
// "sparse_tensor(FLOAT)" (which keeps its shape), "opaque". An element type
// nested deeper than maxTypeDepth is written "…".
func (s *scanner) typeProto(m pb.Msg, depth int) (dtype string, shape []string) {
	var f pb.Field
	for m.Next(&f) {
		if f.Type != pb.Bytes {
			continue
		}
		switch f.Num {
		case 1:
			dtype, shape = s.tensorType(s.r.Sub(f))
		case 8:
			dtype, shape = s.tensorType(s.r.Sub(f))
			dtype = "sparse_tensor(" + dtype + ")"
		case 4:
			dtype, shape = "sequence("+s.elemType(s.r.Sub(f), depth)+")", nil
		case 9:
			dtype, shape = "optional("+s.elemType(s.r.Sub(f), depth)+")", nil
		case 5:
			dtype, shape = s.mapType(s.r.Sub(f), depth), nil
		case 7:
			dtype, shape = "opaque", nil
		}
	}
	return dtype, shape
}

// elemType reads the elem_type (field 1, a TypeProto) of a Sequence or
// Optional and spells it without its shape; "?" when absent.
func (s *scanner) elemType(m pb.Msg, depth int) string {
	if depth+1 >= maxTypeDepth {
		return "…"
	}
	t := "?"
	var f pb.Field
	for m.Next(&f) {
		if f.Num == 1 && f.Type == pb.Bytes {
			if t, _ = s.typeProto(s.r.Sub(f), depth+1); t == "" {
				t = "?"
			}
		}
	}
	return t
}

// TypeProto.Map: key_type 1 (a DataType), value_type 2 (a TypeProto).
func (s *scanner) mapType(m pb.Msg, depth int) string {
	if depth+1 >= maxTypeDepth {
		return "map(…)"
	}
	key, value := DataTypeName(0), "?"
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Varint:
			key = DataTypeName(int32(f.V))
		case f.Num == 2 && f.Type == pb.Bytes:
			if value, _ = s.typeProto(s.r.Sub(f), depth+1); value == "" {
				value = "?"
			}
		}
	}
	return "map(" + key + "," + value + ")"
}

// TypeProto.Tensor (and SparseTensor): elem_type 1, shape 2. Without a
// shape field the rank is unknown (nil); an empty shape is a scalar.
func (s *scanner) tensorType(m pb.Msg) (dtype string, shape []string) {
	dtype = DataTypeName(0)
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Varint:
			dtype = DataTypeName(int32(f.V))
		case f.Num == 2 && f.Type == pb.Bytes:
			shape = s.shape(s.r.Sub(f))
		}
	}
	return dtype, shape
}

// TensorShapeProto: dim 1, repeated. Past maxDims the dimensions are
// counted, not read.
func (s *scanner) shape(m pb.Msg) []string {
	dims := []string{}
	more := 0
	var f pb.Field
	for m.Next(&f) {
		if f.Num != 1 || f.Type != pb.Bytes {
			continue
		}
		if len(dims) >= maxDims {
			more++
			continue
		}
		dims = append(dims, s.dim(s.r.Sub(f)))
	}
	if more > 0 {
		dims = append(dims, fmt.Sprintf("… %d more", more))
	}
	return dims
}

// TensorShapeProto.Dimension: a oneof of dim_value 1 (its decimal) and
// dim_param 2 (the symbol, "batch"), then denotation 3. Neither, or an empty
// dim_param, is an unknown dimension, "?".
func (s *scanner) dim(m pb.Msg) string {
	d := "?"
	var f pb.Field
	for m.Next(&f) {
		switch {
		case f.Num == 1 && f.Type == pb.Varint:
			d = strconv.FormatInt(int64(f.V), 10)
		case f.Num == 2 && f.Type == pb.Bytes:
			d = cleanText(s.str(f, maxName), maxDimText)
			if d == "" {
				d = "?"
			}
		}
	}
	return d
}

// producerText is producer_name and producer_version, "pytorch 2.1.0".
func (s *scanner) producerText() string {
	return cleanText(strings.TrimSpace(s.producer+" "+s.producerVersion), 200)
}

// cleanText makes a string taken from the file fit for a report: invalid
// UTF-8 and control characters become U+FFFD, and it is clipped to n bytes.
func cleanText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return '\uFFFD'
			}
			return r
		}, s)
	}
	return modelfile.Clip(s, n)
}
