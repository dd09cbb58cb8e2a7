package scan

import (
	"fmt"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/pickle"
)

// torch's legacy tar layout (torch.save before 0.1.10) keeps storages and
// tensors in members that interleave pickles with raw bytes:
//
//	storages: pickle(n), then n times: pickle((key, location, storage_type)),
//	          int64 element count, count*element_size raw bytes; then
//	          pickle(storage_views)
//	tensors:  pickle(n), then n times: pickle((key, storage_id, tensor_type)),
//	          int32 ndim, 4 bytes, ndim int64 sizes, ndim int64 strides, int64 offset

// elementSize maps a storage class to its element size in bytes.
func elementSize(storage string) (int64, bool) {
	name := storage[strings.LastIndexByte(storage, '.')+1:]
	sizes := map[string]int64{
		"DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
		"IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1,
		"ComplexFloatStorage": 8, "ComplexDoubleStorage": 16, "QInt8Storage": 1, "QUInt8Storage": 1,
		"QInt32Storage": 4, "QUInt4x2Storage": 1, "QUInt2x4Storage": 1,
	}
	s, ok := sizes[name]
	return s, ok
}

const maxLegacyRecords = 1 << 20

// legacyCount reads the record count a storages or tensors member starts with.
func (j *job) legacyCount(n *node, s *pickle.Stream, what string) (int64, bool) {
	num, err := s.Next()
	if err != nil {
		return 0, false // Finish reports it
	}
	if num.Kind != "int" || num.Int < 0 || num.Int > maxLegacyRecords {
		j.legacyBroken(n, s, fmt.Sprintf("the %s member does not start with a count of records", what))
		return 0, false
	}
	return num.Int, true
}

// legacyBroken reports a layout torch would not load, and so what follows
// was not examined.
func (j *job) legacyBroken(n *node, s *pickle.Stream, msg string) {
	f := finding.New(finding.ScanIncomplete, msg+"; the rest of the member was not examined")
	f.Offset = s.Offset()
	j.add(n, f)
}

func (j *job) legacyStorages(n *node) {
	s := pickle.NewStream(j.ctx, n.reader(), j.pickleOptions(n, 0))
	defer j.finishStream(n, s)
	num, ok := j.legacyCount(n, s, "storages")
	if !ok {
		return
	}
	for range num {
		rec, err := s.Next()
		if err != nil {
			return
		}
		if rec.Kind != "tuple" || len(rec.Items) < 3 || rec.Items[2].Kind != "global" {
			j.legacyBroken(n, s, "a storage record is not (key, location, storage_type)")
			return
		}
		size, ok := elementSize(rec.Items[2].Global)
		if !ok {
			j.legacyBroken(n, s, fmt.Sprintf("unknown storage type %s", rec.Items[2].Global))
			return
		}
		count, err := s.Uint(8)
		if err != nil {
			return
		}
		if count > 1<<40 {
			j.legacyBroken(n, s, fmt.Sprintf("a storage claims %d elements", count))
			return
		}
		if s.Skip(int64(count)*size) != nil {
			return
		}
	}
	// torch then unpickles the storage views: (view, root, offset, size) tuples.
	s.Next()
}

func (j *job) legacyTensors(n *node) {
	s := pickle.NewStream(j.ctx, n.reader(), j.pickleOptions(n, 0))
	defer j.finishStream(n, s)
	num, ok := j.legacyCount(n, s, "tensors")
	if !ok {
		return
	}
	for range num {
		if _, err := s.Next(); err != nil {
			return
		}
		ndim, err := s.Uint(4)
		if err != nil {
			return
		}
		if ndim > 64 {
			j.legacyBroken(n, s, fmt.Sprintf("a tensor claims %d dimensions", ndim))
			return
		}
		if s.Skip(4+16*int64(ndim)+8) != nil {
			return
		}
	}
}

func (j *job) finishStream(n *node, s *pickle.Stream) {
	for _, f := range s.Finish().Findings {
		j.add(n, f)
	}
}
