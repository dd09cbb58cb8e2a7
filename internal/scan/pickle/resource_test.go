package pickle

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/pickle/pickleop"
)

// measure runs f and reports the bytes it allocated and how long it took.
// Tests that use it do not call t.Parallel, so that nothing else allocates
// meanwhile.
func measure(f func()) (alloc uint64, took time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took = time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, took
}

// billionLaughs builds levels lists of width references to the previous list.
func billionLaughs(levels, width int) []byte {
	b := p().proto(2).emptyList().binPut(0).mark()
	for range width {
		b.binInt1(1)
	}
	b.appends()
	for lvl := 1; lvl < levels; lvl++ {
		b.emptyList().binPut(uint8(lvl)).mark()
		for range width {
			b.binGet(uint8(lvl - 1))
		}
		b.appends()
	}
	return b.stop().bytes()
}

func TestBillionLaughs(t *testing.T) {
	b := billionLaughs(10, 10)
	var res *Result
	alloc, took := measure(func() { res = scanBytes(b) })
	if diff := gocmp.Diff([]string{finding.PickleResourceBomb}, rules(res.Findings)); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if res.Pickles != 1 {
		t.Errorf("Pickles = %d, want 1", res.Pickles)
	}
	if alloc > 4<<20 || took > 5*time.Second {
		t.Errorf("a %d-byte bomb cost %d bytes and %v", len(b), alloc, took)
	}
	// Python would build 10**10 references; twenty levels are no worse for us.
	res = scanBytes(billionLaughs(20, 10))
	if diff := gocmp.Diff([]string{finding.PickleResourceBomb}, rules(res.Findings)); diff != "" {
		t.Errorf("20 levels: rules (-want +got):\n%s", diff)
	}
	// Real data of the same shape but without sharing is not a bomb.
	res = scanBytes(billionLaughs(3, 10))
	if len(res.Findings) != 0 {
		t.Errorf("3 levels: %v", summarize(res.Findings))
	}
}

func TestDeepMarks(t *testing.T) {
	t.Parallel()
	b := p().raw(bytes.Repeat([]byte{pickleop.Mark}, maxMarks+10)...).none().stop().bytes()
	res := scanBytes(b)
	if diff := cmpGot([]got{bombed(maxMarks)}, res); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if !errors.Is(res.Err, errBomb) {
		t.Errorf("Err = %v, want errBomb", res.Err)
	}
	// Deep but balanced nesting is ordinary.
	const depth = 20000
	b = p().proto(2).raw(bytes.Repeat([]byte{pickleop.Mark}, depth)...).raw(bytes.Repeat([]byte{pickleop.Tuple}, depth)...).stop().bytes()
	if res := scanBytes(b); len(res.Findings) != 0 {
		t.Errorf("balanced nesting: %v", summarize(res.Findings))
	}
}

// nonSeeker hides a reader's Seek method.
type nonSeeker struct{ io.Reader }

func TestHugeDeclaredLength(t *testing.T) {
	b := p().proto(4).binBytes8Len(1 << 60).rawString("abc").bytes()
	want := []got{incomplete(14, "offset 14 (BINBYTES8): truncated: the stream ends inside an opcode")}
	for name, r := range map[string]func() io.Reader{
		"seekable":     func() io.Reader { return bytes.NewReader(b) },
		"not seekable": func() io.Reader { return nonSeeker{bytes.NewReader(b)} },
	} {
		var res *Result
		alloc, _ := measure(func() { res = Scan(context.Background(), r(), Options{}) })
		if diff := cmpGot(want, res); diff != "" {
			t.Errorf("%s: findings (-want +got):\n%s", name, diff)
		}
		if alloc > 1<<20 {
			t.Errorf("%s: a %d-byte stream cost %d bytes", name, len(b), alloc)
		}
	}
	// A long payload that is there is skipped, not kept: 8 MB cost little.
	long := p().proto(4).binBytes8(strings.Repeat("x", 8<<20)).stop().bytes()
	var res *Result
	alloc, _ := measure(func() { res = scanBytes(long) })
	if len(res.Findings) != 0 || alloc > 1<<20 {
		t.Errorf("8 MB payload: findings %v, %d bytes allocated", summarize(res.Findings), alloc)
	}
	// Declared lengths of every sized opcode.
	for _, s := range [][]byte{
		p().proto(4).opU64(pickleop.BinUnicode8, 1<<62).bytes(),
		p().proto(5).opU64(pickleop.ByteArray8, 1<<62).bytes(),
		p().proto(3).opU32(pickleop.BinBytes, 0xffffffff).bytes(),
		p().opU32(pickleop.BinUnicode, 0xffffffff).bytes(),
		p().proto(2).opU32(pickleop.Long4, 0x7fffffff).bytes(),
	} {
		var res *Result
		alloc, _ := measure(func() { res = scanBytes(s) })
		if !hasRule(res.Findings, finding.ScanIncomplete) || alloc > 1<<20 {
			t.Errorf("%q: findings %v, %d bytes allocated", s, summarize(res.Findings), alloc)
		}
	}
}

// TestDeepStructuresDoNotRecurse runs with a small stack: evidence, memo
// handling and classification must not recurse once per nesting level.
func TestDeepStructuresDoNotRecurse(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(16 << 20))
	const n = 300_000
	t.Run("call chain", func(t *testing.T) {
		b := p().proto(4).stackGlobalOf("foo", "f")
		for range n {
			b.emptyTuple().reduce()
		}
		var r int64
		b.str("x").here(&r).stackGlobal().stop()
		res := scanBytes(b.bytes())
		var ev string
		for _, f := range res.Findings {
			if f.Rule == finding.PickleDynamicGlobal {
				ev = f.Evidence
			}
		}
		if !strings.HasPrefix(ev, "STACK_GLOBAL(…") || len(ev) > maxEvidence {
			t.Errorf("evidence %q", ev)
		}
	})
	t.Run("nested tuples", func(t *testing.T) {
		b := p().proto(4).stackGlobalOf("os", "system")
		for range n {
			b.tuple1()
		}
		b.memoize().stop()
		res := scanBytes(b.bytes())
		if diff := gocmp.Diff([]string{finding.PickleDangerousGlobal}, rules(res.Findings)); diff != "" {
			t.Errorf("rules (-want +got):\n%s", diff)
		}
	})
	t.Run("long attribute chain", func(t *testing.T) {
		name := strings.Repeat("os.", 20000) + "system"
		var v Verdict
		alloc, took := measure(func() { v = Classify("a", name) })
		if v.Class != Dangerous || alloc > 1<<20 || took > time.Second {
			t.Errorf("Classify: %v, %d bytes, %v", v.Class, alloc, took)
		}
		res := scanBytes(p().global("a", name).stop().bytes())
		if len(res.Findings) != 1 || res.Findings[0].Rule != finding.PickleDangerousGlobal ||
			len(res.Findings[0].Evidence) > maxEvidence+len("…") {
			t.Errorf("findings %v", res.Findings)
		}
	})
}

// TestRepeatedFindingsAreBounded: a trick repeated a thousand times is
// reported a bounded number of times.
func TestRepeatedFindingsAreBounded(t *testing.T) {
	t.Parallel()
	b := p().proto(4).stackGlobalOf("collections", "OrderedDict")
	for range 1000 {
		b.emptyDict().build()
	}
	for range 1000 {
		b.none().none().stackGlobal().pop()
	}
	res := scanBytes(b.stop().bytes())
	count := map[string]int{}
	for _, f := range res.Findings {
		count[f.Rule]++
	}
	want := map[string]int{finding.PickleGlobalMutation: maxOpFindings, finding.PickleDynamicGlobal: maxOpFindings}
	if diff := gocmp.Diff(want, count); diff != "" {
		t.Errorf("findings per rule (-want +got):\n%s", diff)
	}
	if len(res.Globals) > maxOpFindings+1 {
		t.Errorf("%d globals listed", len(res.Globals))
	}
}

func TestCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := p().raw(bytes.Repeat([]byte{pickleop.None, pickleop.Pop}, 100_000)...).none().stop().bytes()
	res := Scan(ctx, bytes.NewReader(b), Options{})
	if !errors.Is(res.Err, context.Canceled) || !hasRule(res.Findings, finding.ScanIncomplete) {
		t.Errorf("Err %v, findings %v", res.Err, summarize(res.Findings))
	}
}

// TestLongDataIsNotABomb: long containers built one item at a time, as
// protocol 0 writes them, are ordinary data however long.
func TestLongDataIsNotABomb(t *testing.T) {
	t.Parallel()
	list := p().mark().list().put(0)
	for i := range 200_000 {
		list.int_(int64(i)).append_()
	}
	tuples := p().mark().list().put(0)
	for i := range 50_000 {
		tuples.mark().int_(int64(i)).int_(int64(i)).tuple().append_()
	}
	dict := p().mark().dict().put(0)
	for i := range 50_000 {
		dict.int_(int64(i)).mark().list().setItem()
	}
	nested := p().proto(2)
	for range 50_000 {
		nested.emptyList()
	}
	for range 50_000 - 1 {
		nested.append_()
	}
	for name, b := range map[string]*pb{"list": list, "tuples": tuples, "dict": dict, "nested lists": nested} {
		if res := scanBytes(b.stop().bytes()); len(res.Findings) != 0 {
			t.Errorf("%s: %v", name, summarize(res.Findings))
		}
	}
}

func TestSize16(t *testing.T) {
	t.Parallel()
	for _, n := range []uint64{0, 1, 2047, 2048, 2049, 4095, 4096, 12345, 1 << 20, 10_000_000, 1<<32 - 1, 1 << 40} {
		got := makeSize16(n).get()
		diff := int64(got) - int64(n)
		if diff < 0 {
			diff = -diff
		}
		if uint64(diff)*2048 > n {
			t.Errorf("makeSize16(%d).get() = %d", n, got)
		}
	}
	if got := makeSize16(1 << 62).get(); got < 1<<41 {
		t.Errorf("saturation: %d", got)
	}
}
