package finding

// Rule ids of GGUF files.
const (
	GGUFInvalid           = "gguf/invalid"
	GGUFUnknownTensorType = "gguf/unknown-tensor-type"
)

// Rules of GGUF files (internal/scan/gguf). Chat templates found in GGUF
// metadata are reported under the template/ rules.
var ggufRules = []Rule{
	{
		ID:       GGUFInvalid,
		Severity: High,
		Summary:  "The GGUF file is malformed: impossible counts or lengths, unknown value types, duplicate keys, mistyped standard keys, or tensor data that is misplaced or beyond the end of the file.",
		Rationale: "llama.cpp and the other GGUF readers refuse such files, or worse, read them differently: a duplicate " +
			"tokenizer.chat_template key means two readers may render two different templates, and counts or lengths " +
			"larger than the file are how crafted files attack the readers themselves (heap overflows in GGUF parsers " +
			"have been found repeatedly). A file written by a GGUF library never looks like this. A file that merely " +
			"ends early is reported as scan/incomplete instead.",
		Remediation: "Re-download or re-convert the model with llama.cpp's convert scripts from a trusted source, and " +
			"ask where this file came from.",
	},
	{
		ID:       GGUFUnknownTensorType,
		Severity: Low,
		Summary:  "Tensors use a ggml type that this version of mlguard does not know, so their sizes were not checked.",
		Rationale: "ggml gains quantisation types regularly. The tensors of an unknown type are still counted, but their " +
			"data sizes, and the offsets of the tensors after them, could not be checked against the file. One finding " +
			"lists every unknown type of a file.",
		Remediation: "Nothing to do if the file comes from a recent llama.cpp; otherwise check the tool that wrote it.",
	},
}
