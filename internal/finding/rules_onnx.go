package finding

// Rule ids of ONNX models.
const (
	ONNXCustomOperator   = "onnx/custom-operator"
	ONNXExternalDataPath = "onnx/external-data-path"
)

// Rules of ONNX models (internal/scan/onnx).
var onnxRules = []Rule{
	{
		ID:       ONNXCustomOperator,
		Severity: Medium,
		Summary:  "The ONNX graph uses operators from a domain that neither ONNX nor ONNX Runtime implements.",
		Rationale: "Nodes of the standard domains (\"\", ai.onnx, ai.onnx.ml, the training and preview sets) and of ONNX " +
			"Runtime's built-in contrib domains (com.microsoft and its layout variants) run kernels that ship with the " +
			"runtime, as do calls to functions defined in the model itself, whose bodies mlguard examines. Any other " +
			"domain needs a custom operator library, native code that the application registers before it can load " +
			"the model. The model alone cannot load that library, so this is not code execution by itself, but the " +
			"model only runs where extra native code of unknown origin is trusted.",
		Remediation: "Find out which library implements the domain (onnxruntime-extensions, a vendor SDK, in-house " +
			"code) and review it before registering it; prefer re-exporting the model with standard operators.",
	},
	{
		ID:       ONNXExternalDataPath,
		Severity: Critical,
		Summary:  "A tensor stores its data in an external file outside the model's folder.",
		Rationale: "ONNX tensors may keep their bytes in a separate file named by the external_data \"location\" entry, " +
			"which loaders join to the model's folder. An absolute path, '..' (after normalisation, so subdir/../../x " +
			"counts), a Windows drive or UNC share, or a NUL byte makes onnx.load and ONNX Runtime read any file the " +
			"process can see (/etc/passwd, SSH keys, cloud credentials) into the model's weights, where inference can " +
			"leak it: CVE-2022-25882, CVE-2024-27318, CVE-2024-27319. The location \"*/_ORT_MEM_ADDR_/*\" makes ONNX " +
			"Runtime treat the offset as a raw memory address. Ordinary exports write a plain file name next to the model.",
		Remediation: "Do not load the model. Re-export it with external data saved next to the model " +
			"(onnx.save_model(..., save_as_external_data=True, location=\"weights.bin\")) and ask where this copy came from.",
	},
}
