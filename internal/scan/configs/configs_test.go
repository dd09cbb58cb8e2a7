package configs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

func summary(fs []finding.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Severity.String()+" "+f.Rule)
	}
	slices.Sort(out)
	return out
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// scan routes a file the way the engine does: Kind, then the scanner for it.
func scan(t testing.TB, name string, b []byte) (string, *modelfile.Report) {
	t.Helper()
	kind := Kind(name, b[:min(len(b), 4096)])
	r := bytes.NewReader(b)
	ctx := context.Background()
	var rep *modelfile.Report
	var err error
	switch kind {
	case KindHydraYAML:
		rep, err = ScanYAML(ctx, r, int64(len(b)), modelfile.Options{}, "")
	case KindChatTemplate:
		rep, err = ScanChatTemplate(ctx, r, int64(len(b)), modelfile.Options{}, "")
	case KindHF, KindTokenizer, KindKeras:
		rep, err = ScanJSONConfig(ctx, r, int64(len(b)), modelfile.Options{}, "")
	default:
		t.Fatalf("%s: kind %q", name, kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return kind, rep
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, kind, format, arch string
		want                     []string
	}{
		{file: "benign/bert_config.json", kind: KindHF, format: FormatHF, arch: "BertForMaskedLM"},
		{file: "benign/llama_config.json", kind: KindHF, format: FormatHF, arch: "LlamaForCausalLM"},
		{file: "benign/tokenizer_config.json", kind: KindTokenizer, format: FormatTokenizer},
		{file: "benign/tokenizer_config_named_templates.json", kind: KindTokenizer, format: FormatTokenizer},
		{file: "benign/chat_template.jinja", kind: KindChatTemplate, format: "chat-template"},
		{file: "benign/modules.json", kind: KindHF, format: FormatJSON},
		{file: "benign/model_index.json", kind: KindHF, format: FormatJSON, arch: "StableDiffusionPipeline"},
		{file: "benign/model_config.yaml", kind: KindHydraYAML, format: FormatNemo, arch: "EncDecCTCModelBPE"},
		{file: "benign/lightning_cli.yaml", kind: KindHydraYAML, format: FormatHydra},

		{file: "malicious/auto_map_config.json", kind: KindHF, format: FormatHF, arch: "ChatGLMModel",
			want: []string{"high config/remote-code", "high config/remote-code"}},
		{file: "malicious/auto_map_other_repo.json", kind: KindHF, format: FormatHF,
			want: []string{"critical config/remote-code", "critical config/remote-code"}},
		{file: "malicious/custom_pipelines_config.json", kind: KindHF, format: FormatHF, want: []string{"high config/remote-code"}},
		{file: "malicious/modules.json", kind: KindHF, format: FormatJSON, want: []string{"high config/remote-code"}},
		{file: "malicious/tokenizer_config_auto_map.json", kind: KindTokenizer, format: FormatTokenizer,
			want: []string{"critical template/sandbox-escape", "critical template/sandbox-escape", "critical template/sandbox-escape",
				"critical template/sandbox-escape", "high config/remote-code"}},
		{file: "malicious/tokenizer_config_named_templates.json", kind: KindTokenizer, format: FormatTokenizer,
			want: []string{"critical template/sandbox-escape", "critical template/sandbox-escape", "critical template/sandbox-escape",
				"critical template/sandbox-escape", "critical template/sandbox-escape"}},
		{file: "malicious/chat_template.jinja", kind: KindChatTemplate, format: "chat-template",
			want: []string{"critical template/sandbox-escape", "critical template/sandbox-escape"}},
		// CVE-2025-23304: NeMo restores a config whose _target_ is builtins.exec.
		{file: "malicious/model_config_exec.yaml", kind: KindHydraYAML, format: FormatNemo, arch: "EncDecCTCModelBPE",
			want: []string{"critical config/hydra-target"}},
		{file: "malicious/hydra_targets.yaml", kind: KindHydraYAML, format: FormatHydra, want: []string{
			"critical config/hydra-target", "critical config/hydra-target", "critical config/hydra-target", "critical config/hydra-target",
			"medium config/hydra-target", "medium config/hydra-target"}},
		{file: "malicious/merge_key_target.yaml", kind: KindHydraYAML, format: FormatHydra, want: []string{"critical config/hydra-target"}},
		{file: "malicious/lightning_cli.yaml", kind: KindHydraYAML, format: FormatHydra, want: []string{"critical config/hydra-target"}},
		{file: "malicious/python_tags.yaml", kind: KindHydraYAML, format: FormatHydra, want: []string{
			"critical config/yaml-python-tag", "critical config/yaml-python-tag", "critical config/yaml-python-tag", "high config/yaml-python-tag"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			kind, rep := scan(t, tc.file, readFixture(t, tc.file))
			if kind != tc.kind || rep.Format != tc.format || tc.arch != "" && rep.Architecture != tc.arch {
				t.Errorf("kind %q format %q arch %q, want %q %q %q", kind, rep.Format, rep.Architecture, tc.kind, tc.format, tc.arch)
			}
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, summary(rep.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
				for _, f := range rep.Findings {
					t.Logf("%s %s: %s [%s]", f.Severity, f.Rule, f.Message, f.Evidence)
				}
			}
			for _, f := range rep.Findings {
				if f.Message == "" || f.Help == "" || f.Line == 0 {
					t.Errorf("finding without message, help or line: %+v", f)
				}
			}
		})
	}
}

func TestMessagesNameWhatRuns(t *testing.T) {
	t.Parallel()
	_, rep := scan(t, "auto_map_config.json", readFixture(t, "malicious/auto_map_config.json"))
	var msgs []string
	for _, f := range rep.Findings {
		msgs = append(msgs, f.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, s := range []string{"modeling_chatglm.py", "ChatGLMForConditionalGeneration", "configuration_chatglm.py", "trust_remote_code"} {
		if !strings.Contains(all, s) {
			t.Errorf("messages do not name %q:\n%s", s, all)
		}
	}
	_, rep = scan(t, "auto_map_other_repo.json", readFixture(t, "malicious/auto_map_other_repo.json"))
	if !strings.Contains(rep.Findings[0].Message, "THUDM/chatglm3-6b") {
		t.Errorf("other repository not named: %s", rep.Findings[0].Message)
	}
	_, rep = scan(t, "model_config.yaml", readFixture(t, "malicious/model_config_exec.yaml"))
	f := rep.Findings[0]
	if f.Line != 32 || !strings.Contains(f.Message, "preprocessor") || !strings.Contains(f.Evidence, "os.system") {
		t.Errorf("%+v", f)
	}
	_, rep = scan(t, "tokenizer_config.json", readFixture(t, "malicious/tokenizer_config_named_templates.json"))
	for _, f := range rep.Findings {
		if f.Member != "chat_template:tool_use" {
			t.Errorf("member %q", f.Member)
		}
	}
}

// TestNemoArchives reads the model_config.yaml out of the .nemo fixtures,
// as the engine does when it walks the tar.
func TestNemoArchives(t *testing.T) {
	t.Parallel()
	for file, want := range map[string][]string{
		"benign/asr_model.nemo":         {},
		"malicious/asr_model_exec.nemo": {"critical config/hydra-target"},
	} {
		zr, err := gzip.NewReader(bytes.NewReader(readFixture(t, file)))
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(zr)
		found := false
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(tr)
			if Kind(h.Name, b) != KindHydraYAML {
				continue
			}
			found = true
			rep, _ := ScanYAML(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{}, "")
			if diff := cmp.Diff(want, summary(rep.Findings)); diff != "" || rep.Format != FormatNemo {
				t.Errorf("%s: format %s (-want +got):\n%s", file, rep.Format, diff)
			}
		}
		if !found {
			t.Errorf("%s: no model_config.yaml", file)
		}
	}
}

func TestKind(t *testing.T) {
	t.Parallel()
	keras3 := `{"module": "keras", "class_name": "Sequential", "config": {"name": "s"}}`
	hf := "{\n  \"_name_or_path\": \"x\",\n  \"architectures\": [\"LlamaForCausalLM\"]\n}"
	for _, tc := range []struct{ name, head, want string }{
		{"config.json", hf, KindHF},
		{"models/x/config.json", keras3, KindKeras},
		{"config.json", `{"class_name": "Functional", "config": {}}`, KindKeras},
		{"tokenizer.json", `{"module": "keras_hub.src.models.bert.bert_tokenizer", "class_name": "BertTokenizer"}`, KindKeras},
		{"tokenizer.json", `{"version": "1.0", "truncation": null}`, ""},
		{"config.json", `{"name": "my app", "port": 8080}`, ""},
		{"CONFIG.JSON", hf, KindHF},
		{"tokenizer_config.json", `{"bos_token": "<s>"}`, KindTokenizer},
		{"chat_template.json", `{"chat_template": "{{ x }}"}`, KindTokenizer},
		{"processor_config.json", `{"processor_class": "X"}`, KindHF},
		{"modules.json", `[{"idx": 0, "type": "sentence_transformers.models.Transformer"}]`, KindHF},
		{"preset.json", `{"auto_map": {"AutoModel": "m.M"}}`, KindHF},
		{"something.json", `{"chat_template": "x"}`, KindTokenizer},
		{"package.json", `{"name": "x", "version": "1.0.0"}`, ""},
		{"model_config.yaml", "sample_rate: 16000\n", KindHydraYAML},
		{"conf/train.yaml", "model:\n  _target_: x.Y\n", KindHydraYAML},
		{"cli.yml", "optimizer:\n  class_path: torch.optim.Adam\n", KindHydraYAML},
		{".github/workflows/ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n", ""},
		{"x.yaml", "a: !!python/object/apply:os.system [id]\n", KindHydraYAML},
		{"chat_template.jinja", "{{ x }}", KindChatTemplate},
		{"additional_chat_templates/tool_use.jinja", "{{ x }}", KindChatTemplate},
		{"templates/page.jinja", "{{ x }}", ""},
		{"README.md", "# model", ""},
		{"config.json", "", ""},
		{"config.json", "\xef\xbb\xbf" + hf, KindHF},
	} {
		if got := Kind(tc.name, []byte(tc.head)); got != tc.want {
			t.Errorf("Kind(%q, %.30q) = %q, want %q", tc.name, tc.head, got, tc.want)
		}
	}
}

func TestScanJSONConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	run := func(in string) *modelfile.Report {
		rep, err := ScanJSONConfig(ctx, strings.NewReader(in), int64(len(in)), modelfile.Options{}, "config.json")
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"keras config is delegated", `{"module": "keras.layers", "class_name": "Lambda", "config": {"function": {"class_name": "__lambda__", "config": {"code": "4wEAAA=="}}}}`,
			[]string{"high keras/lambda-layer"}},
		{"not json", `{"model_type": `, []string{"high scan/incomplete"}},
		{"auto_map null entries", `{"auto_map": {"AutoTokenizer": [null, null], "AutoModel": ""}}`, []string{}},
		{"malformed reference", `{"auto_map": {"AutoModel": "../../evil.Model"}}`, []string{"high config/remote-code"}},
		{"no class", `{"auto_map": {"AutoModel": "modeling_x"}}`, []string{"high config/remote-code"}},
		{"one file, slow and fast tokenizers", `{"auto_map": {"AutoTokenizer": ["tok.Slow", "tok.Fast"]}}`, []string{"high config/remote-code"}},
		{"st module type that is dangerous", `[{"idx": 0, "name": "0", "path": "", "type": "os.system"}]`, []string{"critical config/remote-code"}},
		{"array of other things", `[1, 2, {"type": "x.Y"}]`, []string{}},
		{"chat_template not a string", `{"chat_template": 42}`, []string{}},
		{"utf-16 with auto_map", string(utf16le(`{"auto_map": {"AutoModel": "modeling_x.X"}}`)), []string{"high config/remote-code"}},
	} {
		rep := run(tc.in)
		if diff := cmp.Diff(tc.want, summary(rep.Findings)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
		for _, f := range rep.Findings {
			if !strings.HasPrefix(f.Member, "config.json") {
				t.Errorf("%s: member %q", tc.name, f.Member)
			}
		}
	}
	rep, _ := ScanJSONConfig(ctx, strings.NewReader("{}"), MaxSize+1, modelfile.Options{}, "")
	if got := summary(rep.Findings); !slices.Equal(got, []string{"high scan/incomplete"}) {
		t.Errorf("too large: %v", got)
	}
	rep, _ = ScanJSONConfig(ctx, strings.NewReader(`{"auto_map": {"AutoModel": "m.M"}}`), -1, modelfile.Options{}, "")
	if len(rep.Findings) != 1 {
		t.Errorf("unknown size: %v", summary(rep.Findings))
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), 0)
	}
	return b
}

func TestParseCodeRef(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]codeRef{
		"modeling_x.MyModel":           {Module: "modeling_x", Class: "MyModel"},
		"org/repo--modeling_x.MyModel": {Repo: "org/repo", Module: "modeling_x", Class: "MyModel"},
		"modeling_x":                   {Module: "modeling_x", Malformed: true},
		"a.b.C":                        {Module: "a", Class: "b.C", Malformed: true},
		"sub/modeling.M":               {Module: "sub/modeling", Class: "M", Malformed: true},
		"org/repo--other/repo--m.C":    {Repo: "org/repo", Module: "other/repo--m", Class: "C", Malformed: true},
	} {
		if got := parseCodeRef(in); got != want {
			t.Errorf("%q: %+v, want %+v", in, got, want)
		}
	}
}

func TestScanYAML(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{}},
		{"scalar document", "just text\n", []string{}},
		{"not yaml", "a: [1, 2\nb: }", []string{"high scan/incomplete"}},
		{"several documents", "_target_: nemo.X\n---\n_target_: os.system\n", []string{"critical config/hydra-target"}},
		{"ordinary words called target", "target: text\nloss:\n  target: 0.5\nlabels:\n  target: [a, b]\n", []string{}},
		{"hydra 0.x cls and params", "optim:\n  cls: subprocess.call\n  params:\n    args: id\n", []string{"critical config/hydra-target"}},
		{"cls without params is a word", "optim:\n  cls: subprocess.call\n", []string{}},
		{"target with params", "sched:\n  target: acme.Sched\n  params: {}\n", []string{"medium config/hydra-target"}},
		{"target not a name", "x:\n  _target_: \"from nemo.collections.common.losses.CrossEntropyLoss\"\n", []string{"low config/hydra-target"}},
		{"single name", "x:\n  _target_: eval\n", []string{"critical config/hydra-target"}},
		{"chain through a module attribute", "x:\n  _target_: nemo.collections.asr.modules.os.system\n", []string{"critical config/hydra-target"}},
		{"package io submodule", "x:\n  _target_: nemo.lightning.io.pl.MegatronCheckpointIO\n", []string{}},
		{"package io then os", "x:\n  _target_: nemo.lightning.io.os.system\n", []string{"critical config/hydra-target"}},
		{"torch.load is a gadget", "x:\n  _target_: torch.load\n  f: /tmp/x.pt\n", []string{"critical config/hydra-target"}},
		{"torch classes are fine", "x:\n  _target_: torch.optim.AdamW\ny:\n  _target_: torch.float32\nz:\n  _target_: torch._C._nn.gelu\n", []string{}},
		{"target behind an alias", "t: &t os.system\nx:\n  _target_: *t\n", []string{"critical config/hydra-target"}},
		{"interpolation loop", "a: ${b}\nb: ${a}\nx:\n  _target_: ${a}\n", []string{"medium config/hydra-target"}},
		{"interpolation to a map", "a: {b: 1}\nx:\n  _target_: ${a}\n", []string{"medium config/hydra-target"}},
		{"relative interpolation", "x:\n  t: os.system\n  _target_: ${.t}\n", []string{"critical config/hydra-target"}},
		{"parent interpolation", "x:\n  y:\n    _target_: ${..t}\n", []string{"medium config/hydra-target"}},
		{"merge of merges", "a: &a {_target_: shutil.rmtree}\nb: &b {<<: *a}\nc: {<<: [*b]}\n", []string{"critical config/hydra-target"}},
		{"own key beats merged", "a: &a {_target_: os.system}\nb: {<<: *a, _target_: nemo.X}\n", []string{"critical config/hydra-target"}},
		{"python tag on a mapping", "x: !!python/object/new:subprocess.Popen {args: [id]}\n", []string{"critical config/yaml-python-tag"}},
		{"python module tag", "x: !!python/module:os\n", []string{"critical config/yaml-python-tag"}},
		{"python apply of unknown with shell", "x: !!python/object/apply:acme.run [\"bash -c id\"]\n", []string{"critical config/yaml-python-tag"}},
		{"python data tags", "x: !!python/tuple [1]\ny: !!python/str s\nz: !!binary aGk=\n", []string{}},
		{"tag handle", "%TAG !py! tag:yaml.org,2002:python/\n---\nx: !py!object/apply:os.system [id]\n", []string{"critical config/yaml-python-tag"}},
		{"duplicate targets counted", "a: {_target_: acme.A}\nb: {_target_: acme.A}\nc: {_target_: acme.A}\n", []string{"medium config/hydra-target"}},
	} {
		rep, err := ScanYAML(context.Background(), strings.NewReader(tc.in), int64(len(tc.in)), modelfile.Options{}, "m")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, summary(rep.Findings)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			for _, f := range rep.Findings {
				t.Logf("%s %s: %s [%s]", f.Severity, f.Rule, f.Message, f.Evidence)
			}
		}
	}
}

// TestYAMLBombs: aliases are never expanded, depth and size are bounded.
func TestYAMLBombs(t *testing.T) {
	t.Parallel()
	var laughs strings.Builder
	laughs.WriteString("a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n")
	prev := "a"
	for i := range 30 {
		name := fmt.Sprintf("l%d", i)
		fmt.Fprintf(&laughs, "%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = name
	}
	laughs.WriteString("x:\n  _target_: acme.Thing\n  arg: *" + prev + "\n")
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	deepBlock := ""
	for i := range 1500 {
		deepBlock += strings.Repeat(" ", i) + "k:\n"
	}
	for name, tc := range map[string]struct {
		in   string
		want []string
	}{
		"billion laughs": {laughs.String(), []string{"medium config/hydra-target"}},
		"deep flow":      {deep, []string{"high scan/incomplete"}},
		"deep block":     {deepBlock, []string{"high scan/incomplete"}},
	} {
		start := time.Now()
		rep, err := ScanYAML(context.Background(), strings.NewReader(tc.in), int64(len(tc.in)), modelfile.Options{}, "")
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v", name, d)
		}
		if diff := cmp.Diff(tc.want, summary(rep.Findings)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
			for _, f := range rep.Findings {
				t.Logf("%s: %s [%s]", f.Rule, f.Message, f.Evidence)
			}
		}
	}
	rep, _ := ScanYAML(context.Background(), strings.NewReader(""), MaxYAML+1, modelfile.Options{}, "")
	if got := summary(rep.Findings); !slices.Equal(got, []string{"high scan/incomplete"}) {
		t.Errorf("too large: %v", got)
	}
	many := strings.Repeat("---\na: 1\n", maxYAMLDocs+5)
	rep, _ = ScanYAML(context.Background(), strings.NewReader(many), int64(len(many)), modelfile.Options{}, "")
	if got := summary(rep.Findings); !slices.Equal(got, []string{"high scan/incomplete"}) {
		t.Errorf("too many documents: %v", got)
	}
}

func TestClassifyTarget(t *testing.T) {
	t.Parallel()
	for target, want := range map[string]finding.Severity{
		"nemo.collections.asr.modules.ConformerEncoder":      finding.Info,
		"lightning.pytorch.strategies.DDPStrategy":           finding.Info,
		"torchmetrics.audio.SignalDistortionRatio":           finding.Info,
		"megatron.core.optimizer.OptimizerConfig":            finding.Info,
		"nemo_text_processing.text_normalization.Normalizer": finding.Info,
		"transformers.AutoTokenizer.from_pretrained":         finding.Info,
		"os.system":                finding.Critical,
		"posix.system":             finding.Critical,
		"subprocess.check_output":  finding.Critical,
		"builtins.eval":            finding.Critical,
		"pydoc.locate":             finding.Critical,
		"importlib.import_module":  finding.Critical,
		"hydra.utils.call":         finding.Critical,
		"numpy.random.default_rng": finding.Medium,
		"my_lab.models.Net":        finding.Medium,
		"a b":                      finding.Low,
		"":                         finding.Info,
	} {
		if got, why := classifyTarget(target); got != want {
			t.Errorf("%q: %v (%s), want %v", target, got, why, want)
		}
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := strings.Repeat("- {a: 1, b: [1, 2, 3]}\n", 5000)
	rep, _ := ScanYAML(ctx, strings.NewReader(in), int64(len(in)), modelfile.Options{}, "")
	if got := summary(rep.Findings); !slices.Equal(got, []string{"high scan/incomplete"}) {
		t.Errorf("%v", got)
	}
}
