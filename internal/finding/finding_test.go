package finding

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md")

func TestRulesDocUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "rules.md")
	got := Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("docs/rules.md is stale; run go test ./internal/finding -update (-want +got):\n%s", diff)
	}
}

func TestRulesWellFormed(t *testing.T) {
	t.Parallel()
	id := regexp.MustCompile(`^[a-z]+/[a-z0-9-]+$`)
	seen := map[string]bool{}
	for _, r := range Rules() {
		if !id.MatchString(r.ID) || seen[r.ID] {
			t.Errorf("bad or duplicate id %q", r.ID)
		}
		seen[r.ID] = true
		if r.Summary == "" || r.Rationale == "" || r.Remediation == "" {
			t.Errorf("%s: summary, rationale and remediation are all required", r.ID)
		}
		if got := New(r.ID, "m"); got.Severity != r.Severity || got.Help != "docs/rules.md#"+r.Anchor() {
			t.Errorf("New(%s) = %+v", r.ID, got)
		}
	}
}

func TestSeverity(t *testing.T) {
	t.Parallel()
	for _, s := range []Severity{Info, Low, Medium, High, Critical} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%v round-trips to %v (%v)", s, back, err)
		}
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("ParseSeverity accepted an unknown name")
	}
	if s, _ := ParseSeverity("HIGH"); s != High {
		t.Error("ParseSeverity is case-sensitive")
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	r := &Result{Findings: []Finding{New(ScanUnsupported, "x"), New(PickleUnknownGlobal, "y")}}
	for _, tc := range []struct {
		threshold Severity
		want      string
	}{{Critical, Pass}, {High, Pass}, {Medium, Fail}, {Info, Fail}} {
		r.Decide(tc.threshold)
		if r.Decision != tc.want {
			t.Errorf("threshold %v: %s, want %s", tc.threshold, r.Decision, tc.want)
		}
	}
	empty := &Result{}
	empty.Decide(Info)
	if empty.Decision != Pass {
		t.Error("no findings must pass")
	}
}

func TestNewPanicsOnUnknownRule(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	New("no/such-rule", "")
}
