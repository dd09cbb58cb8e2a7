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

	"github.com/mlguard/mlguard/internal/scan/pickle/pickleop"
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

func newPk() *pk { return &pk{b: []byte{pickleop.Proto, 2}} }

func (p *pk) op(ops ...byte) *pk { p.b = append(p.b, ops...); return p }

func (p *pk) str(s string) *pk {
	p.b = append(p.b, pickleop.BinUnicode)
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	p.b = append(p.b, s...)
	return p
}

func (p *pk) global(module, name string) *pk {
	p.b = append(p.b, pickleop.Global)
	p.b = append(p.b, module+"\n"+name+"\n"...)
	return p
}

func (p *pk) int(n int) *pk { return p.op(pickleop.BinInt1, byte(n)) }

// storage pushes a persistent-id storage.
func (p *pk) storage(class, key string, numel int) *pk {
	return p.op(pickleop.Mark).str("storage").global("torch", class).str(key).str("cpu").int(numel).op(pickleop.Tuple, pickleop.BinPersID)
}

// v2 pushes _rebuild_tensor_v2 of a storage with a 1-D or 2-D shape.
func (p *pk) v2(class, key string, dims ...int) *pk {
	numel := 1
	for _, d := range dims {
		numel *= d
	}
	p.global("torch._utils", "_rebuild_tensor_v2").op(pickleop.Mark).storage(class, key, numel).int(0).op(pickleop.Mark)
	for _, d := range dims {
		p.int(d)
	}
	p.op(pickleop.Tuple, pickleop.Mark)
	for range dims {
		p.int(1)
	}
	return p.op(pickleop.Tuple, pickleop.NewFalse).global("collections", "OrderedDict").op(pickleop.EmptyTuple, pickleop.Reduce, pickleop.Tuple, pickleop.Reduce)
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
			p: newPk().op(pickleop.EmptyDict, pickleop.Mark).
				// _rebuild_tensor_v3 on an untyped storage, dtype as an argument.
				str("a").global("torch._utils", "_rebuild_tensor_v3").op(pickleop.Mark).storage("UntypedStorage", "0", 4).
				int(0).int(2).int(2).op(pickleop.Tuple2).int(2).int(1).op(pickleop.Tuple2, pickleop.NewFalse).
				global("collections", "OrderedDict").op(pickleop.EmptyTuple, pickleop.Reduce).global("torch", "float8_e4m3fn").op(pickleop.Tuple, pickleop.Reduce).
				// _rebuild_meta_tensor_no_storage(bfloat16, torch.Size((3, 5)), ...).
				str("b").global("torch._utils", "_rebuild_meta_tensor_no_storage").op(pickleop.Mark).global("torch", "bfloat16").
				global("torch", "Size").int(3).int(5).op(pickleop.Tuple2, pickleop.Tuple1, pickleop.Reduce).
				int(5).int(1).op(pickleop.Tuple2, pickleop.NewFalse, pickleop.Tuple, pickleop.Reduce).
				// A tensor subclass: _rebuild_from_type_v2(_rebuild_tensor_v2, cls, args, state).
				str("c").global("torch._tensor", "_rebuild_from_type_v2").op(pickleop.Mark).
				global("torch._utils", "_rebuild_tensor_v2").global("mymodule", "MyTensor").
				op(pickleop.Mark).storage("HalfStorage", "1", 4).int(0).int(4).op(pickleop.Tuple1).int(1).op(pickleop.Tuple1, pickleop.NewFalse, pickleop.None, pickleop.Tuple).
				op(pickleop.EmptyDict, pickleop.Tuple, pickleop.Reduce).
				op(pickleop.SetItems, pickleop.Stop),
			want: Info{Parameters: 23, DType: "bfloat16", Tensors: 3},
		},
		{
			name: "model entry preferred, ema ignored",
			p: newPk().op(pickleop.EmptyDict, pickleop.Mark).
				str("ema").op(pickleop.EmptyDict).str("w").v2("FloatStorage", "0", 100).op(pickleop.SetItem).
				str("model").op(pickleop.EmptyDict).str("w").v2("HalfStorage", "1", 10).op(pickleop.SetItem).
				op(pickleop.SetItems, pickleop.Stop),
			want: Info{Parameters: 10, DType: "float16", Tensors: 1},
		},
		{
			name: "optimizer skipped below the top",
			p: newPk().op(pickleop.EmptyDict, pickleop.Mark).
				str("encoder").op(pickleop.EmptyDict).str("w").v2("FloatStorage", "0", 3, 4).op(pickleop.SetItem).
				str("trainer").op(pickleop.EmptyDict).str("optimizer").op(pickleop.EmptyDict).str("m").v2("FloatStorage", "1", 1000).
				op(pickleop.SetItem, pickleop.SetItem).
				op(pickleop.SetItems, pickleop.Stop),
			want: Info{Parameters: 12, DType: "float32", Tensors: 1},
		},
		{
			name: "two names, one storage: counted once",
			p: newPk().op(pickleop.EmptyDict, pickleop.Mark).
				str("a").v2("FloatStorage", "0", 6).str("b").v2("FloatStorage", "0", 6).
				str("c").v2("FloatStorage", "0", 2, 3).
				op(pickleop.SetItems, pickleop.Stop),
			want: Info{Parameters: 12, DType: "float32", Tensors: 2},
		},
		{
			name: "a list holding itself",
			p:    newPk().op(pickleop.EmptyList, pickleop.BinPut, 0, pickleop.BinGet, 0, pickleop.Append, pickleop.Stop),
			want: Info{},
		},
		{
			name: "unknown classes are inert",
			p: newPk().global("os", "system").str("rm -rf /").op(pickleop.Tuple1, pickleop.Reduce).
				global("builtins", "eval").op(pickleop.EmptyTuple, pickleop.NewObj, pickleop.EmptyDict, pickleop.Build, pickleop.Tuple2, pickleop.Stop),
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
	bigStr := cat([]byte{pickleop.Proto, 2, pickleop.BinUnicode}, le32(1<<20), bytes.Repeat([]byte("a"), 1<<20),
		[]byte{pickleop.BinPut, 0, pickleop.EmptyList, pickleop.Mark}, bytes.Repeat([]byte{pickleop.BinGet, 0}, 1<<20), []byte{pickleop.Appends, pickleop.Stop})
	// An OrderedDict given the same 100,000-entry state 200,000 times.
	build := cat([]byte{pickleop.Proto, 2}, []byte("ccollections\nOrderedDict\n"), []byte{pickleop.EmptyTuple, pickleop.Reduce,
		pickleop.BinUnicode}, le32(1), []byte("k"), []byte{pickleop.BinPut, 1, pickleop.Pop, pickleop.EmptyDict, pickleop.BinPut, 2, pickleop.Mark},
		bytes.Repeat([]byte{pickleop.BinGet, 1, pickleop.BinInt1, 1}, 100_000), []byte{pickleop.SetItems, pickleop.Pop},
		bytes.Repeat([]byte{pickleop.BinGet, 2, pickleop.Build}, 200_000), []byte{pickleop.Stop})
	// NEWOBJ_EX copying the same 100,000-item tuple 200,000 times.
	newobjEx := cat([]byte{pickleop.Proto, 4}, []byte("cx\ny\n"), []byte{pickleop.BinPut, 1, pickleop.Mark},
		bytes.Repeat([]byte{pickleop.None}, 100_000), []byte{pickleop.Tuple, pickleop.BinPut, 2, pickleop.EmptyDict, pickleop.BinPut, 3, pickleop.Pop, pickleop.Pop, pickleop.Pop},
		bytes.Repeat([]byte{pickleop.BinGet, 1, pickleop.BinGet, 2, pickleop.BinGet, 3, pickleop.NewObjEx, pickleop.Pop}, 200_000), []byte{pickleop.None, pickleop.Stop})
	// 200 lists, each in the previous.
	deep := cat([]byte{pickleop.Proto, 2}, bytes.Repeat([]byte{pickleop.EmptyList}, 200), bytes.Repeat([]byte{pickleop.Append}, 199), []byte{pickleop.Stop})
	return []struct {
		name  string
		b     []byte
		limit bool
	}{
		{"BINUNICODE of 4 GiB", cat([]byte{pickleop.Proto, 2, pickleop.BinUnicode}, le32(1<<32-1), []byte("abc")), true},
		{"BINBYTES of 4 GiB", cat([]byte{pickleop.Proto, 3, pickleop.BinBytes}, le32(1<<32-1)), true},
		{"BINUNICODE8 of 2^63", cat([]byte{pickleop.Proto, 4, pickleop.BinUnicode8}, le64(1<<63)), false},
		{"BYTEARRAY8 of 1 TiB", cat([]byte{pickleop.Proto, 5, pickleop.ByteArray8}, le64(1<<40)), true},
		{"FRAME of 1 TiB", cat([]byte{pickleop.Proto, 4, pickleop.Frame}, le64(1<<40), []byte{pickleop.None, pickleop.Stop}), true},
		{"LONG4 of 1 MiB", cat([]byte{pickleop.Proto, 2, pickleop.Long4}, le32(1<<20), bytes.Repeat([]byte{1}, 1<<20), []byte{pickleop.Stop}), true},
		{"LONG of 100,000 digits", cat([]byte("L"), bytes.Repeat([]byte("9"), 100_000), []byte("\n.")), true},
		{"opcode 0xff", []byte{pickleop.Proto, 2, 0xff}, false},
		{"LONG1 of no bytes", []byte{pickleop.Proto, 2, pickleop.Long1, 0, pickleop.Stop}, false},
		{"DICT of 3 items", []byte{pickleop.Proto, 2, pickleop.Mark, pickleop.None, pickleop.None, pickleop.None, pickleop.Dict, pickleop.Stop}, false},
		{"SETITEMS of 1 item", []byte{pickleop.Proto, 2, pickleop.EmptyDict, pickleop.Mark, pickleop.None, pickleop.SetItems, pickleop.Stop}, false},
		{"MARK flood", bytes.Repeat([]byte{pickleop.Mark}, 4<<20), true},
		{"EMPTY_DICT flood", bytes.Repeat([]byte{pickleop.EmptyDict}, 4<<20), true},
		{"memoized string referenced a million times", bigStr, true},
		{"BUILD of one big state, repeatedly", build, true},
		{"NEWOBJ_EX of one big tuple, repeatedly", newobjEx, true},
		{"lists 200 deep", deep, true},
		{"bytes in a set", []byte{pickleop.Proto, 3, pickleop.EmptySet, pickleop.Mark, pickleop.ShortBinBytes, 1, 'a', pickleop.AddItems, pickleop.Stop}, false},
		{"frame crossed", cat([]byte{pickleop.Proto, 4, pickleop.Frame}, le64(1), []byte{pickleop.BinInt1, 1, pickleop.None, pickleop.Stop}), false},
		{"nested frame", cat([]byte{pickleop.Proto, 4, pickleop.Frame}, le64(20), []byte{pickleop.Frame}, le64(1), []byte{pickleop.None, pickleop.Stop}), false},
		{"stack underflow", []byte{pickleop.Proto, 2, pickleop.Mark, pickleop.Tuple2, pickleop.Stop}, false},
		{"no STOP", []byte{pickleop.Proto, 2, pickleop.None}, false},
		{"persistent id key of 2 KiB", cat([]byte{pickleop.Proto, 2, pickleop.Mark, pickleop.BinUnicode}, le32(7), []byte("storage"),
			[]byte("ctorch\nFloatStorage\n"), []byte{pickleop.BinUnicode}, le32(2048), bytes.Repeat([]byte("k"), 2048),
			[]byte{pickleop.None, pickleop.None, pickleop.Tuple, pickleop.BinPersID, pickleop.Stop}), false},
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
