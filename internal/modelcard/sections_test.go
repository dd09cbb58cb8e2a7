package modelcard

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadSections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want Sections
	}{
		{name: "closing hashes, indent, numbers, emoji and emphasis",
			body: "   ## Limitations ##\nA.\n## 5. **Bias**\nB.\n#### ⚠️ Ethical considerations:\nC.\n# 2.1 Out-of-scope uses\nD.\n",
			want: Sections{Limitations: "A.", Bias: "B.", Ethical: "C.", OutOfScope: "D."}},
		{name: "not headings",
			body: "## Bias\nkept\n#Limitations\n    ## Limitations\n####### Limitations\n\\## Limitations\n",
			want: Sections{Bias: "kept\n#Limitations\n    ## Limitations\n####### Limitations\n\\## Limitations"}},
		{name: "same or higher level ends a section, lower does not",
			body: "## Training Data\nA\n### Sources\nB\n## Other\nC\n",
			want: Sections{Training: "A\n### Sources\nB"}},
		{name: "a nested known heading ends the section",
			body: "## Intended uses & limitations\nUse it.\n### Limitations and bias\nBiased.\n## Next\n",
			want: Sections{IntendedUse: "Use it.", Limitations: "Biased."}},
		{name: "the best-ranked heading wins, first among equals",
			body: "## Training Details\nDetails.\n## Training Data\nData.\n## Training data\nAgain.\n",
			want: Sections{Training: "Data."}},
		{name: "a worse-ranked heading fills an empty section",
			body: "## Training Data\n[More Information Needed]\n## Training procedure\nSteps.\n",
			want: Sections{Training: "Steps."}},
		{name: "placeholders and subheadings only",
			body: "## Bias, Risks, and Limitations\n\n[More Information Needed]\n\n### Recommendations\n\n- **Note:** [More Information Needed]\n\n*[More Information Needed]*\n",
			want: Sections{}},
		{name: "a placeholder inside real text stays",
			body: "## Limitations\nSee [More Information Needed] later, it says.\nMore information needed\n",
			want: Sections{Limitations: "See [More Information Needed] later, it says."}},
		{name: "comments, one line and many",
			body: "## Bias\nA <!-- hidden --> B <!-- x -->\n<!--\n## Limitations\nhidden\n-->C\n<!-- open\n",
			want: Sections{Bias: "A  B\nC"}},
		{name: "an unclosed comment hides the rest",
			body: "<!--\n## Bias\nB\n",
			want: Sections{}},
		{name: "fences: backticks with info, longer close, tildes",
			body: "## Training\n```` python\n```\n## Bias\n````\nafter\n~~~\n## Bias\n~~~~\n## Bias\nreal\n",
			want: Sections{Training: "```` python\n```\n## Bias\n````\nafter\n~~~\n## Bias\n~~~~", Bias: "real"}},
		{name: "an unclosed fence hides the rest",
			body: "## Limitations\nL\n```\n## Bias\nB\n",
			want: Sections{Limitations: "L\n```\n## Bias\nB"}},
		{name: "a backtick line with a backtick is no fence",
			body: "``` a ` b\n## Bias\nB\n",
			want: Sections{Bias: "B"}},
		{name: "comment markers inside a fence are code",
			body: "## Training\n```\n<!-- kept -->\n```\n",
			want: Sections{Training: "```\n<!-- kept -->\n```"}},
		{name: "blank lines collapse",
			body: "## Bias\n\n\nA\n\n\n\nB\n\n",
			want: Sections{Bias: "A\n\nB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, readSections([]byte(tt.body))); diff != "" {
				t.Errorf("readSections (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeHeading(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Bias, Risks, and Limitations": "bias risks limitations",
		"Intended Uses & Limitations":  "intended uses limitations",
		"Out-of-Scope Use":             "out of scope use",
		"Downstream Use [optional]":    "downstream use",
		"3.2. Training Data":           "training data",
		"**Ethical Considerations** 🔥": "ethical considerations",
		"2024":                         "",
		"":                             "",
	} {
		if got := normalizeHeading(in); got != want {
			t.Errorf("normalizeHeading(%q) = %q, want %q", in, got, want)
		}
	}
}
