// Package safetensors checks the header of a safetensors file: an 8-byte
// little-endian length N, N bytes of JSON describing each tensor (dtype,
// shape, data_offsets) and an optional __metadata__ map of strings, then
// the data buffer. The format holds no code; what can go wrong is a header
// that loaders read differently (duplicate keys, overlapping or
// out-of-range offsets, data hidden after the buffer, as in polyglot files)
// or that exhausts them. The checks follow the reference implementation,
// the safetensors Rust crate. Only the 8 + N header bytes are read.
package safetensors

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// Format is the Report.Format of a safetensors file.
const Format = "safetensors"

// MaxHeader is the largest header accepted, as in the Rust crate
// (MAX_HEADER_SIZE): a longer one is refused before anything is allocated.
const MaxHeader = 100_000_000

// maxJSONDepth is serde_json's recursion limit: deeper headers fail to load.
const maxJSONDepth = 128

// dtypeBits are the element sizes in bits of the dtypes the Rust crate
// knows (safetensors/src/tensor.rs, Dtype::bitsize): the OCP microscaling
// F4/F6 types pack below a byte.
var dtypeBits = map[string]uint64{
	"BOOL": 8, "U8": 8, "I8": 8,
	"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
	"F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32,
	"I64": 64, "U64": 64, "F64": 64, "C64": 64,
}

// architectureKeys are the __metadata__ keys that name the architecture,
// most specific first.
var architectureKeys = []string{"modelspec.architecture", "architecture", "model_type"}

type tensor struct {
	name       string
	dtype      string
	shape      []uint64
	begin, end uint64
	at         int64 // file offset of the tensor's entry, for findings
}

// Scan reads the header of the safetensors file r of size bytes. Problems
// with the content are findings; the error is for I/O failures and ctx.
func Scan(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error) {
	rep := &modelfile.Report{Format: Format}
	add := func(rule string, at int64, msg, evidence string) {
		f := finding.New(rule, msg)
		f.Offset, f.Evidence = at, evidence
		rep.Findings = append(rep.Findings, f)
	}
	if size < 8 {
		add(finding.SafetensorsInvalidHeader, 0, fmt.Sprintf("the file is %d bytes, too short for the 8-byte header length", size), "")
		return rep, nil
	}
	var pre [8]byte
	if _, err := r.ReadAt(pre[:], 0); err != nil {
		return nil, fmt.Errorf("reading safetensors header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(pre[:])
	switch {
	case n > MaxHeader:
		add(finding.SafetensorsInvalidHeader, 0, fmt.Sprintf("the header length is %d bytes, more than the %d that loaders accept", n, MaxHeader), fmt.Sprintf("% x", pre))
		return rep, nil
	case n > uint64(size-8):
		add(finding.SafetensorsInvalidHeader, 0, fmt.Sprintf("the header length is %d bytes but only %d bytes follow it", n, size-8), fmt.Sprintf("% x", pre))
		return rep, nil
	case n < 2:
		add(finding.SafetensorsInvalidHeader, 0, fmt.Sprintf("the header length is %d bytes, too short for a JSON object", n), fmt.Sprintf("% x", pre))
		return rep, nil
	}
	h := &header{ctx: ctx, rep: rep}
	src := &utf8Reader{r: io.NewSectionReader(r, 8, int64(n))}
	br := bufio.NewReaderSize(src, 64<<10)
	c, err := br.Peek(1)
	var ioErr *readError
	switch {
	case errors.As(err, &ioErr):
		return nil, fmt.Errorf("reading safetensors header: %w", ioErr.err)
	case err == nil && c[0] != '{':
		add(finding.SafetensorsInvalidHeader, 8, fmt.Sprintf("the header starts with %q, not '{' as the format requires", c[0]), "")
		return rep, nil
	}
	h.dec = json.NewDecoder(br)
	h.dec.UseNumber()
	err = h.parse()
	switch {
	case errors.As(err, &ioErr):
		return nil, fmt.Errorf("reading safetensors header: %w", ioErr.err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, err
	case errors.Is(err, errNotUTF8):
		add(finding.SafetensorsInvalidHeader, 8, "the header is not valid UTF-8, so loaders refuse it", "")
		return rep, nil
	case err != nil:
		add(finding.SafetensorsInvalidHeader, 8+h.dec.InputOffset(), "the header is not valid: "+err.Error(), h.evidence)
		return rep, nil
	}
	// Only whitespace may follow the JSON object (the spec pads with spaces).
	rest := io.MultiReader(h.dec.Buffered(), br)
	if off, c, err := firstNonSpace(rest); err != nil {
		var ioErr *readError
		if errors.As(err, &ioErr) {
			return nil, fmt.Errorf("reading safetensors header: %w", ioErr.err)
		}
		add(finding.SafetensorsInvalidHeader, 8, "the header is not valid UTF-8, so loaders refuse it", "")
		return rep, nil
	} else if off >= 0 {
		add(finding.SafetensorsInvalidHeader, 8+h.dec.InputOffset()+off, fmt.Sprintf("the header has data after its JSON object (%q); loaders reject it", c), "")
		return rep, nil
	}
	h.check(8+int64(n), size)
	return rep, nil
}

// header parses the JSON header as a token stream: nothing but the tensor
// entries and metadata is kept, and duplicate keys, which parsers resolve
// differently, are found.
type header struct {
	ctx      context.Context
	dec      *json.Decoder
	rep      *modelfile.Report
	tensors  []tensor
	evidence string // the tensor or key a header problem concerns
	tokens   int
}

// readError wraps an I/O failure of the underlying reader, which is not a
// property of the file's content.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }

var errNotUTF8 = errors.New("the header is not valid UTF-8")

// utf8Reader passes bytes through, failing on invalid UTF-8 (serde_json,
// like the Rust crate, reads the header as a str).
type utf8Reader struct {
	r    io.Reader
	tail []byte // an incomplete rune carried to the next read
	bad  bool
}

func (u *utf8Reader) Read(p []byte) (int, error) {
	if u.bad {
		return 0, errNotUTF8
	}
	n, err := u.r.Read(p)
	if err != nil && err != io.EOF {
		err = &readError{err}
	}
	chunk := append(u.tail, p[:n]...)
	i := 0
	for i < len(chunk) {
		if chunk[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(chunk[i:])
		if r == utf8.RuneError && size <= 1 {
			if !utf8.FullRune(chunk[i:]) && err == nil {
				break // wait for the rest of the rune
			}
			u.bad = true
			return 0, errNotUTF8
		}
		i += size
	}
	u.tail = append(u.tail[:0:0], chunk[i:]...)
	if err == io.EOF && len(u.tail) > 0 {
		u.bad = true
		return 0, errNotUTF8
	}
	return n, err
}

func (h *header) token() (json.Token, error) {
	h.tokens++
	if h.tokens%4096 == 0 {
		if err := h.ctx.Err(); err != nil {
			return nil, err
		}
	}
	t, err := h.dec.Token()
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = errors.New("the JSON ends before its object closes")
	}
	return t, err
}

func (h *header) parse() error {
	t, err := h.token()
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return fmt.Errorf("it is not a JSON object")
	}
	seen := map[string]bool{}
	for h.dec.More() {
		at := 8 + h.dec.InputOffset()
		t, err := h.token()
		if err != nil {
			return err
		}
		key := t.(string)
		if seen[key] {
			h.evidence = key
			return fmt.Errorf("the key %q appears twice; parsers disagree on which entry counts", key)
		}
		seen[key] = true
		if key == "__metadata__" {
			if err := h.metadata(at); err != nil {
				return err
			}
			continue
		}
		if err := h.tensor(key, at); err != nil {
			return err
		}
	}
	_, err = h.token() // '}'
	return err
}

// tensor reads {"dtype": ..., "shape": [...], "data_offsets": [b, e]}.
func (h *header) tensor(name string, at int64) error {
	t, err := h.token()
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		h.evidence = name
		return fmt.Errorf("the entry of tensor %q is not an object", name)
	}
	ti := tensor{name: name, at: at}
	seen := map[string]bool{}
	for h.dec.More() {
		t, err := h.token()
		if err != nil {
			return err
		}
		key := t.(string)
		if seen[key] {
			h.evidence = name
			return fmt.Errorf("tensor %q has the field %q twice", name, key)
		}
		seen[key] = true
		switch key {
		case "dtype":
			t, err := h.token()
			if err != nil {
				return err
			}
			s, ok := t.(string)
			if !ok {
				h.evidence = name
				return fmt.Errorf("the dtype of tensor %q is not a string", name)
			}
			ti.dtype = s
		case "shape":
			if ti.shape, err = h.uints(name, key, -1); err != nil {
				return err
			}
			if ti.shape == nil {
				ti.shape = []uint64{}
			}
		case "data_offsets":
			o, err := h.uints(name, key, 2)
			if err != nil {
				return err
			}
			ti.begin, ti.end = o[0], o[1]
		default:
			// Unknown fields are ignored by serde (no deny_unknown_fields).
			if err := h.skip(1); err != nil {
				return err
			}
		}
	}
	if _, err := h.token(); err != nil { // '}'
		return err
	}
	for _, f := range []string{"dtype", "shape", "data_offsets"} {
		if !seen[f] {
			h.evidence = name
			return fmt.Errorf("tensor %q has no %s", name, f)
		}
	}
	h.tensors = append(h.tensors, ti)
	return nil
}

// uints reads an array of non-negative integers (of length want, if >= 0).
func (h *header) uints(name, field string, want int) ([]uint64, error) {
	fail := func(format string, args ...any) ([]uint64, error) {
		h.evidence = name
		return nil, fmt.Errorf("the %s of tensor %q %s", field, name, fmt.Sprintf(format, args...))
	}
	t, err := h.token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('[') {
		return fail("is not an array")
	}
	var out []uint64
	for h.dec.More() {
		t, err := h.token()
		if err != nil {
			return nil, err
		}
		num, ok := t.(json.Number)
		if !ok {
			return fail("holds something other than integers")
		}
		v, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil {
			return fail("holds %s, not a non-negative integer", num)
		}
		out = append(out, v)
	}
	if _, err := h.token(); err != nil {
		return nil, err
	}
	if want >= 0 && len(out) != want {
		return fail("has %d numbers, not %d", len(out), want)
	}
	return out, nil
}

// metadata reads __metadata__, which must map strings to strings (or be null).
func (h *header) metadata(at int64) error {
	t, err := h.token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if t != json.Delim('{') {
		if d, ok := t.(json.Delim); ok {
			if err := h.skipRest(d, 1); err != nil {
				return err
			}
		}
		h.metaFinding(at, "__metadata__ is not an object")
		return nil
	}
	seen := map[string]bool{}
	meta := map[string]string{}
	var bad []string
	for h.dec.More() {
		t, err := h.token()
		if err != nil {
			return err
		}
		key := t.(string)
		if seen[key] {
			h.evidence = "__metadata__." + key
			return fmt.Errorf("the __metadata__ key %q appears twice; parsers disagree on which value counts", key)
		}
		seen[key] = true
		v, err := h.token()
		if err != nil {
			return err
		}
		switch v := v.(type) {
		case string:
			meta[key] = v
		case json.Delim:
			if err := h.skipRest(v, 1); err != nil {
				return err
			}
			bad = append(bad, key)
		default:
			bad = append(bad, key)
		}
	}
	if _, err := h.token(); err != nil {
		return err
	}
	if len(bad) > 0 {
		msg := fmt.Sprintf("__metadata__ must map strings to strings, but the value of %s is not a string", quoteList(bad, 5))
		if len(bad) > 1 {
			msg = fmt.Sprintf("__metadata__ must map strings to strings, but the values of %s are not strings", quoteList(bad, 5))
		}
		h.metaFinding(at, msg)
	}
	for _, k := range architectureKeys {
		if a := strings.TrimSpace(meta[k]); a != "" {
			h.rep.Architecture = a
			break
		}
	}
	return nil
}

func (h *header) metaFinding(at int64, msg string) {
	f := finding.New(finding.SafetensorsInvalidMetadata, msg+"; the reference loader refuses the file")
	f.Offset, f.Evidence = at, "__metadata__"
	h.rep.Findings = append(h.rep.Findings, f)
}

// skip skips one value; depth is the nesting of the enclosing containers.
func (h *header) skip(depth int) error {
	t, err := h.token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); ok {
		return h.skipRest(d, depth+1)
	}
	return nil
}

// skipRest skips to the end of the container opened by d.
func (h *header) skipRest(d json.Delim, depth int) error {
	if d != '{' && d != '[' {
		return nil
	}
	for open := 1; open > 0; {
		if depth+open > maxJSONDepth {
			return fmt.Errorf("the JSON nests more than %d levels, which loaders refuse", maxJSONDepth)
		}
		t, err := h.token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				open++
			} else {
				open--
			}
		}
	}
	return nil
}

// check validates the tensors against each other and the file size, as
// the Rust crate's Metadata::validate and read_metadata do: sorted by
// offsets, each tensor starts where the previous ended, covers exactly
// its shape's bytes, and the buffer ends where the file does.
func (h *header) check(dataStart, size int64) {
	rep := h.rep
	var params uint64
	byDType := map[string]uint64{} // elements per dtype
	unknown := map[string]bool{}
	var offsetErrs []string
	firstAt := int64(-1)
	bad := func(t tensor, format string, args ...any) {
		if firstAt < 0 {
			firstAt = t.at
		}
		offsetErrs = append(offsetErrs, fmt.Sprintf("tensor %q ", t.name)+fmt.Sprintf(format, args...))
	}
	slices.SortStableFunc(h.tensors, func(a, b tensor) int {
		if a.begin != b.begin {
			return cmpU(a.begin, b.begin)
		}
		return cmpU(a.end, b.end)
	})
	var pos uint64
	for _, t := range h.tensors {
		elems, overflow := uint64(1), false
		for _, d := range t.shape {
			hi, lo := bits.Mul64(elems, d)
			overflow = overflow || hi != 0
			elems = lo
		}
		switch {
		case t.begin != pos && t.begin < pos:
			bad(t, "starts at %d, inside the previous tensor (which ends at %d): the two overlap", t.begin, pos)
		case t.begin != pos:
			bad(t, "starts at %d, leaving a gap of %d unaccounted bytes after the previous tensor", t.begin, t.begin-pos)
		case t.end < t.begin:
			bad(t, "ends at %d, before it begins at %d", t.end, t.begin)
		}
		if t.end > pos {
			pos = t.end
		}
		if overflow {
			bad(t, "has a shape %v whose element count overflows 64 bits", t.shape)
			params = math.MaxInt64
			continue
		}
		if params+elems < params || params+elems > math.MaxInt64 {
			params = math.MaxInt64
		} else {
			params += elems
		}
		if s, carry := bits.Add64(byDType[t.dtype], elems, 0); carry == 0 {
			byDType[t.dtype] = s
		}
		b, ok := dtypeBits[t.dtype]
		if !ok {
			unknown[t.dtype] = true
			continue
		}
		hi, nbits := bits.Mul64(elems, b)
		switch {
		case hi != 0:
			bad(t, "has a shape %v whose size in bits overflows 64 bits", t.shape)
		case nbits%8 != 0:
			bad(t, "is %d elements of %d-bit %s, which do not end on a byte boundary", elems, b, t.dtype)
		case t.end >= t.begin && t.end-t.begin != nbits/8:
			bad(t, "spans %d bytes but its shape %v of %s needs %d", t.end-t.begin, t.shape, t.dtype, nbits/8)
		}
	}
	rep.Parameters = int64(params)
	rep.DType = dominant(byDType)
	avail := uint64(size - dataStart)
	switch {
	case pos < avail:
		if firstAt < 0 {
			firstAt = dataStart + int64(pos)
		}
		offsetErrs = append(offsetErrs, fmt.Sprintf("%d bytes follow the end of the data buffer at %d: data no tensor accounts for, as in polyglot files", avail-pos, dataStart+int64(min(pos, avail))))
	case pos > avail:
		if firstAt < 0 {
			firstAt = dataStart
		}
		offsetErrs = append(offsetErrs, fmt.Sprintf("the tensors need %d bytes of data but the file holds %d after the header: it is truncated or the offsets are wrong", pos, avail))
	}
	if len(offsetErrs) > 0 {
		msg := offsetErrs[0]
		if len(offsetErrs) > 1 {
			msg += fmt.Sprintf(" (and %d more problems)", len(offsetErrs)-1)
		}
		f := finding.New(finding.SafetensorsInvalidOffsets, msg)
		f.Offset = firstAt
		rep.Findings = append(rep.Findings, f)
	}
	if len(unknown) > 0 {
		names := slices.Sorted(maps.Keys(unknown))
		msg := fmt.Sprintf("the dtype %s is not known to mlguard; the sizes of its tensors were not checked", quoteList(names, 10))
		if len(names) > 1 {
			msg = fmt.Sprintf("the dtypes %s are not known to mlguard; the sizes of their tensors were not checked", quoteList(names, 10))
		}
		f := finding.New(finding.SafetensorsUnknownDtype, msg)
		f.Offset = 8
		rep.Findings = append(rep.Findings, f)
	}
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// quoteList renders up to max quoted items, "and N more" after that.
func quoteList(items []string, max int) string {
	var q []string
	for i, s := range items {
		if i == max {
			q = append(q, fmt.Sprintf("%d more", len(items)-max))
			break
		}
		if len(s) > 64 {
			s = s[:64] + "…"
		}
		q = append(q, strconv.Quote(s))
	}
	return strings.Join(q, ", ")
}

// firstNonSpace returns the offset of the first byte of r that is not JSON
// whitespace, or -1.
func firstNonSpace(r io.Reader) (int64, byte, error) {
	buf := make([]byte, 32<<10)
	var off int64
	for {
		n, err := r.Read(buf)
		for i := range n {
			switch buf[i] {
			case ' ', '\t', '\n', '\r':
			default:
				return off + int64(i), buf[i], nil
			}
		}
		off += int64(n)
		if err == io.EOF {
			return -1, 0, nil
		}
		if err != nil {
			return -1, 0, err
		}
	}
}

// dominant names the dtype holding the most elements; ties go to the name
// that sorts first.
func dominant(byDType map[string]uint64) string {
	best := ""
	for d, n := range byDType {
		if n > 0 && (best == "" || n > byDType[best] || n == byDType[best] && d < best) {
			best = d
		}
	}
	return modelfile.ClipText(best)
}
