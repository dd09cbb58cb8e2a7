// Package gguf reads the header of a GGUF file (versions 1 to 3, little- or
// big-endian): the metadata key-value pairs, of every value type including
// nested arrays, and the tensor infos. It extracts the chat templates
// (tokenizer.chat_template and its named variants
// tokenizer.chat_template.<name>), which llama.cpp front ends,
// llama-cpp-python and inference servers render as Jinja2, and has the jinja
// package analyse them. Tensor data is never read: large arrays of fixed-size
// elements are skipped by offset, arrays of strings are streamed, and only
// the architecture and the templates are kept.
//
// Problems are reported as follows. A file that breaks the format as
// llama.cpp reads it (gguf.cpp, gguf_init_from_reader) is gguf/invalid:
// impossible counts or lengths, unknown value types, duplicate keys,
// mistyped standard keys, misplaced or out-of-file tensor data. A file that
// ends inside its header, or whose header goes past this package's limits,
// is scan/incomplete: what was read is reported, the rest was not examined.
package gguf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/jinja"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// Format is the Report.Format of a GGUF file.
const Format = "gguf"

// Magic starts every GGUF file.
const Magic = "GGUF"

// Limits. llama.cpp accepts strings and arrays of up to 2^30 bytes or
// elements; this package reads less and says so.
const (
	// MaxTemplate is the largest chat template read and analysed.
	MaxTemplate = 64 << 20
	// MaxHeader bounds the bytes from the start of the file to the end of
	// the tensor infos that are walked (read or skipped).
	MaxHeader = 1 << 30

	maxKey        = 64 << 10 // longer keys are skipped, not compared
	maxArrayDepth = 8        // nesting of arrays of arrays
	maxNameLen    = 63       // GGML_MAX_NAME - 1
	maxDims       = 4        // GGML_MAX_DIMS
	maxFindings   = 64
	checkEvery    = 1 << 16 // context checks, in elements
)

// GGUF metadata value types.
const (
	tUint8 uint32 = iota
	tInt8
	tUint16
	tInt16
	tUint32
	tInt32
	tFloat32
	tBool
	tString
	tArray
	tUint64
	tInt64
	tFloat64
	tCount
)

var typeSize = [tCount]uint64{tUint8: 1, tInt8: 1, tUint16: 2, tInt16: 2, tUint32: 4, tInt32: 4, tFloat32: 4, tBool: 1, tUint64: 8, tInt64: 8, tFloat64: 8}

var typeNames = [tCount]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func typeName(t uint32) string {
	if t < tCount {
		return typeNames[t]
	}
	return fmt.Sprintf("type %d", t)
}

// aType is typeName with an article.
func aType(t uint32) string {
	n := typeName(t)
	if strings.IndexByte("aeiou", n[0]) >= 0 {
		return "an " + n
	}
	return "a " + n
}

const templateKey = "tokenizer.chat_template"

// isTemplateKey reports the keys llama.cpp reads chat templates from
// (llama_model_chat_template: the key, or the key "." name).
func isTemplateKey(k string) bool {
	return k == templateKey || strings.HasPrefix(k, templateKey+".")
}

// invalid is a violation of the format: gguf/invalid.
type invalid struct {
	at  int64
	msg string
}

func (e *invalid) Error() string { return e.msg }

// incomplete is a header this package could not read to the end: the file
// ends early or a limit was reached.
type incomplete struct {
	at  int64
	msg string
}

func (e *incomplete) Error() string { return e.msg }

type scanner struct {
	ctx      context.Context
	r        *reader
	rep      *modelfile.Report
	version  uint32
	where    string // what is being read, for messages
	elements int

	keys         map[uint64]bool
	seed         maphash.Seed
	alignment    uint64 // 0 after an invalid general.alignment
	unknownTypes map[string]bool
}

// Scan reads the header of the GGUF file r of size bytes. Problems with the
// content are findings; the error is for I/O failures and ctx.
func Scan(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error) {
	s := &scanner{
		ctx:          ctx,
		r:            newReader(r, size),
		rep:          &modelfile.Report{Format: Format},
		keys:         map[uint64]bool{},
		seed:         maphash.MakeSeed(),
		alignment:    32,
		unknownTypes: map[string]bool{},
	}
	err := s.scan()
	var inv *invalid
	var inc *incomplete
	var ioe *ioError
	switch {
	case err == nil:
	case errors.As(err, &ioe):
		return nil, fmt.Errorf("reading gguf header: %w", ioe.err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, err
	case errors.As(err, &inv):
		s.add(finding.GGUFInvalid, inv.at, inv.msg, "")
	case errors.As(err, &inc):
		s.add(finding.ScanIncomplete, inc.at, inc.msg+"; what came before was scanned, the rest was not examined", "")
	case errors.Is(err, errEOF):
		s.add(finding.ScanIncomplete, s.r.off(), fmt.Sprintf("the file ends at byte %d, inside %s; what came before was scanned, the rest was not examined", size, s.where), "")
	default:
		return nil, err
	}
	if len(s.unknownTypes) > 0 {
		names := slices.Sorted(maps.Keys(s.unknownTypes))
		msg := fmt.Sprintf("the ggml tensor type %s is not known to mlguard; the data sizes of its tensors were not checked", strings.Join(names, ", "))
		if len(names) > 1 {
			msg = fmt.Sprintf("the ggml tensor types %s are not known to mlguard; the data sizes of their tensors were not checked", strings.Join(names, ", "))
		}
		s.add(finding.GGUFUnknownTensorType, 0, msg, "")
	}
	return s.rep, nil
}

func (s *scanner) add(rule string, at int64, msg, evidence string) {
	if len(s.rep.Findings) >= maxFindings {
		return
	}
	f := finding.New(rule, msg)
	f.Offset, f.Evidence = at, evidence
	s.rep.Findings = append(s.rep.Findings, f)
}

func (s *scanner) invalidf(at int64, format string, args ...any) error {
	return &invalid{at: at, msg: fmt.Sprintf(format, args...)}
}

// tick checks the context every so many elements.
func (s *scanner) tick(n int) error {
	s.elements += n
	if s.elements >= checkEvery {
		s.elements = 0
		if err := s.ctx.Err(); err != nil {
			return err
		}
		if s.r.off() > MaxHeader {
			return &incomplete{at: s.r.off(), msg: fmt.Sprintf("the header goes on past %d bytes, more than mlguard reads", MaxHeader)}
		}
	}
	return nil
}

func (s *scanner) scan() error {
	s.where = "the file header"
	magic, err := s.r.next(4)
	if err != nil {
		return err
	}
	if string(magic) != Magic {
		return s.invalidf(0, "the file does not start with the GGUF magic (%q)", magic)
	}
	// The version tells the byte order: a big-endian file's version read
	// as little-endian has its low 16 bits zero (llama.cpp's test; gguf-py
	// swaps the byte order on it).
	v, err := s.r.u32()
	if err != nil {
		return err
	}
	if v&0xFFFF == 0 && v != 0 {
		s.r.order = binary.BigEndian
		v = bits.ReverseBytes32(v)
	}
	s.version = v
	switch {
	case v == 0:
		return s.invalidf(4, "the GGUF version is 0")
	case v > 3:
		return &incomplete{at: 4, msg: fmt.Sprintf("GGUF version %d is newer than the versions 1 to 3 mlguard reads", v)}
	}
	nTensors, err := s.count()
	if err != nil {
		return err
	}
	nKV, err := s.count()
	if err != nil {
		return err
	}
	// Every pair and tensor info takes some bytes: counts beyond what the
	// file can hold are a lie, caught before looping over them.
	lenSize := uint64(8)
	if v == 1 {
		lenSize = 4
	}
	minKV, minTensor := lenSize+1+4+1, lenSize+1+4+4+8
	hiK, needK := bits.Mul64(nKV, minKV)
	hiT, needT := bits.Mul64(nTensors, minTensor)
	need, carry := bits.Add64(needK, needT, 0)
	if hiK != 0 || hiT != 0 || carry != 0 || need > uint64(s.r.remaining()) {
		return s.invalidf(s.r.off()-int64(2*lenSize), "the header claims %d tensors and %d metadata pairs, more than the %d-byte file can hold", nTensors, nKV, s.r.size)
	}
	for i := range nKV {
		s.where = fmt.Sprintf("metadata pair %d of %d", i+1, nKV)
		if err := s.kv(); err != nil {
			return err
		}
	}
	return s.tensors(nTensors)
}

// count reads a count or length: uint32 in version 1, uint64 after.
func (s *scanner) count() (uint64, error) {
	if s.version == 1 {
		n, err := s.r.u32()
		return uint64(n), err
	}
	return s.r.u64()
}

// strLen reads a string's length and checks it against the file.
func (s *scanner) strLen() (uint64, int64, error) {
	at := s.r.off()
	n, err := s.count()
	if err != nil {
		return 0, at, err
	}
	if n > uint64(s.r.size) {
		return 0, at, s.invalidf(at, "a string in %s claims %d bytes, more than the whole %d-byte file", s.where, n, s.r.size)
	}
	return n, at, nil
}

func (s *scanner) kv() error {
	n, at, err := s.strLen()
	if err != nil {
		return err
	}
	if n == 0 {
		return s.invalidf(at, "%s has an empty key", s.where)
	}
	var key string
	compared := n <= maxKey
	if compared {
		b, err := s.r.read(int64(n))
		if err != nil {
			return err
		}
		key = string(b)
		h := maphash.String(s.seed, key)
		if s.keys[h] {
			// llama.cpp refuses the file; gguf-py keeps both. Both values
			// are still read, so that a second template is analysed too.
			s.add(finding.GGUFInvalid, at, fmt.Sprintf("the key %q appears twice; readers disagree on which value counts", clip(key)), clip(key))
		}
		s.keys[h] = true
	} else {
		// Only the start of an over-long key matters: is it a template?
		b, err := s.r.read(int64(len(templateKey) + 1))
		if err != nil {
			return err
		}
		key = string(b) + "…"
		if err := s.r.skip(n - uint64(len(b))); err != nil {
			return err
		}
	}
	s.where = fmt.Sprintf("the value of %q", clip(key))
	typAt := s.r.off()
	typ, err := s.r.u32()
	if err != nil {
		return err
	}
	switch {
	case isTemplateKey(key):
		if typ != tString {
			s.add(finding.GGUFInvalid, typAt, fmt.Sprintf("the chat template %q is %s, not a string", clip(key), aType(typ)), clip(key))
			if typ == tArray {
				return s.templateArray(key, typAt)
			}
			return s.value(typ, typAt, 0)
		}
		return s.template(key, "metadata:"+key)
	case key == "general.architecture":
		if typ != tString {
			s.add(finding.GGUFInvalid, typAt, fmt.Sprintf("general.architecture is %s, not a string", aType(typ)), key)
			return s.value(typ, typAt, 0)
		}
		n, _, err := s.strLen()
		if err != nil {
			return err
		}
		if n > 256 {
			return s.r.skip(n) // not an architecture name
		}
		b, err := s.r.read(int64(n))
		if err != nil {
			return err
		}
		s.rep.Architecture = strings.ToValidUTF8(string(b), "\uFFFD")
		return nil
	case key == "general.alignment":
		if typ != tUint32 {
			s.add(finding.GGUFInvalid, typAt, fmt.Sprintf("general.alignment is %s, not a uint32", aType(typ)), key)
			s.alignment = 0
			return s.value(typ, typAt, 0)
		}
		a, err := s.r.u32()
		if err != nil {
			return err
		}
		if a == 0 || a&(a-1) != 0 {
			s.add(finding.GGUFInvalid, typAt, fmt.Sprintf("general.alignment is %d, not a power of two", a), key)
			a = 0
		}
		s.alignment = uint64(a)
		return nil
	}
	return s.value(typ, typAt, 0)
}

// value skips a value of type typ; arrays nest up to maxArrayDepth.
func (s *scanner) value(typ uint32, at int64, depth int) error {
	switch {
	case typ >= tCount:
		return s.invalidf(at, "%s has the unknown value type %d", s.where, typ)
	case typ == tString:
		n, _, err := s.strLen()
		if err != nil {
			return err
		}
		return s.r.skip(n)
	case typ == tArray:
		if depth >= maxArrayDepth {
			return s.invalidf(at, "%s nests arrays more than %d deep", s.where, maxArrayDepth)
		}
		elemAt := s.r.off()
		elem, err := s.r.u32()
		if err != nil {
			return err
		}
		return s.array(elem, elemAt, depth)
	}
	return s.r.skip(typeSize[typ])
}

// templateArray analyses the strings of a chat template key that holds
// an array, which readers that coerce values may still render.
func (s *scanner) templateArray(key string, at int64) error {
	elemAt := s.r.off()
	elem, err := s.r.u32()
	if err != nil {
		return err
	}
	if elem != tString {
		return s.array(elem, elemAt, 0)
	}
	n, err := s.count()
	if err != nil {
		return err
	}
	if hi, min := bits.Mul64(n, 4); hi != 0 || min > uint64(s.r.size) {
		return s.invalidf(at, "%s is an array of %d strings, more than the whole file holds", s.where, n)
	}
	for i := range n {
		if err := s.tick(1); err != nil {
			return err
		}
		if err := s.template(key, fmt.Sprintf("metadata:%s[%d]", key, i)); err != nil {
			return err
		}
	}
	return nil
}

// array skips the elements of an array whose element type was just read.
func (s *scanner) array(elem uint32, elemAt int64, depth int) error {
	if elem >= tCount {
		return s.invalidf(elemAt, "%s is an array of the unknown value type %d", s.where, elem)
	}
	n, err := s.count()
	if err != nil {
		return err
	}
	if size := typeSize[elem]; size > 0 {
		hi, total := bits.Mul64(n, size)
		if hi != 0 || total > uint64(s.r.size) {
			return s.invalidf(elemAt, "%s is an array of %d %ss, more than the whole file holds", s.where, n, typeName(elem))
		}
		if err := s.tick(int(min(n, checkEvery))); err != nil {
			return err
		}
		return s.r.skip(total)
	}
	// Strings and arrays take at least their length field each.
	if hi, min := bits.Mul64(n, 4); hi != 0 || min > uint64(s.r.size) {
		return s.invalidf(elemAt, "%s is an array of %d %ss, more than the whole file holds", s.where, n, typeName(elem))
	}
	for range n {
		if err := s.tick(1); err != nil {
			return err
		}
		if err := s.value(elem, elemAt, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// template reads a chat template and analyses it.
func (s *scanner) template(key, member string) error {
	n, at, err := s.strLen()
	if err != nil {
		return err
	}
	if n > MaxTemplate {
		f := finding.New(finding.ScanIncomplete, fmt.Sprintf("the chat template %q is %d bytes, more than the %d mlguard analyses; it was not examined", clip(key), n, MaxTemplate))
		f.Member, f.Offset = member, at
		s.rep.Findings = append(s.rep.Findings, f)
		return s.r.skip(n)
	}
	start := s.r.off()
	b, err := s.r.read(int64(n))
	if err != nil {
		return err
	}
	// Python readers decode metadata strings as UTF-8 with replacement; the
	// findings' offsets are mapped back to the file's bytes.
	tpl, orig := validUTF8(b)
	for _, f := range jinja.Analyze(tpl) {
		f.Member = member
		if orig != nil && f.Offset >= 0 && f.Offset < int64(len(orig)) {
			f.Offset = int64(orig[f.Offset])
		}
		f.Offset = start + min(max(f.Offset, 0), int64(len(b)))
		if len(s.rep.Findings) < maxFindings {
			s.rep.Findings = append(s.rep.Findings, f)
		}
	}
	return nil
}

// validUTF8 returns b as text with each invalid byte replaced by U+FFFD
// and, when it replaced any, the offset in b of each byte of the text.
func validUTF8(b []byte) (string, []int32) {
	if utf8.Valid(b) {
		return string(b), nil
	}
	var out strings.Builder
	orig := make([]int32, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			out.WriteString("\uFFFD")
			orig = append(orig, int32(i), int32(i), int32(i))
			i++
			continue
		}
		out.Write(b[i : i+n])
		for k := range n {
			orig = append(orig, int32(i+k))
		}
		i += n
	}
	orig = append(orig, int32(len(b)))
	return out.String(), orig
}

type tensorInfo struct {
	name   string
	at     int64
	elems  uint64
	typ    uint32
	offset uint64
	dims   []uint64
}

func (s *scanner) tensors(n uint64) error {
	var infos []tensorInfo
	names := map[uint64]bool{}
	var params uint64
	byType := map[uint32]uint64{} // elements per tensor type
	for i := range n {
		if err := s.tick(1); err != nil {
			return err
		}
		s.where = fmt.Sprintf("tensor info %d of %d", i+1, n)
		ln, at, err := s.strLen()
		if err != nil {
			return err
		}
		if ln > maxNameLen {
			return s.invalidf(at, "the name of %s is %d bytes, longer than the %d llama.cpp accepts", s.where, ln, maxNameLen)
		}
		b, err := s.r.read(int64(ln))
		if err != nil {
			return err
		}
		t := tensorInfo{name: string(b), at: at, elems: 1}
		h := maphash.String(s.seed, t.name)
		if names[h] {
			return s.invalidf(at, "the tensor name %q appears twice", t.name)
		}
		names[h] = true
		nd, err := s.r.u32()
		if err != nil {
			return err
		}
		if nd > maxDims {
			return s.invalidf(at, "tensor %q has %d dimensions, more than the %d llama.cpp accepts", t.name, nd, maxDims)
		}
		overflow := false
		for range nd {
			d, err := s.count()
			if err != nil {
				return err
			}
			if d > math.MaxInt64 {
				return s.invalidf(at, "tensor %q has a negative dimension", t.name)
			}
			t.dims = append(t.dims, d)
			hi, lo := bits.Mul64(t.elems, d)
			overflow = overflow || hi != 0 || lo > math.MaxInt64
			t.elems = lo
		}
		if overflow {
			return s.invalidf(at, "the element count of tensor %q %v overflows 64 bits", t.name, t.dims)
		}
		if t.typ, err = s.r.u32(); err != nil {
			return err
		}
		if t.offset, err = s.r.u64(); err != nil {
			return err
		}
		if sum, carry := bits.Add64(params, t.elems, 0); carry != 0 || sum > math.MaxInt64 {
			params = math.MaxInt64
		} else {
			params = sum
		}
		byType[t.typ] = satAdd(byType[t.typ], t.elems)
		infos = append(infos, t)
	}
	s.rep.Parameters = int64(params)
	s.rep.DType = dominantType(byType)
	s.where = "the tensor data"
	return s.data(infos)
}

// data checks the tensors' placement as llama.cpp does: the data section
// starts at the next multiple of the alignment after the tensor infos, and
// each tensor starts where the previous one ends, padded to the alignment.
// Only offsets are compared; the data is not read.
func (s *scanner) data(infos []tensorInfo) error {
	if len(infos) == 0 || s.alignment == 0 {
		return nil // no data, or no alignment to place it by (already reported)
	}
	a := s.alignment
	start := uint64(s.r.off())
	start += (a - start%a) % a
	size := uint64(s.r.size)
	var want uint64
	known := true // the sizes of all tensors so far are known
	for _, t := range infos {
		gt, ok := ggmlTypes[t.typ]
		if !ok {
			s.unknownTypes[fmt.Sprintf("%d", t.typ)] = true
		}
		if t.offset%a != 0 {
			return s.invalidf(t.at, "tensor %q starts at data offset %d, not a multiple of the alignment %d", t.name, t.offset, a)
		}
		if known && t.offset != want {
			return s.invalidf(t.at, "tensor %q starts at data offset %d where llama.cpp expects %d: tensors overlap or leave gaps", t.name, t.offset, want)
		}
		if !known && t.offset < want {
			return s.invalidf(t.at, "tensor %q starts at data offset %d, inside the tensor before it", t.name, t.offset)
		}
		if !ok {
			// Its size is unknown, but it holds a byte if it holds an element.
			known = false
			want = t.offset
			if t.elems > 0 {
				want++
			}
			continue
		}
		if len(t.dims) > 0 && t.dims[0]%gt.blockSize != 0 {
			return s.invalidf(t.at, "tensor %q of type %s has rows of %d elements, not a multiple of its block size %d", t.name, gt.name, t.dims[0], gt.blockSize)
		}
		hi, nbytes := bits.Mul64(t.elems/gt.blockSize, gt.typeSize)
		end, carry := bits.Add64(t.offset, nbytes, 0)
		if hi != 0 || carry != 0 {
			return s.invalidf(t.at, "the size of tensor %q overflows 64 bits", t.name)
		}
		if abs, c := bits.Add64(start, end, 0); c != 0 || abs > size {
			return s.invalidf(t.at, "tensor %q ends at byte %d of a %d-byte file: the file is truncated or the tensor lies outside it", t.name, abs, size)
		}
		pad, c := bits.Add64(end, (a-end%a)%a, 0)
		if c != 0 {
			return s.invalidf(t.at, "the size of tensor %q overflows 64 bits", t.name)
		}
		want = pad
	}
	return nil
}

// clip shortens a key or name for a message.
func clip(s string) string {
	if len(s) > 80 {
		return strings.ToValidUTF8(s[:80], "") + "…"
	}
	return s
}
