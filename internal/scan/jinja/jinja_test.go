package jinja

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mlguard/mlguard/internal/finding"
)

var update = flag.Bool("update", false, "rewrite testdata/findings.golden")

func readDir(t testing.TB, dir string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.jinja"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in %s: %v", dir, err)
	}
	out := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[dir+"/"+filepath.Base(p)] = string(b)
	}
	return out
}

// TestBenignTemplates: real chat templates (Llama 3.1, Qwen 2.5/3, Gemma 2,
// Phi-3/3.5, Mistral v0.2/Nemo/Small 3.2, DeepSeek, Command-R+ with tools,
// Hermes 3, Granite, gpt-oss, functionary, Kimi K2, GLM-4) yield nothing.
func TestBenignTemplates(t *testing.T) {
	t.Parallel()
	for name, src := range readDir(t, "benign") {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Analyze(src); len(got) != 0 {
				t.Errorf("Analyze = %+v, want no finding", got)
			}
		})
	}
}

// TestMaliciousTemplates: every payload is reported at critical (an
// include, which escapes nothing by itself, at high).
func TestMaliciousTemplates(t *testing.T) {
	t.Parallel()
	fixtures := readDir(t, "malicious")
	if len(fixtures) < 10 {
		t.Fatalf("%d malicious fixtures, want at least 10", len(fixtures))
	}
	for name, src := range fixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := finding.Critical
			if strings.Contains(name, "include") {
				want = finding.High
			}
			got := Analyze(src)
			if !slices.ContainsFunc(got, func(f finding.Finding) bool { return f.Severity == want }) {
				t.Errorf("no %v finding: %+v", want, got)
			}
			if slices.ContainsFunc(got, func(f finding.Finding) bool { return f.Rule == finding.TemplateUnparseable }) {
				t.Errorf("fixture does not parse: %+v", got)
			}
		})
	}
}

// TestFixturesGolden pins every finding of the malicious and suspicious
// fixtures; run with -update after an intended change.
func TestFixturesGolden(t *testing.T) {
	t.Parallel()
	fixtures := readDir(t, "malicious")
	for k, v := range readDir(t, "suspicious") {
		fixtures[k] = v
	}
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(fixtures)) {
		fmt.Fprintf(&b, "%s\n", name)
		for _, f := range Analyze(fixtures[name]) {
			fmt.Fprintf(&b, "\t%s %s line %d offset %d: %s\n", f.Severity, f.Rule, f.Line, f.Offset, f.Message)
		}
	}
	path := filepath.Join("testdata", "findings.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("findings changed; run go test ./internal/scan/jinja -run TestFixturesGolden -update (-want +got):\n%s", diff)
	}
}

type hit struct {
	Rule string
	Line int
}

func hits(fs []finding.Finding) []hit {
	var out []hit
	for _, f := range fs {
		h := hit{f.Rule, f.Line}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

const (
	escape     = finding.TemplateSandboxEscape
	suspicious = finding.TemplateSuspiciousAccess
	external   = finding.TemplateExternal
	invalid    = finding.TemplateUnparseable
)

func TestAnalyze(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tpl  string
		want []hit
	}{
		// Constructs ordinary chat templates use.
		{"namespace and loop", "{%- set ns = namespace(found=false, idx=0) -%}{%- for m in messages -%}{%- if loop.first and m.role == 'system' -%}{%- set ns.found = true -%}{%- endif -%}{%- set ns.idx = loop.index0 -%}{%- endfor -%}{{ ns.idx }}", nil},
		{"raise_exception", "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}", nil},
		{"string methods", "{{ message.content.strip().split('</think>')[-1].lstrip('\\n') }}{% if c.startswith('<tool_response>') and c.endswith('</tool_response>') %}x{% endif %}", nil},
		{"tojson and filters", "{{ tools | tojson(indent=4) }}{{ messages|selectattr('role', 'equalto', 'system')|list|length }}{{ tools|map(attribute='function')|map(attribute='name')|join(', ') }}", nil},
		{"keys built for output", "{% set id = 'functions.' + name + ':' + loop.index0|string %}{{ id }}{{ '%s-%d' % (a, b) }}{{ '{}: {}'.format(k, v) }}", nil},
		{"reversed messages", "{% for m in messages[::-1] %}{{ m['content'] }}{% endfor %}", nil},
		{"macro with defaults", "{% macro render(t, indent=2) %}{{ t.name }}{{ caller() if caller is defined }}{% endmacro %}{{ render(tool) }}{% call render(tool) %}x{% endcall %}", nil},
		{"dunders only as text", "The __init__ method. {# {{ ().__class__ }} #}{% raw %}{{ cycler.__init__.__globals__ }}{% endraw %}", nil},
		{"dunder in a longer string", "{{ 'Create __init__.py files' ~ x }}{{ 'see x.__class__ docs' }}", nil},
		{"generation and loop controls", "{% for m in messages %}{% if m.skip %}{% continue %}{% endif %}{% generation %}{{ m.content }}{% endgeneration %}{% break %}{% endfor %}", nil},
		{"dict items", "{% for k, v in tool.parameters.properties.items() %}{{ k }}={{ v['type'] }}{% endfor %}{{ message.get('tool_calls', []) }}", nil},
		{"namespace attribute named like a module", "{% set ns = namespace(os='linux', sys=none) %}{% set ns.sys = 'x' %}{{ ns.os ~ ns.sys }}", nil},
		{"macro named like a builtin", "{% macro open(t) %}<{{ t }}>{% endmacro %}{{ open('b') }}{% set vars = {} %}", nil},
		{"with and filter blocks", "{% with x = 1 %}{{ x }}{% endwith %}{% filter upper %}hi{% endfilter %}{% set t | trim %} a {% endset %}{{ t }}", nil},

		// Escapes.
		{"class chain", "{{ ''.__class__.__mro__[1].__subclasses__() }}", []hit{{escape, 1}}},
		{"subscript dunder", "\n{{ x['__globals__'] }}", []hit{{escape, 2}}},
		{"adjacent literals", "{{ x['__glo' \"bals__\"] }}", []hit{{escape, 1}}},
		{"tilde concat via set", "{% set a = '__glo' %}{% set b = a ~ 'bals__' %}{{ lipsum[b] }}", []hit{{escape, 1}}},
		{"plus concat", "{{ lipsum|attr('__glo' + 'bals__') }}", []hit{{escape, 1}}},
		{"repeat", "{{ ()|attr('_' * 2 ~ 'class' ~ '_' * 2) }}", []hit{{escape, 1}}},
		{"format filter", "{{ ()|attr('%c%cclass%c%c'|format(95,95,95,95)) }}", []hit{{escape, 1}}},
		{"str.format", "{{ ()|attr('{0}{0}class{0}{0}'.format('_')) }}", []hit{{escape, 1}}},
		{"str.format spec c", "{{ ()|attr('{:c}{:c}class{:c}{:c}'.format(95, 95, 95, 95)) }}", []hit{{escape, 1}}},
		{"join method", "{{ ()|attr(''.join(['__', 'class', '__'])) }}", []hit{{escape, 1}}},
		{"list first", "{{ ()|attr(['__class__']|first) }}", []hit{{escape, 1}}},
		{"string slice", "{{ ()|attr('xx__class__yy'[2:-2]) }}", []hit{{escape, 1}}},
		{"upper", "{{ ()|attr('__CLASS__'|lower) }}", []hit{{escape, 1}}},
		{"octal escape", "{{ ()|attr('\\137\\137class\\137\\137') }}", []hit{{escape, 1}}},
		{"named escape lower case", "{{ ()|attr('\\N{low line}\\N{low line}class\\N{low line}\\N{low line}') }}", []hit{{escape, 1}}},
		{"conditional name", "{{ ()|attr('__class__' if x else 'y') }}", []hit{{escape, 1}}},
		{"default filter", "{{ ()|attr(n|default('__class__')) }}", []hit{{escape, 1}, {suspicious, 1}}},
		{"selectattr dotted", "{{ [lipsum]|selectattr('__globals__.os')|list }}", []hit{{escape, 1}}},
		{"map attr filter", "{{ [()]|map('attr', '__class__')|list }}", []hit{{escape, 1}}},
		{"sort attribute", "{{ xs|sort(attribute='__class__') }}", []hit{{escape, 1}}},
		{"macro argument", "{% macro g(o, n) %}{{ o[n] }}{% endmacro %}{{ g(lipsum, '__globals__') }}", []hit{{escape, 1}}},
		{"macro keyword argument", "{% macro g(o, n) %}{{ o[n] }}{% endmacro %}{{ g(o=lipsum, n='__glo' ~ 'bals__') }}", []hit{{escape, 1}}},
		{"with binding", "{% with n = '__globals__' %}{{ lipsum[n] }}{% endwith %}", []hit{{escape, 1}}},
		{"tuple unpacking", "{% set a, b = '__glo', 'bals__' %}{{ lipsum[a ~ b] }}", []hit{{escape, 1}}},
		{"loop over names", "{% for n in ['__globals__'] %}{{ lipsum[n] }}{% endfor %}", []hit{{escape, 1}}},
		{"popen call", "{{ x.popen('id') }}", []hit{{escape, 1}}},
		{"module attribute", "{{ x.subprocess }}", []hit{{escape, 1}}},
		{"builtin call", "{{ __import__('os') }}", []hit{{escape, 1}}},
		{"getattr builtin", "{{ getattr(x, y) }}", []hit{{escape, 1}}},
		{"do statement", "{% do x.__class__ %}", []hit{{escape, 1}}},
		{"print statement", "{% print x.__class__ %}", []hit{{escape, 1}}},
		{"in a test argument", "{% if x is sameas(y.__class__) %}{% endif %}", []hit{{escape, 1}}},
		{"if head", "{% if x.__class__ %}{% endif %}", []hit{{escape, 1}}},
		{"elif head", "{% if a %}{% elif x.__class__ %}{% endif %}", []hit{{escape, 1}}},
		{"for filter", "{% for m in messages if m.__class__ %}{% endfor %}", []hit{{escape, 1}}},
		{"whitespace control", "{%- set x = cycler.__init__ -%}", []hit{{escape, 1}}},
		{"dunder in dict literal key", "{{ {'__class__': 1}|list|first }}", []hit{{escape, 1}}},
		{"name built but only printed", "{{ '__cla' ~ 'ss__' }}", []hit{{escape, 1}}},

		// Suspicious.
		{"attr of a variable", "{{ x|attr(name) }}", []hit{{suspicious, 1}}},
		{"chars from repr", "{% set u = (()|select|string)[24] %}{{ x[u ~ u ~ 'class' ~ u ~ u] }}", []hit{{suspicious, 1}}},
		{"private attribute", "{{ x._secret }}", []hit{{suspicious, 1}}},
		{"map attribute variable", "{{ xs|map(attribute=name)|list }}", []hit{{suspicious, 1}}},
		{"opaque named escape", "{{ ()|attr('\\N{EM DASH}') }}", []hit{{suspicious, 1}}},

		// Other templates.
		{"include", "{% include 'other.jinja' %}", []hit{{external, 1}}},
		{"import", "{% import 'macros.jinja' as m %}", []hit{{external, 1}}},
		{"from import", "{% from 'macros.jinja' import a, b as c with context %}", []hit{{external, 1}}},
		{"extends", "{% extends base %}", []hit{{external, 1}}},

		// Unparseable: reported, and still scanned word by word.
		{"unclosed tag", "{{ x.__class__ ", []hit{{invalid, 1}, {escape, 1}}},
		{"unknown tag", "\n{% frobnicate %}", []hit{{invalid, 2}}},
		{"missing endfor", "{% for x in y %}", []hit{{invalid, 1}}},
		{"bad escape", `{{ '\x5' }}`, []hit{{invalid, 1}}},
		{"mismatched bracket", "{{ (x] }}", []hit{{invalid, 1}}},
		{"chained tests", "{{ x is a is b }}", []hit{{invalid, 1}}},
		{"underscore import", "{% from 't' import _x %}", []hit{{invalid, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := hits(Analyze(tt.tpl))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Analyze(%q) (-want +got):\n%s", tt.tpl, diff)
			}
		})
	}
}

func TestFindingFields(t *testing.T) {
	t.Parallel()
	tpl := "hello\n  {{- cycler.__init__ -}}\n"
	got := Analyze(tpl)
	want := []finding.Finding{{
		Rule: escape, Severity: finding.Critical, Line: 2, Offset: int64(strings.Index(tpl, ".__init__")),
		Message:  `the template accesses the attribute "__init__" (starting from cycler): a way out of the Jinja sandbox to Python internals`,
		Evidence: "{{- cycler.__init__ -}}",
		Help:     "docs/rules.md#template-sandbox-escape",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestCRLF: offsets point into the template as given, line breaks and all.
func TestCRLF(t *testing.T) {
	t.Parallel()
	tpl := "a\r\nb\r\n\r\n{{ x.__class__ }}\r{{ y.__dict__ }}"
	got := Analyze(tpl)
	if len(got) != 2 {
		t.Fatalf("findings %+v", got)
	}
	for i, want := range []string{".__class__", ".__dict__"} {
		if f := got[i]; !strings.HasPrefix(tpl[f.Offset:], want) || f.Line != 4+i {
			t.Errorf("finding %d at offset %d (%q), line %d", i, f.Offset, tpl[f.Offset:], f.Line)
		}
	}
}

func TestLexStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		opaque   bool
	}{
		{`'plain'`, "plain", false},
		{`"dq \"x\""`, `dq "x"`, false},
		{`'\x5f\u005f\U0000005f\137'`, "____", false},
		{`'\N{LATIN SMALL LETTER C}\N{digit one}'`, "c1", false},
		{`'\N{SNOWMAN}'`, "", true},
		{`'\q\n\t'`, "\\q\n\t", false},
		{"'line\\\ncont'", "linecont", false},
		{`'\é'`, `\xe9`, false},
		{`'日本'`, "日本", false},
	}
	for _, tt := range tests {
		toks, err := lex("{{ "+tt.in+" }}", maxTokens)
		if err != nil {
			t.Errorf("lex(%s): %v", tt.in, err)
			continue
		}
		if got := toks[1]; got.kind != tString || got.val != tt.want || got.opaque != tt.opaque {
			t.Errorf("lex(%s) = %q (opaque %v), want %q (opaque %v)", tt.in, got.val, got.opaque, tt.want, tt.opaque)
		}
	}
}

func TestLexNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string // kind:value
	}{
		{"1_000", []string{"integer:1000"}},
		{"0x1F 0b101 0o17", []string{"integer:0x1F", "integer:0b101", "integer:0o17"}},
		{"1.5 1e5 2.5E-3", []string{"float:1.5", "float:1e5", "float:2.5E-3"}},
		{"007", []string{"integer:00", "integer:7"}},
		{"x.0.1", []string{"name:x", "operator:.", "integer:0", "operator:.", "integer:1"}},
		{"1.", []string{"integer:1", "operator:."}},
	}
	for _, tt := range tests {
		toks, err := lex("{{ "+tt.in+" }}", maxTokens)
		if err != nil {
			t.Errorf("lex(%s): %v", tt.in, err)
			continue
		}
		var got []string
		for _, tok := range toks[1 : len(toks)-2] {
			got = append(got, tok.kind.String()+":"+tok.val)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("lex(%s) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestBounded: hostile shapes finish quickly and say what they could not do.
func TestBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tpl  string
		rule string // a rule expected among the findings, or "" for none required
	}{
		{"too large", strings.Repeat("a", MaxSize) + "{{ x.__globals__ }}", escape},
		{"deep parentheses", "{{ " + strings.Repeat("(", 5000) + "x" + strings.Repeat(")", 5000) + " }}", invalid},
		{"deep lists", "{{ " + strings.Repeat("[", 300) + strings.Repeat("]", 300) + " }}", invalid},
		{"long filter chain", "{{ x" + strings.Repeat("|f", 100_000) + " }}", invalid},
		{"long attribute chain", "{{ x" + strings.Repeat(".a", 100_000) + " }}", invalid},
		{"deep statements", strings.Repeat("{% if x %}", 1000) + strings.Repeat("{% endif %}", 1000), invalid},
		{"deep not", "{{ " + strings.Repeat("not ", 1000) + "x }}", invalid},
		{"many tokens", "{{ " + strings.Repeat("x,", 60_000) + " }}", invalid},
		{"string doubling", "{% set s = 'ab' %}" + strings.Repeat("{% set s = s ~ s %}", 60) + "{{ x[s] }}", ""},
		{"repeat bomb", "{{ x['_' * 1000000000] }}{{ x['ab' * 65536 * 65536] }}", ""},
		{"value explosion", "{% set a = 'x' if c else 'y' %}" + strings.Repeat("{% set a = a ~ ('p' if c else 'q') %}", 200) + "{{ d[a] }}", ""},
		{"format of long", "{{ ('%s' * 5000)|format(*xs) }}{{ '{}' * 100000 }}", ""},
		{"big slice step", "{{ 'abc'[::9223372036854775807] }}{{ 'abc'[-9223372036854775807::-9223372036854775807] }}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			got := Analyze(tt.tpl)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if tt.rule != "" && !slices.ContainsFunc(got, func(f finding.Finding) bool { return f.Rule == tt.rule }) {
				t.Errorf("no %s finding in %+v", tt.rule, got)
			}
		})
	}
}
