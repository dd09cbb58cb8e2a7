package finding

// Rules of GGUF files (internal/scan/gguf).
var ggufRules = []Rule{}
