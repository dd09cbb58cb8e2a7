package pickle

import (
	"context"
	"errors"
	"io"

	"github.com/mlguard/mlguard/internal/finding"
)

// Value is a plain summary of a decoded object, for callers that walk a
// layout made of pickles and raw bytes (torch's legacy tar members).
type Value struct {
	Kind   string // "int", "str", "bytes", "tuple", "list", "dict", "global", "none", "bool", "other"
	Int    int64
	Str    string
	Global string  // "module.name" for globals
	Items  []Value // first items of tuples and lists
}

func export(v value, depth int) Value {
	switch v.k {
	case kInt, kBool:
		k := "int"
		if v.k == kBool {
			k = "bool"
		}
		return Value{Kind: k, Int: v.n}
	case kStr, kBytes:
		k := "str"
		if v.k == kBytes {
			k = "bytes"
		}
		return Value{Kind: k, Str: v.s}
	case kNone:
		return Value{Kind: "none"}
	case kGlobal:
		return Value{Kind: "global", Global: v.o.g.v.Resolved}
	case kTuple, kList, kDict:
		out := Value{Kind: "tuple"}
		if v.k == kList {
			out.Kind = "list"
		} else if v.k == kDict {
			out.Kind = "dict"
		}
		if v.o != nil && depth < maxDepth {
			for _, it := range v.o.items {
				out.Items = append(out.Items, export(it, depth+1))
			}
		}
		return out
	}
	return Value{Kind: "other"}
}

// Stream decodes pickles one at a time from a stream that interleaves them
// with raw bytes. Findings accumulate until Finish.
type Stream struct {
	m       *vm
	pickles int
	err     error
}

// NewStream starts decoding r.
func NewStream(ctx context.Context, r io.Reader, opt Options) *Stream {
	return &Stream{m: &vm{ctx: ctx, rd: newReader(r, 0), opt: opt, globals: map[string]*global{}}}
}

// Next decodes one whole pickle (with a fresh memo, as a new Unpickler
// would) and returns what it evaluates to. After an error, Finish reports it.
func (s *Stream) Next() (Value, error) {
	if s.err != nil {
		return Value{}, s.err
	}
	s.m.reset()
	if err := s.m.runOne(); err != nil {
		s.err = err
		return Value{}, err
	}
	s.pickles++
	return export(s.m.last, 0), nil
}

// Uint reads an n-byte little-endian unsigned integer of raw data.
func (s *Stream) Uint(n int) (uint64, error) {
	if s.err != nil {
		return 0, s.err
	}
	x, err := s.m.uint(n)
	if err != nil {
		s.err = err
	}
	return x, err
}

// Skip jumps over n bytes of raw data.
func (s *Stream) Skip(n int64) error {
	if s.err != nil {
		return s.err
	}
	if n < 0 {
		s.err = &DecodeError{Offset: s.m.rd.offset(), Msg: "negative length in raw data"}
		return s.err
	}
	if err := s.m.rd.skip(n); err != nil {
		s.err = s.m.truncated(err)
	}
	return s.err
}

// Offset is the current position in the stream.
func (s *Stream) Offset() int64 { return s.m.rd.offset() }

// Finish reports what the stream held; a decoding error becomes a
// scan/incomplete finding.
func (s *Stream) Finish() *Result {
	m := s.m
	res := &Result{Pickles: s.pickles, Err: s.err}
	if s.err != nil && !errors.Is(s.err, errBomb) {
		f := finding.New(finding.ScanIncomplete, "the stream could not be decoded to the end; findings before the break are reported")
		f.Offset = m.rd.offset()
		var de *DecodeError
		if errors.As(s.err, &de) {
			f.Offset = de.Offset
		}
		f.Evidence = s.err.Error()
		m.findings = append(m.findings, f)
	}
	m.emitGlobals()
	res.Findings = m.findings
	res.Globals = m.globalNames()
	return res
}
