// Package e2e holds mlguard's end-to-end tests: `mlguard ci` run the way the GitHub Actions runner runs the
// action, against a mock of api.github.com served from GitHub's own OpenAPI description (githubmock/), on a
// checkout with a malicious and a benign model. Its tests skip unless MLGUARD_E2E_GITHUB_API names a running
// mock; .ci/run starts one. See README.md.
package e2e
