package health

import (
	"strings"

	"github.com/mlguard/mlguard/internal/registry"
)

// FromRegistry turns what the registries said into the facts the criteria
// read. Unknown stays unknown. For an unpinned package (pinned false) the
// advisories of any version are not this package's to carry, except
// malicious-package records, which condemn every version.
func FromRegistry(r *registry.Facts, pinned bool) *Facts {
	if r == nil {
		return nil
	}
	f := &Facts{}
	if v, ok := r.Maintainers.Get(); ok {
		f.Maintainers = &v
	}
	if v, ok := r.FirstRelease.Get(); ok {
		f.FirstRelease = &v
	}
	if v, ok := r.LatestRelease.Get(); ok {
		f.LatestRelease = &v
	}
	if v, ok := r.VersionRelease.Get(); ok {
		f.VersionRelease = &v
	}
	if v, ok := r.Yanked.Get(); ok {
		f.Yanked = &v
		if why, ok := r.YankedReason.Get(); ok && v {
			f.DeprecationMessage = why
		}
	}
	if v, ok := r.Deprecated.Get(); ok {
		f.Deprecated = &v
		if why, ok := r.DeprecatedReason.Get(); ok && v {
			f.DeprecationMessage = why
		}
	}
	if st, ok := r.DevStatus.Get(); ok && strings.Contains(st, "Inactive") {
		t := true
		f.Deprecated = &t
		f.DeprecationMessage = "Development Status :: " + st
	}
	if v, ok := r.InstallScripts.Get(); ok {
		f.InstallScripts, f.InstallScriptsKnown = v, true
	}
	if v, ok := r.SourceRepo.Get(); ok {
		f.SourceRepo = &v
	}
	if v, ok := r.License.Get(); ok {
		f.License = &v
	}
	if v, ok := r.Scorecard.Get(); ok {
		f.Scorecard = &v
	}
	if scan, ok := r.SecurityScan.Get(); ok && scan.Done {
		f.HubScanKnown = true
		for _, fl := range scan.FilesWithIssues {
			f.HubScan = append(f.HubScan, ScannedFile{Path: fl.Path, Level: fl.Level})
		}
	}
	if advs, ok := r.Advisories.Get(); ok {
		f.AdvisoriesKnown = true
		for _, a := range advs {
			if !pinned && !a.Malicious {
				continue
			}
			sev := a.Severity
			if sev == "" || strings.HasPrefix(sev, "CVSS:") {
				sev = "" // a vector is not a score; the criteria treat "" as high
			}
			f.Advisories = append(f.Advisories, Advisory{ID: a.ID, Aliases: a.Aliases, Summary: a.Summary, Severity: sev, Malicious: a.Malicious})
		}
	}
	return f
}
