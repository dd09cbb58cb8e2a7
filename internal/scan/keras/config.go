// Package keras reads Keras models without loading them: the model config
// JSON of Keras 2 HDF5 files (the model_config and training_config
// attributes) and of Keras 3 .keras archives (config.json, with
// metadata.json beside it), walking every object the loader would rebuild.
// It reports Lambda layers and the code they carry, references to modules
// outside Keras, the functions the published safe_mode bypasses call,
// remote fetches, TensorFlow op layers that reach files or code, and
// TorchModuleWrapper layers, whose embedded pickle it hands to the engine.
package keras

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/configs/pyjson"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

const (
	// MaxConfig bounds a config document. Real configs are kilobytes to a few
	// megabytes; TorchModuleWrapper layers embed whole torch modules.
	MaxConfig = 256 << 20
	// maxNodes bounds the values walked in one config.
	maxNodes = 20_000_000
	// maxFindings bounds distinct findings from one config.
	maxFindings = 500
	// maxEvidence bounds evidence strings.
	maxEvidence = 300
)

// AnalyzeConfig walks a Keras model config (Keras 2 model_config or
// training_config, Keras 3 config.json) and returns its findings, with
// Member set to member. Embedded files are reported, not scanned; see
// AnalyzeConfigOpt.
func AnalyzeConfig(config []byte, member string) []finding.Finding {
	return AnalyzeConfigOpt(context.Background(), config, member, modelfile.Options{}).Findings
}

// AnalyzeConfigOpt is AnalyzeConfig that also scans embedded files (the
// pickled module of a TorchModuleWrapper layer) through opt.Nested, and
// returns the architecture the config names. Offset and Line of findings
// are positions in config. The report's Format is "keras-config".
func AnalyzeConfigOpt(ctx context.Context, config []byte, member string, opt modelfile.Options) *modelfile.Report {
	rep := &modelfile.Report{Format: "keras-config"}
	w := newWalker(ctx, opt, member)
	if len(config) > MaxConfig {
		w.incomplete(fmt.Sprintf("the Keras config is %d bytes, more than the %d this scanner reads", len(config), MaxConfig), "")
		rep.Findings = w.done()
		return rep
	}
	text := pyjson.Decode(config)
	w.exact = text == string(config)
	v, err := pyjson.Parse(text)
	if err != nil {
		w.incomplete("the Keras config is not valid JSON, so what the loader would rebuild is unknown", err.Error())
		rep.Findings = w.done()
		return rep
	}
	w.lines = pyjson.NewLines(text)
	rep.Architecture = architecture(v)
	w.walk(v, "", 0)
	rep.Findings = w.done()
	return rep
}

// architecture names the model: the top-level class and its name.
func architecture(v any) string {
	o, ok := v.(*pyjson.Object)
	if !ok {
		return ""
	}
	cn, _ := o.String("class_name")
	if cn == "" {
		return ""
	}
	cfg, _ := o.Object("config")
	if cfg != nil {
		if name, _ := cfg.String("name"); name != "" && name != cn {
			return modelfile.Clip(cn+" ("+name+")", 120)
		}
	}
	return modelfile.Clip(cn, 120)
}

type walker struct {
	ctx    context.Context
	opt    modelfile.Options
	member string
	lines  pyjson.Lines
	exact  bool // offsets in the parsed text are offsets in the input

	findings []finding.Finding
	counts   []int          // occurrences of each finding
	index    map[string]int // dedupe key -> index in findings
	dropped  int
	nodes    int
	stopped  bool

	consumed map[*pyjson.Object]bool // handled by an enclosing layer
	gadgets  map[string]bool         // gadget names already reported
	reported map[string]bool         // string values already reported
	cur      *pyjson.Object          // innermost object, where string findings point
	labels   []string                // enclosing layers, innermost last
}

func newWalker(ctx context.Context, opt modelfile.Options, member string) *walker {
	return &walker{ctx: ctx, opt: opt, member: member, index: map[string]int{},
		consumed: map[*pyjson.Object]bool{}, gadgets: map[string]bool{}, reported: map[string]bool{}}
}

// emit records a finding; findings with the same key are counted once.
func (w *walker) emit(rule string, sev finding.Severity, msg, evidence string, at *pyjson.Object, key string) {
	if key == "" {
		key = rule + "\x00" + msg
	}
	if i, ok := w.index[key]; ok {
		w.counts[i]++
		if sev > w.findings[i].Severity {
			w.findings[i].Severity = sev
		}
		return
	}
	if len(w.findings) >= maxFindings {
		w.dropped++
		return
	}
	f := finding.New(rule, msg)
	f.Severity = sev
	f.Member = w.member
	f.Evidence = modelfile.Clip(evidence, maxEvidence)
	if at != nil && w.lines != nil {
		f.Line = w.lines.Line(at.Offset)
		if w.exact {
			f.Offset = int64(at.Offset)
		}
	}
	w.index[key] = len(w.findings)
	w.findings = append(w.findings, f)
	w.counts = append(w.counts, 1)
}

func (w *walker) incomplete(msg, evidence string) {
	f := finding.New(finding.ScanIncomplete, msg)
	f.Member = w.member
	f.Evidence = modelfile.Clip(evidence, maxEvidence)
	w.findings = append(w.findings, f)
	w.counts = append(w.counts, 1)
}

func (w *walker) done() []finding.Finding {
	for i := range w.findings {
		if n := w.counts[i]; n > 1 {
			w.findings[i].Message += fmt.Sprintf(" (%d places in the config)", n)
		}
	}
	if w.dropped > 0 {
		f := finding.New(finding.ScanIncomplete, fmt.Sprintf("the Keras config has %d more findings than the %d reported", w.dropped, maxFindings))
		f.Member = w.member
		w.findings = append(w.findings, f)
	}
	return w.findings
}

// where describes the current place: the key and the enclosing layer.
func (w *walker) where(key string) string {
	layer := ""
	if n := len(w.labels); n > 0 {
		layer = w.labels[n-1]
	}
	switch {
	case key != "" && layer != "":
		return key + " of " + layer
	case layer != "":
		return layer
	case key != "":
		return key
	}
	return "the config"
}

func (w *walker) walk(v any, key string, depth int) {
	if w.stopped {
		return
	}
	w.nodes++
	if w.nodes > maxNodes {
		w.stopped = true
		w.incomplete(fmt.Sprintf("the Keras config has more than %d values; the rest was not examined", maxNodes), "")
		return
	}
	if w.nodes%4096 == 0 && w.ctx.Err() != nil {
		w.stopped = true
		w.incomplete("the scan was cancelled before the Keras config was fully examined", w.ctx.Err().Error())
		return
	}
	switch x := v.(type) {
	case *pyjson.Object:
		w.object(x, key, depth)
	case []any:
		for _, it := range x {
			w.walk(it, key, depth+1)
		}
	case string:
		w.str(x, key)
	}
}

func (w *walker) object(o *pyjson.Object, key string, depth int) {
	cn, hasClass := o.String("class_name")
	pushed := false
	if hasClass && !w.consumed[o] {
		w.classify(o, cn, key)
		if label := layerLabel(o, cn); label != "" {
			w.labels = append(w.labels, label)
			pushed = true
		}
	}
	outer := w.cur
	w.cur = o
	o.Effective(func(k string, v any) {
		w.walk(v, k, depth+1)
	})
	w.cur = outer
	if pushed {
		w.labels = w.labels[:len(w.labels)-1]
	}
}

// layerLabel is how messages name an object: `Dense "dense_1"`.
func layerLabel(o *pyjson.Object, cn string) string {
	if strings.HasPrefix(cn, "__") || cn == "function" {
		return ""
	}
	cfg, _ := o.Object("config")
	name := ""
	if cfg != nil {
		name, _ = cfg.String("name")
	}
	if name == "" {
		name, _ = o.String("name")
	}
	if name == "" {
		return modelfile.Clip(cn, 80)
	}
	return fmt.Sprintf("%s %q", modelfile.Clip(cn, 80), modelfile.Clip(name, 80))
}

// classify looks at one object that has a class_name.
func (w *walker) classify(o *pyjson.Object, cn, key string) {
	module, _ := o.String("module")
	registered, _ := o.String("registered_name")
	cfgv, _ := o.Get("config")
	cfg, _ := cfgv.(*pyjson.Object)
	switch cn {
	case "__lambda__":
		w.serializedLambda(o, cfg, key)
		return
	case "function":
		name, ok := cfgv.(string)
		if !ok {
			name, _ = o.String("registered_name")
		}
		w.reference(o, module, name, registered, true, key)
		return
	case "__bytes__", "__numpy__", "__tensor__", "__keras_tensor__", "__tuple__", "__ellipsis__", "__slice__":
		return
	case "__typespec__":
		spec, _ := o.String("spec_name")
		w.reference(o, module, spec, registered, false, key)
		return
	}
	switch cn {
	case "Lambda":
		w.lambdaLayer(o, cfg)
	case "TFOpLambda", "SlicingOpLambda":
		if cfg != nil {
			if fn, ok := cfg.String("function"); ok {
				if v := classifyTFOp(fn); v.rule != "" {
					w.emit(v.rule, v.sev, fmt.Sprintf("%s %s", w.labelOf(o, cn), v.why), "function: "+fn, o, "")
				}
			}
		}
	case "ClassMethod":
		if cfg != nil {
			cls, _ := cfg.String("cls_symbol")
			meth, _ := cfg.String("method_name")
			if v := classifyTFOp(cls + "." + meth); v.rule != "" {
				w.emit(v.rule, v.sev, fmt.Sprintf("%s %s", w.labelOf(o, cn), v.why), "cls_symbol: "+cls+", method_name: "+meth, o, "")
			}
		}
	case "TensorFlowOpLayer":
		if cfg != nil {
			if nd, ok := cfg.Object("node_def"); ok {
				if op, ok := nd.String("op"); ok {
					if v := classifyRawOp(op); v.rule != "" {
						w.emit(v.rule, v.sev, fmt.Sprintf("%s %s", w.labelOf(o, cn), v.why), "node_def.op: "+op, o, "")
					}
				}
			}
		}
	case "TorchModuleWrapper":
		w.torchModule(o, cfg)
	case "TFSMLayer":
		if cfg != nil {
			path, _ := cfg.String("filepath")
			w.reported[path] = true
			w.emit(finding.KerasRemoteFetch, finding.High,
				fmt.Sprintf("%s loads the TensorFlow SavedModel at %q when the model is loaded; that model is outside this file and was not scanned", w.labelOf(o, cn), modelfile.Clip(path, 200)),
				"filepath: "+path, o, "")
		}
	}
	w.reference(o, module, cn, registered, false, key)
}

// labelOf names an object for a message, falling back to where it is.
func (w *walker) labelOf(o *pyjson.Object, cn string) string {
	if l := layerLabel(o, cn); l != "" {
		return "layer " + l
	}
	return w.where("")
}

// reference reports a class or function reference when it is not ordinary.
func (w *walker) reference(o *pyjson.Object, module, name, registered string, fn bool, key string) {
	if name == "" && module == "" {
		return
	}
	v := classifyRef(module, name, registered, fn)
	if v.rule == "" {
		return
	}
	if v.rule == finding.KerasUnsafeDeserialization || v.rule == finding.KerasRemoteFetch {
		w.gadgets[gadgetBase(name)] = true
	}
	// A function sits under a key of a layer ("activation of Dense "d"");
	// a class is usually the layer itself.
	place := w.where(key)
	if !fn && (key == "" || key == "layers" || key == "layer" || key == "config") {
		if l := layerLabel(o, name); l != "" {
			place = "layer " + l
		}
	}
	format := "%s: %s"
	if v.rule == finding.KerasUnsafeDeserialization || v.rule == finding.KerasRemoteFetch {
		format = "%s names %s"
	}
	w.emit(v.rule, v.sev, fmt.Sprintf(format, place, v.why), refEvidence(module, name, registered, fn), o,
		v.rule+"\x00"+v.why)
}

func gadgetBase(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}

func refEvidence(module, name, registered string, fn bool) string {
	cn, cfg := name, ""
	if fn {
		cn, cfg = "function", fmt.Sprintf(", %q: %q", "config", name)
	}
	s := fmt.Sprintf(`{"class_name": %q%s`, cn, cfg)
	if module != "" {
		s = fmt.Sprintf(`{"module": %q, "class_name": %q%s`, module, cn, cfg)
	}
	if registered != "" {
		s += fmt.Sprintf(`, "registered_name": %q`, registered)
	}
	return s + "}"
}

// str looks at a string value.
func (w *walker) str(s, key string) {
	if len(s) > 4096 && key != "vocabulary" && key != "filepath" {
		// Embedded payloads (TorchModuleWrapper, __numpy__ data) are handled
		// where they are understood; gadget names and URLs are short.
		s = s[:4096]
	}
	for _, g := range []string{"enable_unsafe_deserialization", "set_global_attribute", "safe_mode_saving"} {
		if strings.Contains(s, g) && !w.gadgets[g] {
			w.gadgets[g] = true
			w.emit(finding.KerasUnsafeDeserialization, finding.Critical,
				fmt.Sprintf("%s names %s, which switches Keras's safe_mode off (CVE-2025-9906)", w.where(key), g), s, w.cur, "")
		}
	}
	switch key {
	case "vocabulary", "vocabulary_file", "vocab_file", "filepath", "handle", "origin", "url", "file_path", "path":
		if s == "" || w.reported[s] {
			return
		}
		if key == "path" && !isURL(s) {
			return
		}
		sev := finding.Medium
		what := "reads"
		if isURL(s) {
			sev, what = finding.High, "fetches"
		} else if isAbsOrEscaping(s) {
			sev = finding.High
		}
		if key == "vocabulary" || key == "vocabulary_file" || key == "vocab_file" {
			w.emit(finding.KerasRemoteFetch, sev,
				fmt.Sprintf("%s: the loader %s its vocabulary from %q, outside the model file (CVE-2025-12058)", w.where(key), what, modelfile.Clip(s, 200)), key+": "+s, w.cur, "")
			return
		}
		w.emit(finding.KerasRemoteFetch, sev,
			fmt.Sprintf("%s: the loader %s %q, outside the model file", w.where(key), what, modelfile.Clip(s, 200)), key+": "+s, w.cur, "")
		return
	}
	if isURL(s) {
		w.emit(finding.KerasRemoteFetch, finding.Medium,
			fmt.Sprintf("%s holds the URL %q; a config has no reason to name one unless something fetches it", w.where(key), modelfile.Clip(s, 200)), s, w.cur, "")
	}
}

func isURL(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	for _, p := range []string{"http://", "https://", "ftp://", "ftps://", "gs://", "s3://", "hdfs://", "file://", "//"} {
		if strings.HasPrefix(l, p) && len(l) > len(p) {
			return true
		}
	}
	return false
}

func isAbsOrEscaping(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") || strings.HasPrefix(s, `\`) ||
		len(s) > 2 && s[1] == ':' || strings.Contains(s, "..")
}

// lambdaLayer reports a Lambda layer's function, output_shape and mask.
// Keras 3 stores each as {"class_name": "__lambda__", "config": {"code":
// ...}} or as a function reference; Keras 2 as a value with a
// <field>_type of "lambda" (func_dump: [code, defaults, closure]),
// "function" (a name) or "raw" (plain data), and a <field>_module.
func (w *walker) lambdaLayer(o *pyjson.Object, cfg *pyjson.Object) {
	label := w.labelOf(o, "Lambda")
	if cfg == nil {
		w.emit(finding.KerasLambdaLayer, finding.High, label+" has no readable config; the loader may still rebuild its function", "", o, "")
		return
	}
	for _, field := range []string{"function", "output_shape", "mask"} {
		fv, ok := cfg.Get(field)
		if !ok || fv == nil {
			continue
		}
		typ, _ := cfg.String(field + "_type")
		modKey := field + "_module"
		if field == "function" {
			modKey = "module"
		}
		mod, _ := cfg.String(modKey)
		what := "its " + field
		if field == "function" {
			what = "its function"
		}
		switch x := fv.(type) {
		case *pyjson.Object:
			cn, _ := x.String("class_name")
			w.consumed[x] = true
			switch cn {
			case "__lambda__":
				code, defaults := lambdaCode(x)
				w.bytecode(label, what, code, defaults, "", o)
			case "":
				// Not a serialized object: plain data.
			default:
				fmod, _ := x.String("module")
				reg, _ := x.String("registered_name")
				name, _ := x.String("config")
				if cn != "function" {
					name = cn
				}
				w.namedFunction(label, what, fmod, name, reg, o)
			}
		case []any:
			if typ == "raw" || typ == "" && !looksLikeFuncDump(x) {
				continue
			}
			code := ""
			if len(x) > 0 {
				code, _ = x[0].(string)
			}
			var defaults any
			if len(x) > 1 {
				defaults = x[1]
			}
			w.bytecode(label, what, code, defaults, mod, o)
		case string:
			switch typ {
			case "lambda":
				w.bytecode(label, what, x, nil, mod, o)
			case "function", "":
				if typ == "function" || field == "function" {
					w.keras2Function(label, what, mod, x, o)
				}
			}
		}
	}
}

// looksLikeFuncDump reports whether a list is func_dump's [code, defaults, closure].
func looksLikeFuncDump(x []any) bool {
	if len(x) != 3 {
		return false
	}
	s, ok := x[0].(string)
	return ok && len(s) >= 8 && isBase64ish(s)
}

func isBase64ish(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r') {
			return false
		}
	}
	return true
}

// lambdaCode returns the code of a {"class_name": "__lambda__"} object:
// config.code (Lambda layers) or config.value[0] (serialize_keras_object).
func lambdaCode(o *pyjson.Object) (string, any) {
	cfg, _ := o.Object("config")
	if cfg == nil {
		return "", nil
	}
	if code, ok := cfg.String("code"); ok {
		d, _ := cfg.Get("defaults")
		return code, d
	}
	if v, ok := cfg.Get("value"); ok {
		switch x := v.(type) {
		case []any:
			code := ""
			if len(x) > 0 {
				code, _ = x[0].(string)
			}
			var d any
			if len(x) > 1 {
				d = x[1]
			}
			return code, d
		case string:
			return x, nil
		}
	}
	return "", nil
}

// serializedLambda reports a Python lambda serialized outside a Lambda
// layer: an activation, a loss, a metric or a layer argument.
func (w *walker) serializedLambda(o, cfg *pyjson.Object, key string) {
	code, defaults := lambdaCode(o)
	w.bytecode(w.where(key), "", code, defaults, "", o)
}

// bytecode reports a function saved as marshalled bytecode.
func (w *walker) bytecode(label, what, code string, defaults any, module string, at *pyjson.Object) {
	subject := label + " holds Python bytecode"
	if what != "" {
		subject += " for " + what
	}
	subject += " (a serialized lambda), which Keras rebuilds and runs"
	sev := finding.High
	var notes []string
	evidence := ""
	if module != "" {
		notes = append(notes, "its globals come from module "+module)
		if v := classifyRef(module, "x", "", true); v.sev == finding.Critical && v.rule == finding.KerasCustomObject {
			sev = finding.Critical
			notes[len(notes)-1] += ", a dangerous module"
		}
	}
	info, err := decodeFuncDump(code)
	switch {
	case code == "":
		notes = append(notes, "the code is missing or not a string")
	case err != nil:
		notes = append(notes, "the code could not be decoded: "+err.Error())
	default:
		names, strs := info.assess()
		if len(names) > 0 || len(strs) > 0 {
			sev = finding.Critical
		}
		if len(names) > 0 {
			notes = append(notes, "it uses "+strings.Join(names, ", "))
		}
		if len(strs) > 0 {
			notes = append(notes, "its strings include "+quoteList(strs))
		}
		parts := []string{fmt.Sprintf("%d bytes of marshalled code", info.Size)}
		if info.Decoded {
			if info.Filename != "" || info.Function != "" {
				parts = append(parts, fmt.Sprintf("compiled from %s in %s", quote(info.Function), quote(info.Filename)))
			}
		} else {
			parts = append(parts, "not a code object mlguard could parse; printable strings follow")
		}
		if len(info.Names) > 0 {
			parts = append(parts, "names: "+strings.Join(info.Names, ", "))
		}
		if len(info.Strings) > 0 {
			parts = append(parts, "strings: "+quoteList(info.Strings))
		}
		evidence = strings.Join(parts, "; ")
	}
	for _, s := range stringsIn(defaults, 16) {
		if l := strings.ToLower(s); containsAny(l, suspiciousStrings) {
			sev = finding.Critical
			notes = append(notes, "its default arguments include "+quoteList([]string{s}))
		}
	}
	msg := subject
	if len(notes) > 0 {
		msg += "; " + strings.Join(notes, "; ")
	}
	if evidence == "" {
		evidence = modelfile.Clip(code, 120)
	}
	w.emit(finding.KerasLambdaLayer, sev, msg, evidence, at, "")
}

// namedFunction reports a Lambda layer that calls a function by name.
func (w *walker) namedFunction(label, what, module, name, registered string, at *pyjson.Object) {
	full := name
	if module != "" {
		full = module + "." + name
	}
	v := classifyRef(module, name, registered, true)
	if v.rule == finding.KerasUnsafeDeserialization || v.rule == finding.KerasRemoteFetch {
		w.gadgets[gadgetBase(name)] = true
		w.emit(v.rule, v.sev, fmt.Sprintf("%s calls %s", label, v.why), refEvidence(module, name, registered, true), at, "")
		return
	}
	sev := finding.High
	msg := fmt.Sprintf("%s calls the function %s with arguments from the config", label, full)
	if what != "its function" {
		msg = fmt.Sprintf("%s computes %s with the function %s", label, what, full)
	}
	switch {
	case v.rule != "" && v.sev == finding.Critical:
		sev = finding.Critical
		msg += "; " + v.why
	case v.rule == "" && module != "" && inKerasFamily(module):
		sev = finding.Medium
	case v.rule != "":
		msg += "; " + v.why
	}
	w.emit(finding.KerasLambdaLayer, sev, msg, refEvidence(module, name, registered, true), at, "")
}

// keras2Function reports a Keras 2 Lambda whose function is a name
// (function_type "function"): tf.keras looks the name up among Keras's
// objects and the custom objects the loading program registers; the module
// only says where the author's function lived.
func (w *walker) keras2Function(label, what, module, name string, at *pyjson.Object) {
	full := name
	if module != "" {
		full = module + "." + name
	}
	if v := classifyRef(module, name, "", true); v.rule == finding.KerasUnsafeDeserialization || v.rule == finding.KerasRemoteFetch ||
		v.sev == finding.Critical {
		w.namedFunction(label, what, module, name, "", at)
		return
	}
	msg := fmt.Sprintf("%s calls the function %s with arguments from the config; tf.keras resolves the name among the custom objects the loading program registers", label, full)
	if what != "its function" {
		msg = fmt.Sprintf("%s computes %s with the function %s, resolved among the custom objects the loading program registers", label, what, full)
	}
	sev := finding.High
	if module != "" && inKerasFamily(module) {
		sev = finding.Medium
	}
	w.emit(finding.KerasLambdaLayer, sev, msg, refEvidence(module, name, "", true), at, "")
}

// torchModule reports a TorchModuleWrapper layer and scans its pickle.
func (w *walker) torchModule(o, cfg *pyjson.Object) {
	label := w.labelOf(o, "TorchModuleWrapper")
	if cfg == nil {
		return
	}
	mv, ok := cfg.Get("module")
	if !ok || mv == nil {
		return
	}
	var payload []byte
	switch x := mv.(type) {
	case string:
		clean := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, x)
		b, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			if b, err = lenientBase64(clean); err != nil {
				w.emit(finding.ScanIncomplete, finding.High, label+": the embedded torch module is not valid base64, so it could not be scanned", modelfile.Clip(x, 80), o, "")
				return
			}
		}
		payload = b
	case *pyjson.Object:
		// {"class_name": "__bytes__", "config": {"value": "..."}}: bytes as UTF-8 text.
		w.consumed[x] = true
		if c, ok := x.Object("config"); ok {
			if s, ok := c.String("value"); ok {
				payload = []byte(s)
			}
		}
	}
	if payload == nil {
		w.emit(finding.ScanIncomplete, finding.High, label+": the embedded torch module is in a form mlguard does not read", "", o, "")
		return
	}
	msg := fmt.Sprintf("%s embeds a torch.save'd module of %d bytes, which loading unpickles with torch.load(weights_only=False)", label, len(payload))
	if w.opt.Nested == nil {
		msg += "; it was not scanned here"
	}
	w.emit(finding.KerasEmbeddedModule, finding.Medium, msg, "starts "+strconv.QuoteToASCII(string(payload[:min(len(payload), 32)])), o, "")
	if w.opt.Nested == nil {
		return
	}
	name := "module"
	if cfg != nil {
		if n, _ := cfg.String("name"); n != "" {
			name = sanitizeName(n) + "/module"
		}
	}
	for _, f := range w.opt.Nested(w.ctx, name, bytes.NewReader(payload), int64(len(payload))) {
		if w.member != "" {
			if f.Member == "" {
				f.Member = w.member
			} else {
				f.Member = w.member + "!" + f.Member
			}
		}
		w.findings = append(w.findings, f)
		w.counts = append(w.counts, 1)
	}
}

func sanitizeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '!' || r == '/' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
	return modelfile.Clip(s, 80)
}

func stringsIn(v any, max int) []string {
	var out []string
	var rec func(any, int)
	rec = func(v any, depth int) {
		if len(out) >= max || depth > 8 {
			return
		}
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, it := range x {
				rec(it, depth+1)
			}
		case *pyjson.Object:
			for _, it := range x.Values {
				rec(it, depth+1)
			}
		}
	}
	rec(v, 0)
	return out
}

func containsAny(s string, frags []string) bool {
	return slices.ContainsFunc(frags, func(f string) bool { return strings.Contains(s, f) })
}

func quote(s string) string { return fmt.Sprintf("%q", modelfile.Clip(s, 120)) }

func quoteList(list []string) string {
	var b strings.Builder
	for i, s := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		if b.Len() > maxEvidence {
			b.WriteString("...")
			break
		}
		b.WriteString(quote(s))
	}
	return b.String()
}
