package health

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEvaluateLicence(t *testing.T) {
	t.Parallel()
	allow := []string{"MIT", "Apache-2.0", "BSD-3-Clause", "GPL-2.0-only WITH Classpath-exception-2.0"}
	deny := []string{"GPL-3.0-only", "AGPL-3.0-or-later", "gpl-2.0"}
	for _, tc := range []struct {
		expr        string
		allow, deny []string
		want        Verdict
		ids         []string
	}{
		// No lists: every known SPDX licence is fine.
		{expr: "MIT", want: LicenceAllowed},
		{expr: "(MIT OR Apache-2.0)", want: LicenceAllowed},
		{expr: "mit", want: LicenceAllowed},
		{expr: "GPL-2.0+", want: LicenceAllowed},
		{expr: "Apache-2.0 WITH LLVM-exception", want: LicenceAllowed},
		{expr: "MIT License", want: LicenceAllowed}, // alias
		{expr: "", want: LicenceUnknown},
		{expr: "UNKNOWN", want: LicenceUnknown},
		{expr: "UNLICENSED", want: LicenceUnknown},
		{expr: "BSD", want: LicenceUnknown, ids: []string{"BSD"}}, // ambiguous
		{expr: "LicenseRef-Acme", want: LicenceUnknown, ids: []string{"LicenseRef-Acme"}},
		{expr: "SEE LICENSE IN LICENSE.md", want: LicenceUnknown},
		{expr: "MIT AND", want: LicenceUnknown},
		{expr: "(MIT", want: LicenceUnknown},
		{expr: "MIT)", want: LicenceUnknown},
		{expr: "MIT WITH", want: LicenceUnknown},
		{expr: "MIT OR Foo-1.0", want: LicenceAllowed},                            // one known choice suffices
		{expr: "MIT AND Foo-1.0", want: LicenceUnknown, ids: []string{"Foo-1.0"}}, // every part is needed

		// Deny list.
		{expr: "GPL-3.0-only", deny: deny, want: LicenceDenied, ids: []string{"GPL-3.0-only"}},
		{expr: "gpl-3.0-ONLY", deny: deny, want: LicenceDenied, ids: []string{"gpl-3.0-ONLY"}},
		{expr: "GPL-3.0-only OR MIT", deny: deny, want: LicenceAllowed},
		{expr: "GPL-3.0-only AND MIT", deny: deny, want: LicenceDenied, ids: []string{"GPL-3.0-only"}},
		{expr: "MIT AND (AGPL-3.0-or-later OR GPL-3.0-only)", deny: deny, want: LicenceDenied, ids: []string{"AGPL-3.0-or-later", "GPL-3.0-only"}},
		{expr: "GPL-2.0+", deny: deny, want: LicenceDenied, ids: []string{"GPL-2.0+"}}, // base id denied
		{expr: "GPL-2.0 WITH Classpath-exception-2.0", deny: deny, want: LicenceDenied, ids: []string{"GPL-2.0 WITH Classpath-exception-2.0"}},
		{expr: "GPL-3.0-only AND Foo-1.0", deny: deny, want: LicenceDenied, ids: []string{"GPL-3.0-only"}},

		// Allow list.
		{expr: "MIT", allow: allow, want: LicenceAllowed},
		{expr: "MPL-2.0", allow: allow, want: LicenceNotAllowed, ids: []string{"MPL-2.0"}},
		{expr: "MPL-2.0 OR MIT", allow: allow, want: LicenceAllowed},
		{expr: "MPL-2.0 AND MIT", allow: allow, want: LicenceNotAllowed, ids: []string{"MPL-2.0"}},
		{expr: "MIT AND Apache-2.0 AND BSD-3-Clause", allow: allow, want: LicenceAllowed},
		{expr: "GPL-2.0-only WITH Classpath-exception-2.0", allow: allow, want: LicenceAllowed},
		{expr: "GPL-2.0-only", allow: allow, want: LicenceNotAllowed, ids: []string{"GPL-2.0-only"}},
		{expr: "MPL-2.0 OR Foo-1.0", allow: allow, want: LicenceUnknown, ids: []string{"Foo-1.0"}},
		{expr: "LicenseRef-Acme", allow: []string{"LicenseRef-Acme"}, want: LicenceAllowed}, // named by the policy
		{expr: "MIT", allow: []string{"MIT"}, deny: []string{"MIT"}, want: LicenceDenied, ids: []string{"MIT"}},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			got := EvaluateLicence(tc.expr, tc.allow, tc.deny)
			if got.Verdict != tc.want || !cmp.Equal(tc.ids, got.IDs) {
				t.Errorf("EvaluateLicence(%q) = %v %q (%s), want %v %q", tc.expr, got.Verdict, got.IDs, got.Reason, tc.want, tc.ids)
			}
			if got.Verdict == LicenceUnknown && got.Reason == "" {
				t.Errorf("EvaluateLicence(%q): unknown without a reason", tc.expr)
			}
		})
	}
}

func TestParseLicence(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"MIT":                                  "MIT",
		"MIT OR Apache-2.0 AND BSD-3-Clause":   "MIT OR (Apache-2.0 AND BSD-3-Clause)",
		"(MIT OR Apache-2.0) AND BSD-3-Clause": "(MIT OR Apache-2.0) AND BSD-3-Clause",
		"a or b or c":                          "a OR b OR c",
		"((MIT))":                              "MIT",
		"GPL-2.0-or-later WITH Bison-exception-2.2 OR MIT": "GPL-2.0-or-later WITH Bison-exception-2.2 OR MIT",
		"DocumentRef-x:LicenseRef-y":                       "DocumentRef-x:LicenseRef-y",
	} {
		e, err := ParseLicence(in)
		if err != nil {
			t.Errorf("ParseLicence(%q): %v", in, err)
			continue
		}
		if got := e.String(); got != want {
			t.Errorf("ParseLicence(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{"", "()", "MIT OR", "AND MIT", "MIT MIT", "MIT WITH (X)", "M!T", "+",
		strings.Repeat("(", 40) + "MIT" + strings.Repeat(")", 40), strings.Repeat("MIT OR ", 200) + "MIT"} {
		if e, err := ParseLicence(in); err == nil {
			t.Errorf("ParseLicence(%q) = %v, want an error", in, e)
		}
	}
}

func FuzzParseLicence(f *testing.F) {
	for _, s := range []string{"MIT", "(MIT OR Apache-2.0) AND BSD-3-Clause", "GPL-2.0+ WITH Classpath-exception-2.0", "((", "a and b or c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseLicence(s)
		if err != nil {
			return
		}
		// What parses, prints as an expression that parses to the same print.
		again, err := ParseLicence(e.String())
		if err != nil || again.String() != e.String() {
			t.Errorf("%q prints as %q, which reparses as %v (%v)", s, e.String(), again, err)
		}
		EvaluateLicence(s, []string{"MIT"}, []string{"GPL-3.0-only"})
	})
}
