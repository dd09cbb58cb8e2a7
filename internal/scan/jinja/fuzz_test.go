package jinja

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
)

// FuzzAnalyze: any input is analysed without panicking, within bounds, and
// every finding names a rule and points inside the template.
func FuzzAnalyze(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*", "*.jinja"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		// Large seeds make the fuzzer spend its time minimizing them.
		if len(b) <= 4<<10 {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"", "{{", "{%", "{#", "{% raw %}", "{{ 'a\\N{LOW LINE}' }}", "{{ x[::-1] }}",
		"{% set a, b = 1, 2 %}{{ a ~ b }}", "{% macro m(a=1) %}{{ a }}{% endmacro %}{{ m(*x, **y) }}",
		"{{ '%(a)s' % {'a': 1} }}", "{{ '{0[x]}'.format(y) }}", "{%- filter upper -%}x{%- endfilter -%}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tpl string) {
		for _, fd := range Analyze(tpl) {
			if _, ok := finding.Lookup(fd.Rule); !ok {
				t.Fatalf("unknown rule %q", fd.Rule)
			}
			if fd.Line < 1 || fd.Offset < 0 || fd.Offset > int64(len(tpl)) {
				t.Fatalf("finding outside the template: line %d offset %d (len %d): %+v", fd.Line, fd.Offset, len(tpl), fd)
			}
		}
	})
}
