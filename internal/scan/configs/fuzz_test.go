package configs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

func seed(f *testing.F, patterns ...string) {
	f.Helper()
	for _, pat := range patterns {
		files, err := filepath.Glob(pat)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

func FuzzScanYAML(f *testing.F) {
	seed(f, "testdata/*/*.yaml")
	f.Add([]byte("a: &a [1, 2]\nb: &b [*a, *a]\nc: {<<: *b, _target_: ${c.x}}\n"))
	f.Add([]byte("x: !!python/object/apply:os.system [id]\n---\n%TAG !p! tag:yaml.org,2002:python/\n---\ny: !p!name:os\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ScanYAML(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{}, "")
		if err != nil || rep == nil {
			t.Fatalf("%v %v", rep, err)
		}
		for _, fd := range rep.Findings {
			if fd.Rule == "" || fd.Message == "" {
				t.Fatalf("malformed finding %+v", fd)
			}
		}
	})
}

func FuzzScanJSONConfig(f *testing.F) {
	seed(f, "testdata/*/*.json")
	f.Add([]byte(`{"auto_map": {"AutoModel": ["a--b.C", null, 3]}, "chat_template": [{"name": "x", "template": "{{ a.__class__ }}"}]}`))
	f.Add([]byte(`[{"path": "", "type": "os.system"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ScanJSONConfig(context.Background(), bytes.NewReader(b), int64(len(b)), modelfile.Options{}, "m")
		if err != nil || rep == nil {
			t.Fatalf("%v %v", rep, err)
		}
		Kind("config.json", b)
		Kind("x.yaml", b)
	})
}
