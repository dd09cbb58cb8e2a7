package finding

// Rule ids of model-adjacent configs.
const (
	ConfigRemoteCode    = "config/remote-code"
	ConfigHydraTarget   = "config/hydra-target"
	ConfigYAMLPythonTag = "config/yaml-python-tag"
)

// Rules of model-adjacent configs that loaders execute: Hugging Face auto_map, NeMo/Hydra _target_ (internal/scan/configs).
var configRules = []Rule{
	{
		ID:       ConfigRemoteCode,
		Severity: High,
		Summary:  "A Hugging Face config points the loader at Python code (auto_map, custom_pipelines, custom modules); critical when that code lives in another repository.",
		Rationale: "transformers resolves an auto_map entry such as \"modeling_x.MyModel\" by downloading modeling_x.py from " +
			"the model repository and importing it, which runs the file, whenever the caller passes " +
			"trust_remote_code=True (many snippets and services do). An entry of the form \"owner/repo--modeling_x.MyModel\" " +
			"fetches the code from a different repository, at its latest revision: code that is not in this pull request " +
			"and can change after review. custom_pipelines and sentence-transformers modules work the same way.",
		Remediation: "Review the named file like any code you run; prefer a model class that ships with transformers, pin " +
			"code_revision, or vendor the code into your repository. Never set trust_remote_code=True for files you have not read.",
	},
	{
		ID:       ConfigHydraTarget,
		Severity: Medium,
		Summary:  "A Hydra/NeMo config names a callable to instantiate (_target_) outside the usual libraries; critical when it can run commands.",
		Rationale: "hydra.utils.instantiate imports whatever dotted path a _target_ key names and calls it with the " +
			"config's arguments; NeMo does this when it restores a .nemo archive, as do Lightning CLI (class_path) and " +
			"Hydra-based training code. A target such as os.system, subprocess.Popen, builtins.eval or " +
			"hydra.utils.get_method runs commands on load (critical); a target outside NeMo, PyTorch, Lightning, " +
			"OmegaConf, Transformers, SentencePiece and Megatron is code nobody reviewed with the model (medium).",
		Remediation: "Replace the target with a class from a trusted library, or review the named code and allow it in the " +
			"policy. Do not restore .nemo files from untrusted sources with a NeMo release that lacks target allow-listing.",
	},
	{
		ID:       ConfigYAMLPythonTag,
		Severity: High,
		Summary:  "A YAML config carries a !!python/ tag that builds Python objects (python/object/apply, python/name, python/module).",
		Rationale: "PyYAML's unsafe loaders (yaml.load with Loader=yaml.Loader or UnsafeLoader, yaml.unsafe_load, and " +
			"older full_load) construct the objects these tags describe, calling the named function with the given " +
			"arguments: !!python/object/apply:os.system [\"...\"] runs a command. OmegaConf and safe_load refuse them, " +
			"so a config that needs them is either meant for an unsafe loader or an attack.",
		Remediation: "Remove the tags and load configs with yaml.safe_load or OmegaConf; treat the file as hostile if you did not write it.",
	},
}
