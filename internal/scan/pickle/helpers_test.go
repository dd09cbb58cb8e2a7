package pickle

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/finding"
)

// got is the part of a finding that tests assert: what, how bad, where, and
// the evidence shown to the user.
type got struct {
	Rule     string
	Severity finding.Severity
	Offset   int64
	Evidence string
	Member   string
}

func summarize(fs []finding.Finding) []got {
	out := make([]got, 0, len(fs))
	for _, f := range fs {
		out = append(out, got{Rule: f.Rule, Severity: f.Severity, Offset: f.Offset, Evidence: f.Evidence, Member: f.Member})
	}
	return sortGot(out)
}

// sortGot orders findings by member, offset and rule, so that tables need not
// follow the order in which the decoder happens to emit them.
func sortGot(gs []got) []got {
	gs = slices.Clone(gs)
	slices.SortStableFunc(gs, func(a, b got) int {
		return cmp.Or(cmp.Compare(a.Member, b.Member), cmp.Compare(a.Offset, b.Offset), cmp.Compare(a.Rule, b.Rule))
	})
	if gs == nil {
		gs = []got{}
	}
	return gs
}

func scanBytes(b []byte) *Result {
	return Scan(context.Background(), bytes.NewReader(b), Options{})
}

// want builders, one per rule, with the rule's default severity.
func critGlobal(off int64, ev string) got {
	return got{Rule: finding.PickleDangerousGlobal, Severity: finding.Critical, Offset: off, Evidence: ev}
}

func unknownCallable(off int64, ev string) got {
	return got{Rule: finding.PickleUnknownCallable, Severity: finding.High, Offset: off, Evidence: ev}
}

func unknownGlobal(off int64, ev string) got {
	return got{Rule: finding.PickleUnknownGlobal, Severity: finding.Medium, Offset: off, Evidence: ev}
}

func dynamic(off int64, ev string) got {
	return got{Rule: finding.PickleDynamicGlobal, Severity: finding.Critical, Offset: off, Evidence: ev}
}

func mutation(off int64, ev string) got {
	return got{Rule: finding.PickleGlobalMutation, Severity: finding.Critical, Offset: off, Evidence: ev}
}

func incomplete(off int64, ev string) got {
	return got{Rule: finding.ScanIncomplete, Severity: finding.High, Offset: off, Evidence: ev}
}

func trailing(off int64, ev string) got {
	return got{Rule: finding.PickleTrailingData, Severity: finding.Info, Offset: off, Evidence: ev}
}

func bombed(off int64) got {
	return got{Rule: finding.PickleResourceBomb, Severity: finding.High, Offset: off}
}

// scanCase builds a stream and the findings Scan must report for it.
type scanCase struct {
	name  string
	build func() ([]byte, []got)
}

func runScanCases(t *testing.T, cases []scanCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, want := tc.build()
			res := scanBytes(b)
			if diff := gocmp.Diff(sortGot(want), summarize(res.Findings)); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpGot diffs the findings of res against want, as (-want +got).
func cmpGot(want []got, res *Result) string {
	return gocmp.Diff(sortGot(want), summarize(res.Findings))
}

// rules lists the rule ids of findings, in order.
func rules(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}

func hasRule(fs []finding.Finding, rule string) bool {
	return slices.Contains(rules(fs), rule)
}
