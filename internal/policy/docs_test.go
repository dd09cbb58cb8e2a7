package policy

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const docsPath = "../../docs/policies.md"

// schemaKeys lists every key path of the schema, from its yaml tags:
// "fail-on.models", "rules.<id>.severity", "ignore[].rule".
func schemaKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for _, f := range yamlFields(t) {
		key := prefix + f.name
		keys = append(keys, key)
		ft := t.Field(f.index).Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == dateType:
		case ft.Kind() == reflect.Struct:
			keys = append(keys, schemaKeys(ft, key+".")...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, schemaKeys(ft.Elem(), key+"[].")...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, schemaKeys(ft.Elem(), key+".<id>.")...)
		}
	}
	return keys
}

// docTable returns the rows of the Markdown tables in doc whose header's
// first cell is head, as trimmed cells, the first unwrapped from its code
// span.
func docTable(t *testing.T, doc, head string) [][]string {
	t.Helper()
	code := regexp.MustCompile("^`([^`]+)`$")
	var out [][]string
	in := false
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "|") {
			in = false
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case cells[0] == head:
			in = true
		case !in || strings.HasPrefix(cells[0], "---"):
		default:
			m := code.FindStringSubmatch(cells[0])
			if m == nil {
				t.Errorf("docs/policies.md: a %s row that is not one code span: %s", head, line)
				continue
			}
			cells[0] = m[1]
			out = append(out, cells)
		}
	}
	return out
}

// TestDocsKeys checks that docs/policies.md documents every key of the
// schema, in its Key table, once, and no key the schema lacks.
func TestDocsKeys(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	want := schemaKeys(reflect.TypeFor[Policy](), "")
	var got []string
	for _, row := range docTable(t, string(b), "Key") {
		got = append(got, row[0])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("docs/policies.md Key table and the schema differ (-schema +docs):\n%s", diff)
	}
}

// TestDocsVariables checks the CEL variables table of docs/policies.md
// against the one of package celrule, which its own test checks against the
// code.
func TestDocsVariables(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("celrule", "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	rowGo := regexp.MustCompile(`(?m)^//\s+\| (\w+\.\w+) +\| (\S+) +\| (.*) \|$`)
	var want, got []string
	for _, m := range rowGo.FindAllStringSubmatch(string(src), -1) {
		want = append(want, m[1]+" "+m[2]+" "+m[3])
	}
	for _, row := range docTable(t, string(doc), "Field") {
		got = append(got, strings.Join(row, " "))
	}
	if len(want) == 0 {
		t.Fatal("no variables in celrule/doc.go")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("docs/policies.md variables and celrule/doc.go differ (-celrule +docs):\n%s", diff)
	}
}

// TestDocsExamples parses every YAML example of docs/policies.md; an
// example without a version line is a fragment, read after "version: 1".
func TestDocsExamples(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) < 5 {
		t.Fatalf("only %d YAML examples", len(blocks))
	}
	version := regexp.MustCompile(`(?m)^version:`)
	for i, m := range blocks {
		src := m[1]
		if !version.MatchString(src) {
			src = "version: 1\n" + src
		}
		p, err := Parse("example", []byte(src))
		if err == nil {
			_, err = Resolve(p)
		}
		if err != nil {
			t.Errorf("example %d:\n%s\n%v", i+1, m[1], err)
		}
	}
}
