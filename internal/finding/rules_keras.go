package finding

// Rule ids of Keras models.
const (
	KerasLambdaLayer           = "keras/lambda-layer"
	KerasUnsafeDeserialization = "keras/unsafe-deserialization"
	KerasCustomObject          = "keras/custom-object"
	KerasRemoteFetch           = "keras/remote-fetch"
	KerasTFOpLambda            = "keras/tf-op-lambda"
	KerasEmbeddedModule        = "keras/embedded-module"
)

// Rules of Keras .h5 and .keras models (internal/scan/keras).
var kerasRules = []Rule{
	{
		ID:       KerasLambdaLayer,
		Severity: High,
		Summary:  "A Keras Lambda layer (or a serialized Python lambda) carries Python code or calls a named function.",
		Rationale: "Keras saves a Lambda layer's function as marshalled Python bytecode (func_dump) or as a reference " +
			"to a function by module and name, and rebuilds it when the model is loaded: the bytecode can do anything " +
			"Python can. Keras 3 refuses bytecode in safe_mode, but legacy .h5 files ignore safe_mode (CVE-2025-9905), " +
			"tf.keras before 2.13 has no safe_mode at all (CVE-2024-3660), and named functions are called with " +
			"arguments the config chooses. Critical when the code names os, subprocess, eval, exec, __import__ and the like.",
		Remediation: "Replace the Lambda layer with a registered custom layer whose code lives in your repository, " +
			"re-save the model, and check who produced the file; never load it with safe_mode=False.",
	},
	{
		ID:       KerasUnsafeDeserialization,
		Severity: Critical,
		Summary:  "The Keras config calls a loader function that defeats safe_mode (enable_unsafe_deserialization, load_model, global state).",
		Rationale: "Ordinary configs name layers, activations, initializers, losses and metrics. The published safe_mode " +
			"bypasses instead name Keras's own non-modelling functions from a layer, an activation or a Lambda's " +
			"arguments: keras.config.enable_unsafe_deserialization or global_state.set_global_attribute to switch " +
			"safe_mode off mid-load (CVE-2025-9906), keras.models.load_model with safe_mode=False to load a second, " +
			"malicious model, and the arbitrary module imports of Keras before 3.9 (CVE-2025-1550).",
		Remediation: "Do not load the file. Upgrade Keras (3.11 or later rejects these names) and find out where the model came from.",
	},
	{
		ID:       KerasCustomObject,
		Severity: Medium,
		Summary:  "The Keras config names a class or function outside Keras (custom code, or a dangerous module such as os or subprocess).",
		Rationale: "A Keras 3 config says which module each object comes from; Keras before 3.9 imported any of them, and " +
			"still resolves registered custom objects by name. A module outside Keras and its libraries means loading " +
			"runs code that is not in the model file and was not reviewed with it; a module such as os, subprocess, " +
			"builtins.exec or importlib is a code-execution payload (critical). Keras 2 configs name classes without " +
			"a module: an unknown one is custom code the loading program must supply (low).",
		Remediation: "Check that the custom code is yours and pinned; if a module like os or subprocess is named, do not load the file.",
	},
	{
		ID:       KerasRemoteFetch,
		Severity: High,
		Summary:  "The Keras config makes the loader fetch or read something outside the model file (get_file, a URL, a vocabulary path).",
		Rationale: "keras.utils.get_file called from a config downloads a file and can extract it over the user's files " +
			"even in safe_mode (CVE-2025-8747); lookup layers read their vocabulary from any path or URL the config " +
			"gives (CVE-2025-12058), and TFSMLayer or hub layers load another model from a path or URL. What is fetched " +
			"was not scanned and may change after review.",
		Remediation: "Ship the vocabulary and weights inside the model file, remove remote references, and upgrade Keras.",
	},
	{
		ID:       KerasTFOpLambda,
		Severity: High,
		Summary:  "A TFOpLambda layer calls a TensorFlow function that reads or writes files, loads native code or runs Python.",
		Rationale: "tf.keras records TensorFlow calls in a functional model as TFOpLambda layers that name a tf.* function, " +
			"looked up by name at load time and called with arguments from the config. Arithmetic is ordinary; " +
			"tf.io.write_file, tf.io.gfile, tf.load_op_library, tf.py_function or tf.raw_ops.PyFunc in a model are not.",
		Remediation: "Review why the model touches files or code; rebuild it without those operations.",
	},
	{
		ID:       KerasEmbeddedModule,
		Severity: Medium,
		Summary:  "A Keras TorchModuleWrapper layer embeds a torch.save'd PyTorch module, which loading unpickles.",
		Rationale: "On the torch backend TorchModuleWrapper stores the wrapped module as a base64 pickle in config.json and " +
			"rebuilds it with torch.load(weights_only=False); Keras before 3.11 does so even in safe_mode. mlguard scans " +
			"the embedded pickle like any other and reports what it finds separately; this finding records that " +
			"loading the model means unpickling.",
		Remediation: "Prefer Keras layers or a registered custom layer; load such models only from trusted sources.",
	},
}
