package finding

// Rule ids of safetensors files.
const (
	SafetensorsInvalidHeader   = "safetensors/invalid-header"
	SafetensorsInvalidOffsets  = "safetensors/invalid-offsets"
	SafetensorsInvalidMetadata = "safetensors/invalid-metadata"
	SafetensorsUnknownDtype    = "safetensors/unknown-dtype"
)

// Rules of safetensors files (internal/scan/safetensors).
var safetensorsRules = []Rule{
	{
		ID:       SafetensorsInvalidHeader,
		Severity: High,
		Summary:  "The safetensors header is malformed: impossible length, not UTF-8 JSON, duplicate keys or tensor entries that break the schema.",
		Rationale: "The header is the only structure in a safetensors file. A length beyond the file or over the 100 MB " +
			"cap is how crafted files exhaust loaders; duplicate keys and trailing data make two parsers see different " +
			"tensors (a scanner and a loader, or two loaders), which is the first step of a differential attack. The " +
			"reference loader refuses all of these, so a file like this was not written by a safetensors library.",
		Remediation: "Re-export the weights with the safetensors library (safetensors.torch.save_file) from a trusted " +
			"copy, and ask where this file came from.",
	},
	{
		ID:       SafetensorsInvalidOffsets,
		Severity: High,
		Summary:  "Tensor data offsets overlap, leave gaps, disagree with the shapes, or the data buffer does not end where the file does.",
		Rationale: "The format requires the tensors to cover the data buffer exactly, in order, with each tensor's size " +
			"matching its shape and dtype, precisely so that no bytes go unaccounted for. Overlapping tensors alias " +
			"each other's data; bytes after the buffer are how polyglot files hide a second format (a zip or a pickle " +
			"that another loader opens); a buffer beyond the end of the file is a truncated or lying header.",
		Remediation: "Re-export the weights with the safetensors library; if bytes follow the buffer, look at what " +
			"they are before trusting any copy of the file.",
	},
	{
		ID:       SafetensorsInvalidMetadata,
		Severity: Medium,
		Summary:  "The safetensors __metadata__ is not a map of strings to strings.",
		Rationale: "The format allows only string values in __metadata__; the reference loader refuses anything else. " +
			"Nested values are where tools that do accept them (and pass them on to model cards, configs or UIs) " +
			"meet data nobody validated.",
		Remediation: "Store structured metadata as JSON text in a string value, or next to the model, and re-export the file.",
	},
	{
		ID:       SafetensorsUnknownDtype,
		Severity: Low,
		Summary:  "Tensors use a dtype that this version of mlguard does not know, so their sizes were not checked.",
		Rationale: "New dtypes appear as hardware does (FP8, MX FP4/FP6...). The offsets of those tensors are still " +
			"checked for order and overlap, but not against their shapes. One finding lists every unknown dtype of a file.",
		Remediation: "Nothing to do if the dtype is a new standard one; otherwise check the tool that wrote the file.",
	},
}
