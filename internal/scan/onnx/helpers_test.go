package onnx

import (
	"encoding/binary"
	"sort"

	"github.com/mlguard/mlguard/internal/finding"
)

// enc builds protobuf wire format for synthetic models.
type enc []byte

func (e enc) tag(num int, wt int) enc { return binary.AppendUvarint(e, uint64(num)<<3|uint64(wt)) }

func (e enc) varint(num int, v uint64) enc { return binary.AppendUvarint(e.tag(num, 0), v) }

func (e enc) bytes(num int, b []byte) enc {
	e = binary.AppendUvarint(e.tag(num, 2), uint64(len(b)))
	return append(e, b...)
}

func (e enc) str(num int, s string) enc { return e.bytes(num, []byte(s)) }

func (e enc) msg(num int, m enc) enc { return e.bytes(num, m) }

// Small builders named after the ONNX messages.

func modelProto(parts ...enc) enc {
	m := enc{}.varint(1, 8).str(2, "test").str(3, "1")
	for _, p := range parts {
		m = append(m, p...)
	}
	return m.msg(8, enc{}.str(1, "").varint(2, 13))
}

func graphField(g enc) enc { return enc{}.msg(7, g) }

func graphProto(name string, parts ...enc) enc {
	g := enc{}
	for _, p := range parts {
		g = append(g, p...)
	}
	return g.str(2, name)
}

func nodeField(name, op, domain string, attrs ...enc) enc {
	n := enc{}.str(1, "in").str(2, "out").str(3, name).str(4, op)
	for _, a := range attrs {
		n = n.msg(5, a)
	}
	if domain != "" {
		n = n.str(7, domain)
	}
	return enc{}.msg(1, n)
}

func graphAttr(name string, g enc) enc { return enc{}.str(1, name).msg(6, g).varint(20, 5) }

func tensorAttr(name string, t enc) enc { return enc{}.str(1, name).msg(5, t).varint(20, 4) }

func tensorProto(name string, dims []uint64, locations ...string) enc {
	t := enc{}
	for _, d := range dims {
		t = t.varint(1, d)
	}
	t = t.varint(2, 1).str(8, name)
	for _, l := range locations {
		t = t.msg(13, enc{}.str(1, "location").str(2, l))
	}
	if len(locations) > 0 {
		t = t.varint(14, 1)
	}
	return t
}

func initializer(t enc) enc { return enc{}.msg(5, t) }

// got is what the tests compare of a finding.
type got struct {
	Rule     string
	Severity finding.Severity
	Evidence string
}

func summarize(fs []finding.Finding) []got {
	out := []got{}
	for _, f := range fs {
		out = append(out, got{f.Rule, f.Severity, f.Evidence})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].Evidence < out[j].Evidence
	})
	return out
}

// valueInfo is a ValueInfoProto; typ is its TypeProto, none when nil.
func valueInfo(name string, typ enc) enc {
	v := enc{}.str(1, name)
	if typ != nil {
		v = v.msg(2, typ)
	}
	return v
}

func graphInput(v enc) enc { return enc{}.msg(11, v) }

func graphOutput(v enc) enc { return enc{}.msg(12, v) }

// tensorType is a TypeProto of a tensor of element type elem; a nil shape
// writes no shape field (unknown rank), an empty one an empty shape (a scalar).
func tensorType(elem uint64, shape []enc) enc {
	t := enc{}.varint(1, elem)
	if shape != nil {
		s := enc{}
		for _, d := range shape {
			s = s.msg(1, d)
		}
		t = t.msg(2, s)
	}
	return enc{}.msg(1, t)
}

func dimValue(v int64) enc { return enc{}.varint(1, uint64(v)) }

func dimParam(p string) enc { return enc{}.str(2, p) }

// dims are Dimensions with values 1..n.
func dims(n int) []enc {
	out := []enc{}
	for i := range n {
		out = append(out, dimValue(int64(i+1)))
	}
	return out
}

// typedTensor is a TensorProto with a data type.
func typedTensor(name string, dataType uint64, dims ...uint64) enc {
	t := enc{}
	for _, d := range dims {
		t = t.varint(1, d)
	}
	return t.varint(2, dataType).str(8, name)
}
