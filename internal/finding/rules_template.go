package finding

// Rule ids of chat templates.
const (
	TemplateSandboxEscape    = "template/sandbox-escape"
	TemplateSuspiciousAccess = "template/suspicious-access"
	TemplateExternal         = "template/external-template"
	TemplateUnparseable      = "template/unparseable"
)

// Rules of chat templates (Jinja2) in GGUF metadata and tokenizer_config.json (internal/scan/jinja).
var templateRules = []Rule{
	{
		ID:       TemplateSandboxEscape,
		Severity: Critical,
		Summary:  "The chat template reaches Python internals (dunder attributes, SSTI gadgets) or calls code-running functions.",
		Rationale: "Chat templates are Jinja2 programs that llama.cpp front ends, llama-cpp-python, transformers and " +
			"inference servers render on every request. Attribute chains such as ().__class__.__base__.__subclasses__() " +
			"or cycler.__init__.__globals__.os.popen(...) lead from a harmless object to the Python runtime and run " +
			"commands on the machine that renders the template (CVE-2024-34359 in llama-cpp-python). mlguard parses " +
			"the template, folds names built from constants ('__cla' ~ 'ss__', |attr('\\x5f\\x5f...'), |format, |join) " +
			"and reports any access to such names. An ordinary chat template formats messages and never needs them.",
		Remediation: "Do not serve the model with this template. Replace the template with the one its publisher " +
			"documents, or render templates only in a sandboxed environment (jinja2.sandbox.ImmutableSandboxedEnvironment) " +
			"and find out who changed it.",
	},
	{
		ID:       TemplateSuspiciousAccess,
		Severity: Medium,
		Summary:  "The chat template looks up attributes whose names are not constants, or private attributes.",
		Rationale: "|attr() with a variable, a key assembled from characters picked out of an object's text, or an " +
			"attribute starting with an underscore are how sandbox escapes hide the names they use from scanners. " +
			"mlguard cannot prove what the name will be at render time, so it reports the access for review rather " +
			"than as an escape.",
		Remediation: "Read the template around the evidence. Chat templates look up fixed keys such as " +
			"message['role']; if the computed name is legitimate, waive the finding for this file by its sha256.",
	},
	{
		ID:       TemplateExternal,
		Severity: High,
		Summary:  "The chat template includes, imports or extends another template.",
		Rationale: "A chat template ships inside the model and should be self-contained. {% include %}, {% import %}, " +
			"{% from %} and {% extends %} pull in a template by name; renderers configured with a file-system loader " +
			"read it from the serving machine, which can disclose files or run a template that was never reviewed.",
		Remediation: "Inline what the template needs, or replace it with the publisher's template.",
	},
	{
		ID:       TemplateUnparseable,
		Severity: Medium,
		Summary:  "The chat template is not valid Jinja2, is too large or too complex to analyse.",
		Rationale: "Renderers reject an invalid template or, worse, read it differently from each other (llama.cpp's " +
			"own Jinja engine, minja, Python's jinja2), and a template mlguard could not parse could not be checked " +
			"for escapes. The template was still scanned word by word for the names escapes use.",
		Remediation: "Fix the template so that jinja2 parses it (python -c \"import jinja2; jinja2.Environment().parse(open('t.jinja').read())\"), or replace it with the publisher's template.",
	},
}
