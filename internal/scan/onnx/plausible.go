package onnx

import (
	"encoding/binary"
	"unicode/utf8"
)

// kind is what Plausible accepts as one field's value.
type kind struct {
	varint bool    // a varint (else length-delimited)
	text   int     // > 0: printable UTF-8 of at most this many bytes
	msg    *schema // a message of this schema
	marker bool    // a field that only ONNX models have early on
}

// schema maps field numbers to kinds; a field not listed is refused.
type schema map[uint64]kind

var (
	blob = kind{}
	num  = kind{varint: true}
	name = kind{text: 1 << 16}

	opsetSchema = schema{1: name, 2: num}
	// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5,
	// doc_string 6, domain 7, overload 8, metadata_props 9.
	nodeSchema = schema{1: name, 2: name, 3: name, 4: name, 5: blob, 6: name, 7: name, 8: name, 9: blob}
	// GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11,
	// output 12, value_info 13, quantization_annotation 14,
	// sparse_initializer 15, metadata_props 16.
	graphSchema = schema{1: {msg: &nodeSchema}, 2: name, 5: blob, 10: name, 11: blob, 12: blob, 13: blob, 14: blob, 15: blob, 16: blob}
	// ModelProto (onnx.proto, IR version 11): ir_version 1, producer_name 2,
	// producer_version 3, domain 4, model_version 5, doc_string 6, graph 7,
	// opset_import 8, metadata_props 14, training_info 20, functions 25,
	// configuration 26.
	modelSchema = schema{
		1: num, 2: {text: 1024, marker: true}, 3: {text: 1024}, 4: {text: 1024}, 5: num, 6: name,
		7: {msg: &graphSchema, marker: true}, 8: {msg: &opsetSchema, marker: true},
		14: blob, 20: blob, 25: blob, 26: blob,
	}
)

// Plausible reports whether head, the first bytes of a file (a few KiB),
// starts like an ONNX ModelProto. Every exporter writes ir_version first
// (tag 0x08, a small number), then the other fields in field order:
// producer name and version, domain, doc string, the graph, opset imports.
// Plausible walks every field that fits in head, descending into the graph,
// its nodes and the opset imports, and wants each field to belong to the
// message with the right wire type, names to be printable UTF-8 (producer
// strings under 1 KiB), and at least one of producer_name, graph or
// opset_import to be present. A field running past the end of head is
// judged on the part that is there.
//
// Other protobuf files fail within a few bytes: a TensorFlow SavedModel
// (08 01 12 ...) has a binary MetaGraphDef where producer_name would be,
// CoreML and Caffe files start with other tags or layouts. Of random 4 KiB
// heads whose first two bytes are forced to a valid ir_version, fewer than
// 1 in 10^5 pass (a graph whose first field is a long initializer is taken
// on trust); with those bytes random too (1 in 2048 match), about 1 in 10^9.
func Plausible(head []byte) bool {
	if len(head) < 2 || head[0] != 0x08 || head[1] == 0 || head[1] > 32 {
		return false
	}
	fields, marker, ok := walk(head[2:], false, modelSchema)
	return ok && fields >= 1 && marker
}

// walk checks the fields of b against s; complete says b is the whole
// message (else it may end anywhere). It returns how many fields it saw and
// whether a marker field was among them.
func walk(b []byte, complete bool, s schema) (fields int, marker, ok bool) {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return fields, marker, n == 0 && !complete
		}
		k, known := s[tag>>3]
		if !known || tag&7 != 0 && tag&7 != 2 || (tag&7 == 0) != k.varint {
			return fields, marker, false
		}
		b = b[n:]
		fields++
		marker = marker || k.marker
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return fields, marker, n == 0 && !complete
		}
		b = b[n:]
		if k.varint {
			continue
		}
		if k.text > 0 && v > uint64(k.text) {
			return fields, marker, false
		}
		whole := v <= uint64(len(b))
		payload := b
		if whole {
			payload = b[:v]
		}
		switch {
		case k.text > 0 && !isText(payload, whole):
			return fields, marker, false
		case k.msg != nil:
			if _, _, ok := walk(payload, whole, *k.msg); !ok {
				return fields, marker, false
			}
		}
		if !whole {
			return fields, marker, !complete
		}
		b = b[v:]
	}
	return fields, marker, true
}

// isText accepts UTF-8 without control characters other than tab and
// newlines; an incomplete payload may end inside a character.
func isText(b []byte, complete bool) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return !complete && len(b) < utf8.UTFMax && !utf8.FullRune(b)
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
		b = b[n:]
	}
	return true
}
