package finding

// Rule ids of dependencies and their health.
const (
	PackageMalicious          = "package/malicious"
	PackageVulnerable         = "package/vulnerable"
	PackageProjectTooNew      = "package/project-too-new"
	PackageVersionTooNew      = "package/version-too-new"
	PackageFewMaintainers     = "package/few-maintainers"
	PackageUnmaintained       = "package/unmaintained"
	PackageDeprecated         = "package/deprecated"
	PackageInstallScripts     = "package/install-scripts"
	PackageTyposquat          = "package/typosquat"
	PackageLowScorecard       = "package/low-scorecard"
	PackageNoSourceRepository = "package/no-source-repository"
	PackageLicence            = "package/licence"
	PackageUnpinned           = "package/unpinned"
	PackageFactsUnknown       = "package/facts-unknown"
	PackageHubScanFlagged     = "package/hub-scan-flagged"
)

// Rules of dependencies and their health (internal/health). Thresholds come
// from the policy; the defaults are given in the summaries.
var packageRules = []Rule{
	{
		ID:       PackageMalicious,
		Severity: Critical,
		Summary:  "The package version is known to be malicious (an OSV MAL- advisory).",
		Rationale: "OSV's malicious-packages data set records packages published to steal credentials, open shells or " +
			"mine coins, most often typosquats and dependency-confusion uploads. Installing one runs the attacker's code " +
			"on the developer's machine or the CI runner, usually at install time, before any test.",
		Remediation: "Remove the dependency, do not install it anywhere, and if it was already installed treat the " +
			"machine and the secrets it held as compromised: rotate tokens and keys.",
	},
	{
		ID:       PackageVulnerable,
		Severity: High,
		Summary:  "The package version has a published vulnerability; the severity is the advisory's (high when it gives none).",
		Rationale: "OSV aggregates the GitHub, PyPI, npm and Go advisory databases. A known vulnerability in a new " +
			"dependency is cheapest to fix before it is merged. One finding is reported per advisory; its aliases " +
			"(CVE, GHSA, PYSEC) are listed in the message. An advisory without a severity is reported as high: " +
			"mlguard does not guess an advisory harmless.",
		Remediation: "Pin a version outside the advisory's affected range, or waive the advisory id in the policy " +
			"after checking that the vulnerable code is not reachable from your use.",
	},
	{
		ID:       PackageProjectTooNew,
		Severity: Medium,
		Summary:  "The project's first release is younger than the policy allows (default 90 days).",
		Rationale: "Most malicious packages are removed within days of their upload, and brand-new projects have had no " +
			"time to earn users or review. A dependency that did not exist three months ago deserves a look before " +
			"it becomes part of the build.",
		Remediation: "Check who publishes the project and why it is needed; waive the finding for this package in the " +
			"policy once reviewed, or wait until it is older.",
	},
	{
		ID:       PackageVersionTooNew,
		Severity: Medium,
		Summary:  "The pinned version was released more recently than the cooldown allows (default 7 days).",
		Rationale: "Compromised releases of popular packages (event-stream, ua-parser-js, ultralytics, the 2025 npm " +
			"worms) are usually found and yanked within days. Waiting a few days before adopting a release avoids most " +
			"of them at little cost.",
		Remediation: "Pin the previous release until the cooldown has passed, or waive the finding for an urgent " +
			"security fix after reading the release's changes.",
	},
	{
		ID:       PackageFewMaintainers,
		Severity: Low,
		Summary:  "The package has fewer maintainers on its registry than the policy asks (default 2).",
		Rationale: "A single maintainer account is a single point of failure: one phished or abandoned account lets " +
			"anyone publish a release. It is also the usual shape of throwaway attack packages.",
		Remediation: "Prefer a maintained alternative with several owners, or accept the package knowingly with a waiver.",
	},
	{
		ID:       PackageUnmaintained,
		Severity: Low,
		Summary:  "The package has had no release for longer than the policy allows (default 2 years).",
		Rationale: "An unmaintained package does not receive fixes for vulnerabilities or for newer language versions, " +
			"and abandoned names are taken over and republished by attackers.",
		Remediation: "Look for a maintained fork or alternative; if the package is simply finished, waive the finding.",
	},
	{
		ID:       PackageDeprecated,
		Severity: Medium,
		Summary:  "The package or version is deprecated by its maintainers, or the version was yanked.",
		Rationale: "Maintainers deprecate a package or yank a release when it is broken, insecure or replaced. The " +
			"registry message, when there is one, is in the finding.",
		Remediation: "Follow the deprecation message (usually the name of the replacement), or pin a release that is not yanked.",
	},
	{
		ID:       PackageInstallScripts,
		Severity: Medium,
		Summary:  "The npm package runs scripts when it is installed (preinstall, install or postinstall).",
		Rationale: "Install scripts run with the rights of whoever runs npm install, on every developer machine and CI " +
			"runner, before any code review of the package's behaviour. They are how nearly every malicious npm package " +
			"does its work, and legitimate uses (native builds) are few.",
		Remediation: "Check what the script does; install with --ignore-scripts where possible, or allow the package " +
			"in the policy once reviewed.",
	},
	{
		ID:       PackageTyposquat,
		Severity: High,
		Summary:  "The package name is one typo (an edit, a swap, a separator, a look-alike character or a py/python prefix) away from a popular package.",
		Rationale: "Typosquats copy a popular name with a small mistake (reqeusts, crossenv, colourama, python3-dateutil) " +
			"and wait for someone to mistype it; they often install the real package too, so nothing seems wrong. The " +
			"name is compared with an embedded list of popular package names of its ecosystem after normalisation; a " +
			"name that is itself popular is never reported.",
		Remediation: "Check the spelling against the package you meant; if the name is right and the package " +
			"legitimate, waive the finding for it in the policy.",
	},
	{
		ID:       PackageLowScorecard,
		Severity: Low,
		Summary:  "The package's source repository has an OpenSSF Scorecard score below the policy's minimum (default 4.0).",
		Rationale: "Scorecard rates a repository's security practices (branch protection, code review, pinned CI " +
			"dependencies, signed releases, dangerous workflows). A low score means a compromise of the project is " +
			"easier and less likely to be noticed.",
		Remediation: "Prefer a better-kept alternative, or accept the package knowingly with a waiver.",
	},
	{
		ID:       PackageNoSourceRepository,
		Severity: Low,
		Summary:  "The package's registry metadata links no source repository.",
		Rationale: "Without a source repository nobody can compare the published artifact with reviewed code, and the " +
			"project's history, issues and security practices cannot be checked. Malicious packages rarely link one.",
		Remediation: "Find the project's source and check that it matches the release, or choose a package that publishes its source.",
	},
	{
		ID:       PackageLicence,
		Severity: Medium,
		Summary:  "The package's licence is denied by the policy or not on its allow list; low when the licence is missing or not an SPDX expression.",
		Rationale: "A dependency's licence binds the product that ships it. The SPDX expression is evaluated against the " +
			"policy's lists: with OR any one choice may satisfy it, with AND every part must. A licence given as free " +
			"text, or not given at all, cannot be checked automatically.",
		Remediation: "Choose a package under an allowed licence, or after legal review add the licence to the policy's " +
			"allow list or waive the finding for this package.",
	},
	{
		ID:       PackageUnpinned,
		Severity: Low,
		Summary:  "The manifest gives a range or no version for the package instead of one pinned version.",
		Rationale: "An unpinned dependency installs whatever the registry serves on the day of the build, so a " +
			"malicious or broken release reaches the build without any change in the repository, and nothing about " +
			"that version was checked here.",
		Remediation: "Pin the version (==, an exact npm version) or use a lock file with hashes (pip-compile, uv, " +
			"poetry, npm ci).",
	},
	{
		ID:       PackageHubScanFlagged,
		Severity: High,
		Summary:  "The Hugging Face Hub's own security scan flagged files in the referenced model repository: high for unsafe, medium for any other level.",
		Rationale: "The Hub scans the pickles and other files of every model repository (picklescan, and partner " +
			"scanners) and publishes the result. A model reference in code, a config or a model card downloads that " +
			"repository at run time, outside this pull request, so mlguard cannot scan its files itself; the Hub's " +
			"verdict is the best evidence available. The finding names each flagged file and its level.",
		Remediation: "Do not load the flagged files: pin a revision that has only safetensors weights, load with " +
			"use_safetensors=True, or scan the repository's files with mlguard scan before use. Waive the finding " +
			"for the model's purl only after checking the flagged files.",
	},
	{
		ID:       PackageFactsUnknown,
		Severity: Info,
		Summary:  "Some health criteria could not be evaluated because the registry did not give the facts they need.",
		Rationale: "A fact the registry does not provide, or that could not be fetched (offline, timeouts, errors), is " +
			"unknown, never zero, so a missing answer never passes as healthy. One finding per package lists the " +
			"criteria that were not evaluated; the policy decides whether unknown fails.",
		Remediation: "Run again with network access to the registries, or check the listed criteria by hand.",
	},
}
