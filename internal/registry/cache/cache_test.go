package cache_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/registry/cache"
)

func open(t *testing.T, ttl time.Duration) (*cache.Cache, string) {
	t.Helper()
	dir := t.TempDir()
	c, err := cache.Open(dir, "pypi", ttl)
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

func onlyFile(t *testing.T, dir string) string {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 {
		t.Fatalf("cache files = %v, want one", files)
	}
	return files[0]
}

func TestPutGet(t *testing.T) {
	t.Parallel()
	c, dir := open(t, time.Hour)
	if _, ok := c.Get("pkg:pypi/torch@2.5.1"); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := c.Put("pkg:pypi/torch@2.5.1", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get("pkg:pypi/torch@2.5.1")
	if !ok {
		t.Fatal("miss after Put")
	}
	if diff := cmp.Diff(`{"a":1}`, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := c.Put("pkg:pypi/torch@2.5.1", []byte(`{"a":2}`)); err != nil {
		t.Fatal(err)
	}
	got, _ = c.Get("pkg:pypi/torch@2.5.1")
	if string(got) != `{"a":2}` {
		t.Errorf("after overwrite: %q", got)
	}
	p := onlyFile(t, dir) // no temp files left behind
	if rel, _ := filepath.Rel(dir, p); filepath.Dir(filepath.Dir(rel)) != "pypi" || len(filepath.Base(p)) != 64 {
		t.Errorf("entry at %s, want pypi/xx/<sha256>", rel)
	}
	if _, ok := c.Get("pkg:pypi/torch@2.5.0"); ok {
		t.Error("hit for another key")
	}
}

func TestRegistriesAreSeparate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, _ := cache.Open(dir, "pypi", time.Hour)
	b, _ := cache.Open(dir, "npm", time.Hour)
	if err := a.Put("k", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Get("k"); ok {
		t.Error("npm cache sees pypi's entry")
	}
}

func TestTTL(t *testing.T) {
	t.Parallel()
	c, _ := open(t, time.Hour)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	c.SetClock(func() time.Time { return now })
	if err := c.Put("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		later time.Duration
		hit   bool
	}{
		{0, true},
		{59 * time.Minute, true},
		{61 * time.Minute, false},
		{-2 * time.Hour, false}, // written in the future: a clock problem, not fresh
	}
	for _, tt := range tests {
		c.SetClock(func() time.Time { return now.Add(tt.later) })
		if _, ok := c.Get("k"); ok != tt.hit {
			t.Errorf("%s later: hit = %v, want %v", tt.later, ok, tt.hit)
		}
	}
}

func TestCorruptedEntriesAreMisses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mangle func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }},
		{"flipped byte", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"no header", func([]byte) []byte { return []byte(`{"a":1}`) }},
		{"bad header", func(b []byte) []byte { return append([]byte("garbage 1 2\n"), b...) }},
		{"empty", func([]byte) []byte { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, dir := open(t, time.Hour)
			if err := c.Put("k", []byte(`{"a":1}`)); err != nil {
				t.Fatal(err)
			}
			p := onlyFile(t, dir)
			b, _ := os.ReadFile(p)
			if err := os.WriteFile(p, tt.mangle(b), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, ok := c.Get("k"); ok {
				t.Errorf("hit %q on a corrupted entry", got)
			}
			if err := c.Put("k", []byte("new")); err != nil { // and it can be replaced
				t.Fatal(err)
			}
			if got, ok := c.Get("k"); !ok || string(got) != "new" {
				t.Errorf("after rewrite: %q, %v", got, ok)
			}
		})
	}
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	c, err := cache.Open("", "pypi", time.Hour)
	if err != nil || c != nil {
		t.Fatalf("Open(\"\") = %v, %v; want nil, nil", c, err)
	}
	if err := c.Put("k", []byte("v")); err != nil {
		t.Error(err)
	}
	if _, ok := c.Get("k"); ok {
		t.Error("a disabled cache hit")
	}
	c.SetClock(time.Now)
}

func TestBadRegistryName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "../x", "a/b", "PyPI"} {
		if _, err := cache.Open(t.TempDir(), name, time.Hour); err == nil {
			t.Errorf("Open with registry %q succeeded", name)
		}
	}
}
