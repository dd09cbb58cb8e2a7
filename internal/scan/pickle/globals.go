package pickle

import (
	"strings"
)

// Class is what the classifier says of a global.
type Class uint8

// Classes of globals, in increasing order of concern.
const (
	// Safe globals only rebuild data (tensors, arrays, containers, configs).
	Safe Class = iota
	// SafeClass globals are classes of trusted ML libraries: referencing,
	// instantiating and giving them state is ordinary; calling them is too.
	SafeClass
	// Unknown globals are on neither list.
	Unknown
	// Dangerous globals run code, touch files or the network, or load nested payloads.
	Dangerous
)

// family is a group of dangerous globals: a module (matched with all its
// submodules) and either every name in it (names == nil) or the listed names.
type family struct {
	module string
	names  []string
	why    string
}

// dangerous lists the gadget families named by the peers' advisories and
// rules (picklescan, modelscan, fickling, modelaudit) and the CVEs behind
// them. A reference to any of these is critical wherever it appears.
var dangerous = []family{
	// Process execution and the OS layer.
	{module: "os", why: "operating-system access"},
	{module: "posix", why: "operating-system access"},
	{module: "nt", why: "operating-system access"},
	{module: "_posixsubprocess", why: "process execution"},
	{module: "subprocess", why: "process execution"},
	{module: "commands", why: "process execution"},
	{module: "popen2", why: "process execution"},
	{module: "pty", why: "process execution"},
	{module: "platform", names: []string{"popen", "_syscmd_ver", "_syscmd_file", "_syscmd_uname"}, why: "process execution"},
	{module: "uuid", names: []string{"_get_command_stdout", "_popen", "_find_mac", "_find_mac_near_keyword", "_find_mac_under_heading"}, why: "process execution"},
	{module: "_osx_support", why: "process execution"},
	{module: "_aix_support", why: "process execution"},
	{module: "_pyrepl", why: "process execution"},
	{module: "pydoc", why: "process execution (pager)"},
	{module: "webbrowser", why: "process execution (browser launch)"},
	{module: "multiprocessing", why: "process execution"},
	{module: "signal", why: "process control"},
	{module: "sys", why: "interpreter state (sys.modules, sys.exit)"},
	{module: "_thread", why: "threads running arbitrary targets"},
	{module: "threading", why: "threads running arbitrary targets"},
	{module: "asyncio", why: "subprocesses and network via the event loop"},
	{module: "ctypes", why: "native code"},
	{module: "_ctypes", why: "native code"},
	{module: "cffi", why: "native code"},

	// Running Python source or bytecode.
	{module: "builtins", names: []string{"eval", "exec", "execfile", "compile", "__import__", "getattr", "setattr", "delattr",
		"globals", "locals", "vars", "open", "input", "breakpoint", "help", "apply", "file", "reload", "memoryview", "__loader__", "__spec__"}, why: "code execution builtins"},
	{module: "runpy", why: "code execution"},
	{module: "code", why: "code execution (interactive interpreter)"},
	{module: "codeop", why: "code compilation"},
	{module: "types", names: []string{"CodeType", "FunctionType", "LambdaType", "MethodType", "ModuleType"}, why: "building functions from bytecode"},
	{module: "marshal", why: "bytecode deserialization"},
	{module: "importlib", why: "importing arbitrary modules"},
	{module: "imp", why: "importing arbitrary modules"},
	{module: "pkgutil", why: "importing arbitrary modules (resolve_name)"},
	{module: "zipimport", why: "importing code from archives"},
	{module: "timeit", why: "code execution"},
	{module: "cProfile", why: "code execution"},
	{module: "profile", why: "code execution"},
	{module: "pdb", why: "code execution (debugger)"},
	{module: "bdb", why: "code execution (debugger)"},
	{module: "trace", why: "code execution"},
	{module: "doctest", why: "code execution"},
	{module: "idlelib", why: "code execution"},
	{module: "lib2to3", why: "code execution"},
	{module: "test", why: "code execution (test helpers)"},
	{module: "unittest.mock", why: "arbitrary attribute access and calls"},
	{module: "logging.config", why: "code execution (config eval, listen)"},
	{module: "numpy.testing", why: "code execution (runstring)"},
	{module: "numpy.f2py", why: "code compilation"},
	{module: "numpy.distutils", why: "code compilation"},
	{module: "_operator", names: []string{"attrgetter", "methodcaller", "itemgetter"}, why: "attribute traversal gadget"},
	{module: "operator", names: []string{"attrgetter", "methodcaller", "itemgetter"}, why: "attribute traversal gadget"},
	{module: "functools", names: []string{"reduce"}, why: "call chaining gadget"},
	{module: "inspect", why: "frame and code introspection"},
	{module: "gc", why: "object graph traversal gadget"},
	{module: "jinja2", why: "template code execution"},
	{module: "mako", why: "template code execution"},

	// Nested loaders: a pickle that loads another payload.
	{module: "pickle", why: "nested unpickling"},
	{module: "_pickle", why: "nested unpickling"},
	{module: "pickletools", why: "nested unpickling"},
	{module: "shelve", why: "nested unpickling"},
	{module: "copyreg", names: []string{"_inverted_registry", "_extension_registry", "add_extension"}, why: "extension registry tampering"},
	{module: "dill", why: "nested unpickling of code"},
	{module: "cloudpickle", why: "nested unpickling of code"},
	{module: "jsonpickle", why: "nested unpickling"},
	{module: "joblib", names: []string{"load"}, why: "nested unpickling"},
	{module: "joblib.numpy_pickle", names: []string{"load"}, why: "nested unpickling"},
	{module: "numpy", names: []string{"load"}, why: "nested loading with allow_pickle"},
	{module: "numpy.lib.npyio", names: []string{"load"}, why: "nested loading with allow_pickle"},
	{module: "pandas", names: []string{"read_pickle", "eval"}, why: "nested unpickling / eval"},
	{module: "pandas.io.pickle", why: "nested unpickling"},
	{module: "pandas.core.computation", why: "expression evaluation"},
	{module: "yaml", names: []string{"load", "load_all", "unsafe_load", "unsafe_load_all", "full_load", "full_load_all", "UnsafeLoader", "FullLoader", "Loader"}, why: "unsafe YAML loading"},
	{module: "torch", names: []string{"load", "hub"}, why: "nested torch.load"},
	{module: "torch.serialization", names: []string{"load", "_load", "_legacy_load"}, why: "nested torch.load"},
	{module: "torch.hub", why: "downloading and running code"},
	{module: "torch.utils.model_zoo", why: "downloading and loading models"},
	{module: "_compat_pickle", why: "rewriting how the unpickler resolves names"},
	{module: "joblib.numpy_pickle_compat", names: []string{"NDArrayWrapper", "ZNDArrayWrapper"}, why: "loading another file with allow_pickle"},
	{module: "sklearn.externals.joblib.numpy_pickle_compat", names: []string{"NDArrayWrapper", "ZNDArrayWrapper"}, why: "loading another file with allow_pickle"},
	{module: "numpy.lib.npyio", names: []string{"NpzFile", "DataSource", "BagObj", "loadtxt", "genfromtxt", "fromregex"}, why: "reading other files"},
	{module: "numpy.lib._npyio_impl", why: "reading other files"},
	{module: "numpy.lib._datasource", why: "reading other files"},
	{module: "numpy.lib.format", names: []string{"read_array", "open_memmap"}, why: "reading arrays with allow_pickle"},
	{module: "numpy", names: []string{"loadtxt", "genfromtxt", "fromfile", "memmap", "DataSource"}, why: "reading other files"},
	{module: "torch.jit", names: []string{"load", "_load_for_lite_interpreter", "_pickle"}, why: "nested loading"},
	{module: "torch.package", why: "nested loading of packaged code"},
	{module: "torch._inductor", why: "code compilation (codecache)"},
	{module: "torch._dynamo", why: "code execution (guards)"},
	{module: "torch.fx.experimental.symbolic_shapes", why: "code execution (eval of guards)"},
	{module: "torch.utils.collect_env", why: "process execution"},
	{module: "torch.utils.bottleneck", why: "code execution"},
	{module: "torch.utils.cpp_extension", why: "code compilation"},
	{module: "torch.utils._config_module", why: "code execution"},
	{module: "torch.utils.data.datapipes.utils.decoder", why: "nested loading"},
	{module: "torch.distributed.rpc", why: "remote calls"},
	{module: "torch._C", names: []string{"_jit_pass_lower_all_tuples", "import_ir_module", "import_ir_module_from_buffer"}, why: "nested loading"},
	{module: "keras", names: []string{"models.load_model"}, why: "nested model loading"},
	{module: "keras.models", names: []string{"load_model"}, why: "nested model loading"},
	{module: "keras.saving", why: "nested model loading"},
	{module: "tensorflow", names: []string{"keras.models.load_model"}, why: "nested model loading"},
	{module: "tensorflow.keras.models", names: []string{"load_model"}, why: "nested model loading"},

	// Files and the file system.
	{module: "shutil", why: "file system access"},
	{module: "tempfile", why: "file system access (and os via tempfile._os)"},
	{module: "io", names: []string{"open", "open_code", "FileIO", "BufferedReader", "BufferedWriter", "BufferedRandom", "TextIOWrapper"}, why: "file access"},
	{module: "_io", names: []string{"open", "open_code", "FileIO", "BufferedReader", "BufferedWriter", "BufferedRandom", "TextIOWrapper"}, why: "file access"},
	{module: "codecs", names: []string{"open", "EncodedFile"}, why: "file access"},
	{module: "fileinput", why: "file access"},
	{module: "linecache", why: "file access"},
	{module: "glob", why: "file system listing"},
	{module: "zipfile", why: "archive extraction"},
	{module: "tarfile", why: "archive extraction"},
	{module: "sqlite3", why: "database files and native extensions"},
	{module: "dbm", why: "database files"},
	{module: "mmap", why: "memory-mapped files"},

	// Network.
	{module: "socket", why: "network access"},
	{module: "_socket", why: "network access"},
	{module: "ssl", why: "network access"},
	{module: "socketserver", why: "network access"},
	{module: "http", why: "network access"},
	{module: "httplib", why: "network access"},
	{module: "urllib", why: "network access"},
	{module: "urllib2", why: "network access"},
	{module: "urllib3", why: "network access"},
	{module: "requests", why: "network access"},
	{module: "httpx", why: "network access"},
	{module: "aiohttp", why: "network access"},
	{module: "ftplib", why: "network access"},
	{module: "smtplib", why: "network access"},
	{module: "telnetlib", why: "network access"},
	{module: "poplib", why: "network access"},
	{module: "imaplib", why: "network access"},
	{module: "nntplib", why: "network access"},
	{module: "xmlrpc", why: "network access"},
	{module: "xmlrpclib", why: "network access"},
	{module: "paramiko", why: "network access"},

	// Installing packages.
	{module: "pip", why: "package installation"},
	{module: "ensurepip", why: "package installation"},
	{module: "venv", why: "environment creation (runs pip)"},
	{module: "setuptools", why: "package installation"},
	{module: "distutils", why: "package installation and compilation"},
	{module: "pkg_resources", why: "entry-point loading"},
	{module: "site", why: "interpreter start-up hooks"},
}

// moduleAliases maps old or private spellings to the module they import,
// as Python's _compat_pickle does for protocol 0-2 pickles, plus private
// aliases that modules keep of os and sys.
var moduleAliases = map[string]string{
	"__builtin__": "builtins", "exceptions": "builtins", "copy_reg": "copyreg", "cPickle": "pickle",
	"httplib": "http.client", "urllib2": "urllib.request", "xmlrpclib": "xmlrpc.client", "SocketServer": "socketserver",
	"SimpleHTTPServer": "http.server", "CGIHTTPServer": "http.server", "BaseHTTPServer": "http.server",
	"thread": "_thread", "dummy_thread": "_dummy_thread", "Queue": "queue", "UserDict": "collections",
	"UserList": "collections", "UserString": "collections", "cStringIO": "io", "StringIO": "io", "urlparse": "urllib.parse",
	"repr": "reprlib", "anydbm": "dbm", "whichdb": "dbm",
}

// nameAliases maps (module, name) pairs that _compat_pickle renames.
var nameAliases = map[string]string{
	"builtins.xrange": "builtins.range", "builtins.reduce": "functools.reduce", "builtins.intern": "sys.intern",
	"builtins.unichr": "builtins.chr", "builtins.unicode": "builtins.str", "builtins.long": "builtins.int",
	"builtins.basestring": "builtins.str", "builtins.raw_input": "builtins.input", "itertools.izip": "builtins.zip",
	"itertools.imap": "builtins.map", "itertools.ifilter": "builtins.filter", "commands.getoutput": "subprocess.getoutput",
	"commands.getstatusoutput": "subprocess.getstatusoutput", "UserDict.UserDict": "collections.UserDict",
}

// attrAliases are attribute names through which a chain reaches a dangerous
// module from a harmless one, as in tempfile._os.system.
var attrAliases = map[string]string{
	"os": "os", "_os": "os", "sys": "sys", "_sys": "sys", "subprocess": "subprocess", "_subprocess": "subprocess",
	"builtins": "builtins", "__builtins__": "builtins", "_builtins": "builtins", "posix": "posix", "nt": "nt",
	"_posixsubprocess": "_posixsubprocess", "pickle": "pickle", "_pickle": "pickle", "importlib": "importlib",
	"_bootstrap": "importlib", "runpy": "runpy", "shutil": "shutil", "_shutil": "shutil", "socket": "socket",
	"_socket": "socket", "ctypes": "ctypes", "marshal": "marshal", "_imp": "importlib", "io": "io", "_io": "io",
}

// safeCallables only rebuild data when called. Keys are "module.name".
var safeCallables = setOf(
	// Python's own reconstruction helpers and data builtins.
	"copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__",
	"builtins.set", "builtins.frozenset", "builtins.bytearray", "builtins.bytes", "builtins.complex",
	"builtins.slice", "builtins.range", "builtins.dict", "builtins.list", "builtins.tuple", "builtins.int",
	"builtins.float", "builtins.str", "builtins.bool", "builtins.object", "builtins.type", "builtins.NoneType",
	"builtins.Ellipsis", "builtins.NotImplemented", "builtins.enumerate", "builtins.reversed", "builtins.zip",
	"builtins.chr", "builtins.ord",
	"_codecs.encode", "codecs.encode",
	// collections and friends.
	"collections.OrderedDict", "collections.defaultdict", "collections.Counter", "collections.deque",
	"collections.UserDict", "collections.UserList", "collections.UserString",
	"datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone",
	"decimal.Decimal", "fractions.Fraction", "uuid.UUID", "enum.Enum", "re._compile", "re.compile",
	"pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePosixPath", "pathlib.PureWindowsPath",
	"argparse.Namespace", "types.SimpleNamespace", "functools.partial",
	"array.array", "array._array_reconstructor",
	"sklearn.neighbors._kd_tree.newObj", "sklearn.neighbors._ball_tree.newObj", "sklearn.metrics._dist_metrics.newObj",
	"sklearn.metrics._scorer._passthrough_scorer",
	"numpy.float64", "numpy.float32", "numpy.float16", "numpy.longdouble", "numpy.int64", "numpy.int32", "numpy.int16",
	"numpy.int8", "numpy.uint64", "numpy.uint32", "numpy.uint16", "numpy.uint8", "numpy.bool_", "numpy.complex64",
	"numpy.complex128", "numpy.str_", "numpy.bytes_", "numpy.object_", "numpy.datetime64", "numpy.timedelta64",
	"numpy.void", "numpy.recarray", "numpy.record", "numpy.core.records.record",
	"joblib.numpy_pickle.NumpyArrayWrapper", "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
	// NumPy reconstruction and dtypes.
	"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
	"numpy._core.multiarray.scalar", "numpy.ndarray", "numpy.dtype", "numpy.core.numeric._frombuffer",
	"numpy._core.numeric._frombuffer", "numpy.ma.core._mareconstruct", "numpy.matrix", "numpy.core.records.recarray",
	"numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__bit_generator_ctor",
	"numpy.random._pickle.__generator_ctor", "numpy.random.__RandomState_ctor", "numpy.random.mtrand.RandomState",
	"numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64", "numpy.random._philox.Philox",
	"numpy.random._sfc64.SFC64", "numpy.random._generator.Generator",
	// PyTorch tensor and storage rebuilders.
	"torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
	"torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
	"torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_sparse_csr_tensor",
	"torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_meta_tensor_no_storage",
	"torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_qtensor", "torch._utils._rebuild_nested_tensor",
	"torch._utils._rebuild_xla_tensor", "torch._utils._rebuild_mlc_tensor", "torch._utils._rebuild_from_type",
	"torch._utils._rebuild_from_type_v2", "torch._tensor._rebuild_from_type", "torch._tensor._rebuild_from_type_v2",
	"torch.storage._load_from_bytes", "torch.storage.UntypedStorage", "torch.storage.TypedStorage",
	"torch.nn.parameter.Parameter", "torch.Tensor", "torch.Size", "torch.device", "torch.dtype",
	"torch.float32", "torch.float16", "torch.bfloat16", "torch.float64", "torch.int64", "torch.int32",
	"torch.int16", "torch.int8", "torch.uint8", "torch.bool", "torch.complex64", "torch.complex128",
	"torch.per_tensor_affine", "torch.per_channel_affine", "torch.qint8", "torch.quint8", "torch.qint32",
	"torch._C._nn.gelu", "torch.nn.functional.gelu", "torch.nn.functional.relu", "torch.nn.functional.silu",
	"torch.serialization._get_layout", "torch.strided", "torch.sparse_coo", "torch.memory_format",
	"torch.contiguous_format", "torch.channels_last", "torch.preserve_format",
	"torch.jit._pickle.restore_type_tag", "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_doublelist",
	"torch.jit._pickle.build_boollist", "torch.jit._pickle.build_tensorlist", "torch.jit._pickle.build_tensor_from_id",
	"torch.distributed._shard.sharded_tensor.api.ShardedTensor",
	// Storages named by legacy checkpoints.
	"torch.FloatTensor", "torch.DoubleTensor", "torch.HalfTensor", "torch.BFloat16Tensor", "torch.LongTensor",
	"torch.IntTensor", "torch.ShortTensor", "torch.CharTensor", "torch.ByteTensor", "torch.BoolTensor",
	"torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.LongStorage",
	"torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage", "torch.BoolStorage",
	"torch.ComplexFloatStorage", "torch.ComplexDoubleStorage", "torch.QInt8Storage", "torch.QUInt8Storage",
	"torch.QInt32Storage", "torch.QUInt4x2Storage", "torch.QUInt2x4Storage", "torch.cuda.FloatStorage",
	"torch.cuda.HalfStorage", "torch.cuda.LongStorage", "torch.cuda.IntStorage", "torch.cuda.DoubleStorage",
	"torch.cuda.BFloat16Storage", "torch.cuda.ByteStorage", "torch.cuda.BoolStorage",
	// pandas and scipy containers.
	"pandas._libs.internals._unpickle_block", "pandas.core.internals.blocks.new_block",
	"pandas.core.internals.managers.BlockManager", "pandas.core.internals.managers.SingleBlockManager",
	"pandas._libs.tslibs.timestamps._unpickle_timestamp", "pandas._libs.tslibs.timedeltas._timedelta_unpickle",
	"pandas.core.indexes.base._new_Index", "pandas._libs.tslibs.nattype.__nat_unpickle",
	"pandas.core.arrays.categorical._unpickle_categorical",
)

// safeClassModules are trusted ML and data libraries: their classes (names
// that start with a capital letter, possibly nested as Outer.Inner) rebuild
// models and configs and may be referenced, instantiated and called.
var safeClassModules = []string{
	"__torch__", // TorchScript classes, compiled from the archive's own code/ by TorchScript
	"torch.nn.modules", "torch.nn.parameter", "torch.nn.utils.parametrize", "torch.optim", "torch.ao.quantization",
	"torch.nn.quantized", "torch.ao.nn", "torch.cuda.amp", "torch.amp", "torch.utils.data",
	"numpy.dtypes", "numpy.ma.core", "numpy.random", "scipy.sparse", "pandas.core",
	"sklearn", "xgboost", "lightgbm", "catboost", "imblearn", "category_encoders", "statsmodels",
	"transformers.models", "transformers.configuration_utils", "transformers.tokenization_utils_base",
	"transformers.generation.configuration_utils", "transformers.training_args", "transformers.trainer_utils",
	"transformers.utils", "tokenizers", "sentence_transformers", "peft", "accelerate.utils",
	"timm.models", "torchvision.models", "torchvision.transforms", "ultralytics.nn",
	"omegaconf", "collections",
}

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// maxNameLen bounds module and name together; real qualified names stay
// under 200 bytes.
const maxNameLen = 256

// Verdict is the classification of one global with the reason for it.
type Verdict struct {
	Class Class
	Why   string
	// Resolved is the normalised "module.name" after alias and chain resolution.
	Resolved string
}

// Classify decides what a global is: dangerous families first, then the
// safe lists; what the caller trusts on top (Options.Allow) is applied by
// Options.classify.
func Classify(module, name string) Verdict {
	module = strings.TrimSpace(module)
	name = strings.TrimSpace(name)
	if len(module)+len(name) > maxNameLen {
		// Attribute chains are resolved part by part, recursively: a 64 KB name
		// like os.os.os... would cost gigabytes. No real global is this long.
		return Verdict{Class: Dangerous, Why: "implausibly long global name", Resolved: clip(module+"."+name, maxEvidence)}
	}
	if a, ok := moduleAliases[module]; ok {
		module = a
	}
	full := module + "." + name
	if a, ok := nameAliases[full]; ok {
		full = a
		module, name, _ = cutLast(a)
	}
	if !validDotted(module) || !validDotted(name) {
		return Verdict{Class: Dangerous, Why: "malformed global name", Resolved: full}
	}
	// A chain of attributes: follow aliases of dangerous modules and look for dunders.
	parts := strings.Split(name, ".")
	if len(parts) > 1 {
		for i, p := range parts[:len(parts)-1] {
			if isDunder(p) {
				return Verdict{Class: Dangerous, Why: "attribute chain through " + p, Resolved: full}
			}
			if m, ok := attrAliases[p]; ok {
				v := Classify(m, strings.Join(parts[i+1:], "."))
				if v.Class < Dangerous {
					v = Verdict{Class: Dangerous, Why: "attribute chain into " + m, Resolved: v.Resolved}
				}
				return v
			}
		}
	}
	// ("numpy", "lib.npyio.load") is numpy.lib.npyio.load: try every split of
	// the dotted path that keeps at least the named module on the left.
	for split := len(module); split < len(full); split++ {
		if full[split] != '.' {
			continue
		}
		if why, ok := dangerousFamily(full[:split], full[split+1:]); ok {
			return Verdict{Class: Dangerous, Why: why, Resolved: full}
		}
	}
	if safeCallables[full] {
		return Verdict{Class: Safe, Resolved: full}
	}
	if isDunder(parts[len(parts)-1]) {
		return Verdict{Class: Dangerous, Why: "dunder attribute " + parts[len(parts)-1], Resolved: full}
	}
	last := parts[len(parts)-1]
	for _, m := range safeClassModules {
		if !underModule(module, m) {
			continue
		}
		// Classes; Cython's generated reducers (__pyx_unpickle_<Class>) for them.
		if isClassName(parts) || len(parts) == 1 && strings.HasPrefix(last, "__pyx_unpickle_") && isClassName([]string{strings.TrimPrefix(last, "__pyx_unpickle_")}) {
			return Verdict{Class: SafeClass, Resolved: full}
		}
		if m == "scipy.sparse" && len(parts) == 1 && (strings.HasSuffix(last, "_matrix") || strings.HasSuffix(last, "_array")) {
			return Verdict{Class: SafeClass, Resolved: full}
		}
	}
	// NumPy ufuncs (np.log1p referenced by a FunctionTransformer) compute on arrays only.
	if (module == "numpy.core._multiarray_umath" || module == "numpy._core._multiarray_umath" || module == "numpy") && len(parts) == 1 && isUfunc(last) {
		return Verdict{Class: SafeClass, Resolved: full}
	}
	return Verdict{Class: Unknown, Resolved: full}
}

func dangerousFamily(module, name string) (string, bool) {
	for _, f := range dangerous {
		if !underModule(module, f.module) {
			continue
		}
		if f.names == nil {
			return f.why, true
		}
		for _, n := range f.names {
			if name == n || strings.HasPrefix(name, n+".") {
				return f.why, true
			}
		}
	}
	return "", false
}

// isUfunc reports whether name is one of NumPy's element-wise math functions.
func isUfunc(name string) bool {
	switch name {
	case "log", "log1p", "log2", "log10", "exp", "expm1", "exp2", "sqrt", "square", "abs", "absolute", "negative",
		"sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
		"floor", "ceil", "rint", "trunc", "sign", "reciprocal", "add", "subtract", "multiply", "divide",
		"true_divide", "floor_divide", "power", "maximum", "minimum", "clip", "isnan", "isinf", "isfinite", "cbrt":
		return true
	}
	return false
}

func cutLast(s string) (string, string, bool) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", s, false
	}
	return s[:i], s[i+1:], true
}

func underModule(module, root string) bool {
	return module == root || strings.HasPrefix(module, root+".")
}

func isDunder(s string) bool {
	return len(s) > 4 && strings.HasPrefix(s, "__") && strings.HasSuffix(s, "__")
}

// isClassName reports whether every part of a (possibly nested) name looks
// like a class: first letter upper-case, after any leading underscores.
func isClassName(parts []string) bool {
	for _, p := range parts {
		q := strings.TrimLeft(p, "_")
		if q == "" || q[0] < 'A' || q[0] > 'Z' {
			return false
		}
	}
	return true
}

// validDotted accepts Python dotted identifiers (ASCII or not, but no spaces,
// control characters or empty parts).
func validDotted(s string) bool {
	if s == "" {
		return false
	}
	for _, p := range strings.Split(s, ".") {
		if p == "" {
			return false
		}
		for i, r := range p {
			switch {
			case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f && r != 0xfffd:
			case r >= '0' && r <= '9' && i > 0:
			default:
				return false
			}
		}
	}
	return true
}
