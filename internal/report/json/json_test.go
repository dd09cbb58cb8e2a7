package json

import (
	"bytes"
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		result *finding.Result
	}{
		{"empty.json", reporttest.Empty()},
		{"nil-slices.json", &finding.Result{Tool: finding.Tool{Name: "mlguard", Version: "0.1.0"}, Decision: finding.Pass}},
		{"full.json", reporttest.Full()},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Write(&buf, tt.result, Options{}); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got := buf.Bytes()
			reporttest.Golden(t, tt.golden, got, *update)

			if !bytes.HasSuffix(got, []byte("}\n")) || bytes.HasSuffix(got, []byte("\n\n")) {
				t.Errorf("output does not end in exactly one newline")
			}
			if bytes.ContainsFunc(got, invisible) {
				t.Errorf("output holds a raw C1 or bidi control")
			}
			var top map[string]json.RawMessage
			if err := json.Unmarshal(got, &top); err != nil {
				t.Fatalf("output is not one JSON object: %v", err)
			}
			for _, k := range []string{"files", "skipped", "findings", "packages"} {
				if v := string(top[k]); len(v) == 0 || v[0] != '[' {
					t.Errorf("%q = %s, want a JSON array", k, v)
				}
			}
		})
	}
}

// TestRoundTrip checks that the fields a consumer reads come back as written
// (invalid UTF-8 in evidence excepted: encoding/json turns it into U+FFFD).
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	in := reporttest.Full()
	var buf bytes.Buffer
	if err := Write(&buf, in, Options{}); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Schema string `json:"schema"`
		finding.Result
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Schema != finding.Schema {
		t.Errorf("schema = %q, want %q", out.Schema, finding.Schema)
	}
	want := *in
	want.Packages = []finding.Package{} // written as [], read back empty
	want.Findings = append([]finding.Finding(nil), in.Findings...)
	for i := range want.Findings {
		want.Findings[i].Evidence = string([]rune(want.Findings[i].Evidence))
	}
	if diff := cmp.Diff(want, out.Result); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWaived(t *testing.T) {
	t.Parallel()
	r := reporttest.Full()
	w := finding.New(finding.PickleUnknownGlobal, "pickle imports mylab.Net")
	w.Path = "legacy/old.pkl"
	r.Waived = []finding.Waived{{Finding: w, Waiver: "pickle/* for path legacy/**", Reason: "reviewed", Expires: "2027-01-31"}}
	var b bytes.Buffer
	if err := Write(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"waived": [`) || !strings.Contains(b.String(), `"waiver": "pickle/* for path legacy/**"`) || !strings.Contains(b.String(), `"expires": "2027-01-31"`) {
		t.Errorf("no waived list:\n%s", b.String())
	}
	b.Reset()
	if err := Write(&b, reporttest.Full(), Options{}); err != nil || strings.Contains(b.String(), "waived") {
		t.Errorf("a result without waivers lists them: %v", err)
	}
}
