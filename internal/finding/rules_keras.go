package finding

// Rules of Keras .h5 and .keras models (internal/scan/keras).
var kerasRules = []Rule{}
