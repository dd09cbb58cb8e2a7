package modelcard

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse: any input gives a card within the caps, without panic; a card
// whose front matter could not be read has no metadata.
func FuzzParse(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.md"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(crlf(b))
	}
	for _, s := range []string{
		"",
		"---",
		"---\n---\n",
		"---\na: &a [*a]\ndatasets: *a\n---\n",
		"---\nmodel-index: [{name: x, results: [{metrics: [{type: a, value: [1, 2]}]}]}]\n---\n",
		"## Bias\n<!--\n```\n## Limitations\n-->\n~~~\n",
		"---\nlicense: apache-2.0 OR (mit AND gpl-2.0+ WITH classpath-exception-2.0)\n---\n",
		"\uFEFF---\r\nlicense_name: \"\\u202E\\x00\"\r\n---\r\n# \xff\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Parse(in)
		checkBounded(t, c)
		if err != nil {
			if diff := cmp.Diff(&Card{Sections: c.Sections}, c); diff != "" {
				t.Fatalf("metadata despite %v (-want +got):\n%s", err, diff)
			}
		}
	})
}
