package bom

import (
	"testing"
	"unicode/utf8"
)

// FuzzParseConfig: any config.json content gives nil or bounded, valid
// UTF-8 fields, and never panics.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"_name_or_path": "org/m", "model_type": "llama", "architectures": ["LlamaForCausalLM"], "torch_dtype": "bfloat16"}`))
	f.Add([]byte(`{"model_type": 3, "architectures": "x"}`))
	f.Add([]byte(`{"architectures": ["\xff\xfe", "` + string(make([]byte, 300)) + `"]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := parseConfig(b)
		if c == nil {
			return
		}
		for _, s := range append([]string{c.ModelType, c.NameOrPath, c.TorchDType}, c.Architectures...) {
			if !utf8.ValidString(s) || len(s) > 260 {
				t.Fatalf("field %q", s)
			}
		}
		if len(c.Architectures) > 8 {
			t.Fatalf("%d architectures", len(c.Architectures))
		}
	})
}

// FuzzLicenses: any licence text becomes one licence choice or none.
func FuzzLicenses(f *testing.F) {
	for _, s := range []string{"apache-2.0", "MIT OR (BSD-3-Clause AND Apache-2.0)", "GPL-2.0-only WITH Classpath-exception-2.0", "llama3", "", "((((", "MIT AND"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := licenses(s)
		if l == nil {
			return
		}
		if len(*l) != 1 {
			t.Fatalf("%d choices", len(*l))
		}
		c := (*l)[0]
		if c.License != nil && c.License.ID == "" && !utf8.ValidString(c.License.Name) {
			t.Fatalf("name %q", c.License.Name)
		}
	})
}
