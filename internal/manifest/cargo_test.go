package manifest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
)

func TestParseCargoToml(t *testing.T) {
	t.Parallel()
	crate := func(name, version, rng string, line int) deps.Package {
		return deps.Package{Ecosystem: deps.Cargo, Name: name, Version: version, Range: rng, Manifest: "Cargo.toml", Line: line}
	}
	tests := []struct {
		name, content string
		want          []deps.Package
	}{
		{"requirements", `[dependencies]
a = "1.0"
b = "=1.2.3"
c = "= 1.2.3-rc.1+build.5"
d = "=1.2"
e = "*"
f = { version = "^2" }
g = { features = ["x"] }
h = "1.2.3"
`, []deps.Package{
			crate("a", "", "1.0", 2),
			crate("b", "1.2.3", "=1.2.3", 3),
			crate("c", "1.2.3-rc.1+build.5", "= 1.2.3-rc.1+build.5", 4),
			crate("d", "", "=1.2", 5),
			crate("e", "", "*", 6),
			crate("f", "", "^2", 7),
			crate("g", "", "*", 8),
			crate("h", "", "1.2.3", 9), // ^1.2.3
		}},
		{"skipped sources", `[dependencies]
local = { path = "../local" }
local-published = { path = "../lp", version = "0.1" }
from-git = { git = "https://github.com/org/repo", branch = "main" }
private = { version = "1", registry = "corp" }
inherited = { workspace = true }
inherited-dotted.workspace = true
"bad name" = "1"
`, nil},
		{"renames, quoted keys, dotted keys and table headers", `[dependencies]
fork = { package = "serde", version = "1" }
"quoted" = "2"
dotted.version = "3"
dotted.features = ["x"]

[dependencies.tabled]
version = "4"

[target.'cfg(all(unix, not(target_os = "macos")))'.dependencies]
unixy = "5"

[target."cfg(windows)".build-dependencies.winres]
version = "=0.1.12"

[dev_dependencies]
old-style = "6"
`, []deps.Package{
			crate("dotted", "", "3", 4),
			crate("serde", "", "1", 2),
			crate("quoted", "", "2", 3),
			crate("tabled", "", "4", 7),
			crate("old-style", "", "6", 17),
			crate("unixy", "", "5", 11),
			crate("winres", "0.1.12", "=0.1.12", 13),
		}},
		{"lines past multi-line values", `[package]
name = "x"
description = """
[dependencies]
fake = "1"
"""
keywords = [
  "ml",
  "a = b",
]

[dependencies]
real = "1"
`, []deps.Package{
			crate("real", "", "1", 13),
		}},
		{"no dependencies", "[package]\nname = \"x\"\n", nil},
		{"odd shapes", "dependencies = 5\ntarget = \"x\"\nworkspace = []\n[dev-dependencies]\nx = 5\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(context.Background(), "Cargo.toml", []byte(tt.content))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTOMLLines(t *testing.T) {
	t.Parallel()
	lines := newTOMLLines([]byte(`top = 1
[a . "b.c" . 'd']  # comment
x = { y = 1 }
e.f = [
  1, [2],
]
g = '''
h = 1
'''
[[arr]]
i = "a\"b"
`))
	for path, want := range map[string]int{
		"top": 1, "a": 2, "a\x00b.c\x00d": 2, "a\x00b.c\x00d\x00x": 3, "a\x00b.c\x00d\x00e\x00f": 4,
		"a\x00b.c\x00d\x00g": 7, "a\x00b.c\x00d\x00h": 0, "arr": 10, "arr\x00i": 11, "x": 0,
	} {
		if got := lines[path]; got != want {
			t.Errorf("line of %q = %d, want %d", path, got, want)
		}
	}
}
