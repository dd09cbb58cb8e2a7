package pickle

import (
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		module, name string
		class        Class
		resolved     string
	}{
		// Process execution and the OS layer.
		{"os", "system", Dangerous, "os.system"},
		{"posix", "system", Dangerous, "posix.system"},
		{"nt", "system", Dangerous, "nt.system"},
		{"os.path", "join", Dangerous, "os.path.join"},
		{"_posixsubprocess", "fork_exec", Dangerous, "_posixsubprocess.fork_exec"},
		{"subprocess", "Popen", Dangerous, "subprocess.Popen"},
		{"commands", "getoutput", Dangerous, "subprocess.getoutput"},
		{"popen2", "popen2", Dangerous, "popen2.popen2"},
		{"pty", "spawn", Dangerous, "pty.spawn"},
		{"platform", "popen", Dangerous, "platform.popen"},
		{"uuid", "_get_command_stdout", Dangerous, "uuid._get_command_stdout"},
		{"_osx_support", "_read_output", Dangerous, "_osx_support._read_output"},
		{"_aix_support", "_read_cmd_output", Dangerous, "_aix_support._read_cmd_output"},
		{"_pyrepl.pager", "pipe_pager", Dangerous, "_pyrepl.pager.pipe_pager"},
		{"pydoc", "pipepager", Dangerous, "pydoc.pipepager"},
		{"webbrowser", "open", Dangerous, "webbrowser.open"},
		{"multiprocessing.util", "spawnv_passfds", Dangerous, "multiprocessing.util.spawnv_passfds"},
		{"signal", "signal", Dangerous, "signal.signal"},
		{"sys", "exit", Dangerous, "sys.exit"},
		{"_thread", "start_new_thread", Dangerous, "_thread.start_new_thread"},
		{"thread", "start_new_thread", Dangerous, "_thread.start_new_thread"},
		{"threading", "Thread", Dangerous, "threading.Thread"},
		{"asyncio", "create_subprocess_shell", Dangerous, "asyncio.create_subprocess_shell"},
		{"ctypes", "CDLL", Dangerous, "ctypes.CDLL"},
		{"_ctypes", "dlopen", Dangerous, "_ctypes.dlopen"},
		{"cffi", "FFI", Dangerous, "cffi.FFI"},
		// Running Python.
		{"builtins", "eval", Dangerous, "builtins.eval"},
		{"builtins", "exec", Dangerous, "builtins.exec"},
		{"builtins", "compile", Dangerous, "builtins.compile"},
		{"builtins", "__import__", Dangerous, "builtins.__import__"},
		{"builtins", "getattr", Dangerous, "builtins.getattr"},
		{"builtins", "open", Dangerous, "builtins.open"},
		{"__builtin__", "eval", Dangerous, "builtins.eval"},
		{"__builtin__", "execfile", Dangerous, "builtins.execfile"},
		{"__builtin__", "raw_input", Dangerous, "builtins.input"},
		{"__builtin__", "reduce", Dangerous, "functools.reduce"},
		{"exceptions", "eval", Dangerous, "builtins.eval"},
		{"runpy", "_run_code", Dangerous, "runpy._run_code"},
		{"code", "InteractiveInterpreter", Dangerous, "code.InteractiveInterpreter"},
		{"codeop", "compile_command", Dangerous, "codeop.compile_command"},
		{"types", "CodeType", Dangerous, "types.CodeType"},
		{"types", "FunctionType", Dangerous, "types.FunctionType"},
		{"marshal", "loads", Dangerous, "marshal.loads"},
		{"importlib", "import_module", Dangerous, "importlib.import_module"},
		{"importlib.util", "spec_from_file_location", Dangerous, "importlib.util.spec_from_file_location"},
		{"imp", "load_source", Dangerous, "imp.load_source"},
		{"pkgutil", "resolve_name", Dangerous, "pkgutil.resolve_name"},
		{"zipimport", "zipimporter", Dangerous, "zipimport.zipimporter"},
		{"timeit", "timeit", Dangerous, "timeit.timeit"},
		{"cProfile", "run", Dangerous, "cProfile.run"},
		{"profile", "run", Dangerous, "profile.run"},
		{"pdb", "run", Dangerous, "pdb.run"},
		{"bdb", "Bdb.run", Dangerous, "bdb.Bdb.run"},
		{"trace", "Trace", Dangerous, "trace.Trace"},
		{"doctest", "debug_script", Dangerous, "doctest.debug_script"},
		{"idlelib.pyshell", "ModifiedInterpreter", Dangerous, "idlelib.pyshell.ModifiedInterpreter"},
		{"lib2to3.main", "main", Dangerous, "lib2to3.main.main"},
		{"test.support.script_helper", "assert_python_ok", Dangerous, "test.support.script_helper.assert_python_ok"},
		{"unittest.mock", "patch", Dangerous, "unittest.mock.patch"},
		{"logging.config", "listen", Dangerous, "logging.config.listen"},
		{"numpy.testing._private.utils", "runstring", Dangerous, "numpy.testing._private.utils.runstring"},
		{"numpy.f2py", "compile", Dangerous, "numpy.f2py.compile"},
		{"numpy.distutils.exec_command", "exec_command", Dangerous, "numpy.distutils.exec_command.exec_command"},
		{"_operator", "attrgetter", Dangerous, "_operator.attrgetter"},
		{"operator", "methodcaller", Dangerous, "operator.methodcaller"},
		{"functools", "reduce", Dangerous, "functools.reduce"},
		{"inspect", "getsource", Dangerous, "inspect.getsource"},
		{"gc", "get_objects", Dangerous, "gc.get_objects"},
		{"jinja2", "Template", Dangerous, "jinja2.Template"},
		{"mako.template", "Template", Dangerous, "mako.template.Template"},
		// Nested loaders.
		{"pickle", "loads", Dangerous, "pickle.loads"},
		{"_pickle", "loads", Dangerous, "_pickle.loads"},
		{"cPickle", "loads", Dangerous, "pickle.loads"},
		{"pickletools", "dis", Dangerous, "pickletools.dis"},
		{"shelve", "open", Dangerous, "shelve.open"},
		{"copyreg", "add_extension", Dangerous, "copyreg.add_extension"},
		{"copy_reg", "_extension_registry", Dangerous, "copyreg._extension_registry"},
		{"dill", "loads", Dangerous, "dill.loads"},
		{"dill._dill", "_create_code", Dangerous, "dill._dill._create_code"},
		{"cloudpickle", "loads", Dangerous, "cloudpickle.loads"},
		{"jsonpickle", "decode", Dangerous, "jsonpickle.decode"},
		{"joblib", "load", Dangerous, "joblib.load"},
		{"joblib.numpy_pickle", "load", Dangerous, "joblib.numpy_pickle.load"},
		{"numpy", "load", Dangerous, "numpy.load"},
		{"numpy.lib.npyio", "load", Dangerous, "numpy.lib.npyio.load"},
		{"pandas", "read_pickle", Dangerous, "pandas.read_pickle"},
		{"pandas.io.pickle", "read_pickle", Dangerous, "pandas.io.pickle.read_pickle"},
		{"pandas.core.computation.eval", "eval", Dangerous, "pandas.core.computation.eval.eval"},
		{"yaml", "unsafe_load", Dangerous, "yaml.unsafe_load"},
		{"torch", "load", Dangerous, "torch.load"},
		{"torch", "hub.load", Dangerous, "torch.hub.load"},
		{"torch.serialization", "_legacy_load", Dangerous, "torch.serialization._legacy_load"},
		{"torch.hub", "load", Dangerous, "torch.hub.load"},
		{"torch.jit", "load", Dangerous, "torch.jit.load"},
		{"torch.package.package_importer", "PackageImporter", Dangerous, "torch.package.package_importer.PackageImporter"},
		{"torch._inductor.codecache", "compile_file", Dangerous, "torch._inductor.codecache.compile_file"},
		{"torch._dynamo.guards", "GuardBuilder", Dangerous, "torch._dynamo.guards.GuardBuilder"},
		{"torch.fx.experimental.symbolic_shapes", "ShapeEnv", Dangerous, "torch.fx.experimental.symbolic_shapes.ShapeEnv"},
		{"torch.utils.collect_env", "run", Dangerous, "torch.utils.collect_env.run"},
		{"torch.utils.bottleneck.__main__", "run_cprofile", Dangerous, "torch.utils.bottleneck.__main__.run_cprofile"},
		{"torch.utils.cpp_extension", "load_inline", Dangerous, "torch.utils.cpp_extension.load_inline"},
		{"torch.utils._config_module", "ConfigModule", Dangerous, "torch.utils._config_module.ConfigModule"},
		{"torch.utils.data.datapipes.utils.decoder", "basichandlers", Dangerous, "torch.utils.data.datapipes.utils.decoder.basichandlers"},
		{"torch.distributed.rpc", "rpc_sync", Dangerous, "torch.distributed.rpc.rpc_sync"},
		{"torch._C", "import_ir_module", Dangerous, "torch._C.import_ir_module"},
		{"keras.models", "load_model", Dangerous, "keras.models.load_model"},
		{"keras", "models.load_model", Dangerous, "keras.models.load_model"},
		{"keras.saving.saving_api", "load_model", Dangerous, "keras.saving.saving_api.load_model"},
		{"tensorflow.keras.models", "load_model", Dangerous, "tensorflow.keras.models.load_model"},
		// Files, network, packages.
		{"shutil", "rmtree", Dangerous, "shutil.rmtree"},
		{"tempfile", "mktemp", Dangerous, "tempfile.mktemp"},
		{"tempfile", "_os.system", Dangerous, "os.system"},
		{"io", "open", Dangerous, "io.open"},
		{"_io", "FileIO", Dangerous, "_io.FileIO"},
		{"codecs", "open", Dangerous, "codecs.open"},
		{"fileinput", "input", Dangerous, "fileinput.input"},
		{"linecache", "getline", Dangerous, "linecache.getline"},
		{"glob", "glob", Dangerous, "glob.glob"},
		{"zipfile", "ZipFile", Dangerous, "zipfile.ZipFile"},
		{"tarfile", "open", Dangerous, "tarfile.open"},
		{"sqlite3", "connect", Dangerous, "sqlite3.connect"},
		{"dbm", "open", Dangerous, "dbm.open"},
		{"anydbm", "open", Dangerous, "dbm.open"},
		{"mmap", "mmap", Dangerous, "mmap.mmap"},
		{"socket", "create_connection", Dangerous, "socket.create_connection"},
		{"_socket", "socket", Dangerous, "_socket.socket"},
		{"ssl", "wrap_socket", Dangerous, "ssl.wrap_socket"},
		{"socketserver", "TCPServer", Dangerous, "socketserver.TCPServer"},
		{"http.client", "HTTPConnection", Dangerous, "http.client.HTTPConnection"},
		{"httplib", "HTTPConnection", Dangerous, "http.client.HTTPConnection"},
		{"urllib.request", "urlopen", Dangerous, "urllib.request.urlopen"},
		{"urllib2", "urlopen", Dangerous, "urllib.request.urlopen"},
		{"urllib3", "PoolManager", Dangerous, "urllib3.PoolManager"},
		{"requests", "get", Dangerous, "requests.get"},
		{"httpx", "get", Dangerous, "httpx.get"},
		{"aiohttp", "ClientSession", Dangerous, "aiohttp.ClientSession"},
		{"ftplib", "FTP", Dangerous, "ftplib.FTP"},
		{"smtplib", "SMTP", Dangerous, "smtplib.SMTP"},
		{"telnetlib", "Telnet", Dangerous, "telnetlib.Telnet"},
		{"poplib", "POP3", Dangerous, "poplib.POP3"},
		{"imaplib", "IMAP4", Dangerous, "imaplib.IMAP4"},
		{"nntplib", "NNTP", Dangerous, "nntplib.NNTP"},
		{"xmlrpc.client", "ServerProxy", Dangerous, "xmlrpc.client.ServerProxy"},
		{"xmlrpclib", "ServerProxy", Dangerous, "xmlrpc.client.ServerProxy"},
		{"paramiko", "SSHClient", Dangerous, "paramiko.SSHClient"},
		{"pip", "main", Dangerous, "pip.main"},
		{"pip._internal.cli.main", "main", Dangerous, "pip._internal.cli.main.main"},
		{"ensurepip", "bootstrap", Dangerous, "ensurepip.bootstrap"},
		{"venv", "create", Dangerous, "venv.create"},
		{"setuptools", "setup", Dangerous, "setuptools.setup"},
		{"distutils.core", "setup", Dangerous, "distutils.core.setup"},
		{"pkg_resources", "load_entry_point", Dangerous, "pkg_resources.load_entry_point"},
		{"site", "addsitedir", Dangerous, "site.addsitedir"},
		// Attribute chains and malformed names.
		{"numpy", "os.system", Dangerous, "os.system"},
		{"collections", "_sys.modules", Dangerous, "sys.modules"},
		{"torch.serialization", "pickle.loads", Dangerous, "pickle.loads"},
		{"foo", "io.open", Dangerous, "io.open"},
		{"foo", "Bar.__reduce__", Dangerous, "foo.Bar.__reduce__"},
		{"foo", "__class__.x", Dangerous, "foo.__class__.x"},
		{"foo", "__builtins__.eval", Dangerous, "foo.__builtins__.eval"},
		{"sklearn.pipeline", "Pipeline.__init__", Dangerous, "sklearn.pipeline.Pipeline.__init__"},
		{"", "system", Dangerous, ".system"},
		{"os system", "x", Dangerous, "os system.x"},
		{"a", "b..c", Dangerous, "a.b..c"},
		{"a", "1b", Dangerous, "a.1b"},
		{"a", "b\x00", Dangerous, "a.b\x00"},
		// Safe callables.
		{"copyreg", "_reconstructor", Safe, "copyreg._reconstructor"},
		{"copy_reg", "_reconstructor", Safe, "copyreg._reconstructor"},
		{"copyreg", "__newobj__", Safe, "copyreg.__newobj__"},
		{"__builtin__", "set", Safe, "builtins.set"},
		{"__builtin__", "xrange", Safe, "builtins.range"},
		{"__builtin__", "unicode", Safe, "builtins.str"},
		{"builtins", "bytearray", Safe, "builtins.bytearray"},
		{"_codecs", "encode", Safe, "_codecs.encode"},
		{"collections", "OrderedDict", Safe, "collections.OrderedDict"},
		{"UserDict", "UserDict", Safe, "collections.UserDict"},
		{"datetime", "datetime", Safe, "datetime.datetime"},
		{"functools", "partial", Safe, "functools.partial"},
		{"numpy", "dtype", Safe, "numpy.dtype"},
		{"numpy.core.multiarray", "_reconstruct", Safe, "numpy.core.multiarray._reconstruct"},
		{"numpy._core.multiarray", "scalar", Safe, "numpy._core.multiarray.scalar"},
		{"torch._utils", "_rebuild_tensor_v2", Safe, "torch._utils._rebuild_tensor_v2"},
		{"torch", "FloatStorage", Safe, "torch.FloatStorage"},
		{"torch.jit._pickle", "build_intlist", Safe, "torch.jit._pickle.build_intlist"},
		{"joblib.numpy_pickle", "NumpyArrayWrapper", Safe, "joblib.numpy_pickle.NumpyArrayWrapper"},
		{"pandas._libs.internals", "_unpickle_block", Safe, "pandas._libs.internals._unpickle_block"},
		// Safe classes of ML libraries.
		{"sklearn.linear_model._logistic", "LogisticRegression", SafeClass, "sklearn.linear_model._logistic.LogisticRegression"},
		{"sklearn.tree._tree", "Tree", SafeClass, "sklearn.tree._tree.Tree"},
		{"sklearn.ensemble._forest", "RandomForestClassifier", SafeClass, "sklearn.ensemble._forest.RandomForestClassifier"},
		{"torch.nn.modules.linear", "Linear", SafeClass, "torch.nn.modules.linear.Linear"},
		{"torch.optim.adam", "Adam", SafeClass, "torch.optim.adam.Adam"},
		{"numpy", "ndarray", Safe, "numpy.ndarray"},
		{"numpy.random._pcg64", "PCG64", Safe, "numpy.random._pcg64.PCG64"},
		{"numpy.ma.core", "MaskedArray", SafeClass, "numpy.ma.core.MaskedArray"},
		{"xgboost.core", "Booster", SafeClass, "xgboost.core.Booster"},
		{"transformers.models.bert.modeling_bert", "BertModel", SafeClass, "transformers.models.bert.modeling_bert.BertModel"},
		{"__torch__.tiny_model", "Tiny", SafeClass, "__torch__.tiny_model.Tiny"},
		{"sklearn.preprocessing._data", "Outer._Inner", SafeClass, "sklearn.preprocessing._data.Outer._Inner"},
		// Unknown.
		{"foo", "bar", Unknown, "foo.bar"},
		{"mymodel", "Net", Unknown, "mymodel.Net"},
		{"__main__", "Net", Unknown, "__main__.Net"},
		{"builtins", "print", Unknown, "builtins.print"},
		{"torch", "_utils", Unknown, "torch._utils"},
		{"sklearn.utils", "some_function", Unknown, "sklearn.utils.some_function"},
		// A dotted name from a parent module reaches the same family.
		{"numpy", "testing.Tester", Dangerous, "numpy.testing.Tester"},
		{"numpy", "lib.npyio.load", Dangerous, "numpy.lib.npyio.load"},
		{"torch", "_inductor.codecache.compile_file", Dangerous, "torch._inductor.codecache.compile_file"},
		{"torch", "FloatTensor", Safe, "torch.FloatTensor"},
	}
	for _, tc := range tests {
		v := Classify(tc.module, tc.name)
		if v.Class != tc.class || v.Resolved != tc.resolved {
			t.Errorf("Classify(%q, %q) = %v %q (%s), want %v %q", tc.module, tc.name, v.Class, v.Resolved, v.Why, tc.class, tc.resolved)
		}
		if v.Class == Dangerous && v.Why == "" {
			t.Errorf("Classify(%q, %q): dangerous without a reason", tc.module, tc.name)
		}
	}
}

func TestClassifyWhy(t *testing.T) {
	t.Parallel()
	tests := []struct{ module, name, why string }{
		{"os", "system", "operating-system access"},
		{"tempfile", "_os.system", "operating-system access"},
		{"foo", "io.BytesIO", "attribute chain into io"},
		{"foo", "__class__.x", "attribute chain through __class__"},
		{"foo", "Bar.__reduce__", "dunder attribute __reduce__"},
		{"", "x", "malformed global name"},
		{"a", strings.Repeat("b", maxNameLen), "implausibly long global name"},
	}
	for _, tc := range tests {
		if got := Classify(tc.module, tc.name).Why; got != tc.why {
			t.Errorf("Classify(%q, %q).Why = %q, want %q", tc.module, tc.name, got, tc.why)
		}
	}
}

// TestClassifyOrder: classes rank by concern, so that max() picks the worst.
func TestClassifyOrder(t *testing.T) {
	t.Parallel()
	if diff := gocmp.Diff([]Class{0, 1, 2, 3}, []Class{Safe, SafeClass, Unknown, Dangerous}); diff != "" {
		t.Error(diff)
	}
}
