package finding

// Rules of chat templates (Jinja2) in GGUF metadata and tokenizer_config.json (internal/scan/jinja).
var templateRules = []Rule{}
