package finding

// Rules of ONNX models (internal/scan/onnx).
var onnxRules = []Rule{}
