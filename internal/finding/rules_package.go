package finding

// Rules of dependencies and their health (internal/health).
var packageRules = []Rule{}
