package finding

// Rules of TensorFlow SavedModel and TFLite (internal/scan/tensorflow).
var tensorflowRules = []Rule{}
