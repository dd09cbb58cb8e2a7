package keras

import (
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/pickle"
)

// A Keras config names Python objects in three ways:
//
//   - Keras 3 (and tf.keras 2.13+): {"module": "keras.layers", "class_name":
//     "Dense", "config": {...}, "registered_name": null} for classes and
//     {"module": "m", "class_name": "function", "config": "fn_name",
//     "registered_name": ...} for functions. Before Keras 3.9 the loader
//     imported any module named there (CVE-2025-1550); since, it resolves
//     keras.* names through the public API and imports only keras,
//     keras_hub, keras_cv and keras_nlp modules for KerasSaveable classes.
//   - Keras 2: {"class_name": "Dense", "config": {...}} with no module; the
//     class is looked up among Keras's own and the custom objects the loading
//     code registers, so the file alone cannot import a module.
//   - Strings: "relu", "glorot_uniform", "adam", resolved within Keras.

// verdict is what a reference is.
type verdict struct {
	rule string // "" when the reference is ordinary
	sev  finding.Severity
	why  string
}

// kerasFamilies are the packages whose classes and functions a config may
// name without comment: Keras itself and the Google libraries built on it.
var kerasFamilies = []string{
	"keras", "tf_keras", "tensorflow", "tf", "keras_hub", "keras_nlp", "keras_cv", "keras_core", "keras_rs",
	"tensorflow_hub", "tensorflow_text", "tensorflow_addons", "tensorflow_probability", "tensorflow_recommenders",
	"tensorflow_decision_forests", "tensorflow_model_optimization", "keras_tuner", "official", "tf_agents",
}

func underModule(module, family string) bool {
	return module == family || strings.HasPrefix(module, family+".")
}

func inKerasFamily(module string) bool {
	for _, f := range kerasFamilies {
		if underModule(module, f) {
			return true
		}
	}
	return false
}

// gadgetNames are Keras functions that are not modelling operations: a
// config that names one is using the loader against its user. Keras keeps
// most of them in serialization_lib.NON_MODELING_APIS since 3.9/3.11; the
// published safe_mode bypasses (CVE-2025-1550, CVE-2025-8747,
// CVE-2025-9906) call them from Lambda layers and layer arguments.
var gadgetNames = map[string]string{
	"enable_unsafe_deserialization": "turns safe_mode off for the rest of the load (CVE-2025-9906)",
	"set_global_attribute":          "rewrites Keras's global state, such as safe_mode_saving (CVE-2025-9906)",
	"get_global_attribute":          "reads Keras's global state",
	"load_model":                    "loads another model, with arguments the config chooses (safe_mode=False)",
	"model_from_json":               "loads another model from JSON",
	"model_from_yaml":               "loads another model from YAML",
	"model_from_config":             "builds another model from a config",
	"load_weights":                  "reads other files",
	"save_model":                    "writes files",
	"save_weights":                  "writes files",
	"deserialize_keras_object":      "deserializes an object the arguments describe",
	"serialize_keras_object":        "is not a modelling function",
	"register_keras_serializable":   "registers custom objects",
	"get_custom_objects":            "exposes the custom object registry",
	"clear_session":                 "resets the Keras session",
	"load_img":                      "reads files",
	"save_img":                      "writes files",
	"image_dataset_from_directory":  "reads directories",
	"text_dataset_from_directory":   "reads directories",
	"audio_dataset_from_directory":  "reads directories",
	"func_load":                     "builds a function from bytecode",
	"get_file":                      "downloads a file and may extract it anywhere (CVE-2025-8747)",
	"load_op_library":               "loads a native shared library",
	"load_library":                  "loads a native shared library",
}

// remoteGadgets are gadget names that fetch from the network.
var remoteGadgets = setOf("get_file")

// kerasBuiltinFunctions are the function names Keras resolves for the
// "builtins" module since 3.9 (activations, losses, metrics and friends),
// with the aliases its string forms accept.
var kerasBuiltinFunctions = setOf(
	"binary_accuracy", "binary_crossentropy", "binary_focal_crossentropy", "categorical_accuracy",
	"categorical_crossentropy", "categorical_focal_crossentropy", "categorical_generalized_cross_entropy",
	"categorical_hinge", "celu", "circle", "concordance_correlation", "constant", "cosine_similarity", "ctc",
	"dice", "elu", "exponential", "gelu", "glorot_normal", "glorot_uniform", "glu", "hard_shrink",
	"hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "he_normal", "he_uniform", "hinge", "huber",
	"identity", "kl_divergence", "l1", "l1_l2", "l2", "leaky_relu", "lecun_normal", "lecun_uniform", "linear",
	"log_cosh", "log_sigmoid", "log_softmax", "max_norm", "mean_absolute_error",
	"mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "min_max_norm",
	"mish", "non_neg", "ones", "orthogonal", "orthogonal_regularizer", "pearson_correlation", "poisson",
	"random_normal", "random_uniform", "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax",
	"softplus", "softsign", "sparse_categorical_accuracy", "sparse_categorical_crossentropy", "sparse_plus",
	"sparse_sigmoid", "sparse_top_k_categorical_accuracy", "sparsemax", "squared_hinge", "squareplus", "stft",
	"swish", "tanh", "tanh_shrink", "threshold", "top_k_categorical_accuracy", "truncated_normal", "tversky",
	"unit_norm", "variance_scaling", "zeros",
	"mse", "mae", "mape", "msle", "kld", "kullback_leibler_divergence", "logcosh", "log_cosh", "acc",
	"accuracy", "crossentropy", "ce", "bce", "cosine_proximity", "hard_silu",
)

// specialClasses are the class names of Keras's serialization of values
// and the op layers the functional API inserts.
var specialClasses = setOf(
	"__tuple__", "__ellipsis__", "__typespec__", "__keras_tensor__", "__tensor__", "__numpy__", "__bytes__",
	"__slice__", "Functional", "Sequential", "Model", "TFOpLambda", "SlicingOpLambda", "ClassMethod",
	"InstanceMethod", "InstanceProperty", "TensorFlowOpLayer", "KerasTensor", "TensorSpec", "RaggedTensorSpec",
	"SparseTensorSpec", "TensorShape", "SharedObjectConfig", "ModuleWrapper", "LossesContainer",
	"MetricsContainer", "CompileMetrics", "CompileLoss", "MetricsList", "LossScaleOptimizer",
	"LossScaleOptimizerV3", "Policy", "PolicyV1", "Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax",
	"Nadam", "Ftrl", "AdamW", "Lion", "Lamb", "Loss", "Metric", "LossFunctionWrapper", "MeanMetricWrapper",
	"SumOverBatchSize", "function",
)

// knownClass reports whether a module-less class name is one Keras knows.
// tf.keras 2.11-2.12 saved its new optimizers as "Custom>Adam".
func knownClass(name string) bool {
	name = strings.TrimPrefix(name, "Custom>")
	name = strings.TrimPrefix(name, "keras>")
	return publicClasses[name] || specialClasses[name]
}

// classifyRef decides what a reference to module.name is. fn is true for
// function references (class_name "function"). registered is the
// registered_name, for messages.
func classifyRef(module, name, registered string, fn bool) verdict {
	full := name
	if module != "" {
		full = module + "." + name
	}
	what := "class"
	if fn {
		what = "function"
	}
	// Gadget names are looked up whatever the module: keras.utils.get_file,
	// keras.src.utils.file_utils.get_file and tf.keras.utils.get_file are one.
	base := name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		base = name[i+1:]
	}
	if why, ok := gadgetNames[base]; ok && (module == "" || inKerasFamily(module) || module == "builtins") {
		if remoteGadgets[base] {
			return verdict{rule: finding.KerasRemoteFetch, sev: finding.Critical, why: full + ", which " + why}
		}
		return verdict{rule: finding.KerasUnsafeDeserialization, sev: finding.Critical, why: full + ", which " + why}
	}
	if module == "" {
		if fn {
			if kerasBuiltinFunctions[name] {
				return verdict{}
			}
			return verdict{rule: finding.KerasCustomObject, sev: finding.Low,
				why: "function " + quote(name) + " is not a Keras function; only code the loading program registers can provide it"}
		}
		if knownClass(name) || knownClass(registered) {
			return verdict{}
		}
		msg := "class " + quote(name)
		if registered != "" && registered != name {
			msg += " (registered as " + quote(registered) + ")"
		}
		return verdict{rule: finding.KerasCustomObject, sev: finding.Low,
			why: msg + " is not a Keras class; only code the loading program registers can provide it"}
	}
	if v := pickle.Classify(module, name); v.Class == pickle.Dangerous {
		return verdict{rule: finding.KerasCustomObject, sev: finding.Critical,
			why: what + " " + full + " is dangerous (" + v.Why + "); Keras before 3.9 imports any module a config names (CVE-2025-1550)"}
	}
	switch {
	case module == "builtins":
		if fn && kerasBuiltinFunctions[name] {
			return verdict{}
		}
		return verdict{rule: finding.KerasCustomObject, sev: finding.Medium,
			why: what + " builtins." + name + " is a Python builtin, not a Keras one; Keras before 3.9 resolves it to Python's own"}
	case module == "__main__":
		return verdict{rule: finding.KerasCustomObject, sev: finding.High,
			why: what + " " + full + " resolves to whatever the loading script defines under that name"}
	case inKerasFamily(module):
		if tfop, ok := tfFunction(module, name); ok {
			if v := classifyTFOp(tfop); v.rule != "" {
				return v
			}
		}
		return verdict{}
	}
	msg := what + " " + full
	if registered != "" && registered != name {
		msg += " (registered as " + quote(registered) + ")"
	}
	return verdict{rule: finding.KerasCustomObject, sev: finding.Medium,
		why: msg + " is custom code: loading the model imports module " + module}
}

// tfFunction turns a reference into a TensorFlow API path ("io.write_file").
func tfFunction(module, name string) (string, bool) {
	for _, p := range []string{"tensorflow", "tf"} {
		if module == p {
			return name, true
		}
		if strings.HasPrefix(module, p+".") {
			return module[len(p)+1:] + "." + name, true
		}
	}
	return "", false
}

// TFOpLambda and SlicingOpLambda layers (Keras 2) call a TensorFlow API
// symbol by name, resolved with tf_export's get_symbol_from_name: any tf.*
// function, with arguments from the config. Almost all are tensor
// arithmetic; a few read and write files, load native code, or call Python.

// tfOpsCritical run code: native libraries, Python callables, other models.
var tfOpsCritical = []string{
	"load_op_library", "load_library", "load_pluggable_device_library", "py_function", "numpy_function",
	"compat.v1.py_func", "compat.v1.load_op_library", "compat.v1.load_library", "raw_ops.PyFunc",
	"raw_ops.PyFuncStateless", "raw_ops.EagerPyFunc", "saved_model.load", "compat.v1.saved_model.load",
	"compat.v1.saved_model.loader.load", "compat.v1.saved_model.load_v2",
}

// tfOpsFiles reach the file system or the network.
var tfOpsFiles = []string{
	"io.read_file", "io.write_file", "io.matching_files", "io.gfile", "gfile", "compat.v1.gfile",
	"compat.v1.io.read_file", "compat.v1.io.write_file", "compat.v1.read_file", "compat.v1.write_file",
	"compat.v1.matching_files", "compat.v1.io.gfile", "io.TFRecordWriter", "compat.v1.io.TFRecordWriter",
	"compat.v1.python_io", "data.TFRecordDataset", "data.TextLineDataset", "data.FixedLengthRecordDataset",
	"data.Dataset.list_files", "data.experimental", "data.Dataset.load", "data.Dataset.save", "summary",
	"compat.v1.summary", "train.Checkpoint", "train.load_checkpoint", "train.load_variable",
	"train.list_variables", "compat.v1.train", "saved_model.save", "io.write_graph", "compat.v1.io.write_graph",
	"compat.v1.WholeFileReader", "compat.v1.TextLineReader", "compat.v1.TFRecordReader",
	"compat.v1.FixedLengthRecordReader", "compat.v1.LMDBReader", "compat.v1.IdentityReader",
	"debugging.experimental.enable_dump_debug_info", "profiler", "compat.v1.profiler", "raw_ops.ReadFile", "raw_ops.WriteFile",
	"raw_ops.MatchingFiles", "raw_ops.Save", "raw_ops.SaveV2", "raw_ops.SaveSlices", "raw_ops.Restore",
	"raw_ops.RestoreV2", "raw_ops.RestoreSlice", "raw_ops.MergeV2Checkpoints", "raw_ops.ImmutableConst",
	"raw_ops.WholeFileReader", "raw_ops.WholeFileReaderV2", "raw_ops.TextLineReader", "raw_ops.TextLineReaderV2",
	"raw_ops.TFRecordReader", "raw_ops.TFRecordReaderV2", "raw_ops.FixedLengthRecordReader",
	"raw_ops.FixedLengthRecordReaderV2", "raw_ops.LMDBReader", "raw_ops.IdentityReader", "raw_ops.LoadAndRemapMatrix",
	"raw_ops.WriteSummary", "raw_ops.CreateSummaryFileWriter", "raw_ops.DebugIdentity", "raw_ops.DebugIdentityV2",
	"raw_ops.DebugIdentityV3", "raw_ops.PrintV2", "raw_ops.TPUEmbedding", "raw_ops.DatasetToTFRecord",
	"raw_ops.SaveDataset", "raw_ops.SaveDatasetV2", "raw_ops.LoadDataset", "raw_ops.FileSystemSetConfiguration",
}

// tfOpsEnvironment change how the process runs rather than compute.
var tfOpsEnvironment = []string{"config", "distribute", "tpu", "sysconfig", "random.set_seed", "compat.v1.set_random_seed",
	"debugging.set_log_device_placement", "compat.v1.enable_eager_execution",
	"compat.v1.disable_eager_execution", "compat.v1.disable_v2_behavior", "compat.v1.enable_v2_behavior"}

// tfRawOpsCritical are the raw op names (TensorFlowOpLayer's node_def.op) that touch files or run Python.
var tfRawOpsCritical = setOf("PyFunc", "PyFuncStateless", "EagerPyFunc")

func matchesAny(fn string, list []string) bool {
	for _, p := range list {
		if fn == p || strings.HasPrefix(fn, p+".") {
			return true
		}
	}
	return false
}

// classifyTFOp classifies a TensorFlow API path as TFOpLambda stores it
// ("math.add", "compat.v1.squeeze", "__operators__.getitem", sometimes with
// a "tf." prefix).
func classifyTFOp(fn string) verdict {
	fn = strings.TrimPrefix(fn, "tf.")
	if !validDotted(fn) {
		return verdict{rule: finding.KerasTFOpLambda, sev: finding.Medium,
			why: "calls " + quote(fn) + ", which is not the name of a TensorFlow function"}
	}
	base := fn[strings.LastIndexByte(fn, '.')+1:]
	switch {
	case matchesAny(fn, tfOpsCritical):
		return verdict{rule: finding.KerasTFOpLambda, sev: finding.Critical,
			why: "calls tf." + fn + ", which loads or runs code outside the graph"}
	case gadgetNames[base] != "":
		return verdict{rule: finding.KerasTFOpLambda, sev: finding.Critical,
			why: "calls tf." + fn + ", which " + gadgetNames[base]}
	case matchesAny(fn, tfOpsFiles):
		return verdict{rule: finding.KerasTFOpLambda, sev: finding.High,
			why: "calls tf." + fn + ", which reads or writes files or reaches the network"}
	case matchesAny(fn, tfOpsEnvironment):
		return verdict{rule: finding.KerasTFOpLambda, sev: finding.Medium,
			why: "calls tf." + fn + ", which changes the runtime rather than computing on tensors"}
	case strings.HasPrefix(fn, "raw_ops.") && tfRawOpsCritical[base]:
		return verdict{rule: finding.KerasTFOpLambda, sev: finding.Critical, why: "calls tf." + fn + ", which runs Python"}
	}
	for _, p := range strings.Split(fn, ".") {
		if strings.HasPrefix(p, "__") && strings.HasSuffix(p, "__") && p != "__operators__" &&
			!(strings.HasPrefix(fn, "__operators__.") && operatorDunders[p]) {
			return verdict{rule: finding.KerasTFOpLambda, sev: finding.High,
				why: "calls tf." + fn + ", reaching a dunder attribute"}
		}
	}
	return verdict{}
}

// operatorDunders are the Python operators the functional API records as
// tf.__operators__.<name> (x + y, x[i], -x...).
var operatorDunders = setOf("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
	"__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__", "__matmul__",
	"__rmatmul__", "__neg__", "__abs__", "__invert__", "__and__", "__rand__", "__or__", "__ror__", "__xor__",
	"__rxor__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "__getitem__")

// validDotted reports whether s is a dotted Python name.
func validDotted(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, p := range strings.Split(s, ".") {
		if !isIdentifier(p) {
			return false
		}
	}
	return true
}

// classifyRawOp classifies a TensorFlow op type (TensorFlowOpLayer node_def.op).
func classifyRawOp(op string) verdict {
	if !validDotted(op) {
		return verdict{rule: finding.KerasTFOpLambda, sev: finding.Medium, why: "runs op " + quote(op) + ", which is not a TensorFlow op name"}
	}
	return classifyTFOp("raw_ops." + op)
}

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}
