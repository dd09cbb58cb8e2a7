package finding

// Rule ids of TensorFlow SavedModel and TFLite models.
const (
	TensorFlowDangerousOp = "tensorflow/dangerous-op"
	TFLiteCustomOp        = "tensorflow/tflite-custom-op"
)

// Rules of TensorFlow SavedModel and TFLite (internal/scan/tensorflow).
var tensorflowRules = []Rule{
	{
		ID:       TensorFlowDangerousOp,
		Severity: Critical,
		Summary:  "The TensorFlow graph uses an operation that runs Python, touches files or reaches the network.",
		Rationale: "A SavedModel or a TFLite flex operator is a program that TensorFlow runs as it is. Most operations " +
			"compute; a few act on the machine: PyFunc and EagerPyFunc call Python in the loading process, WriteFile " +
			"writes any file (critical), RPC servers expose the graph to the network (critical); ReadFile, " +
			"ImmutableConst, MatchingFiles and the TF1 readers read or list files, RPC clients and the tf.data service " +
			"connect to addresses the graph names, PrintV2 to file:// and tfdbg debug URLs dump tensors (high). Checkpoint, " +
			"dataset, lookup-table and summary ops that take a path are reported only when the path is a constant of the " +
			"graph: every SavedModel saves and restores its variables through SaveV2, RestoreV2 and MergeV2Checkpoints " +
			"with the path the loader feeds, and that is not reported. The finding's severity is the operation's.",
		Remediation: "Do not serve or load the model until the operation is explained. Re-export it without the " +
			"operation (keep file handling in your serving code), and check who produced the file.",
	},
	{
		ID:       TFLiteCustomOp,
		Severity: Medium,
		Summary:  "The TFLite model uses a custom operator that TensorFlow Lite does not ship.",
		Rationale: "TensorFlow Lite runs builtin operators and a handful of custom ones it registers itself " +
			"(TFLite_Detection_PostProcess, Mfcc, AudioSpectrogram, NumericVerify). Any other custom operator runs " +
			"only if the application registers a native implementation for its name, code that does not come with " +
			"the model and was not reviewed with it. Flex operators (select TensorFlow ops) are checked against the " +
			"TensorFlow operation table instead.",
		Remediation: "Find out which library implements the operator and review it before registering it, or convert " +
			"the model with builtin operators only.",
	},
}
