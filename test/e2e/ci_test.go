package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// overheadTarget is issue 3's target for `mlguard ci` on a PR with 10 changed small files, against the mock.
const overheadTarget = 2 * time.Second

// Pulls in testdata/prs.json.
const (
	prMalicious    = 1 // a malicious and a benign model; an earlier mlguard comment to update
	prBenign       = 2 // only a benign model changes (a malicious one sits unchanged on the base branch)
	prTenFiles     = 3 // ten small benign models
	prFixed        = 4 // only a benign model; an earlier mlguard comment reported findings that are now gone
	prDependencies = 6 // requirements.txt gains a typosquat: issue 5
	prOtherFormats = 5 // GGUF, Keras, ONNX, safetensors and a config: issue 4's formats
	prWaived       = 7 // a malicious checkpoint the repository's .mlguard.yaml waives: issue 7
)

const (
	maliciousPath = "models/evil.pkl"
	benignPath    = "models/classifier.pkl"
	dangerousRule = "pickle/dangerous-global"
)

func TestCIMaliciousPullRequest(t *testing.T) {
	h := newHarness(t)
	fx := loadFixtures(t)
	p := fx.pull(t, prMalicious)
	c := makeCheckout(t, p)
	r := h.runCI(t, fx.Repository, p, c, runOpts{})

	if r.code != 1 {
		t.Errorf("exit code %d, want 1 (the policy fails on %s)", r.code, maliciousPath)
	}
	checkCommon(t, r, fx, p)

	cr := checkRunOf(t, r)
	if cr.Conclusion != "failure" {
		t.Errorf("check run conclusion %q, want failure", cr.Conclusion)
	}
	if !cr.hasAnnotation(maliciousPath, "failure") {
		t.Errorf("no check run annotation with path %s and level failure; got %+v", maliciousPath, cr.Annotations)
	}
	if cr.hasAnnotation(benignPath, "") {
		t.Errorf("an annotation on the benign %s: %+v", benignPath, cr.Annotations)
	}

	// The earlier comment (id 101, found by its marker) is updated in place; no second comment is posted.
	var prior int64
	for _, cm := range p.Comments {
		if strings.Contains(cm.Body, fx.Marker) {
			prior = cm.ID
		}
	}
	patch := r.find("PATCH", fmt.Sprintf("/repos/%s/issues/comments/%d", fx.Repository, prior))
	if post := r.find("POST", fmt.Sprintf("/repos/%s/issues/%d/comments", fx.Repository, p.Number)); post != nil {
		t.Errorf("posted a new comment although comment %d carries the marker: %s", prior, post)
	}
	if patch == nil {
		t.Errorf("no PATCH of the earlier mlguard comment %d", prior)
	} else {
		var body struct {
			Body string `json:"body"`
		}
		if err := json.Unmarshal(patch.Body, &body); err != nil {
			t.Fatalf("comment body: %v", err)
		}
		for _, want := range []string{fx.Marker, dangerousRule, maliciousPath} {
			if !strings.Contains(body.Body, want) {
				t.Errorf("the comment does not mention %q:\n%s", want, truncate(body.Body, 2000))
			}
		}
	}

	if got := r.outputs["decision"]; got != "fail" {
		t.Errorf("output decision = %q, want fail", got)
	}
	if n, err := strconv.Atoi(r.outputs["findings"]); err != nil || n < 1 {
		t.Errorf("output findings = %q, want a count of at least 1", r.outputs["findings"])
	}
	if !strings.Contains(strings.ToLower(r.summary), "fail") {
		t.Errorf("the job summary does not say fail:\n%s", truncate(r.summary, 2000))
	}
	if !strings.Contains(r.summary, dangerousRule) {
		t.Errorf("the job summary does not name %s", dangerousRule)
	}

	annotations := workflowCommands(r.stdout, "error")
	found := false
	for _, a := range annotations {
		if a.props["file"] == maliciousPath {
			found = true
		}
		if a.props["file"] == benignPath {
			t.Errorf("an ::error annotation on the benign %s: %s", benignPath, a.line)
		}
	}
	if !found {
		t.Errorf("no ::error annotation with file=%s on stdout; ::error lines: %d", maliciousPath, len(annotations))
	}

	sarifResults := checkSARIF(t, r)
	if !sarifResults[maliciousPath+" "+dangerousRule] {
		t.Errorf("SARIF has no %s result for %s (results: %v)", dangerousRule, maliciousPath, sarifResults)
	}
}

func TestCIBenignPullRequest(t *testing.T) {
	h := newHarness(t)
	fx := loadFixtures(t)
	p := fx.pull(t, prBenign)
	c := makeCheckout(t, p)
	r := h.runCI(t, fx.Repository, p, c, runOpts{})

	if r.code != 0 {
		t.Errorf("exit code %d, want 0: only the benign %s changed (the malicious file on the base branch is not part of the PR)", r.code, benignPath)
	}
	checkCommon(t, r, fx, p)
	cr := checkRunOf(t, r)
	if cr.Conclusion != "success" {
		t.Errorf("check run conclusion %q, want success", cr.Conclusion)
	}
	if len(cr.Annotations) != 0 {
		t.Errorf("check run annotations on a clean PR: %+v", cr.Annotations)
	}
	if got := r.outputs["decision"]; got != "pass" {
		t.Errorf("output decision = %q, want pass", got)
	}
	if got := r.outputs["findings"]; got != "0" {
		t.Errorf("output findings = %q, want 0", got)
	}
	if a := workflowCommands(r.stdout, "error"); len(a) != 0 {
		t.Errorf("::error annotations on a clean PR: %v", a[0].line)
	}
	if !strings.Contains(strings.ToLower(r.summary), "pass") {
		t.Errorf("the job summary does not say pass:\n%s", truncate(r.summary, 2000))
	}
	checkSARIF(t, r)
}

func TestCIOverheadTenFiles(t *testing.T) {
	h := newHarness(t)
	fx := loadFixtures(t)
	p := fx.pull(t, prTenFiles)
	if len(p.Files) != 10 {
		t.Fatalf("pull %d has %d files, want 10", prTenFiles, len(p.Files))
	}
	c := makeCheckout(t, p)
	r := h.runCI(t, fx.Repository, p, c, runOpts{})
	if r.code != 0 {
		t.Errorf("exit code %d, want 0", r.code)
	}
	checkCommon(t, r, fx, p)
	mode := "binary"
	if h.image != "" {
		mode = "container (includes podman's start-up)"
	}
	// Printed, not only logged: CI shows the figure on every run.
	fmt.Printf("e2e: mlguard ci on a PR with %d changed files took %v (%s, %d API requests; target %v)\n",
		len(p.Files), r.elapsed.Round(time.Millisecond), mode, len(r.requests), overheadTarget)
	if h.image == "" && r.elapsed > overheadTarget {
		t.Errorf("mlguard ci took %v, over the %v target", r.elapsed.Round(time.Millisecond), overheadTarget)
	}
}

// checkCommon holds what every run with the default inputs must do, whatever the decision.
func checkCommon(t *testing.T, r *run, fx *fixtures, p *pull) {
	t.Helper()
	checkBasics(t, r)
	if len(r.requests) == 0 {
		t.Fatal("mlguard ci sent no request to the GitHub API mock")
	}
	if r.find("GET", fmt.Sprintf("/repos/%s/pulls/%d/files", fx.Repository, p.Number)) == nil {
		t.Errorf("the changed files were not read from the PR files API (GET /repos/%s/pulls/%d/files)", fx.Repository, p.Number)
	}
	if want := r.outputs["sarif-file"]; want != "" && want != "mlguard.sarif" {
		t.Errorf("output sarif-file = %q, want mlguard.sarif (workspace-relative)", want)
	}
	if got := r.outputs["bom-file"]; got != "mlguard.cdx.json" {
		t.Errorf("output bom-file = %q, want mlguard.cdx.json (the default)", got)
	} else {
		validateBOM(t, filepath.Join(r.workspace, got), "1.6")
	}
	checkCheckRun(t, r)
}

// checkCheckRun checks the check run's identity: named mlguard, on the PR head, completed.
func checkCheckRun(t *testing.T, r *run) {
	t.Helper()
	cr := checkRunOf(t, r)
	if cr.Name != "mlguard" {
		t.Errorf("check run name %q, want mlguard", cr.Name)
	}
	if cr.HeadSHA != r.head {
		t.Errorf("check run head_sha %q, want the PR head %q (not GITHUB_SHA, the merge commit)", cr.HeadSHA, r.head)
	}
	if cr.Status != "" && cr.Status != "completed" {
		t.Errorf("check run left in status %q", cr.Status)
	}
}

// checkBasics holds what every run must do, whatever its inputs: requests the mock accepts, a summary, outputs in
// heredoc blocks, the token never shown.
func checkBasics(t *testing.T, r *run) {
	t.Helper()
	for _, req := range r.requests {
		if !req.Injected && (req.Status < 200 || req.Status > 299) {
			t.Errorf("the mock refused a request (GitHub's description does not allow it): %s", req)
		}
		if !req.Authorization {
			t.Errorf("no Authorization header: %s %s", req.Method, req.Path)
		}
	}
	for _, s := range []string{r.stdout, r.stderr, r.outputsRaw, r.summary} {
		if strings.Contains(s, token) {
			t.Errorf("the token was printed")
			break
		}
	}
	if !r.summaryExists {
		t.Error("no job summary written to GITHUB_STEP_SUMMARY")
	}
	if len(r.summary) > 1<<20 {
		t.Errorf("job summary of %d bytes, over the runner's 1 MiB", len(r.summary))
	}
	for _, name := range []string{"decision", "findings"} {
		if _, ok := r.outputs[name]; !ok {
			t.Errorf("no %s output", name)
		}
	}
	for _, d := range r.delimiters {
		if len(d) < 16 || strings.EqualFold(d, "EOF") {
			t.Errorf("GITHUB_OUTPUT delimiter %q does not look random", d)
		}
	}
}

func (r *run) find(method, path string) *request {
	for i := range r.requests {
		p, _, _ := strings.Cut(r.requests[i].Path, "?")
		if r.requests[i].Method == method && p == path {
			return &r.requests[i]
		}
	}
	return nil
}

type annotation struct {
	Path      string `json:"path"`
	StartLine int    `json:"start_line"`
	EndLine   int    `json:"end_line"`
	Level     string `json:"annotation_level"`
	Message   string `json:"message"`
	Title     string `json:"title"`
}

// checkRun is the check run as the API would hold it after the run's POST and PATCHes.
type checkRun struct {
	Name, HeadSHA, Status, Conclusion string
	Title, Summary                    string
	Annotations                       []annotation
	requests                          int
}

func (c *checkRun) hasAnnotation(path, level string) bool {
	for _, a := range c.Annotations {
		if a.Path == path && (level == "" || a.Level == level) {
			return true
		}
	}
	return false
}

var checkRunPath = regexp.MustCompile(`^/repos/[^/]+/[^/]+/check-runs(/\d+)?$`)

func checkRunOf(t *testing.T, r *run) *checkRun {
	t.Helper()
	cr := &checkRun{}
	for _, req := range r.requests {
		path, _, _ := strings.Cut(req.Path, "?")
		m := checkRunPath.FindStringSubmatch(path)
		if m == nil || !(req.Method == "POST" && m[1] == "" || req.Method == "PATCH" && m[1] != "") {
			continue
		}
		var body struct {
			Name       *string `json:"name"`
			HeadSHA    *string `json:"head_sha"`
			Status     *string `json:"status"`
			Conclusion *string `json:"conclusion"`
			Output     *struct {
				Title       string       `json:"title"`
				Summary     string       `json:"summary"`
				Annotations []annotation `json:"annotations"`
			} `json:"output"`
		}
		if err := json.Unmarshal(req.Body, &body); err != nil {
			t.Fatalf("%s %s: body: %v", req.Method, req.Path, err)
		}
		set := func(dst *string, src *string) {
			if src != nil {
				*dst = *src
			}
		}
		set(&cr.Name, body.Name)
		set(&cr.HeadSHA, body.HeadSHA)
		set(&cr.Status, body.Status)
		set(&cr.Conclusion, body.Conclusion)
		if body.Output != nil {
			cr.Title, cr.Summary = body.Output.Title, body.Output.Summary
			cr.Annotations = append(cr.Annotations, body.Output.Annotations...)
		}
		cr.requests++
	}
	if cr.requests == 0 {
		t.Fatal("no check run was created (POST /repos/{owner}/{repo}/check-runs)")
	}
	return cr
}

// A workflow command line: ::error file=a,line=1,title=t::message
type command struct {
	line  string
	props map[string]string
}

func workflowCommands(stdout, name string) []command {
	var out []command
	for _, line := range strings.Split(stdout, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "::"+name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != ':') {
			continue
		}
		props := map[string]string{}
		head, _, _ := strings.Cut(strings.TrimPrefix(rest, " "), "::")
		for _, kv := range strings.Split(head, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				props[k] = unescapeProperty(v)
			}
		}
		out = append(out, command{line: line, props: props})
	}
	return out
}

// unescapeProperty undoes @actions/core's escaping of a workflow command property.
func unescapeProperty(s string) string {
	return strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",").Replace(s)
}

// checkSARIF checks the SARIF file the run wrote and returns its results as "path rule".
func checkSARIF(t *testing.T, r *run) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.workspace, "mlguard.sarif"))
	if err != nil {
		t.Errorf("no SARIF file: %v", err)
		return nil
	}
	var doc struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Errorf("mlguard.sarif is not JSON: %v", err)
		return nil
	}
	if doc.Version != "2.1.0" {
		t.Errorf("SARIF version %q, want 2.1.0", doc.Version)
	}
	results := map[string]bool{}
	for _, run := range doc.Runs {
		for _, res := range run.Results {
			for _, loc := range res.Locations {
				uri := loc.PhysicalLocation.ArtifactLocation.URI
				if strings.HasPrefix(uri, "/") || strings.Contains(uri, "github/workspace") {
					t.Errorf("SARIF location %q is not relative to the repository root (code scanning cannot place it)", uri)
				}
				results[uri+" "+res.RuleID] = true
			}
		}
	}
	return results
}

// TestCIInputs runs the malicious pull request with the action's inputs set, as a workflow's `with:` would.
func TestCIInputs(t *testing.T) {
	h := newHarness(t)
	fx := loadFixtures(t)
	p := fx.pull(t, prMalicious)
	prefix := fmt.Sprintf("/repos/%s/", fx.Repository)
	tests := []struct {
		name     string
		inputs   map[string]string
		code     int
		decision string
		// what the run may not send: a path under /repos/o/r/
		noRequests []string
	}{
		{name: "exclude the malicious file", inputs: map[string]string{"exclude": "models/evil.pkl"}, code: 0, decision: "pass"},
		{name: "paths keep only the benign file", inputs: map[string]string{"paths": "models/classifier.pkl\n# comment\n"}, code: 0, decision: "pass"},
		{name: "paths as a comma list", inputs: map[string]string{"paths": "docs/**, models/*.pkl"}, code: 1, decision: "fail"},
		{name: "fail-on critical still fails on a critical finding", inputs: map[string]string{"fail-on": "critical"}, code: 1, decision: "fail"},
		{name: "no comment", inputs: map[string]string{"comment": "false"}, code: 1, decision: "fail", noRequests: []string{"issues/"}},
		{name: "no check run", inputs: map[string]string{"check-run": "false"}, code: 1, decision: "fail", noRequests: []string{"check-runs"}},
		{name: "no SARIF file", inputs: map[string]string{"sarif-file": ""}, code: 1, decision: "fail"},
		{name: "a bad fail-on is an error", inputs: map[string]string{"fail-on": "severe"}, code: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := makeCheckout(t, p)
			r := h.runCI(t, fx.Repository, p, c, runOpts{inputs: tc.inputs})
			if r.code != tc.code {
				t.Errorf("exit code %d, want %d", r.code, tc.code)
			}
			if tc.code == 2 {
				return
			}
			checkBasics(t, r)
			if got := r.outputs["decision"]; got != tc.decision {
				t.Errorf("output decision = %q, want %q", got, tc.decision)
			}
			for _, req := range r.requests {
				for _, no := range tc.noRequests {
					if strings.HasPrefix(req.Path, prefix+no) {
						t.Errorf("with %v: %s %s", tc.inputs, req.Method, req.Path)
					}
				}
			}
			_, err := os.Stat(filepath.Join(r.workspace, "mlguard.sarif"))
			if sarif, ok := tc.inputs["sarif-file"]; ok && sarif == "" && err == nil {
				t.Error("sarif-file is empty, yet mlguard.sarif was written")
			}
		})
	}
}

// TestCIOfflineShallowCheckout: with offline set, on the shallow checkout actions/checkout leaves, neither the
// API nor git history can list the change, so mlguard scans the whole workspace (restricted by paths) and says
// so, sending nothing to the API. The self-test workflow's sample jobs rely on this.
func TestCIOfflineShallowCheckout(t *testing.T) {
	h := newHarness(t)
	fx := loadFixtures(t)
	p := fx.pull(t, prBenign) // models/evil.pkl is on the base branch, unchanged
	c := makeCheckout(t, p)
	r := h.runCI(t, fx.Repository, p, c, runOpts{inputs: map[string]string{"offline": "true", "paths": "models/**"}})
	checkBasics(t, r)
	if r.code != 1 {
		t.Errorf("exit code %d, want 1: the whole workspace, models/evil.pkl included, is scanned", r.code)
	}
	if got := r.outputs["decision"]; got != "fail" {
		t.Errorf("output decision = %q, want fail", got)
	}
	if len(r.requests) != 0 {
		t.Errorf("offline, yet %d requests went to the API, the first %s", len(r.requests), r.requests[0])
	}
	if !strings.Contains(r.summary+r.stdout+r.stderr, "whole workspace") {
		t.Errorf("nothing says that the whole workspace was scanned")
	}
	found := false
	for _, a := range workflowCommands(r.stdout, "error") {
		found = found || a.props["file"] == maliciousPath
	}
	if !found {
		t.Errorf("no ::error annotation on %s", maliciousPath)
	}
}

// readOnlyToken is what GitHub answers a pull request from a fork, whose token cannot write checks or comments.
func readOnlyToken() []fault {
	deny := map[string]string{
		"message":           "Resource not accessible by integration",
		"documentation_url": "https://docs.github.com/rest",
		"status":            "403",
	}
	return []fault{
		{Method: "POST", Path: `^/repos/[^/]+/[^/]+/check-runs$`, Status: 403, Body: deny},
		{Method: "PATCH", Path: `^/repos/[^/]+/[^/]+/check-runs/\d+$`, Status: 403, Body: deny},
		{Method: "POST", Path: `^/repos/[^/]+/[^/]+/issues/\d+/comments$`, Status: 403, Body: deny},
		{Method: "PATCH", Path: `^/repos/[^/]+/[^/]+/issues/comments/\d+$`, Status: 403, Body: deny},
		{Method: "DELETE", Path: `^/repos/[^/]+/[^/]+/issues/comments/\d+$`, Status: 403, Body: deny},
	}
}

// TestCIForkReadOnlyToken: a 403 on the check run and the comment falls back to annotations and the summary,
// with one warning, and never fails the job by itself: the exit code still follows the decision.
func TestCIForkReadOnlyToken(t *testing.T) {
	h := newHarness(t)
	fx := loadFixtures(t)
	for _, tc := range []struct {
		pr       int
		code     int
		decision string
	}{
		{prBenign, 0, "pass"},
		{prMalicious, 1, "fail"},
	} {
		t.Run(fmt.Sprintf("pull %d", tc.pr), func(t *testing.T) {
			p := fx.pull(t, tc.pr)
			c := makeCheckout(t, p)
			r := h.runCI(t, fx.Repository, p, c, runOpts{fork: true, faults: readOnlyToken()})
			checkBasics(t, r)
			if r.code != tc.code {
				t.Errorf("exit code %d, want %d: a read-only token must not change the outcome", r.code, tc.code)
			}
			if got := r.outputs["decision"]; got != tc.decision {
				t.Errorf("output decision = %q, want %q", got, tc.decision)
			}
			var warnings []string
			for _, w := range workflowCommands(r.stdout, "warning") {
				if w.props["file"] == "" {
					warnings = append(warnings, w.line)
				}
			}
			if len(warnings) != 1 {
				t.Errorf("want one ::warning about the read-only token, got %d: %q", len(warnings), warnings)
			}
			if tc.decision == "fail" {
				found := false
				for _, a := range workflowCommands(r.stdout, "error") {
					found = found || a.props["file"] == maliciousPath
				}
				if !found {
					t.Errorf("no ::error annotation on %s to fall back on", maliciousPath)
				}
			}
			for _, req := range r.requests {
				if req.Injected && req.Method == "POST" && strings.HasSuffix(req.Path, "/check-runs") {
					continue
				}
				if strings.Contains(req.Path, "/check-runs/") {
					t.Errorf("went on with the check run after a 403: %s", req)
				}
			}
		})
	}
}

// TestCIRateLimited: a secondary rate limit (403 or 429 with Retry-After) on creating the check run is waited
// out and the request sent again.
func TestCIRateLimited(t *testing.T) {
	h := newHarness(t)
	fx := loadFixtures(t)
	p := fx.pull(t, prBenign)
	for _, status := range []int{403, 429} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			c := makeCheckout(t, p)
			limited := fault{
				Method: "POST", Path: `^/repos/[^/]+/[^/]+/check-runs$`, Status: status, Times: 1,
				Headers: map[string]string{"retry-after": "1", "x-ratelimit-resource": "core"},
				Body: map[string]string{
					"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
					"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
				},
			}
			r := h.runCI(t, fx.Repository, p, c, runOpts{faults: []fault{limited}})
			checkBasics(t, r)
			if r.code != 0 {
				t.Errorf("exit code %d, want 0", r.code)
			}
			var posts []request
			for _, req := range r.requests {
				if req.Method == "POST" && strings.HasSuffix(req.Path, "/check-runs") {
					posts = append(posts, req)
				}
			}
			if len(posts) != 2 || posts[1].Status != 201 {
				t.Errorf("want the check run POST limited once, then sent again and created; got %v", posts)
			}
			if r.elapsed < time.Second {
				t.Errorf("sent again after %v, before the Retry-After of 1s", r.elapsed)
			}
		})
	}
}

// TestCIFindingsGone: when a push removes the findings, the earlier comment is updated to say all clear, or
// deleted; no new comment is posted.
func TestCIFindingsGone(t *testing.T) {
	h := newHarness(t)
	fx := loadFixtures(t)
	p := fx.pull(t, prFixed)
	c := makeCheckout(t, p)
	r := h.runCI(t, fx.Repository, p, c, runOpts{})
	checkCommon(t, r, fx, p)
	if r.code != 0 {
		t.Errorf("exit code %d, want 0", r.code)
	}
	prior := p.Comments[0].ID
	path := fmt.Sprintf("/repos/%s/issues/comments/%d", fx.Repository, prior)
	if post := r.find("POST", fmt.Sprintf("/repos/%s/issues/%d/comments", fx.Repository, p.Number)); post != nil {
		t.Errorf("posted a new comment: %s", post)
	}
	patch, del := r.find("PATCH", path), r.find("DELETE", path)
	switch {
	case del != nil:
	case patch != nil:
		var body struct {
			Body string `json:"body"`
		}
		if err := json.Unmarshal(patch.Body, &body); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body.Body, fx.Marker) || strings.Contains(body.Body, dangerousRule) {
			t.Errorf("the updated comment should keep the marker and no longer name %s:\n%s", dangerousRule, body.Body)
		}
	default:
		t.Errorf("the earlier comment %d was neither updated nor deleted", prior)
	}
}

// TestCIOtherFormats is issue 4's extension of the end-to-end test: a pull request that adds a GGUF model with a
// malicious chat template, a Keras model with a Lambda layer, and benign ONNX, safetensors and config files. The
// findings land on the right files, and the benign ones stay silent.
func TestCIOtherFormats(t *testing.T) {
	h := newHarness(t)
	fx := loadFixtures(t)
	p := fx.pull(t, prOtherFormats)
	c := makeCheckout(t, p)
	r := h.runCI(t, fx.Repository, p, c, runOpts{})
	if r.code != 1 {
		t.Errorf("exit code %d, want 1", r.code)
	}
	checkCommon(t, r, fx, p)
	cr := checkRunOf(t, r)
	if cr.Conclusion != "failure" {
		t.Errorf("check run conclusion %q, want failure", cr.Conclusion)
	}
	for _, want := range []string{"models/chat.gguf", "models/classifier.keras"} {
		if !cr.hasAnnotation(want, "failure") {
			t.Errorf("no failure annotation on %s: %+v", want, cr.Annotations)
		}
	}
	for _, clean := range []string{"models/mlp.onnx", "models/weights.safetensors", "models/config.json"} {
		if cr.hasAnnotation(clean, "") {
			t.Errorf("an annotation on the benign %s: %+v", clean, cr.Annotations)
		}
	}
	results := checkSARIF(t, r)
	for _, want := range []string{"models/chat.gguf template/sandbox-escape", "models/classifier.keras keras/lambda-layer"} {
		if !results[want] {
			t.Errorf("SARIF lacks %q; has %v", want, results)
		}
	}
}

// TestCIDependencies is issue 5's extension: a pull request that adds a typosquatted package to requirements.txt.
// The base version of the manifest is read through the contents API (the checkout is shallow), the registries
// know nothing (facts unknown), and the typosquat fails the run on the manifest's line.
func TestCIDependencies(t *testing.T) {
	h := newHarness(t)
	fx := loadFixtures(t)
	p := fx.pull(t, prDependencies)
	c := makeCheckout(t, p)
	r := h.runCI(t, fx.Repository, p, c, runOpts{})
	if r.code != 1 {
		t.Errorf("exit code %d, want 1", r.code)
	}
	checkCommon(t, r, fx, p)
	if r.find("GET", "/repos/"+fx.Repository+"/contents/requirements.txt") == nil {
		t.Errorf("the base of requirements.txt was not read through the contents API")
	}
	found := false
	for _, a := range workflowCommands(r.stdout, "error") {
		if a.props["file"] == "requirements.txt" && strings.Contains(a.line, "package/typosquat") {
			found = true
		}
	}
	if !found {
		t.Errorf("no ::error annotation for the typosquat on requirements.txt:\n%s", truncate(r.stdout, 4000))
	}
}

// TestCIPolicyWaiver: the repository's .mlguard.yaml (found in the
// workspace, no input naming it) waives a malicious checkpoint under
// archive/: the step passes, the check run succeeds, and the waived finding
// is still listed, with its reason, in the check run and the SARIF file.
func TestCIPolicyWaiver(t *testing.T) {
	h := newHarness(t)
	fx := loadFixtures(t)
	p := fx.pull(t, prWaived)
	c := makeCheckout(t, p)
	r := h.runCI(t, fx.Repository, p, c, runOpts{inputs: map[string]string{"fail-on": ""}})
	if r.code != 0 || r.outputs["decision"] != "pass" {
		t.Fatalf("exit %d, decision %q, want 0 and pass\n%s", r.code, r.outputs["decision"], truncate(r.stdout, 3000))
	}
	checkCommon(t, r, fx, p)
	cr := checkRunOf(t, r)
	if cr.Conclusion != "success" || !strings.Contains(cr.Summary, "waived by the policy") || !strings.Contains(cr.Summary, "never loaded") {
		t.Errorf("check run %q, summary:\n%s", cr.Conclusion, cr.Summary)
	}
	data, err := os.ReadFile(filepath.Join(r.workspace, "mlguard.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"suppressions"`) || !strings.Contains(string(data), "archive/2023/evil.pkl") {
		t.Errorf("the SARIF file does not carry the waived finding as suppressed")
	}
}
