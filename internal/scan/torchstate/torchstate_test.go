package torchstate

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// expected is testdata/expected.json, written by testdata/gen.py with what
// torch says of each fixture.
type expected struct {
	Format     string `json:"format"`
	Parameters int64  `json:"parameters"`
	Tensors    int    `json:"tensors"`
	DType      string `json:"dtype"`
}

func loadExpected(tb testing.TB) map[string]expected {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var exp map[string]expected
	if err := json.Unmarshal(b, &exp); err != nil {
		tb.Fatal(err)
	}
	return exp
}

// dataPkl extracts the data.pkl member of a zip-format checkpoint.
func dataPkl(tb testing.TB, path string) []byte {
	tb.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer z.Close()
	for _, f := range z.File {
		if strings.HasSuffix(f.Name, "/data.pkl") {
			rc, err := f.Open()
			if err != nil {
				tb.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				tb.Fatal(err)
			}
			return b
		}
	}
	tb.Fatalf("%s has no data.pkl", path)
	return nil
}

// readFixture reads a fixture as the engine would: data.pkl of a zip, or
// the whole legacy file.
func readFixture(tb testing.TB, name, format string) (Info, error) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	ctx := context.Background()
	if format == "zip" {
		b := dataPkl(tb, path)
		return Read(ctx, bytes.NewReader(b), int64(len(b)))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return ReadLegacy(ctx, bytes.NewReader(b), int64(len(b)))
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	exp := loadExpected(t)
	if len(exp) < 10 {
		t.Fatalf("expected.json lists %d fixtures", len(exp))
	}
	for name, want := range exp {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := readFixture(t, name, want.Format)
			if err != nil {
				t.Fatal(err)
			}
			w := Info{Parameters: want.Parameters, DType: want.DType, Tensors: want.Tensors}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestLimit: a pickle longer than the limit is refused with ErrLimit; one
// exactly as long is read; what follows STOP is never read.
func TestLimit(t *testing.T) {
	t.Parallel()
	b := dataPkl(t, filepath.Join("testdata", "seq_zip.pt"))
	ctx := context.Background()
	if _, err := Read(ctx, bytes.NewReader(b), int64(len(b))-1); !errors.Is(err, ErrLimit) {
		t.Errorf("limit len-1: err = %v, want ErrLimit", err)
	}
	if _, err := Read(ctx, bytes.NewReader(b), 0); !errors.Is(err, ErrLimit) {
		t.Errorf("limit 0: err = %v, want ErrLimit", err)
	}
	r := io.MultiReader(bytes.NewReader(b), failingReader{})
	if info, err := Read(ctx, r, int64(len(b))); err != nil || info.Parameters != 58 {
		t.Errorf("exact limit: %+v, %v", info, err)
	}
	if _, err := Read(ctx, bytes.NewReader(b[:len(b)/2]), 1<<20); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: err = %v, want io.ErrUnexpectedEOF", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("read past STOP") }

// TestLegacyStopsAtMainPickle: ReadLegacy does not need the storage keys
// and bytes that follow the main pickle.
func TestLegacyStopsAtMainPickle(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "seq_legacy.pt"))
	if err != nil {
		t.Fatal(err)
	}
	// The storage keys pickle and the raw storages are the last 58*4
	// bytes, their 8-byte counts and the keys list.
	head := b[:len(b)-58*4-4*8]
	r := io.MultiReader(bytes.NewReader(head), failingReader{})
	info, err := ReadLegacy(context.Background(), r, int64(len(b)))
	if err != nil || info.Parameters != 58 {
		t.Errorf("%+v, %v", info, err)
	}
	if _, err := ReadLegacy(context.Background(), bytes.NewReader(dataPkl(t, filepath.Join("testdata", "seq_zip.pt"))), 1<<20); err == nil {
		t.Error("a zip's data.pkl read as a legacy file")
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	b := dataPkl(t, filepath.Join("testdata", "seq_zip.pt"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, bytes.NewReader(b), 1<<20); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestTensorCap(t *testing.T) {
	t.Parallel()
	b := dataPkl(t, filepath.Join("testdata", "seq_zip.pt"))
	lim := defaultLimits
	lim.tensors = 3
	if _, err := lim.read(context.Background(), newSource(bytes.NewReader(b), 1<<20)); !errors.Is(err, ErrLimit) {
		t.Errorf("err = %v, want ErrLimit", err)
	}
}

// pk builds protocol 2 pickles by hand.
type pk struct{ b []byte }

func newPk() *pk { return &pk{b: []byte{opProto, 2}} }

func (p *pk) op(ops ...byte) *pk { p.b = append(p.b, ops...); return p }

func (p *pk) str(s string) *pk {
	p.b = append(p.b, opBinUnicode)
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	p.b = append(p.b, s...)
	return p
}

func (p *pk) global(module, name string) *pk {
	p.b = append(p.b, opGlobal)
	p.b = append(p.b, module+"\n"+name+"\n"...)
	return p
}

func (p *pk) int(n int) *pk { return p.op(opBinInt1, byte(n)) }

// storage pushes a persistent-id storage.
func (p *pk) storage(class, key string, numel int) *pk {
	return p.op(opMark).str("storage").global("torch", class).str(key).str("cpu").int(numel).op(opTuple, opBinPersID)
}

// v2 pushes _rebuild_tensor_v2 of a storage with a 1-D or 2-D shape.
func (p *pk) v2(class, key string, dims ...int) *pk {
	numel := 1
	for _, d := range dims {
		numel *= d
	}
	p.global("torch._utils", "_rebuild_tensor_v2").op(opMark).storage(class, key, numel).int(0).op(opMark)
	for _, d := range dims {
		p.int(d)
	}
	p.op(opTuple, opMark)
	for range dims {
		p.int(1)
	}
	return p.op(opTuple, opNewFalse).global("collections", "OrderedDict").op(opEmptyTuple, opReduce, opTuple, opReduce)
}

func TestRebuilders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    *pk
		want Info
	}{
		{
			name: "v3, meta, from_type_v2, Size",
			p: newPk().op(opEmptyDict, opMark).
				// _rebuild_tensor_v3 on an untyped storage, dtype as an argument.
				str("a").global("torch._utils", "_rebuild_tensor_v3").op(opMark).storage("UntypedStorage", "0", 4).
				int(0).int(2).int(2).op(opTuple2).int(2).int(1).op(opTuple2, opNewFalse).
				global("collections", "OrderedDict").op(opEmptyTuple, opReduce).global("torch", "float8_e4m3fn").op(opTuple, opReduce).
				// _rebuild_meta_tensor_no_storage(bfloat16, torch.Size((3, 5)), ...).
				str("b").global("torch._utils", "_rebuild_meta_tensor_no_storage").op(opMark).global("torch", "bfloat16").
				global("torch", "Size").int(3).int(5).op(opTuple2, opTuple1, opReduce).
				int(5).int(1).op(opTuple2, opNewFalse, opTuple, opReduce).
				// A tensor subclass: _rebuild_from_type_v2(_rebuild_tensor_v2, cls, args, state).
				str("c").global("torch._tensor", "_rebuild_from_type_v2").op(opMark).
				global("torch._utils", "_rebuild_tensor_v2").global("mymodule", "MyTensor").
				op(opMark).storage("HalfStorage", "1", 4).int(0).int(4).op(opTuple1).int(1).op(opTuple1, opNewFalse, opNone, opTuple).
				op(opEmptyDict, opTuple, opReduce).
				op(opSetItems, opStop),
			want: Info{Parameters: 23, DType: "bfloat16", Tensors: 3},
		},
		{
			name: "model entry preferred, ema ignored",
			p: newPk().op(opEmptyDict, opMark).
				str("ema").op(opEmptyDict).str("w").v2("FloatStorage", "0", 100).op(opSetItem).
				str("model").op(opEmptyDict).str("w").v2("HalfStorage", "1", 10).op(opSetItem).
				op(opSetItems, opStop),
			want: Info{Parameters: 10, DType: "float16", Tensors: 1},
		},
		{
			name: "optimizer skipped below the top",
			p: newPk().op(opEmptyDict, opMark).
				str("encoder").op(opEmptyDict).str("w").v2("FloatStorage", "0", 3, 4).op(opSetItem).
				str("trainer").op(opEmptyDict).str("optimizer").op(opEmptyDict).str("m").v2("FloatStorage", "1", 1000).
				op(opSetItem, opSetItem).
				op(opSetItems, opStop),
			want: Info{Parameters: 12, DType: "float32", Tensors: 1},
		},
		{
			name: "two names, one storage: counted once",
			p: newPk().op(opEmptyDict, opMark).
				str("a").v2("FloatStorage", "0", 6).str("b").v2("FloatStorage", "0", 6).
				str("c").v2("FloatStorage", "0", 2, 3).
				op(opSetItems, opStop),
			want: Info{Parameters: 12, DType: "float32", Tensors: 2},
		},
		{
			name: "a list holding itself",
			p:    newPk().op(opEmptyList, opBinPut, 0, opBinGet, 0, opAppend, opStop),
			want: Info{},
		},
		{
			name: "unknown classes are inert",
			p: newPk().global("os", "system").str("rm -rf /").op(opTuple1, opReduce).
				global("builtins", "eval").op(opEmptyTuple, opNewObj, opEmptyDict, opBuild, opTuple2, opStop),
			want: Info{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Read(context.Background(), bytes.NewReader(tc.p.b), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func le32(n uint32) []byte { return binary.LittleEndian.AppendUint32(nil, n) }
func le64(n uint64) []byte { return binary.LittleEndian.AppendUint64(nil, n) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// hostile returns pickles that would make gopickle allocate, panic or work
// without bound, each with whether the error must wrap ErrLimit.
func hostile() []struct {
	name  string
	b     []byte
	limit bool
} {
	// A 1 MiB string, memoized, then referenced a million times in a list.
	bigStr := cat([]byte{opProto, 2, opBinUnicode}, le32(1<<20), bytes.Repeat([]byte("a"), 1<<20),
		[]byte{opBinPut, 0, opEmptyList, opMark}, bytes.Repeat([]byte{opBinGet, 0}, 1<<20), []byte{opAppends, opStop})
	// An OrderedDict given the same 100,000-entry state 200,000 times.
	build := cat([]byte{opProto, 2}, []byte("ccollections\nOrderedDict\n"), []byte{opEmptyTuple, opReduce,
		opBinUnicode}, le32(1), []byte("k"), []byte{opBinPut, 1, opPop, opEmptyDict, opBinPut, 2, opMark},
		bytes.Repeat([]byte{opBinGet, 1, opBinInt1, 1}, 100_000), []byte{opSetItems, opPop},
		bytes.Repeat([]byte{opBinGet, 2, opBuild}, 200_000), []byte{opStop})
	// NEWOBJ_EX copying the same 100,000-item tuple 200,000 times.
	newobjEx := cat([]byte{opProto, 4}, []byte("cx\ny\n"), []byte{opBinPut, 1, opMark},
		bytes.Repeat([]byte{opNone}, 100_000), []byte{opTuple, opBinPut, 2, opEmptyDict, opBinPut, 3, opPop, opPop, opPop},
		bytes.Repeat([]byte{opBinGet, 1, opBinGet, 2, opBinGet, 3, opNewObjEx, opPop}, 200_000), []byte{opNone, opStop})
	// 200 lists, each in the previous.
	deep := cat([]byte{opProto, 2}, bytes.Repeat([]byte{opEmptyList}, 200), bytes.Repeat([]byte{opAppend}, 199), []byte{opStop})
	return []struct {
		name  string
		b     []byte
		limit bool
	}{
		{"BINUNICODE of 4 GiB", cat([]byte{opProto, 2, opBinUnicode}, le32(1<<32-1), []byte("abc")), true},
		{"BINBYTES of 4 GiB", cat([]byte{opProto, 3, opBinBytes}, le32(1<<32-1)), true},
		{"BINUNICODE8 of 2^63", cat([]byte{opProto, 4, opBinUnicode8}, le64(1<<63)), false},
		{"BYTEARRAY8 of 1 TiB", cat([]byte{opProto, 5, opByteArray8}, le64(1<<40)), true},
		{"FRAME of 1 TiB", cat([]byte{opProto, 4, opFrame}, le64(1<<40), []byte{opNone, opStop}), true},
		{"LONG4 of 1 MiB", cat([]byte{opProto, 2, opLong4}, le32(1<<20), bytes.Repeat([]byte{1}, 1<<20), []byte{opStop}), true},
		{"LONG of 100,000 digits", cat([]byte("L"), bytes.Repeat([]byte("9"), 100_000), []byte("\n.")), true},
		{"opcode 0xff", []byte{opProto, 2, 0xff}, false},
		{"LONG1 of no bytes", []byte{opProto, 2, opLong1, 0, opStop}, false},
		{"DICT of 3 items", []byte{opProto, 2, opMark, opNone, opNone, opNone, opDict, opStop}, false},
		{"SETITEMS of 1 item", []byte{opProto, 2, opEmptyDict, opMark, opNone, opSetItems, opStop}, false},
		{"MARK flood", bytes.Repeat([]byte{opMark}, 4<<20), true},
		{"EMPTY_DICT flood", bytes.Repeat([]byte{opEmptyDict}, 4<<20), true},
		{"memoized string referenced a million times", bigStr, true},
		{"BUILD of one big state, repeatedly", build, true},
		{"NEWOBJ_EX of one big tuple, repeatedly", newobjEx, true},
		{"lists 200 deep", deep, true},
		{"bytes in a set", []byte{opProto, 3, opEmptySet, opMark, opShortBinBytes, 1, 'a', opAddItems, opStop}, false},
		{"frame crossed", cat([]byte{opProto, 4, opFrame}, le64(1), []byte{opBinInt1, 1, opNone, opStop}), false},
		{"nested frame", cat([]byte{opProto, 4, opFrame}, le64(20), []byte{opFrame}, le64(1), []byte{opNone, opStop}), false},
		{"stack underflow", []byte{opProto, 2, opMark, opTuple2, opStop}, false},
		{"no STOP", []byte{opProto, 2, opNone}, false},
		{"persistent id key of 2 KiB", cat([]byte{opProto, 2, opMark, opBinUnicode}, le32(7), []byte("storage"),
			[]byte("ctorch\nFloatStorage\n"), []byte{opBinUnicode}, le32(2048), bytes.Repeat([]byte("k"), 2048),
			[]byte{opNone, opNone, opTuple, opBinPersID, opStop}), false},
	}
}

// TestHostile: each hostile pickle is refused quickly, without a panic.
func TestHostile(t *testing.T) {
	t.Parallel()
	for _, tc := range hostile() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			info, err := Read(ctx, bytes.NewReader(tc.b), 64<<20)
			if err == nil {
				t.Fatalf("read as %+v", info)
			}
			if tc.limit && !errors.Is(err, ErrLimit) {
				t.Errorf("err = %v, want ErrLimit", err)
			}
			if ctx.Err() != nil {
				t.Errorf("only the deadline stopped it: %v", err)
			}
			t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
		})
	}
}
