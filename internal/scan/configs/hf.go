package configs

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/configs/pyjson"
	"github.com/mlguard/mlguard/internal/scan/jinja"
	"github.com/mlguard/mlguard/internal/scan/keras"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	"github.com/mlguard/mlguard/internal/scan/pickle"
)

// Formats ScanJSONConfig reports.
const (
	FormatHF        = "hf-config"
	FormatTokenizer = "tokenizer-config"
	FormatJSON      = "json-config"
)

// ScanJSONConfig scans a JSON config, deciding what it is by content: a
// Keras model config (class_name at the top) is walked as
// keras.AnalyzeConfig does; a Hugging Face config is checked for auto_map
// and custom_pipelines (remote code) and chat_template (Jinja2, analysed by
// package jinja); a sentence-transformers modules.json for module types
// outside the library. Findings have Member set to member (pass "" when the
// caller attaches the member itself); chat template findings add
// "chat_template" (or "chat_template:<name>") below it. Size may be -1 when
// unknown.
func ScanJSONConfig(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options, member string) (*modelfile.Report, error) {
	b, err := modelfile.ReadAll(r, size, MaxSize)
	if err != nil {
		return &modelfile.Report{Format: FormatJSON, Findings: []finding.Finding{incomplete(member, "the JSON config could not be read", err)}}, nil
	}
	text := pyjson.Decode(b)
	v, err := pyjson.Parse(text)
	if err != nil {
		return &modelfile.Report{Format: FormatJSON, Findings: []finding.Finding{
			incomplete(member, "the JSON config is not valid JSON, so what a loader would do with it is unknown", err)}}, nil
	}
	if o, ok := v.(*pyjson.Object); ok {
		if _, isKeras := o.String("class_name"); isKeras {
			rep := keras.AnalyzeConfigOpt(ctx, b, member, opt)
			return rep, nil
		}
	}
	s := &hfScan{member: member, lines: pyjson.NewLines(text), exact: text == string(b)}
	rep := &modelfile.Report{Format: FormatJSON}
	switch x := v.(type) {
	case *pyjson.Object:
		rep.Format, rep.Architecture = hfFormat(x)
		s.autoMap(x)
		s.customPipelines(x)
		s.chatTemplates(x)
	case []any:
		s.stModules(x)
	}
	rep.Findings = s.findings
	return rep, nil
}

// hfFormat tells a model config from a tokenizer config and names the architecture.
func hfFormat(o *pyjson.Object) (format, arch string) {
	format = FormatJSON
	for _, k := range []string{"model_type", "architectures", "transformers_version", "auto_map", "_name_or_path"} {
		if _, ok := o.Get(k); ok {
			format = FormatHF
		}
	}
	for _, k := range []string{"tokenizer_class", "chat_template", "added_tokens_decoder", "model_max_length"} {
		if _, ok := o.Get(k); ok {
			format = FormatTokenizer
		}
	}
	if a, ok := o.Get("architectures"); ok {
		if list, ok := a.([]any); ok && len(list) > 0 {
			if s, ok := list[0].(string); ok {
				arch = s
			}
		}
	}
	if arch == "" {
		arch, _ = o.String("model_type")
	}
	if arch == "" {
		arch, _ = o.String("_class_name") // diffusers model_index.json
	}
	return format, modelfile.Clip(arch, 120)
}

type hfScan struct {
	member   string
	lines    pyjson.Lines
	exact    bool
	findings []finding.Finding
}

func (s *hfScan) add(f finding.Finding, offset int) {
	if f.Member == "" {
		f.Member = s.member
	}
	f.Line = s.lines.Line(offset)
	f.Offset = 0
	if s.exact {
		f.Offset = int64(offset)
	}
	s.findings = append(s.findings, f)
}

// codeRef is a class reference transformers resolves by downloading code:
// "module.Class" in this repository, "owner/repo--module.Class" in another.
type codeRef struct {
	Repo, Module, Class string
	Malformed           bool
}

func parseCodeRef(ref string) codeRef {
	var c codeRef
	rest := ref
	if i := strings.Index(rest, "--"); i >= 0 {
		c.Repo, rest = rest[:i], rest[i+2:]
	}
	mod, cls, ok := strings.Cut(rest, ".")
	c.Module, c.Class = mod, cls
	if !ok || mod == "" || cls == "" || strings.Contains(cls, ".") || strings.Contains(rest, "--") ||
		strings.ContainsAny(mod, `/\ `) || strings.ContainsAny(c.Repo, `\ `) || mod == ".." {
		c.Malformed = true
	}
	return c
}

// file is the Python file transformers downloads and imports.
func (c codeRef) file() string { return c.Module + ".py" }

// autoMap reports auto_map entries: each distinct code file once, with the
// auto classes and the classes it provides.
func (s *hfScan) autoMap(o *pyjson.Object) {
	am, ok := o.Object("auto_map")
	if !ok {
		return
	}
	type group struct {
		ref     codeRef
		autos   []string
		classes []string
		raw     []string
	}
	var groups []*group
	find := func(c codeRef) *group {
		for _, g := range groups {
			if g.ref.Repo == c.Repo && g.ref.Module == c.Module {
				return g
			}
		}
		g := &group{ref: c}
		groups = append(groups, g)
		return g
	}
	am.Effective(func(auto string, v any) {
		var refs []string
		switch x := v.(type) {
		case string:
			refs = []string{x}
		case []any: // tokenizers: [slow, fast], either may be null
			for _, it := range x {
				if s, ok := it.(string); ok {
					refs = append(refs, s)
				}
			}
		}
		for _, ref := range refs {
			if ref == "" {
				continue
			}
			c := parseCodeRef(ref)
			g := find(c)
			if !slices.Contains(g.autos, auto) {
				g.autos = append(g.autos, auto)
			}
			if c.Class != "" && !slices.Contains(g.classes, c.Class) {
				g.classes = append(g.classes, c.Class)
			}
			g.raw = append(g.raw, fmt.Sprintf("%q: %q", auto, ref))
		}
	})
	at := o.ValueOffset("auto_map")
	for _, g := range groups {
		s.add(remoteCode(g.ref, "auto_map sends "+strings.Join(g.autos, ", "), g.classes, strings.Join(g.raw, ", ")), at)
	}
}

// remoteCode builds the finding for code a loader fetches.
func remoteCode(c codeRef, what string, classes []string, evidence string) finding.Finding {
	var msg string
	sev := finding.High
	cls := ""
	if len(classes) > 0 {
		cls = " (" + strings.Join(classes, ", ") + ")"
	}
	switch {
	case c.Malformed:
		msg = fmt.Sprintf("%s to %q, a reference transformers cannot split into a file and a class; other loaders may read it differently", what, modelfile.Clip(c.Repo+"--"+c.Module+"."+c.Class, 120))
		if c.Repo == "" {
			msg = fmt.Sprintf("%s to %q, a reference transformers cannot split into a file and a class; other loaders may read it differently", what, modelfile.Clip(c.Module+"."+c.Class, 120))
		}
	case c.Repo != "":
		sev = finding.Critical
		msg = fmt.Sprintf("%s to %s%s in the repository %s, not this one: loading with trust_remote_code=True downloads and runs that file at the other repository's latest revision", what, c.file(), cls, c.Repo)
	default:
		msg = fmt.Sprintf("%s to %s%s: loading with trust_remote_code=True runs %s from the model repository", what, c.file(), cls, c.file())
	}
	f := finding.New(finding.ConfigRemoteCode, msg)
	f.Severity = sev
	f.Evidence = modelfile.Clip(evidence, maxEvidence)
	return f
}

// customPipelines reports transformers custom pipelines ({"task": {"impl": "file.Class"}}).
func (s *hfScan) customPipelines(o *pyjson.Object) {
	cp, ok := o.Object("custom_pipelines")
	if !ok {
		return
	}
	at := o.ValueOffset("custom_pipelines")
	cp.Effective(func(task string, v any) {
		p, ok := v.(*pyjson.Object)
		if !ok {
			return
		}
		impl, ok := p.String("impl")
		if !ok || impl == "" {
			return
		}
		c := parseCodeRef(impl)
		s.add(remoteCode(c, fmt.Sprintf("custom_pipelines sends the %q task", task), []string{c.Class}, fmt.Sprintf("%q: {\"impl\": %q}", task, impl)), at)
	})
}

// stBuiltin reports whether a module type is one of sentence-transformers' own.
func stBuiltin(t string) bool {
	return strings.HasPrefix(t, "sentence_transformers.")
}

// stModules reports sentence-transformers modules.json entries whose type is
// not a sentence-transformers module: the library imports that dotted path
// (from the repository with trust_remote_code, from anywhere in older releases).
func (s *hfScan) stModules(list []any) {
	for _, it := range list {
		o, ok := it.(*pyjson.Object)
		if !ok {
			continue
		}
		t, ok := o.String("type")
		if !ok || t == "" || stBuiltin(t) {
			continue
		}
		if _, ok := o.Get("path"); !ok {
			continue
		}
		i := strings.LastIndexByte(t, '.')
		c := codeRef{Module: t, Malformed: i < 0}
		if i >= 0 {
			c = codeRef{Module: t[:i], Class: t[i+1:]}
		}
		f := remoteCode(c, "modules.json sends a sentence-transformers module", []string{c.Class}, fmt.Sprintf("\"type\": %q", t))
		if v := pickle.Classify(c.Module, c.Class); i >= 0 && v.Class == pickle.Dangerous {
			f.Severity = finding.Critical
			f.Message = fmt.Sprintf("modules.json names %s as a module type: %s is dangerous (%s)", t, v.Resolved, v.Why)
		} else if i >= 0 && strings.Contains(c.Module, ".") {
			f.Message = fmt.Sprintf("modules.json names %s as a module type: sentence-transformers imports %s, which is not one of its own modules", t, c.Module)
		}
		s.add(f, o.Offset)
	}
}

// chatTemplates hands chat templates to the Jinja analyser: chat_template
// is a string, or a list of {"name": ..., "template": ...}.
func (s *hfScan) chatTemplates(o *pyjson.Object) {
	v, ok := o.Get("chat_template")
	if !ok {
		return
	}
	at := o.ValueOffset("chat_template")
	switch x := v.(type) {
	case string:
		s.template("chat_template", x, at)
	case []any:
		for _, it := range x {
			t, ok := it.(*pyjson.Object)
			if !ok {
				continue
			}
			name, _ := t.String("name")
			body, ok := t.String("template")
			if !ok {
				continue
			}
			label := "chat_template"
			if name != "" {
				label += ":" + sanitize(name)
			}
			s.template(label, body, t.ValueOffset("template"))
		}
	}
}

func (s *hfScan) template(label, body string, offset int) {
	for _, f := range jinja.Analyze(body) {
		// The template's own line is in the message; positions point at the JSON string.
		if f.Line > 0 {
			f.Message += fmt.Sprintf(" (line %d of the template)", f.Line)
		}
		f.Member = joinMember(s.member, label)
		s.add(f, offset)
	}
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '!' || r == '/' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
	return modelfile.Clip(s, 80)
}

// ScanChatTemplate scans a chat template stored as its own file
// (chat_template.jinja, additional_chat_templates/*.jinja), which
// transformers 4.50 and later write instead of the tokenizer_config.json key.
func ScanChatTemplate(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options, member string) (*modelfile.Report, error) {
	rep := &modelfile.Report{Format: "chat-template"}
	b, err := modelfile.ReadAll(r, size, MaxSize)
	if err != nil {
		rep.Findings = append(rep.Findings, incomplete(member, "the chat template could not be read", err))
		return rep, nil
	}
	for _, f := range jinja.Analyze(string(b)) {
		f.Member = joinMember(member, f.Member)
		rep.Findings = append(rep.Findings, f)
	}
	return rep, nil
}
