// Package configs scans the configuration files that sit beside a model
// and that loaders execute rather than read: Hugging Face config.json and
// tokenizer_config.json (auto_map and custom_pipelines point at Python
// files the loader imports with trust_remote_code; chat templates are
// Jinja2 run by the tokenizer), sentence-transformers modules.json, and Hydra-style YAML such as a NeMo
// archive's model_config.yaml (_target_ keys name callables that
// hydra.utils.instantiate imports and calls). Kind tells the engine which
// of these a text file is, by name and content.
package configs

import (
	"bytes"
	"path"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/configs/pyjson"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// Kinds of config Kind recognises.
const (
	KindHF           = "hf-config"        // config.json and friends: ScanJSONConfig
	KindTokenizer    = "tokenizer-config" // tokenizer_config.json: ScanJSONConfig
	KindHydraYAML    = "hydra-yaml"       // Hydra/NeMo/Lightning YAML: ScanYAML
	KindKeras        = "keras-config"     // a Keras model config (Keras 3 config.json): keras.ScanConfigJSON or ScanJSONConfig
	KindChatTemplate = "chat-template"    // chat_template.jinja: ScanChatTemplate
)

// MaxSize bounds a config file. Real ones are kilobytes; tokenizer configs
// with thousands of added tokens reach a few megabytes.
const MaxSize = 32 << 20

// hfNames are files the Hugging Face libraries read as configs.
var hfNames = map[string]string{
	"config.json":                    KindHF,
	"tokenizer_config.json":          KindTokenizer,
	"generation_config.json":         KindHF,
	"preprocessor_config.json":       KindHF,
	"processor_config.json":          KindHF,
	"image_processor_config.json":    KindHF,
	"feature_extractor_config.json":  KindHF,
	"video_preprocessor_config.json": KindHF,
	"chat_template.json":             KindTokenizer,
	"modules.json":                   KindHF,
	"model_index.json":               KindHF,
	"scheduler_config.json":          KindHF,
}

// Kind says which kind of config a file is, from its name and the first
// bytes of its content (sniff.HeadSize is plenty), or "" when it is none of
// them. config.json is both Hugging Face's and the Keras 3 archive's: a
// Keras config starts with "module" or "class_name", a Hugging Face one
// names model_type, architectures or transformers_version.
func Kind(name string, head []byte) string {
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, "\\", "/")))
	ext := path.Ext(base)
	switch ext {
	case ".yaml", ".yml":
		if base == "model_config.yaml" || base == "hparams.yaml" || yamlMarkers(head) {
			return KindHydraYAML
		}
		return ""
	case ".jinja", ".j2", ".jinja2":
		if strings.Contains(base, "chat_template") || strings.Contains(strings.ToLower(name), "chat_template") {
			return KindChatTemplate
		}
		return ""
	}
	text := strings.TrimLeft(pyjson.Decode(head), " \t\r\n")
	if !strings.HasPrefix(text, "{") && !strings.HasPrefix(text, "[") {
		return ""
	}
	if isKerasHead(text) {
		return KindKeras
	}
	if k, ok := hfNames[base]; ok {
		if base != "config.json" || hfMarkers(text) {
			return k
		}
		return ""
	}
	if ext != ".json" {
		return ""
	}
	switch {
	case strings.Contains(text, `"chat_template"`) || strings.Contains(text, `"tokenizer_class"`):
		return KindTokenizer
	case strings.Contains(text, `"auto_map"`) || hfMarkers(text):
		return KindHF
	}
	return ""
}

// isKerasHead reports whether a JSON document starts the way Keras writes
// configs: {"module": ..., "class_name": ...} (Keras 3) or {"class_name": ...} (Keras 2).
func isKerasHead(text string) bool {
	rest := strings.TrimLeft(strings.TrimPrefix(text, "{"), " \t\r\n")
	if strings.HasPrefix(rest, `"class_name"`) {
		return true
	}
	if strings.HasPrefix(rest, `"module"`) {
		return strings.Contains(text, `"class_name"`)
	}
	return false
}

func hfMarkers(text string) bool {
	for _, m := range []string{`"model_type"`, `"architectures"`, `"transformers_version"`, `"_name_or_path"`, `"auto_map"`} {
		if strings.Contains(text, m) {
			return true
		}
	}
	return false
}

func yamlMarkers(head []byte) bool {
	for _, m := range [][]byte{[]byte("_target_"), []byte("class_path:"), []byte("!!python/"), []byte("tag:yaml.org,2002:python/")} {
		if bytes.Contains(head, m) {
			return true
		}
	}
	return false
}

func incomplete(member, msg string, err error) finding.Finding {
	f := finding.New(finding.ScanIncomplete, msg)
	f.Member = member
	if err != nil {
		f.Evidence = modelfile.Clip(err.Error(), maxEvidence)
	}
	return f
}

const maxEvidence = 300

func joinMember(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "!" + b
}
