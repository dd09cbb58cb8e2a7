package manifest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
)

// pom is a POM with these properties and dependencies, parent and
// relativePath (parent omitted when empty).
func pom(parent, relativePath, props, dependencies string) string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n")
	if parent != "" {
		g, a, _ := strings.Cut(parent, ":")
		fmt.Fprintf(&b, "  <parent><groupId>%s</groupId><artifactId>%s</artifactId><version>2.0.0</version>", g, a)
		if relativePath != "" {
			fmt.Fprintf(&b, "<relativePath>%s</relativePath>", relativePath)
		}
		b.WriteString("</parent>\n")
	}
	b.WriteString("  <groupId>com.example.ml</groupId><artifactId>child</artifactId><version>1.0.0</version>\n")
	fmt.Fprintf(&b, "  <properties>%s</properties>\n  <dependencies>\n%s  </dependencies>\n</project>\n", props, dependencies)
	return b.String()
}

// dep is a <dependency> element on one line.
func dep(name, version string) string {
	g, a, _ := strings.Cut(name, ":")
	s := "    <dependency><groupId>" + g + "</groupId><artifactId>" + a + "</artifactId>"
	if version != "" {
		s += "<version>" + version + "</version>"
	}
	return s + "</dependency>\n"
}

func TestParsePOM(t *testing.T) {
	t.Parallel()
	mvn := func(name, version, rng string, line int) deps.Package {
		return deps.Package{Ecosystem: deps.Maven, Name: name, Version: version, Range: rng, Line: line}
	}
	tests := []struct {
		name, content string
		want          []deps.Package
		path          string // app/pom.xml when empty
	}{
		{"pinned, property, range, soft range", pom("", "", "<v>1.2.3</v><r>(,2.0]</r>",
			dep("a:pinned", "4.5.6")+dep("a:prop", "${v}")+dep("a:range", "[1.0,2.0)")+dep("a:proprange", "${r}")+
				dep("a:latest", "LATEST")+dep("a:list", "[1.0],[1.2]")), []deps.Package{
			mvn("a:latest", "", "LATEST", 10),
			mvn("a:list", "", "[1.0],[1.2]", 11),
			mvn("a:pinned", "4.5.6", "", 6),
			mvn("a:prop", "1.2.3", "", 7),
			mvn("a:proprange", "", "(,2.0]", 9),
			mvn("a:range", "", "[1.0,2.0)", 8),
		}, ""},
		{"unresolved property is unpinned, not dropped", pom("com.example.ml:ml-parent", "", "",
			dep("ai.djl:api", "${djl.version}")+dep("ai.djl:basicdataset", "${djl.version}-SNAPSHOT")), []deps.Package{
			mvn("ai.djl:api", "", "${djl.version}", 7),
			mvn("ai.djl:basicdataset", "", "${djl.version}-SNAPSHOT", 8),
		}, ""},
		{"managed by the parent", pom("com.example.ml:ml-parent", "", "", dep("com.microsoft.onnxruntime:onnxruntime", "")), []deps.Package{
			mvn("com.microsoft.onnxruntime:onnxruntime", "", "*", 7),
		}, ""},
		{"a property loop on itself is cut", pom("", "", "<a>1.0 ${a}</a><b>${b}</b><v>2.0</v>",
			dep("x:a", "${a}")+dep("x:v", "${v}")), []deps.Package{
			mvn("x:a", "", "${a}", 6),
			mvn("x:v", "2.0", "", 7),
		}, ""},
		{"names with unresolved properties are no packages", pom("", "", "", dep("${g}:x", "1.0")+dep(":x", "1.0")+dep("x:", "1.0")), nil, ""},
		// The parent lookup must see only the file: these relativePaths name
		// /etc/passwd, which is no POM: reading it would fail the parse.
		{"relativePath out of the repository", pom("com.example.ml:ml-parent", "../../etc/passwd", "", dep("ai.djl:api", "0.30.0")), []deps.Package{
			mvn("ai.djl:api", "0.30.0", "", 7),
		}, ""},
		{"relativePath to the root", pom("com.example.ml:ml-parent", "../../../etc/passwd", "", dep("ai.djl:api", "0.30.0")), []deps.Package{
			mvn("ai.djl:api", "0.30.0", "", 7),
		}, "a/b/c/pom.xml"},
		{"absolute relativePath", pom("com.example.ml:ml-parent", "/etc/passwd", "", dep("ai.djl:api", "0.30.0")), []deps.Package{
			mvn("ai.djl:api", "0.30.0", "", 7),
		}, ""},
		// This one names testdata/maven-parent/pom.xml, a matching parent POM
		// that manages onnxruntime and adds slf4j-api: neither may appear.
		{"relativePath to a parent on disk", pom("com.example.ml:ml-parent", "../testdata/maven-parent/pom.xml", "",
			dep("com.microsoft.onnxruntime:onnxruntime", "")), []deps.Package{
			mvn("com.microsoft.onnxruntime:onnxruntime", "", "*", 7),
		}, ""},
		{"entity and CDATA in a version", pom("", "", "<v>2.0</v>", dep("x:entity", "&#36;{v}")+dep("x:cdata", "$<![CDATA[{v}]]>")), []deps.Package{
			mvn("x:cdata", "2.0", "", 7),
			mvn("x:entity", "2.0", "", 6),
		}, ""},
		{"nothing after the root element is read", pom("", "", "", dep("x:y", "1.0")) + "<junk", []deps.Package{
			mvn("x:y", "1.0", "", 6),
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := tt.path
			if p == "" {
				p = "app/pom.xml"
			}
			got, err := Parse(context.Background(), p, []byte(tt.content))
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.want {
				tt.want[i].Manifest = p
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s\n%s", diff, tt.content)
			}
		})
	}
}

func TestParsePOMHostile(t *testing.T) {
	t.Parallel()
	// Properties that each name the previous one twice: the extractor's
	// expansion would take 2^40 steps.
	var doubling strings.Builder
	doubling.WriteString("<p0>x</p0>")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&doubling, "<p%d>${p%d}${p%d}</p%d>", i, i-1, i-1, i)
	}
	var chain strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&chain, "<c%d>${c%d}</c%d>", i, i+1, i)
	}
	tests := []struct {
		name, content string
		tooLarge      bool
	}{
		{"doubling properties, referenced", pom("", "", doubling.String(), dep("x:y", "${p40}")), true},
		{"doubling properties, not referenced", pom("", "", doubling.String(), dep("x:y", "1.0")), true},
		{"a reference formed by expansion", pom("", "", doubling.String()+"<d>$</d>", dep("x:y", "${d}{p40}")), true},
		{"a long chain", pom("", "", chain.String(), dep("x:y", "${c0}")), true},
		{"many references", pom("", "", "<v>"+strings.Repeat("x", 1000)+"</v>", strings.Repeat(dep("x:y", "${v}"), 2000)), true},
		{"properties that refer to each other", pom("", "", "<a>${b}</a><b>${a}</b>", dep("x:y", "${a}")), false},
		{"deep nesting", strings.Repeat("<a>", 2000) + strings.Repeat("</a>", 2000), true},
		{"empty", "", false},
		{"unclosed", "<project><dependencies>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			got, err := Parse(context.Background(), "pom.xml", []byte(tt.content))
			if err == nil || got != nil {
				t.Fatalf("got %v, %v; want an error", got, err)
			}
			if errors.Is(err, ErrTooLarge) != tt.tooLarge {
				t.Errorf("err = %v; want ErrTooLarge: %v", err, tt.tooLarge)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestMavenVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]string{
		"1.2.3": {"1.2.3", ""}, "33.3.1-jre": {"33.3.1-jre", ""}, "2.0.16!!": {"2.0.16", ""}, "1.0-SNAPSHOT": {"1.0-SNAPSHOT", ""},
		"": {"", ""}, "[1.0,2.0)": {"", "[1.0,2.0)"}, "[1.0]": {"", "[1.0]"}, "(,1.5]": {"", "(,1.5]"}, "1.0,2.0": {"", "1.0,2.0"},
		"[32.0, 34.0[": {"", "[32.0, 34.0["}, "3.+": {"", "3.+"}, "+": {"", "+"}, "latest.release": {"", "latest.release"},
		"LATEST": {"", "LATEST"}, "RELEASE": {"", "RELEASE"}, "${djl.version}": {"", "${djl.version}"}, "!!": {"", "!!"},
		"1.0 2.0": {"", "1.0 2.0"},
	} {
		v, r := mavenVersion(in)
		if v != want[0] || r != want[1] {
			t.Errorf("mavenVersion(%q) = %q, %q; want %q, %q", in, v, r, want[0], want[1])
		}
	}
}
