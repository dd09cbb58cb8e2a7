package tensorflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	pb "github.com/mlguard/mlguard/internal/scan/protobuf"
)

// TFLiteIdentifier is the flatbuffer file identifier at offset 4 of a
// TFLite model.
const TFLiteIdentifier = "TFL3"

const (
	builtinCustom    = 32                // BuiltinOperator CUSTOM
	maxOpcodes       = 1 << 16           // distinct operators; real models have a few hundred
	maxCustomOptions = 1 << 20           // flex options hold one NodeDef
	maxMetadataBuf   = 1 << 20           // the TFLITE_METADATA flatbuffer
	flexPrefix       = "Flex"            // custom_code of select TensorFlow ops
	metadataName     = "TFLITE_METADATA" // metadata entry holding a ModelMetadata
)

// builtinCustomOps are custom operators that TensorFlow Lite's
// BuiltinOpResolver registers itself (tensorflow/lite/core/kernels/register.cc):
// every interpreter runs them without extra native code.
var builtinCustomOps = map[string]bool{
	"TFLite_Detection_PostProcess": true,
	"Mfcc":                         true,
	"AudioSpectrogram":             true,
	"NumericVerify":                true,
}

// ScanTFLite reads a TensorFlow Lite flatbuffer (schema.fbs, file identifier
// TFL3): the operator codes, every subgraph's operators and tensors, the
// buffers' sizes and the model metadata. Custom operators other than the
// few the interpreter ships are reported as finding.TFLiteCustomOp. Flex
// operators (custom code "Flex<Op>", run by the select-TensorFlow-ops
// delegate) run TensorFlow kernels: the op named by the custom code, by the
// first string of their options and by the NodeDef in the options are each
// checked against the TensorFlow table, at the table's severity.
// Parameters counts the elements of tensors backed by a non-empty buffer;
// Architecture is the name in the TFLITE_METADATA entry, when there is one.
// Weights are never read, only the sizes of their buffers.
//
// Malformed flatbuffers become a finding.ScanIncomplete finding and err is
// nil; err is non-nil only when ctx is cancelled or r fails.
func ScanTFLite(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error) {
	t := &tfliteScan{
		ctx: ctx, b: newFbuf(ctx, r, size), check: newChecker(),
		custom: map[string]*customUse{}, bufNonEmpty: map[uint32]bool{}, counted: map[uint32]bool{},
	}
	rep := &modelfile.Report{Format: FormatTFLite}
	t.model(rep)
	rep.Findings = append(t.customFindings(), rep.Findings...)
	rep.Findings = append(rep.Findings, t.check.findings()...)
	rep.Parameters = t.params

	var fe *fbError
	switch err := t.b.err; {
	case errors.As(err, &fe):
		f := finding.New(finding.ScanIncomplete, "the TFLite flatbuffer is malformed; findings before the break are reported, the rest was not examined")
		f.Offset, f.Evidence = fe.off, fe.msg
		rep.Findings = append(rep.Findings, f)
	case err != nil:
		return rep, fmt.Errorf("scanning TFLite model: %w", err)
	}
	return rep, nil
}

type opcode struct {
	code   int32
	custom string
}

type customUse struct {
	name  string
	first int64
	count int
}

type tfliteScan struct {
	ctx   context.Context
	b     *fbuf
	check *checker

	codes       []opcode
	custom      map[string]*customUse
	customOrder []string

	buffersStart, buffersN int64
	bufNonEmpty            map[uint32]bool
	counted                map[uint32]bool
	params                 int64
}

// model reads the Model table: operator_codes 1, subgraphs 2, buffers 4,
// metadata 6.
func (t *tfliteScan) model(rep *modelfile.Report) {
	b := t.b
	if b.size < 8 {
		rep.Findings = append(rep.Findings, finding.New(finding.ScanIncomplete, "the file is too short to be a TFLite model"))
		return
	}
	if id := b.bytes(4, 4); id != nil && string(id) != TFLiteIdentifier {
		f := finding.New(finding.ScanIncomplete, fmt.Sprintf("the file identifier is %q, not %q: it was read as a TFLite model anyway", id, TFLiteIdentifier))
		f.Offset = 4
		rep.Findings = append(rep.Findings, f)
	}
	m, ok := b.root()
	if !ok {
		return
	}
	t.buffersStart, t.buffersN, _ = b.vector(m, 4, 4)
	t.operatorCodes(m)
	if start, n, ok := b.vector(m, 2, 4); ok {
		for i := range n {
			if sg, ok := b.tableElem(start, i); ok {
				t.subgraph(sg, i)
			}
		}
	}
	rep.Architecture = t.metadataName(m)
}

// operatorCodes reads OperatorCode tables: deprecated_builtin_code 0 (int8),
// custom_code 1, version 2, builtin_code 3 (int32). The interpreter takes
// the larger of the two codes (schema_utils.cc, GetBuiltinCode).
func (t *tfliteScan) operatorCodes(m table) {
	b := t.b
	start, n, ok := b.vector(m, 1, 4)
	if !ok {
		return
	}
	if n > maxOpcodes {
		b.fail(start-4, "%d operator codes, more than %d", n, maxOpcodes)
		return
	}
	for i := range n {
		oc, ok := b.tableElem(start, i)
		if !ok {
			return
		}
		c := opcode{code: max(int32(int8(b.fieldU8(oc, 0, 0))), b.fieldI32(oc, 3, 0))}
		c.custom, _ = b.str(oc, 1, maxName)
		t.codes = append(t.codes, c)
	}
}

// subgraph reads a SubGraph: tensors 0, inputs 1, outputs 2, operators 3.
func (t *tfliteScan) subgraph(sg table, index int64) {
	b := t.b
	tensorsStart, tensorsN, _ := b.vector(sg, 0, 4)
	for i := range tensorsN {
		if tt, ok := b.tableElem(tensorsStart, i); ok {
			t.tensorParams(tt)
		}
	}
	start, n, ok := b.vector(sg, 3, 4)
	if !ok {
		return
	}
	for i := range n {
		op, ok := b.tableElem(start, i)
		if !ok {
			return
		}
		idx := b.fieldU32(op, 0, 0)
		if int64(idx) >= int64(len(t.codes)) {
			b.fail(op.pos, "operator uses opcode %d of %d", idx, len(t.codes))
			return
		}
		c := t.codes[idx]
		if c.code != builtinCustom {
			continue
		}
		if strings.HasPrefix(c.custom, flexPrefix) {
			t.flex(op, c.custom, index, tensorsStart, tensorsN)
			continue
		}
		if builtinCustomOps[c.custom] {
			continue
		}
		u, ok := t.custom[c.custom]
		if !ok {
			u = &customUse{name: c.custom, first: op.pos}
			t.custom[c.custom] = u
			t.customOrder = append(t.customOrder, c.custom)
		}
		u.count++
	}
}

// tensorParams adds a constant tensor's elements: Tensor shape 0 ([int]),
// buffer 2 (an index into Model.buffers; 0 is the empty sentinel).
func (t *tfliteScan) tensorParams(tt table) {
	b := t.b
	buf := b.fieldU32(tt, 2, 0)
	if buf == 0 || t.counted[buf] || !t.nonEmpty(buf) {
		return
	}
	t.counted[buf] = true
	start, n, ok := b.vector(tt, 0, 4)
	if n > 64 {
		return // no kernel takes tensors of that rank
	}
	count := int64(1)
	if ok {
		for i := range n {
			d := int64(int32(b.u32(start + 4*i)))
			if d < 0 {
				return
			}
			count = modelfile.MulSat(count, d)
		}
	}
	t.params = modelfile.AddSat(t.params, count)
}

// nonEmpty reports whether buffer k holds data: Buffer data 0 ([ubyte]),
// or for models over 2 GB offset 1 and size 2 into the file.
func (t *tfliteScan) nonEmpty(k uint32) bool {
	if v, ok := t.bufNonEmpty[k]; ok {
		return v
	}
	v := false
	if int64(k) < t.buffersN {
		if bt, ok := t.b.tableElem(t.buffersStart, int64(k)); ok {
			_, n, ok := t.b.vector(bt, 0, 1)
			v = ok && n > 0 || t.b.fieldU64(bt, 2, 0) > 0
		}
	}
	t.bufNonEmpty[k] = v
	return v
}

// bufferBytes reads buffer k's data, up to max bytes; nil when empty or larger.
func (t *tfliteScan) bufferBytes(k uint32, max int64) []byte {
	b := t.b
	if int64(k) >= t.buffersN {
		return nil
	}
	bt, ok := b.tableElem(t.buffersStart, int64(k))
	if !ok {
		return nil
	}
	if start, n, ok := b.vector(bt, 0, 1); ok && n > 0 {
		if n > max {
			return nil
		}
		return bytes.Clone(b.bytes(start, int(n)))
	}
	off, size := int64(b.fieldU64(bt, 1, 0)), int64(b.fieldU64(bt, 2, 0))
	if off > 1 && size > 0 && size <= max && off <= b.size-size {
		return bytes.Clone(b.bytes(off, int(size)))
	}
	return nil
}

// flex checks a select-TensorFlow-ops operator: Operator inputs 1,
// custom_options 5, large_custom_options_offset 9 and _size 10.
func (t *tfliteScan) flex(op table, custom string, subgraph, tensorsStart, tensorsN int64) {
	b := t.b
	where := fmt.Sprintf("flex operator %q of subgraph %d", modelfile.ClipText(custom), subgraph)
	var opts []byte
	if start, n, ok := b.vector(op, 5, 1); ok && n <= maxCustomOptions {
		opts = bytes.Clone(b.bytes(start, int(n)))
	} else if off, n := int64(b.fieldU64(op, 9, 0)), int64(b.fieldU64(op, 10, 0)); off > 0 && n > 0 && n <= maxCustomOptions && off <= b.size-n {
		opts = bytes.Clone(b.bytes(off, int(n)))
	}
	if b.err != nil {
		return
	}
	node := nodeDef{name: "(unnamed)", off: op.pos}
	names := []string{strings.TrimPrefix(custom, flexPrefix)}
	strs, err := flexStrings(opts)
	if err == nil && len(strs) >= 2 {
		names = append(names, strs[0])
		r := pb.NewReader(t.ctx, bytes.NewReader([]byte(strs[1])), int64(len(strs[1])), pb.DefaultLimits)
		nd := readNodeDef(r, r.Root(), op.pos)
		if r.Err() == nil {
			names = append(names, nd.op)
			node.attrs = nd.attrs
			if nd.name != "" {
				node.name = nd.name
			}
		} else {
			err = r.Err()
		}
	} else if err == nil {
		err = fmt.Errorf("the options hold %d strings, not an op name and a NodeDef", len(strs))
	}
	if err != nil {
		// The delegate refuses such an operator; the model then fails to
		// load, but a parser that reads it differently could still run it.
		f := finding.New(finding.ScanIncomplete, fmt.Sprintf("the options of %s could not be read as an op name and a NodeDef", where))
		f.Offset, f.Evidence = op.pos, err.Error()
		t.check.extra = append(t.check.extra, f)
	}
	inputs, nIn, _ := b.vector(op, 1, 4)
	constant := func(i int) (bool, string) {
		if int64(i) >= nIn {
			return false, ""
		}
		ti := int64(int32(b.u32(inputs + 4*int64(i))))
		if ti < 0 || ti >= tensorsN {
			return false, ""
		}
		tt, ok := b.tableElem(tensorsStart, ti)
		if !ok {
			return false, ""
		}
		buf := b.fieldU32(tt, 2, 0)
		if buf == 0 || !t.nonEmpty(buf) {
			return false, ""
		}
		// A string tensor's buffer: count, offsets, then the bytes.
		data := t.bufferBytes(buf, maxValue)
		if len(data) >= 12 {
			s, e := int(le32(data[4:])), int(le32(data[8:]))
			if 0 <= s && s <= e && e <= len(data) {
				return true, string(data[s:e])
			}
		}
		return true, ""
	}
	seen := map[string]bool{}
	for _, name := range names {
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		n := node
		n.op = name
		t.check.node(nil, &n, where, constant)
	}
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// metadataName reads Model.metadata 6 (Metadata: name 0, buffer 1) for the
// TFLITE_METADATA entry, a ModelMetadata flatbuffer (metadata_schema.fbs,
// identifier M001) whose field 0 is the model's name.
func (t *tfliteScan) metadataName(m table) string {
	b := t.b
	start, n, ok := b.vector(m, 6, 4)
	if !ok {
		return ""
	}
	for i := range n {
		md, ok := b.tableElem(start, i)
		if !ok {
			return ""
		}
		if name, _ := b.str(md, 0, 64); name != metadataName {
			continue
		}
		data := t.bufferBytes(b.fieldU32(md, 1, 0), maxMetadataBuf)
		if len(data) < 8 {
			return ""
		}
		mb := newFbuf(t.ctx, bytes.NewReader(data), int64(len(data)))
		mt, ok := mb.root()
		if !ok {
			return ""
		}
		s, _ := mb.str(mt, 0, maxName)
		return modelfile.ClipText(s)
	}
	return ""
}

func (t *tfliteScan) customFindings() []finding.Finding {
	var out []finding.Finding
	for _, name := range t.customOrder {
		u := t.custom[name]
		label := fmt.Sprintf("%q", modelfile.ClipText(name))
		if name == "" {
			label = "with an empty name"
		}
		f := finding.New(finding.TFLiteCustomOp, fmt.Sprintf(
			"custom operator %s (%d operator(s)) is not built into TensorFlow Lite: the interpreter runs it only with a native op resolver that the application registers",
			label, u.count))
		f.Offset = u.first
		f.Evidence = fmt.Sprintf("custom_code: %q", modelfile.ClipText(name))
		out = append(out, f)
	}
	return append(out, t.check.extra...)
}
