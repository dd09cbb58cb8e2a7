package text

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"unicode/utf8"

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
		opts   Options
	}{
		{"empty.txt", reporttest.Empty(), Options{}},
		{"full.txt", reporttest.Full(), Options{}},
		{"full-verbose.txt", reporttest.Full(), Options{Verbose: true}},
		{"full-color.txt", reporttest.Full(), Options{Color: true}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Write(&buf, tt.result, tt.opts); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got := buf.Bytes()
			reporttest.Golden(t, tt.golden, got, *update)
			checkInert(t, got, tt.opts.Color)
		})
	}
}

// checkInert fails when out holds anything a terminal would act on other than
// the colour sequences the reporter writes itself.
func checkInert(t *testing.T, out []byte, color bool) {
	t.Helper()
	s := string(out)
	if color {
		own := []string{reset, bold, dim, "\x1b[1;32m"}
		for _, c := range severityColor {
			own = append(own, c)
		}
		for _, c := range own {
			s = strings.ReplaceAll(s, c, "")
		}
	}
	if !utf8.ValidString(s) {
		t.Errorf("output is not valid UTF-8")
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n') || r == 0x7f || unsafeRune(r) {
			t.Errorf("output contains control %U", r)
		}
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "models/a.pt", "models/a.pt"},
		{"backslash kept", `C:\models\a.pt`, `C:\models\a.pt`},
		{"utf-8 kept", "modèle/模型.pt", "modèle/模型.pt"},
		{"ansi escape", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"newline tab cr", "a\nb\tc\rd", `a\nb\tc\rd`},
		{"nul bel", "a\x00b\x07", `a\x00b\x07`},
		{"del", "a\x7fb", `a\x7fb`},
		{"c1 csi", "a\u009b2J", `a\u009b2J`},
		{"c1 nel", "a\u0085b", `a\u0085b`},
		{"invalid utf-8", "a\xff\xfeb", `a\xff\xfeb`},
		{"truncated rune", "a\xe6\x96", `a\xe6\x96`},
		{"encoded surrogate", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"bidi override", "evil\u202egnp.pt", `evil\u202egnp.pt`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"replacement char kept", "a\ufffdb", "a\ufffdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Sanitize(tt.in)); diff != "" {
				t.Errorf("Sanitize(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add(reporttest.HostileEvidence)
	f.Add("models/a.pt!archive/data.pkl")
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s)
		for _, r := range got {
			if r < 0x20 || r == 0x7f || unsafeRune(r) {
				t.Fatalf("Sanitize(%q) = %q keeps control %U", s, got, r)
			}
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Sanitize(%q) = %q is not valid UTF-8", s, got)
		}
		if Sanitize(got) != got {
			t.Fatalf("Sanitize is not idempotent on %q", s)
		}
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	t.Parallel()
	if err := Write(failWriter{}, reporttest.Full(), Options{}); err == nil {
		t.Fatal("Write to a failing writer returned nil")
	}
	if err := Write(&bytes.Buffer{}, nil, Options{}); err == nil {
		t.Fatal("Write of a nil result returned nil")
	}
}

// TestWaived: every waived finding is listed with its waiver, reason and
// expiry, sanitized.
func TestWaived(t *testing.T) {
	t.Parallel()
	r := reporttest.Full()
	w := finding.New(finding.PickleUnknownGlobal, "pickle imports mylab.Net")
	w.Path = "legacy/old\x1b[2J.pkl"
	r.Waived = []finding.Waived{{Finding: w, Waiver: "pickle/* for path legacy/**", Reason: "reviewed lab models", Expires: "2027-01-31"}}
	var b bytes.Buffer
	if err := Write(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	want := "1 finding waived by the policy:\n  medium pickle/unknown-global at legacy/old\\x1b[2J.pkl: reviewed lab models (waiver pickle/* for path legacy/**, until 2027-01-31)\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("report lacks\n%s\ngot:\n%s", want, b.String())
	}
}
