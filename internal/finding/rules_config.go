package finding

// Rules of model-adjacent configs that loaders execute: Hugging Face auto_map, NeMo/Hydra _target_ (internal/scan/configs).
var configRules = []Rule{}
