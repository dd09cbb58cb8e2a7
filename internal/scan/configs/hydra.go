package configs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	"github.com/mlguard/mlguard/internal/scan/pickle"
	"gopkg.in/yaml.v3"
)

// Formats ScanYAML reports.
const (
	FormatHydra = "hydra-yaml"
	FormatNemo  = "nemo-config" // a NeMo model config: its top-level target is a nemo.* class
)

const (
	// MaxYAML bounds a YAML config.
	MaxYAML = 16 << 20
	// maxYAMLNodes bounds the nodes walked in one file; aliases are never
	// expanded, so a billion-laughs document costs what it weighs.
	maxYAMLNodes = 5_000_000
	maxYAMLDepth = 1000
	maxYAMLDocs  = 1000
	// maxMerge bounds how deep merge keys (<<: *base) are followed.
	maxMerge = 16
	// maxInterpolation bounds ${a.b} chains followed to find a target.
	maxInterpolation = 8
	maxYAMLFindings  = 500
)

// targetFamilies are the libraries whose classes NeMo, Hydra and Lightning
// configs instantiate in ordinary use (NeMo's own allow-list of target
// prefixes, and what its example configs name).
var targetFamilies = []string{
	"nemo", "nemo_text_processing", "torch", "torchaudio", "torchvision", "torchmetrics", "omegaconf",
	"pytorch_lightning", "lightning", "lightning_fabric", "transformers", "sentencepiece", "tokenizers",
	"megatron", "apex", "lhotse", "hydra",
}

// targetGadgets resolve and call another dotted path taken from their
// arguments: a way to reach anything through an allowed family.
var targetGadgets = []string{"hydra.utils", "hydra._internal", "hydra.core", "omegaconf.OmegaConf.load",
	"omegaconf.OmegaConf.register_new_resolver", "omegaconf.OmegaConf.register_resolver",
	"nemo.utils.model_utils.import_class_by_path", "lightning.pytorch.cli", "pytorch_lightning.cli",
	"torch.hub", "torch.load", "torch.package", "torch.jit.load", "torch.utils.cpp_extension"}

// ScanYAML scans a YAML config (a NeMo model_config.yaml, a Hydra or
// Lightning CLI config) for the callables loading it instantiates: _target_
// keys (hydra.utils.instantiate), NeMo's target (and cls/target with params,
// Hydra 0.x), class_path (Lightning CLI, jsonargparse); and for PyYAML
// python tags. Findings have Member set to member and Line set. Size may be
// -1 when unknown.
func ScanYAML(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options, member string) (*modelfile.Report, error) {
	rep := &modelfile.Report{Format: FormatHydra}
	b, err := modelfile.ReadAll(r, size, MaxYAML)
	if err != nil {
		rep.Findings = append(rep.Findings, incomplete(member, "the YAML config could not be read", err))
		return rep, nil
	}
	s := &yamlScan{ctx: ctx, member: member, index: map[string]int{}}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for docs := 0; ; docs++ {
		if docs >= maxYAMLDocs {
			s.incomplete(fmt.Sprintf("the YAML file has more than %d documents; the rest were not examined", maxYAMLDocs), nil)
			break
		}
		var doc yaml.Node
		err := decode(dec, &doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			s.incomplete("the YAML config is not valid YAML, so what a loader would instantiate is unknown", err)
			break
		}
		s.root = &doc
		if docs == 0 {
			rep.Format, rep.Architecture = s.modelTarget(&doc)
		}
		s.walk(&doc, "", 0)
		if s.stopped {
			break
		}
	}
	s.finish()
	rep.Findings = s.findings
	return rep, nil
}

// decode runs the YAML parser, turning its panics (it has had some on
// hostile input) into errors.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML parser failed: %v", r)
		}
	}()
	return dec.Decode(n)
}

type yamlScan struct {
	ctx      context.Context
	member   string
	root     *yaml.Node
	findings []finding.Finding
	counts   []int
	index    map[string]int
	nodes    int
	stopped  bool
}

func (s *yamlScan) emit(rule string, sev finding.Severity, msg, evidence string, line int, key string) {
	if i, ok := s.index[key]; ok {
		s.counts[i]++
		s.findings[i].Severity = max(s.findings[i].Severity, sev)
		return
	}
	if len(s.findings) >= maxYAMLFindings {
		return
	}
	f := finding.New(rule, msg)
	f.Severity = sev
	f.Member = s.member
	f.Line = line
	f.Evidence = modelfile.Clip(evidence, maxEvidence)
	s.index[key] = len(s.findings)
	s.findings = append(s.findings, f)
	s.counts = append(s.counts, 1)
}

func (s *yamlScan) incomplete(msg string, err error) {
	s.findings = append(s.findings, incomplete(s.member, msg, err))
	s.counts = append(s.counts, 1)
}

func (s *yamlScan) finish() {
	for i, n := range s.counts {
		if n > 1 {
			s.findings[i].Message += fmt.Sprintf(" (%d places in the file)", n)
		}
	}
}

// modelTarget reads the top-level target of a NeMo config: the model class.
func (s *yamlScan) modelTarget(doc *yaml.Node) (format, arch string) {
	format = FormatHydra
	top := content(doc)
	if top == nil || top.Kind != yaml.MappingNode {
		return format, ""
	}
	for _, k := range []string{"target", "_target_"} {
		if v := s.lookup(top, k, 0); v != nil {
			t := strings.TrimSpace(scalar(v))
			if strings.HasPrefix(t, "nemo.") {
				format = FormatNemo
			}
			if i := strings.LastIndexByte(t, '.'); i >= 0 && validDotted(t) {
				return format, modelfile.Clip(t[i+1:], 120)
			}
		}
	}
	return format, ""
}

func content(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0]
	}
	return doc
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxMerge; i++ {
		n = n.Alias
	}
	return n
}

func scalar(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// lookup finds key in mapping m as YAML loaders see it: the mapping's own
// keys first, then those merged in with "<<" (an alias or a list of them).
func (s *yamlScan) lookup(m *yaml.Node, key string, depth int) *yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode || depth > maxMerge {
		return nil
	}
	var merges []*yaml.Node
	var found *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := deref(m.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		switch {
		case k.Value == key && k.Tag != "!!merge":
			found = m.Content[i+1] // the last of duplicate keys wins
		case k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == ""):
			merges = append(merges, m.Content[i+1])
		}
	}
	if found != nil {
		return found
	}
	for _, mv := range merges {
		mv = deref(mv)
		if mv == nil {
			continue
		}
		srcs := []*yaml.Node{mv}
		if mv.Kind == yaml.SequenceNode {
			srcs = mv.Content
		}
		for _, src := range srcs {
			if v := s.lookup(src, key, depth+1); v != nil {
				return v
			}
		}
	}
	return nil
}

func (s *yamlScan) walk(n *yaml.Node, at string, depth int) {
	if s.stopped || n == nil {
		return
	}
	s.nodes++
	if s.nodes > maxYAMLNodes {
		s.stopped = true
		s.incomplete(fmt.Sprintf("the YAML config has more than %d nodes; the rest was not examined", maxYAMLNodes), nil)
		return
	}
	if depth > maxYAMLDepth {
		s.stopped = true
		s.incomplete(fmt.Sprintf("the YAML config is nested more than %d levels deep; the rest was not examined", maxYAMLDepth), nil)
		return
	}
	if s.nodes%4096 == 0 && s.ctx.Err() != nil {
		s.stopped = true
		s.incomplete("the scan was cancelled before the YAML config was fully examined", s.ctx.Err())
		return
	}
	s.tag(n, at)
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			s.walk(c, at, depth+1)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			s.walk(c, at+"["+strconv.Itoa(i)+"]", depth+1)
		}
	case yaml.MappingNode:
		s.targets(n, at)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				s.walk(k, at, depth+1)
			} else {
				s.tag(k, at)
			}
			s.walk(v, joinPath(at, k.Value), depth+1)
		}
	}
	// Alias nodes are not followed: the node they name is walked where it is defined.
}

func joinPath(a, b string) string {
	b = modelfile.Clip(b, 80)
	if a == "" {
		return b
	}
	return a + "." + b
}

func place(at string) string {
	if at == "" {
		return "the top level"
	}
	return at
}

// targets reports the callables a mapping makes its loader instantiate.
func (s *yamlScan) targets(m *yaml.Node, at string) {
	params := s.lookup(m, "params", 0) != nil
	for _, key := range []string{"_target_", "target", "cls", "class_path"} {
		v := s.lookup(m, key, 0)
		if v == nil {
			continue
		}
		raw := scalar(v)
		if deref(v) == nil || deref(v).Kind != yaml.ScalarNode {
			continue
		}
		switch key {
		case "target":
			// NeMo's model target; Hydra 0.x's target with params. Elsewhere
			// "target" is an ordinary word, so only dotted names count.
			if !params && (!validDotted(strings.TrimSpace(raw)) || !strings.Contains(raw, ".")) {
				continue
			}
		case "cls":
			if !params {
				continue
			}
		}
		s.target(m, key, raw, v.Line, at)
	}
}

func (s *yamlScan) target(m *yaml.Node, key, raw string, line int, at string) {
	t := strings.TrimSpace(raw)
	resolved, computed := s.interpolate(m, t, 0)
	who := "Hydra's instantiate"
	switch key {
	case "target":
		who = "NeMo (and Hydra 0.x)"
	case "cls":
		who = "Hydra 0.x"
	case "class_path":
		who = "Lightning CLI (jsonargparse)"
	}
	evidence := key + ": " + raw
	if args := s.lookup(m, "_args_", 0); args != nil {
		evidence += "; _args_: " + flatten(args, 200)
	}
	if resolved != t {
		evidence += " (resolves to " + resolved + ")"
	}
	sev, why := classifyTarget(resolved)
	if computed {
		sev, why = finding.Medium, "the target is computed when the config is loaded ("+modelfile.Clip(t, 80)+"), so what it names cannot be checked here"
	}
	if sev == finding.Info {
		return
	}
	if sev < finding.Critical {
		if cmd := s.shellArgs(m); cmd != "" {
			sev = finding.Critical
			why += "; its arguments look like a shell command: " + quote(cmd)
		}
	}
	name := resolved
	msg := fmt.Sprintf("%s: %s %s — %s imports and calls it when the config is loaded; %s", place(at), key, quote(name), who, why)
	s.emit(finding.ConfigHydraTarget, sev, msg, evidence, line, "target\x00"+resolved+"\x00"+why)
}

// interpolate resolves an OmegaConf interpolation "${a.b.c}" that names
// another node of the document; computed is true for interpolations it
// cannot resolve (resolvers such as ${oc.env:X}, relative paths).
func (s *yamlScan) interpolate(m *yaml.Node, t string, depth int) (string, bool) {
	if !strings.Contains(t, "${") {
		return t, false
	}
	if depth >= maxInterpolation || !strings.HasPrefix(t, "${") || !strings.HasSuffix(t, "}") || strings.Count(t, "${") != 1 {
		return t, true
	}
	ref := t[2 : len(t)-1]
	n := content(s.root)
	if strings.HasPrefix(ref, ".") && !strings.HasPrefix(ref, "..") {
		// ${.key}: a key of the same mapping.
		n, ref = m, ref[1:]
	}
	if strings.ContainsAny(ref, ":$") || !validDotted(ref) {
		return t, true
	}
	for _, part := range strings.Split(ref, ".") {
		n = s.lookup(n, part, 0)
		if n == nil {
			return t, true
		}
	}
	if v := scalar(n); v != "" {
		return s.interpolate(m, strings.TrimSpace(v), depth+1)
	}
	return t, true
}

// classifyTarget decides what a dotted path given to instantiate is: Info
// when it is an ordinary class of a known family.
func classifyTarget(t string) (finding.Severity, string) {
	if t == "" {
		return finding.Info, ""
	}
	if !validDotted(t) {
		return finding.Low, "it is not an importable dotted name as written"
	}
	module, name, _ := strings.Cut(t, ".")
	if name == "" {
		name, module = module, "builtins"
	}
	if v := pickle.Classify(module, name); v.Class == pickle.Dangerous && !ownIOModule(name, v) {
		return finding.Critical, v.Resolved + " is dangerous (" + v.Why + ")"
	}
	for _, g := range targetGadgets {
		if t == g || strings.HasPrefix(t, g+".") {
			return finding.Critical, t + " resolves, loads or calls further code named by its arguments"
		}
	}
	for _, f := range targetFamilies {
		if module == f {
			return finding.Info, ""
		}
	}
	return finding.Medium, "it is outside the libraries model configs ordinarily instantiate (NeMo, PyTorch, Lightning, OmegaConf, Transformers, SentencePiece, Megatron)"
}

// shellArgs returns a string argument of a target that looks like a shell
// command: _args_ and the mapping's own values.
func (s *yamlScan) shellArgs(m *yaml.Node) string {
	var found string
	var visit func(n *yaml.Node, depth int)
	visit = func(n *yaml.Node, depth int) {
		n = deref(n)
		if n == nil || found != "" || depth > 6 {
			return
		}
		switch n.Kind {
		case yaml.ScalarNode:
			if looksLikeShell(n.Value) {
				found = n.Value
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				visit(c, depth+1)
			}
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				visit(n.Content[i], depth+1)
			}
		}
	}
	visit(m, 0)
	return found
}

var shellFragments = []string{"/bin/sh", "/bin/bash", "bash -c", "sh -c", "cmd.exe", "powershell", "curl ", "wget ",
	"nc -e", "ncat ", "| sh", "|sh", "| bash", "rm -rf", "chmod +x", "/dev/tcp/", "base64 -d", "python -c",
	"python3 -c", "import os", "__import__", "os.system", "subprocess", "/etc/passwd", "authorized_keys"}

func looksLikeShell(s string) bool {
	l := strings.ToLower(s)
	for _, f := range shellFragments {
		if strings.Contains(l, f) {
			return true
		}
	}
	return false
}

// pythonTags that only build plain data.
var pythonDataTags = map[string]bool{
	"none": true, "bool": true, "str": true, "unicode": true, "bytes": true, "int": true, "long": true,
	"float": true, "complex": true, "list": true, "tuple": true, "dict": true,
}

// tag reports PyYAML python tags.
func (s *yamlScan) tag(n *yaml.Node, at string) {
	t := n.Tag
	switch {
	case strings.HasPrefix(t, "!!python/"):
		t = strings.TrimPrefix(t, "!!")
	case strings.HasPrefix(t, "tag:yaml.org,2002:python/"):
		t = strings.TrimPrefix(t, "tag:yaml.org,2002:")
	default:
		return
	}
	kind, arg, _ := strings.Cut(strings.TrimPrefix(t, "python/"), ":")
	if pythonDataTags[kind] {
		return
	}
	sev := finding.High
	why := "PyYAML's unsafe loaders build this Python object"
	switch kind {
	case "object/apply":
		why = "PyYAML's unsafe loaders call " + quote(arg) + " with the node's arguments"
	case "object/new", "object":
		why = "PyYAML's unsafe loaders instantiate " + quote(arg)
	case "name":
		why = "PyYAML's unsafe loaders import " + quote(arg)
	case "module":
		why = "PyYAML's unsafe loaders import the module " + quote(arg)
	}
	if arg != "" {
		module, name, _ := strings.Cut(arg, ".")
		if name == "" && kind != "module" {
			module, name = "builtins", module
		} else if kind == "module" {
			name = "x"
		}
		if v := pickle.Classify(module, name); v.Class == pickle.Dangerous {
			sev = finding.Critical
			why += ", which is dangerous (" + v.Why + ")"
		}
	}
	if sev < finding.Critical && (kind == "object/apply" || kind == "object/new") {
		for _, c := range n.Content {
			if looksLikeShell(flatten(c, 400)) {
				sev = finding.Critical
				why += "; its arguments look like a shell command"
				break
			}
		}
	}
	if looksLikeShell(n.Value) && sev < finding.Critical {
		sev = finding.Critical
		why += "; its argument looks like a shell command"
	}
	evidence := "!!" + t
	if n.Value != "" {
		evidence += " " + n.Value
	} else if len(n.Content) > 0 {
		evidence += " " + flatten(n, 200)
	}
	s.emit(finding.ConfigYAMLPythonTag, sev, fmt.Sprintf("%s: the tag !!%s — %s", place(at), t, why), evidence, n.Line, "tag\x00"+t+"\x00"+n.Value)
}

// flatten renders a node compactly for evidence.
func flatten(n *yaml.Node, limit int) string {
	var b strings.Builder
	var rec func(n *yaml.Node, depth int)
	rec = func(n *yaml.Node, depth int) {
		if b.Len() > limit || n == nil || depth > 8 {
			return
		}
		if n.Kind == yaml.AliasNode {
			b.WriteString("*" + n.Value)
			return
		}
		switch n.Kind {
		case yaml.ScalarNode:
			b.WriteString(quoteIfNeeded(n.Value))
		case yaml.SequenceNode:
			b.WriteString("[")
			for i, c := range n.Content {
				if i > 0 {
					b.WriteString(", ")
				}
				rec(c, depth+1)
			}
			b.WriteString("]")
		case yaml.MappingNode:
			b.WriteString("{")
			for i := 0; i+1 < len(n.Content); i += 2 {
				if i > 0 {
					b.WriteString(", ")
				}
				rec(n.Content[i], depth+1)
				b.WriteString(": ")
				rec(n.Content[i+1], depth+1)
			}
			b.WriteString("}")
		case yaml.DocumentNode:
			for _, c := range n.Content {
				rec(c, depth+1)
			}
		}
	}
	rec(n, 0)
	return modelfile.Clip(b.String(), limit)
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " ,:[]{}\"'\n") {
		return strconv.Quote(s)
	}
	return s
}

func quote(s string) string { return strconv.Quote(modelfile.Clip(s, 120)) }

// validDotted reports whether s is a dotted Python name.
func validDotted(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for _, p := range strings.Split(s, ".") {
		if p == "" {
			return false
		}
		for i, r := range p {
			if r != '_' && !unicode.IsLetter(r) && (i == 0 || !unicode.IsDigit(r)) {
				return false
			}
		}
	}
	return true
}

// ownIOModule reports whether a dangerous verdict only comes from a
// package's own io submodule (nemo.lightning.io.MLPMixin): the pickle
// classifier treats any attribute chain through "io" as reaching Python's
// io module, which is right for pickles and wrong for dotted import paths,
// where a.b.io is a.b's submodule. What follows io is still checked as
// Python's io module would be.
func ownIOModule(name string, v pickle.Verdict) bool {
	if !strings.HasPrefix(v.Why, "attribute chain into io") {
		return false
	}
	parts := strings.Split(name, ".")
	for i, p := range parts[:len(parts)-1] {
		if p == "io" || p == "_io" {
			rest := strings.Join(parts[i+1:], ".")
			return pickle.Classify("io", rest).Class != pickle.Dangerous
		}
	}
	return false
}
