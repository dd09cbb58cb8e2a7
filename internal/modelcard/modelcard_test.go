package modelcard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// crlf turns a card's line endings into "\r\n" and starts it with a BOM,
// as editors on Windows save it.
func crlf(b []byte) []byte {
	return []byte("\uFEFF" + strings.ReplaceAll(string(b), "\n", "\r\n"))
}

var (
	bertCard = &Card{
		License:   "Apache-2.0",
		Datasets:  []string{"bookcorpus", "wikipedia"},
		Tags:      []string{"exbert"},
		Languages: []string{"en"},
		Sections: Sections{
			Limitations: "Even with fairly neutral training data, the predictions can be biased, for\n" +
				"example when completing sentences about occupations by gender.",
			IntendedUse: "Use the raw model for masked language modeling or next sentence prediction,\n" +
				"but it is mostly meant to be fine-tuned on a downstream task.\n\n" +
				"### How to use\n\n" +
				"```python\nfrom transformers import pipeline\n# Out-of-Scope Use\n" +
				"unmasker = pipeline('fill-mask', model='bert-base-uncased')\n```",
			Training: "Pretrained on a book corpus and on English encyclopedia articles (lists,\n" +
				"tables and headers excluded).",
		},
	}
	peftCard = &Card{
		License:     "other",
		LicenseName: "llama3",
		LicenseLink: "https://llama.meta.com/llama3/license/",
		BaseModels:  []string{"meta-llama/Meta-Llama-3-8B"},
		Datasets:    []string{"generator"},
		LibraryName: "peft",
		Tags:        []string{"trl", "sft", "generated_from_trainer"},
		ModelName:   "llama3-8b-sql-lora",
		Sections: Sections{
			// The template's "[More Information Needed]" sections are gone;
			// its HTML comments too.
			Limitations: "The adapter was tuned on synthetic questions only; it writes plausible but\n" +
				"wrong SQL for schemas unlike those it saw.\n\n" +
				"### Recommendations\n\n" +
				"Review every generated query before running it.",
			// "Training Details" holds only placeholders, so the Trainer's
			// "Training procedure" is taken.
			Training: "### Training hyperparameters\n\n" +
				"The following hyperparameters were used during training:\n" +
				"- learning_rate: 0.0002\n- train_batch_size: 1\n- num_epochs: 3\n\n" +
				"### Framework versions\n\n- PEFT 0.10.0",
		},
	}
)

func TestParseFixtures(t *testing.T) {
	t.Parallel()
	imdb := Metric{
		Task: "text-classification", TaskName: "Text Classification",
		DatasetName: "IMDB", DatasetType: "stanfordnlp/imdb", DatasetConfig: "plain_text", DatasetSplit: "test",
	}
	with := func(m Metric, typ, name, value string, verified bool) Metric {
		m.Type, m.Name, m.Value, m.Verified = typ, name, value, verified
		return m
	}
	tests := []struct {
		name    string
		in      []byte
		want    *Card
		wantErr string
	}{
		{
			name: "llama3_instruct.md",
			want: &Card{
				License:     "llama3", // the Hub's own id, not SPDX: as written
				PipelineTag: "text-generation",
				Tags:        []string{"facebook", "meta", "pytorch", "llama", "llama-3"},
				Languages:   []string{"en"},
				Sections: Sections{
					Ethical: "The core values are openness, inclusivity and helpfulness. The model can\n" +
						"produce inaccurate, biased or otherwise objectionable answers; developers\n" +
						"should run safety testing tuned to their application before deploying it.",
					IntendedUse: "**Intended Use Cases** Assistant-like chat in English, for commercial and\n" +
						"research use.\n\n" +
						"**Out-of-scope** Use that breaks applicable laws or the acceptable use policy.",
					Training: "**Overview** Pretrained on about 15 trillion tokens of public data; the\n" +
						"fine-tuning data includes public instruction sets and synthetic examples.\n\n" +
						"**Data Freshness** The pretraining data stops in early 2023.",
				},
			},
		},
		{name: "bert_base_uncased.md", want: bertCard},
		{name: "bert_base_uncased.md (CRLF, BOM)", in: crlf(readFixture(t, "bert_base_uncased.md")), want: bertCard},
		{name: "peft_adapter.md", want: peftCard},
		{name: "peft_adapter.md (CRLF, BOM)", in: crlf(readFixture(t, "peft_adapter.md")), want: peftCard},
		{
			name: "model_index.md",
			want: &Card{
				License:     "MIT",
				BaseModels:  []string{"distilbert/distilbert-base-uncased"}, // once
				Datasets:    []string{"stanfordnlp/imdb", "glue", "42"},     // the nested list is skipped
				PipelineTag: "text-classification",
				LibraryName: "transformers",
				Tags:        []string{"sentiment"},
				Languages:   []string{"en", "fr"},
				ModelName:   "distilbert-sentiment-demo",
				Metrics: []Metric{
					with(imdb, "accuracy", "Accuracy", "0.9312", true),
					with(imdb, "f1", "F1", "0.93", false),
					with(imdb, "loss", "", "", false),                // a mapping value is not read
					with(imdb, "precision", "", "0.91, 0.95", false), // "yes" is no YAML 1.2 bool
					{Task: "text-classification", DatasetName: "GLUE SST-2", DatasetType: "glue", DatasetConfig: "sst2", DatasetSplit: "validation", Type: "accuracy", Value: "91.1"},
					{Task: "text-classification", DatasetName: "Yelp", DatasetType: "yelp_polarity", Type: "accuracy", Value: "0.88"},
				},
				Sections: Sections{
					IntendedUse: "Classify the sentiment of English movie reviews as positive or negative.",
					OutOfScope:  "Not for reviews in other languages, nor for judging people.",
				},
			},
		},
		{
			name: "no_front_matter.md",
			want: &Card{Sections: Sections{
				Limitations: "* Trained on 10 classes; anything else is misclassified with high confidence.\n" +
					"* Not evaluated on photos taken at night.\n\n" +
					"Out-of-Scope Use\n----------------\n\n" +
					"Setext headings are not read, so this stays part of the limitations.",
				Ethical:     "None beyond those above.",
				IntendedUse: "Teaching examples only.",
				Training:    "~~~\n## Bias\ninside a tilde fence\n~~~",
			}},
		},
		{
			name:    "broken_yaml.md",
			want:    &Card{Sections: Sections{Bias: "The YAML above is broken, but this section is still read."}},
			wantErr: "reading model card front matter: yaml: line 3: found character that cannot start any token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.in
			if in == nil {
				in = readFixture(t, tt.name)
			}
			got, err := Parse(in)
			if gotErr := errString(err); gotErr != tt.wantErr {
				t.Errorf("error %q, want %q", gotErr, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestParseFrontMatter covers the front matter's delimiters and the odd
// shapes real cards give their fields.
func TestParseFrontMatter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    *Card
		wantErr string
	}{
		{name: "empty file", in: "", want: &Card{}},
		{name: "empty front matter", in: "---\n---\n", want: &Card{}},
		{name: "comments only", in: "---\n# nothing yet\n---\n", want: &Card{}},
		{name: "delimiters with trailing blanks, no final newline", in: "--- \nlicense: mit\n---\t", want: &Card{License: "MIT"}},
		{name: "BOM and CRLF", in: "\uFEFF---\r\nlicense: MIT\r\ntags:\r\n- a\r\n- b\r\n---\r\n## Bias\r\n\r\nSome.\r\nMore.\r\n",
			want: &Card{License: "MIT", Tags: []string{"a", "b"}, Sections: Sections{Bias: "Some.\nMore."}}},
		{name: "not on the first line", in: "\n---\nlicense: mit\n---\n", want: &Card{}},
		{name: "dots do not close", in: "---\nlicense: mit\n...\n", want: &Card{}, wantErr: `reading model card front matter: no closing "---" line`},
		{name: "unclosed, body still read", in: "---\nlicense: mit\n## Limitations\nNone.\n",
			want: &Card{Sections: Sections{Limitations: "None."}}, wantErr: `reading model card front matter: no closing "---" line`},
		{name: "a scalar", in: "---\njust text\n---\n", want: &Card{}, wantErr: "reading model card front matter: not a YAML mapping"},
		{name: "a list", in: "---\n- license: mit\n---\n", want: &Card{}, wantErr: "reading model card front matter: not a YAML mapping"},
		{name: "licence case", in: "---\nlicense: cc-by-nc-sa-4.0\n---\n", want: &Card{License: "CC-BY-NC-SA-4.0"}},
		{name: "licence expression", in: "---\nlicense: apache-2.0 or (mit and gpl-2.0+ with classpath-exception-2.0)\n---\n",
			want: &Card{License: "Apache-2.0 OR (MIT AND GPL-2.0+ WITH Classpath-exception-2.0)"}},
		{name: "licence expression with an unknown id", in: "---\nlicense: llama2 OR mit\n---\n", want: &Card{License: "llama2 OR MIT"}},
		{name: "licence not an expression", in: "---\nlicense: openrail++\n---\n", want: &Card{License: "openrail++"}},
		{name: "licence list", in: "---\nlicense:\n- apache-2.0\n- Apache-2.0\n- cc-by-4.0 OR mit\n- {name: x}\n---\n",
			want: &Card{License: "Apache-2.0 AND (CC-BY-4.0 OR MIT)"}},
		{name: "licence null", in: "---\nlicense:\nlicense_name: ~\n---\n", want: &Card{}},
		{name: "licence a mapping", in: "---\nlicense: {id: mit}\n---\n", want: &Card{}},
		{name: "strings for lists", in: "---\nbase_model: org/base\ndatasets: squad\nlanguage: fr\ntags: one\n---\n",
			want: &Card{BaseModels: []string{"org/base"}, Datasets: []string{"squad"}, Languages: []string{"fr"}, Tags: []string{"one"}}},
		{name: "languages key, odd items", in: "---\nlanguages: [en, no, 1, null, {x: y}, '']\n---\n",
			want: &Card{Languages: []string{"en", "no", "1"}}},
		{name: "mappings for ids", in: "---\ndatasets:\n- {id: a/b, config: c}\n- {name: d}\n- {other: e}\n---\n",
			want: &Card{Datasets: []string{"a/b", "d"}}},
		{name: "wrong types", in: "---\npipeline_tag: [a, b]\nlibrary_name: {x: 1}\ntags: {a: b}\nmodel-index: [[name, x], 1]\n---\n", want: &Card{}},
		{name: "one item for a list", in: "---\nmodel-index: {name: x, results: {task: {type: t}, metrics: {type: acc, value: 1}}}\n---\n",
			want: &Card{ModelName: "x", Metrics: []Metric{{Task: "t", Type: "acc", Value: "1"}}}},
		{name: "duplicate key takes the first", in: "---\nlibrary_name: peft\nlibrary_name: transformers\n---\n", want: &Card{LibraryName: "peft"}},
		{name: "anchors and aliases", in: "---\nbase: &b org/base\nbase_model: *b\ndatasets: [*b]\n---\n",
			want: &Card{BaseModels: []string{"org/base"}, Datasets: []string{"org/base"}}},
		{name: "control and bidi characters", in: "---\nlicense_name: \"My\\x1b[31m \\u202Elicence\\t\\n x\"\ntags: [\"a\\u0000b\"]\n---\n",
			want: &Card{LicenseName: "My[31m licence x", Tags: []string{"ab"}}},
		{name: "invalid UTF-8 in the body", in: "## Bias\n\nbad \xff\xfe byte\n", want: &Card{Sections: Sections{Bias: "bad \uFFFD\uFFFD byte"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.in))
			if gotErr := errString(err); gotErr != tt.wantErr {
				t.Errorf("error %q, want %q", gotErr, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsCard(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"README.md":                 true,
		"readme.MD":                 true,
		"models/bert/README.md":     true,
		`models\bert\Model_Card.md`: true,
		"MODEL_CARD.md":             true,
		"README":                    false,
		"README.md.bak":             false,
		"README.rst":                false,
		"readme.md/":                false,
		"my_README.md":              false,
		"":                          false,
	} {
		if got := IsCard(name); got != want {
			t.Errorf("IsCard(%q) = %v, want %v", name, got, want)
		}
	}
}
