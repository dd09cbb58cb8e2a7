package modelcard

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// checkBounded fails unless every field of c is within its cap, valid
// UTF-8 and free of hidden characters, one-line fields on one line.
func checkBounded(t testing.TB, c *Card) {
	t.Helper()
	if c == nil {
		t.Fatal("nil card")
	}
	text := func(what, s string, max int, multi bool) {
		t.Helper()
		if len(s) > max || !utf8.ValidString(s) {
			t.Fatalf("%s: %d bytes (cap %d), valid UTF-8 %v", what, len(s), max, utf8.ValidString(s))
		}
		for _, r := range s {
			if hidden(r) && !(multi && (r == '\n' || r == '\t')) {
				t.Fatalf("%s: hidden character %U in %q", what, r, s)
			}
		}
	}
	list := func(what string, l []string) {
		t.Helper()
		if len(l) > maxList {
			t.Fatalf("%s: %d items", what, len(l))
		}
		for _, s := range l {
			text(what, s, maxName, false)
			if s == "" {
				t.Fatalf("%s: empty item", what)
			}
		}
	}
	text("License", c.License, maxLicence, false)
	text("LicenseName", c.LicenseName, maxName, false)
	text("LicenseLink", c.LicenseLink, maxLink, false)
	list("BaseModels", c.BaseModels)
	list("Datasets", c.Datasets)
	list("Tags", c.Tags)
	list("Languages", c.Languages)
	text("PipelineTag", c.PipelineTag, maxName, false)
	text("LibraryName", c.LibraryName, maxName, false)
	text("ModelName", c.ModelName, maxName, false)
	if len(c.Metrics) > maxMetrics {
		t.Fatalf("%d metrics", len(c.Metrics))
	}
	for _, m := range c.Metrics {
		for _, s := range []string{m.Task, m.TaskName, m.DatasetName, m.DatasetType, m.DatasetConfig, m.DatasetSplit, m.Type, m.Name, m.Value} {
			text("Metric", s, maxName, false)
		}
		if m.Type == "" && m.Name == "" {
			t.Fatalf("metric without type or name: %+v", m)
		}
	}
	s := c.Sections
	for _, v := range []string{s.Limitations, s.Bias, s.Ethical, s.IntendedUse, s.OutOfScope, s.Training} {
		text("Sections", v, maxSection, true)
	}
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// billionLaughs is front matter whose aliases expand to 10^9 scalars and
// 1000 metrics, all from a couple of KiB.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	ten := func(ref string) string { return strings.TrimSuffix(strings.Repeat(ref+", ", 10), ", ") }
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, ten(fmt.Sprintf("*l%d", i-1)))
	}
	b.WriteString("license: *l9\ndatasets: *l9\ntags: [*l9, *l9]\nlanguage: *l9\nbase_model: {id: *l9}\n")
	b.WriteString("m0: &m0 {type: accuracy, name: *l9, value: [*l9, 1, *l9]}\n")
	b.WriteString("m1: &m1 [" + ten("*m0") + "]\n")
	b.WriteString("r0: &r0 {task: {type: *l9, name: t}, dataset: {name: *l9, type: d}, metrics: *m1}\n")
	b.WriteString("r1: &r1 [" + ten("*r0") + "]\n")
	b.WriteString("e0: &e0 {name: m, results: *r1}\n")
	b.WriteString("model-index: [" + ten("*e0") + "]\n")
	return b.String()
}

// TestBillionLaughs: yaml.v3 refuses the bomb when it decodes into values,
// but Parse decodes into nodes, which expand nothing, and walks them to a
// fixed depth within maxVisits: it neither hangs nor grows.
//
// Not parallel: allocated measures the whole process.
func TestBillionLaughs(t *testing.T) {
	fm := billionLaughs()
	var v any
	if err := yaml.Unmarshal([]byte(fm), &v); err == nil || !strings.Contains(err.Error(), "excessive aliasing") {
		t.Fatalf("yaml.v3 decoding into values: %v, want excessive aliasing", err)
	}
	var c *Card
	var err error
	n := allocated(func() { c, err = Parse([]byte("---\n" + fm + "---\n## Bias\nB\n")) })
	if err != nil {
		t.Fatal(err)
	}
	checkBounded(t, c)
	if n > 16<<20 {
		t.Errorf("allocated %d MiB", n>>20)
	}
	want := Metric{Task: "", TaskName: "t", DatasetType: "d", Type: "accuracy", Value: "1"}
	if len(c.Metrics) != maxMetrics || c.Metrics[0] != want || c.ModelName != "m" || c.Sections.Bias != "B" {
		t.Errorf("got %d metrics, first %+v, model %q, bias %q", len(c.Metrics), c.Metrics[0], c.ModelName, c.Sections.Bias)
	}
	if c.License != "" || c.Datasets != nil || c.Tags != nil || c.BaseModels != nil {
		t.Errorf("lists of lists read as ids: %+v", c)
	}
}

// TestSelfReference: an anchor may contain an alias to itself, which makes
// the node graph a cycle.
func TestSelfReference(t *testing.T) {
	t.Parallel()
	in := "---\ndatasets: &a [*a, x]\nbase_model: &c {id: *c}\ntags: &t {name: *t}\n" +
		"model-index: &b [{name: n, results: *b}]\nlicense: &l [*l]\n---\n"
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Card{Datasets: []string{"x"}, ModelName: "n"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestDeepNesting(t *testing.T) {
	t.Parallel()
	for _, fm := range []string{
		"tags: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"tags: " + strings.Repeat("{a: ", 20000) + "1" + strings.Repeat("}", 20000),
	} {
		c, err := Parse([]byte("---\n" + fm + "\n---\n## Bias\nB\n"))
		if err == nil || !strings.Contains(err.Error(), "exceeded max depth") {
			t.Errorf("error %v, want exceeded max depth", err)
		}
		if c.Sections.Bias != "B" {
			t.Errorf("sections %+v", c.Sections)
		}
	}
}

func TestFrontMatterSize(t *testing.T) {
	t.Parallel()
	// A licence text in a gating prompt makes front matter large but cheap.
	prompt := "license: mit\nextra_gated_prompt: |\n" + strings.Repeat("  The licensee agrees to terms.\n", 1<<12)
	fill := func(n int) string { return prompt + "  " + strings.Repeat("x", n-len(prompt)-3) + "\n" }
	c, err := Parse([]byte("---\n" + fill(maxFrontMatter) + "---\n## Bias\nB\n"))
	if err != nil || c.License != "MIT" || c.Sections.Bias != "B" {
		t.Errorf("at the limit: %v, %+v", err, c)
	}
	c, err = Parse([]byte("---\n" + fill(maxFrontMatter+1) + "---\n## Bias\nB\n"))
	if err == nil || c.License != "" || c.Sections.Bias != "B" {
		t.Errorf("over the limit: %v, %+v", err, c)
	}
}

func TestCaps(t *testing.T) {
	t.Parallel()
	var fm strings.Builder
	fm.WriteString("tags:\n")
	for i := range 1000 {
		fmt.Fprintf(&fm, "- tag%d\n", i)
	}
	fmt.Fprintf(&fm, "datasets: [%s, ok]\n", strings.Repeat("d", maxName+1))
	fmt.Fprintf(&fm, "base_model: [%s, ok]\n", strings.Repeat("é", maxName/2))
	fmt.Fprintf(&fm, "license_name: %s\n", strings.Repeat("é", maxName))
	fmt.Fprintf(&fm, "license: %s\n", strings.Repeat("a", maxLicence+1))
	fm.WriteString("model-index:\n- name: " + strings.Repeat("n", 1000) + "\n  results:\n  - metrics:\n")
	fmt.Fprintf(&fm, "    - {type: wer, value: [%s]}\n", strings.TrimSuffix(strings.Repeat("0.125, ", 1000), ", "))
	for range 1000 {
		fm.WriteString("    - {type: acc, value: 1}\n")
	}
	body := "## Limitations\n" + strings.Repeat("Long text é. ", 10000) + "\n"
	c, err := Parse([]byte("---\n" + fm.String() + "---\n" + body))
	if err != nil {
		t.Fatal(err)
	}
	checkBounded(t, c)
	if len(c.Tags) != maxList || c.Tags[maxList-1] != fmt.Sprint("tag", maxList-1) {
		t.Errorf("%d tags", len(c.Tags))
	}
	if diff := cmp.Diff([]string{"ok"}, c.Datasets); diff != "" {
		t.Errorf("an id over the cap is dropped (-want +got):\n%s", diff)
	}
	if len(c.BaseModels) != 2 {
		t.Errorf("an id at the cap is kept: %q", c.BaseModels)
	}
	if c.License != "" {
		t.Errorf("a licence over the cap is dropped: %q", c.License)
	}
	for _, s := range []string{c.LicenseName, c.ModelName, c.Metrics[0].Value, c.Sections.Limitations} {
		if !strings.HasSuffix(s, "…") {
			t.Errorf("clipped text does not say so: %q", s)
		}
	}
	if len(c.Metrics) != maxMetrics {
		t.Errorf("%d metrics", len(c.Metrics))
	}
}

func TestCardSize(t *testing.T) {
	t.Parallel()
	pad := strings.Repeat("padding line\n", maxCard/13)
	c, err := Parse([]byte("---\nlicense: mit\n---\n## Bias\nearly\n" + pad + "## Limitations\nlate\n"))
	if err != nil || c.License != "MIT" || c.Sections.Bias == "" || c.Sections.Limitations != "" {
		t.Errorf("got %v, %q, limitations %q", err, c.License, c.Sections.Limitations)
	}
}
