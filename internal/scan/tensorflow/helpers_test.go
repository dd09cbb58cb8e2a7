package tensorflow

import (
	"encoding/binary"
	"sort"
)

// enc builds protobuf wire format.
type enc []byte

func (e enc) tag(num, wt int) enc          { return binary.AppendUvarint(e, uint64(num)<<3|uint64(wt)) }
func (e enc) varint(num int, v uint64) enc { return binary.AppendUvarint(e.tag(num, 0), v) }
func (e enc) bytes(num int, b []byte) enc {
	return append(binary.AppendUvarint(e.tag(num, 2), uint64(len(b))), b...)
}
func (e enc) str(num int, s string) enc { return e.bytes(num, []byte(s)) }
func (e enc) msg(num int, m enc) enc    { return e.bytes(num, m) }

// nodeEnc is a NodeDef with string attributes given as key, value pairs.
func nodeEnc(name, op string, inputs []string, attrs ...enc) enc {
	n := enc{}.str(1, name).str(2, op)
	for _, in := range inputs {
		n = n.str(3, in)
	}
	for _, a := range attrs {
		n = n.msg(5, a)
	}
	return n
}

func attrEntry(key string, value enc) enc { return enc{}.str(1, key).msg(2, value) }

func constNode(name, value string) enc {
	return nodeEnc(name, "Const", nil, attrEntry("value", enc{}.msg(8, enc{}.varint(1, 7).str(8, value))))
}

// savedModelEnc wraps graph nodes and functions (name, nodes) in a SavedModel.
func savedModelEnc(nodes []enc, fns map[string][]enc, assets ...string) enc {
	g := enc{}
	for _, n := range nodes {
		g = g.msg(1, n)
	}
	if len(fns) > 0 {
		names := make([]string, 0, len(fns))
		for n := range fns {
			names = append(names, n)
		}
		sort.Strings(names)
		lib := enc{}
		for _, name := range names {
			f := enc{}.msg(1, enc{}.str(1, name).msg(2, enc{}.str(1, "arg")))
			for _, n := range fns[name] {
				f = f.msg(3, n)
			}
			lib = lib.msg(1, f)
		}
		g = g.msg(2, lib)
	}
	m := enc{}.msg(2, g)
	for _, a := range assets {
		m = m.msg(6, enc{}.msg(1, enc{}.str(1, a)).str(2, "vocab.txt"))
	}
	return enc{}.varint(1, 1).msg(2, m)
}

// A minimal front-to-back flatbuffer writer, as in testdata/gen.
type (
	fU8     uint8
	fI32    int32
	fU32    uint32
	fStr    string
	fBytes  []byte
	fI32s   []int32
	fTables []*tbl
	// fHuge is a [ubyte] vector of n bytes whose data is not written: it
	// must be the last object, and the caller appends the bytes.
	fHuge uint32
)

type fbField struct {
	idx int
	v   any
}

type tbl []fbField

type fbw struct{ buf []byte }

func (w *fbw) pad(n int) {
	for len(w.buf)%n != 0 {
		w.buf = append(w.buf, 0)
	}
}

func (w *fbw) table(t *tbl) int {
	n := 0
	for _, f := range *t {
		n = max(n, f.idx+1)
	}
	offs := map[int]int{}
	pos := 4
	for _, f := range *t {
		offs[f.idx] = pos
		pos += 4
	}
	w.pad(2)
	vt := len(w.buf)
	w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(4+2*n))
	w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(pos))
	for i := range n {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(offs[i]))
	}
	w.pad(4)
	tp := len(w.buf)
	w.buf = append(w.buf, make([]byte, pos)...)
	binary.LittleEndian.PutUint32(w.buf[tp:], uint32(tp-vt))
	for _, f := range *t {
		at := tp + offs[f.idx]
		switch v := f.v.(type) {
		case fU8:
			w.buf[at] = byte(v)
		case fI32:
			binary.LittleEndian.PutUint32(w.buf[at:], uint32(v))
		case fU32:
			binary.LittleEndian.PutUint32(w.buf[at:], uint32(v))
		default:
			target := w.object(v)
			binary.LittleEndian.PutUint32(w.buf[at:], uint32(target-at))
		}
	}
	return tp
}

func (w *fbw) object(v any) int {
	w.pad(4)
	at := len(w.buf)
	switch v := v.(type) {
	case fStr:
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(v)))
		w.buf = append(append(w.buf, v...), 0)
	case fBytes:
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(v)))
		w.buf = append(w.buf, v...)
	case fHuge:
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(v))
	case fI32s:
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(v)))
		for _, x := range v {
			w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(x))
		}
	case fTables:
		w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(v)))
		slots := len(w.buf)
		w.buf = append(w.buf, make([]byte, 4*len(v))...)
		for i, t := range v {
			tp := w.table(t)
			binary.LittleEndian.PutUint32(w.buf[slots+4*i:], uint32(tp-(slots+4*i)))
		}
	case *tbl:
		return w.table(v)
	default:
		panic("unknown flatbuffer value")
	}
	return at
}

func flatbuffer(root *tbl) []byte {
	w := &fbw{buf: []byte{0, 0, 0, 0, 'T', 'F', 'L', '3'}}
	tp := w.table(root)
	binary.LittleEndian.PutUint32(w.buf, uint32(tp))
	return w.buf
}

// tfliteModel builds a one-subgraph model: op codes (code, custom), tensors
// and operators, with buffers last.
type tfOp struct {
	opcode  uint32
	inputs  []int32
	options []byte
}

func tfliteModel(codes []tbl, tensors []tbl, ops []tfOp, buffers fTables) []byte {
	var ct, tt, ot fTables
	for i := range codes {
		ct = append(ct, &codes[i])
	}
	for i := range tensors {
		tt = append(tt, &tensors[i])
	}
	for _, o := range ops {
		t := tbl{{0, fU32(o.opcode)}, {1, fI32s(o.inputs)}}
		if o.options != nil {
			t = append(t, fbField{5, fBytes(o.options)})
		}
		ot = append(ot, &t)
	}
	sg := tbl{{0, tt}, {3, ot}}
	return flatbuffer(&tbl{{0, fU32(3)}, {1, ct}, {2, fTables{&sg}}, {4, buffers}})
}
