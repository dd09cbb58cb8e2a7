package pickle

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/pickle/pickleop"
)

// storageRecord is one record of torch's legacy 'storages' tar member:
// pickle((key, location, storage_type)), int64 element count, raw data.
type storageRecord struct {
	key, module, class string
	count              uint64
	size               int
}

func storagesMember(records []storageRecord) []byte {
	b := p().proto(2).binInt1(uint8(len(records))).stop()
	for _, r := range records {
		b.proto(2).mark().binUnicode(r.key).binUnicode("cpu").global(r.module, r.class).tuple().stop()
		b.raw(binary.LittleEndian.AppendUint64(nil, r.count)...)
		b.raw(arrayBytes(int(r.count) * r.size)...)
	}
	return b.bytes()
}

// readStorages walks a storages member as internal/scan does.
func readStorages(t *testing.T, member []byte) ([]Value, *Stream) {
	t.Helper()
	s := NewStream(context.Background(), bytes.NewReader(member), Options{})
	num, err := s.Next()
	if err != nil || num.Kind != "int" {
		t.Fatalf("count: %+v, %v", num, err)
	}
	var recs []Value
	for range num.Int {
		rec, err := s.Next()
		if err != nil {
			return recs, s
		}
		recs = append(recs, rec)
		count, err := s.Uint(8)
		if err != nil {
			return recs, s
		}
		size := int64(4)
		if rec.Items[2].Global == "torch.LongStorage" {
			size = 8
		}
		if s.Skip(int64(count)*size) != nil {
			return recs, s
		}
	}
	return recs, s
}

func TestStreamLegacyStorages(t *testing.T) {
	t.Parallel()
	member := storagesMember([]storageRecord{
		{"140", "torch", "FloatStorage", 3, 4},
		{"141", "torch", "LongStorage", 2, 8},
	})
	recs, s := readStorages(t, member)
	str := func(v string) Value { return Value{Kind: "str", Str: v} }
	want := []Value{
		{Kind: "tuple", Items: []Value{str("140"), str("cpu"), {Kind: "global", Global: "torch.FloatStorage"}}},
		{Kind: "tuple", Items: []Value{str("141"), str("cpu"), {Kind: "global", Global: "torch.LongStorage"}}},
	}
	if diff := gocmp.Diff(want, recs); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if s.Offset() != int64(len(member)) {
		t.Errorf("Offset = %d, want %d", s.Offset(), len(member))
	}
	res := s.Finish()
	if len(res.Findings) != 0 || res.Pickles != 3 || res.Err != nil {
		t.Errorf("Finish: findings %v, Pickles %d, Err %v", summarize(res.Findings), res.Pickles, res.Err)
	}
	if diff := gocmp.Diff([]string{"torch.FloatStorage", "torch.LongStorage"}, res.Globals); diff != "" {
		t.Errorf("Globals (-want +got):\n%s", diff)
	}
}

func TestStreamMaliciousRecord(t *testing.T) {
	t.Parallel()
	member := storagesMember([]storageRecord{
		{"140", "torch", "FloatStorage", 1, 4},
		{"141", "os", "system", 0, 0},
	})
	recs, s := readStorages(t, member)
	if len(recs) != 2 || recs[1].Items[2].Global != "os.system" {
		t.Fatalf("records %+v", recs)
	}
	res := s.Finish()
	// The count pickle is 5 bytes, the first record 41 + 8 + 4; the second
	// record's GLOBAL follows PROTO, MARK and two 8-byte BINUNICODEs.
	at := int64(5 + 41 + 8 + 4 + 2 + 1 + 8 + 8)
	if diff := cmpGot([]got{critGlobal(at, "os.system")}, res); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestStreamErrors(t *testing.T) {
	t.Parallel()
	t.Run("data shorter than declared", func(t *testing.T) {
		t.Parallel()
		member := storagesMember([]storageRecord{{"140", "torch", "FloatStorage", 3, 4}})
		member = member[:len(member)-5]
		_, s := readStorages(t, member)
		res := s.Finish()
		if diff := cmpGot([]got{incomplete(int64(len(member)), fmt.Sprintf("offset %d (STOP): truncated: the stream ends inside an opcode", len(member)))}, res); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
		if _, err := s.Next(); err == nil {
			t.Errorf("Next after an error: no error")
		}
	})
	t.Run("count cut short", func(t *testing.T) {
		t.Parallel()
		b := p().proto(2).none().stop().raw(1, 2, 3).bytes()
		s := NewStream(context.Background(), bytes.NewReader(b), Options{})
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Uint(8); err == nil {
			t.Errorf("Uint(8) of 3 bytes: no error")
		}
		if err := s.Skip(1); err == nil {
			t.Errorf("Skip after an error: no error")
		}
		if res := s.Finish(); !hasRule(res.Findings, finding.ScanIncomplete) {
			t.Errorf("Finish: %v", summarize(res.Findings))
		}
	})
	t.Run("negative skip", func(t *testing.T) {
		t.Parallel()
		s := NewStream(context.Background(), bytes.NewReader(nil), Options{})
		if err := s.Skip(-1); err == nil {
			t.Errorf("Skip(-1): no error")
		}
		if diff := cmpGot([]got{incomplete(0, "offset 0: negative length in raw data")}, s.Finish()); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})
	t.Run("each pickle has a fresh memo", func(t *testing.T) {
		t.Parallel()
		b := p().proto(2).binUnicode("x").binPut(0).stop().proto(2).binGet(0).stop().bytes()
		s := NewStream(context.Background(), bytes.NewReader(b), Options{})
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Next(); err == nil {
			t.Errorf("BINGET of the previous pickle's memo: no error")
		}
		if diff := cmpGot([]got{incomplete(13, "offset 13 (BINGET): memo key 0 not found")}, s.Finish()); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})
	t.Run("resource bound", func(t *testing.T) {
		t.Parallel()
		b := p().raw(bytes.Repeat([]byte{pickleop.Mark}, maxMarks+1)...).bytes()
		s := NewStream(context.Background(), bytes.NewReader(b), Options{})
		if _, err := s.Next(); err == nil {
			t.Fatal("no error")
		}
		if diff := gocmp.Diff([]string{finding.PickleResourceBomb}, rules(s.Finish().Findings)); diff != "" {
			t.Errorf("rules (-want +got):\n%s", diff)
		}
	})
}
