package health

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/registry"
)

func TestFromRegistry(t *testing.T) {
	t.Parallel()
	when := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	adv := []registry.Advisory{
		{ID: "GHSA-1", Severity: "HIGH"},
		{ID: "MAL-2024-1", Malicious: true},
		{ID: "GHSA-2", Severity: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
	}
	for _, tc := range []struct {
		name   string
		in     *registry.Facts
		pinned bool
		want   *Facts
	}{
		{name: "nil stays unknown", in: nil, want: nil},
		{name: "nothing known", in: &registry.Facts{}, want: &Facts{}},
		{
			name:   "pinned keeps every advisory; a vector is no score",
			in:     &registry.Facts{Advisories: registry.Some(adv), Maintainers: registry.Some(0), FirstRelease: registry.Some(when)},
			pinned: true,
			want: &Facts{Maintainers: ptr(0), FirstRelease: ptr(when), AdvisoriesKnown: true, Advisories: []Advisory{
				{ID: "GHSA-1", Severity: "HIGH"}, {ID: "MAL-2024-1", Malicious: true}, {ID: "GHSA-2"},
			}},
		},
		{
			name: "unpinned keeps only malicious records",
			in:   &registry.Facts{Advisories: registry.Some(adv)},
			want: &Facts{AdvisoriesKnown: true, Advisories: []Advisory{{ID: "MAL-2024-1", Malicious: true}}},
		},
		{
			name: "an inactive development status is a deprecation",
			in:   &registry.Facts{DevStatus: registry.Some("7 - Inactive")},
			want: &Facts{Deprecated: ptr(true), DeprecationMessage: "Development Status :: 7 - Inactive"},
		},
		{
			name: "a finished hub scan is known, with its flagged files",
			in: &registry.Facts{SecurityScan: registry.Some(registry.Scan{Done: true, FilesWithIssues: []registry.ScannedFile{
				{Path: "pytorch_model.bin", Level: "unsafe"},
			}})},
			want: &Facts{HubScanKnown: true, HubScan: []ScannedFile{{"pytorch_model.bin", "unsafe"}}},
		},
		{
			name: "a hub scan not done yet is unknown",
			in:   &registry.Facts{SecurityScan: registry.Some(registry.Scan{Done: false})},
			want: &Facts{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, FromRegistry(tc.in, tc.pinned)); diff != "" {
				t.Errorf("FromRegistry (-want +got):\n%s", diff)
			}
		})
	}
}
