package finding

// Rules of safetensors files (internal/scan/safetensors).
var safetensorsRules = []Rule{}
