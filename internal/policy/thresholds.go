package policy

import (
	"time"

	"github.com/mlguard/mlguard/internal/health"
)

// Thresholds are the package criteria's limits under the policy: the
// built-in defaults, with each value the policy sets in its place (zero
// turns a criterion off).
func (p *Policy) Thresholds() health.Thresholds {
	th := health.DefaultThresholds()
	const day = 24 * time.Hour
	k := p.Packages
	if k.MinMaintainers != nil {
		th.MinMaintainers = *k.MinMaintainers
	}
	if k.MinProjectAgeDays != nil {
		th.ProjectMinAge = time.Duration(*k.MinProjectAgeDays) * day
	}
	if k.MinVersionAgeDays != nil {
		th.VersionMinAge = time.Duration(*k.MinVersionAgeDays) * day
	}
	if k.MaxDaysSinceRelease != nil {
		th.MaxSinceLatest = time.Duration(*k.MaxDaysSinceRelease) * day
	}
	if k.MinScorecard != nil {
		th.MinScorecard = *k.MinScorecard
	}
	if len(k.Licences.Allow) > 0 {
		th.LicenceAllow = k.Licences.Allow
	}
	if len(k.Licences.Deny) > 0 {
		th.LicenceDeny = k.Licences.Deny
	}
	return th
}
