package finding

import (
	"slices"
	"strings"
)

// Rule describes one kind of finding. The table below is the single source of
// truth: `mlguard rules`, SARIF rule metadata and docs/rules.md all come from it.
type Rule struct {
	ID          string
	Severity    Severity
	Summary     string // one line
	Rationale   string // why it matters
	Remediation string // what to do
}

// DocsBase is where the rules documentation lives in the repository.
const DocsBase = "docs/rules.md"

// RepoURL is the public home of the project, for absolute help links.
const RepoURL = "https://github.com/mlguard/mlguard"

// Anchor is the Markdown anchor of the rule's section in docs/rules.md.
func (r Rule) Anchor() string { return strings.NewReplacer("/", "-", "_", "-").Replace(r.ID) }

// HelpURI is the relative link to the rule's documentation, as JSON prints it.
func (r Rule) HelpURI() string { return DocsBase + "#" + r.Anchor() }

// HelpURL is the absolute link to the rule's documentation, as SARIF wants it.
func (r Rule) HelpURL() string { return RepoURL + "/blob/main/" + r.HelpURI() }

// Rule ids, as constants so that a typo is a compile error.
const (
	PickleDangerousGlobal = "pickle/dangerous-global"
	PickleUnknownCallable = "pickle/unknown-callable"
	PickleUnknownGlobal   = "pickle/unknown-global"
	PickleDynamicGlobal   = "pickle/dynamic-global"
	PickleGlobalMutation  = "pickle/global-mutation"
	PickleResourceBomb    = "pickle/resource-exhaustion"
	PickleTrailingData    = "pickle/trailing-data"
	NumpyObjectArray      = "numpy/object-array"
	ArchiveEncrypted      = "archive/encrypted"
	ArchiveLimit          = "archive/limit-exceeded"
	ArchiveAnomaly        = "archive/anomaly"
	ScanIncomplete        = "scan/incomplete"
	ScanUnsupported       = "scan/unsupported-format"
)

// rules is every rule: the core table below, then one table per format
// family, each in its own rules_<area>.go file next to its constants.
var rules = slices.Concat(coreRules, safetensorsRules, ggufRules, templateRules, onnxRules, tensorflowRules, kerasRules, configRules, packageRules, policyRules)

// coreRules are the pickle family, archives and the scan itself.
var coreRules = []Rule{
	{
		ID:       PickleDangerousGlobal,
		Severity: Critical,
		Summary:  "The pickle references a callable that can run code, touch files or reach the network.",
		Rationale: "Unpickling imports every global the stream names and calls whatever REDUCE, INST, OBJ or NEWOBJ " +
			"are pointed at. Globals from families such as os, subprocess, builtins.eval/exec, runpy, socket, " +
			"importlib, pickle.loads or torch.load are how poisoned models run code on the machine that loads them. " +
			"A reference alone is enough: an attacker can hide the call behind memo tricks, so any reference is critical.",
		Remediation: "Do not load the file. Obtain the model from a trusted source, or re-export it as safetensors, " +
			"and check who added it to the pull request.",
	},
	{
		ID:       PickleUnknownCallable,
		Severity: High,
		Summary:  "The pickle calls a global that is not on the list of known-safe callables.",
		Rationale: "Allowlist first: tensors, arrays and the common classes of PyTorch, NumPy, scikit-learn and friends " +
			"are known to only rebuild data. Any other callable invoked while loading may run arbitrary code, even " +
			"if its module sounds harmless.",
		Remediation: "Check the evidence: if the callable is your own class and you trust its code, allow it in the " +
			"policy; otherwise do not load the file, or convert the model to safetensors.",
	},
	{
		ID:       PickleUnknownGlobal,
		Severity: Medium,
		Summary:  "The pickle imports a global that is not on the list of known-safe globals, without calling it.",
		Rationale: "Loading imports the global's module (which runs its top-level code) and may hand state to the " +
			"class's __setstate__. Less direct than a call, but still code the loader did not vet.",
		Remediation: "Confirm the module is one you expect (often a custom model class); allow it in the policy once reviewed.",
	},
	{
		ID:       PickleDynamicGlobal,
		Severity: Critical,
		Summary:  "The pickle computes the name of a global instead of spelling it out.",
		Rationale: "STACK_GLOBAL takes its module and name from the stack. When they are not plain strings (the result " +
			"of a call, an attribute lookup, a malformed name), the imported object cannot be known without running " +
			"the pickle. Ordinary pickles never do this; it is a way to evade scanners.",
		Remediation: "Do not load the file.",
	},
	{
		ID:       PickleGlobalMutation,
		Severity: Critical,
		Summary:  "The pickle changes an attribute of an imported module or class.",
		Rationale: "BUILD (or SETITEM on a module's dict) applied to a global rather than to a fresh instance rewrites " +
			"the module for every later lookup, for example to swap a safe rebuild function for eval. Ordinary " +
			"pickles only give state to objects they just created.",
		Remediation: "Do not load the file.",
	},
	{
		ID:       PickleResourceBomb,
		Severity: High,
		Summary:  "The pickle would exhaust memory or time when loaded (memo or stack expansion, huge lengths).",
		Rationale: "A few hundred bytes can reference the same containers exponentially many times (a billion-laughs " +
			"pickle) or declare lengths far beyond the file. Loading it would take the CI runner or the service down.",
		Remediation: "Do not load the file; if it came from a tool, report the tool's bug.",
	},
	{
		ID:       PickleTrailingData,
		Severity: Info,
		Summary:  "Bytes after the last complete pickle are not another pickle.",
		Rationale: "pickle.load stops at the first STOP opcode and ignores what follows, so trailing bytes are not " +
			"executed by a plain load, but a loader that reads several pickles in a row may see them.",
		Remediation: "Nothing to do for a plain pickle; for a file that should hold a single pickle, ask where the extra bytes come from.",
	},
	{
		ID:       NumpyObjectArray,
		Severity: Low,
		Summary:  "A NumPy array has an object dtype, so its data is a pickle.",
		Rationale: "numpy.load refuses such arrays unless allow_pickle=True, which then unpickles the payload. The " +
			"embedded pickle is scanned like any other; this finding records that loading needs pickle.",
		Remediation: "Store numeric dtypes where possible; if object arrays are intended, keep allow_pickle limited to trusted files.",
	},
	{
		ID:       ArchiveEncrypted,
		Severity: High,
		Summary:  "An archive member is encrypted, so it cannot be scanned.",
		Rationale: "mlguard fails closed: a member it cannot read could hold anything, and the password-protected " +
			"archive is a known way to slip a payload past scanners.",
		Remediation: "Commit the model unencrypted, or waive the finding for this file by its sha256 after reviewing it.",
	},
	{
		ID:       ArchiveLimit,
		Severity: High,
		Summary:  "An archive went past a safety limit (nesting depth, entry count, decompressed size or ratio).",
		Rationale: "Archives nested deeply or expanding far beyond their size are decompression bombs or attempts to " +
			"hide content beyond a scanner's reach. What lies past the limit was not scanned.",
		Remediation: "Flatten or split the archive; a real model does not need five levels of nesting or a 1000:1 ratio.",
	},
	{
		ID:       ArchiveAnomaly,
		Severity: Low,
		Summary:  "An archive is built in a way that strict readers reject and lenient loaders accept.",
		Rationale: "Mismatched local and central names, unusual flag bits, data before the first member or a missing " +
			"central directory are how crafted archives make scanners give up while torch.load still reads them. " +
			"mlguard reads such archives the way the loaders do and scans every member; this finding records the trick.",
		Remediation: "Re-create the archive with the library that normally writes it (torch.save, numpy.savez) and ask where the odd one came from.",
	},
	{
		ID:       ScanIncomplete,
		Severity: High,
		Summary:  "A file or member could not be fully scanned (truncated, malformed, or in an unsupported encoding).",
		Rationale: "mlguard never passes what it could not read. Everything found before the problem is reported; what " +
			"lies after it was not examined, and a loader may still execute the part before the break.",
		Remediation: "Re-export the file with the library that made it; if the file is intentionally unusual, review it and waive the finding by its sha256.",
	},
	{
		ID:       ScanUnsupported,
		Severity: Info,
		Summary:  "A model format was recognised that this version of mlguard does not scan yet.",
		Rationale: "The file is listed so that nothing passes unseen, but its content was not examined. Formats such " +
			"as safetensors carry no code by design; others (Keras HDF5, GGUF chat templates) can.",
		Remediation: "Review the file by hand until a scanner for its format is available, or keep models in a scanned format.",
	},
}

// Rules returns every rule, in documentation order.
func Rules() []Rule { return append([]Rule(nil), rules...) }

// Lookup finds a rule by id.
func Lookup(id string) (Rule, bool) {
	for _, r := range rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
