package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment of the end-to-end tests.
const (
	envAPI    = "MLGUARD_E2E_GITHUB_API"  // base URL of a running githubmock (start.sh); tests skip without it
	envLog    = "MLGUARD_E2E_REQUEST_LOG" // its request log (default: githubmock/run/requests.jsonl)
	envImage  = "MLGUARD_E2E_IMAGE"       // run `mlguard ci` in this container image instead of the binary
	envPodman = "MLGUARD_E2E_PODMAN"      // the podman command for envImage (default: test/e2e/podman.sh)
	envBinary = "MLGUARD_E2E_BINARY"      // a prebuilt mlguard binary (default: built by TestMain)
)

const (
	token      = "ghs_mlguardE2eDummyToken0123456789" // never to be printed
	runTimeout = 2 * time.Minute
)

// Paths inside the action's container, as the runner mounts them.
const (
	ctrWorkspace    = "/github/workspace"
	ctrFileCommands = "/github/file_commands"
	ctrWorkflow     = "/github/workflow"
	ctrHome         = "/github/home"
)

var (
	repoRoot  string // the repository's root folder
	mlguard   string // the binary under test (binary mode)
	buildErr  error
	tmpFolder string
)

func TestMain(m *testing.M) {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	if os.Getenv(envAPI) != "" && os.Getenv(envImage) == "" {
		mlguard, buildErr = buildBinary()
	}
	// Package registries, OSV, deps.dev and the Hub: a stand-in that knows no
	// package, so facts are unknown and only the checks that need no
	// registry (pinning, typosquats) find anything. No test reaches the
	// public services.
	registries := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"not found"}`))
	}))
	registryURL = registries.URL
	code := m.Run()
	registries.Close()
	if tmpFolder != "" {
		os.RemoveAll(tmpFolder)
	}
	os.Exit(code)
}

func buildBinary() (string, error) {
	if bin := os.Getenv(envBinary); bin != "" {
		return filepath.Abs(bin)
	}
	dir, err := os.MkdirTemp("", "mlguard-e2e-bin-")
	if err != nil {
		return "", err
	}
	tmpFolder = dir
	bin := filepath.Join(dir, "mlguard")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/mlguard")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building mlguard: %v\n%s", err, out)
	}
	return bin, nil
}

// registryURL is the registries' stand-in (TestMain).
var registryURL string

// harness is one configured way of running `mlguard ci` against the mock.
type harness struct {
	api    string // mock base URL
	log    string // the mock's request log
	image  string // container image, or "" for the binary
	podman []string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	api := os.Getenv(envAPI)
	if api == "" {
		t.Skipf("%s is not set: start test/e2e/githubmock/start.sh and set it to the mock's URL", envAPI)
	}
	h := &harness{api: strings.TrimRight(api, "/"), log: os.Getenv(envLog), image: os.Getenv(envImage)}
	if h.log == "" {
		h.log = filepath.Join(repoRoot, "test", "e2e", "githubmock", "run", "requests.jsonl")
	}
	if h.image != "" {
		h.podman = strings.Fields(os.Getenv(envPodman))
		if len(h.podman) == 0 {
			h.podman = []string{filepath.Join(repoRoot, "test", "e2e", "podman.sh")}
		}
	} else if buildErr != nil {
		t.Fatal(buildErr)
	}
	return h
}

// The pull requests the mock serves (testdata/prs.json, also read by githubmock/scenario.mjs).
type fixtures struct {
	Repository string           `json:"repository"`
	Marker     string           `json:"marker"`
	Pulls      map[string]*pull `json:"pulls"`
}

type pull struct {
	Number    int
	Title     string    `json:"title"`
	HeadRef   string    `json:"head_ref"`
	BaseFiles []fixFile `json:"base_files"`
	Files     []fixFile `json:"files"`
	Comments  []struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
	} `json:"comments"`
}

type fixFile struct {
	Path   string `json:"path"`
	From   string `json:"from"`
	Text   string `json:"text"`
	Status string `json:"status"`
}

func loadFixtures(t *testing.T) *fixtures {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "test", "e2e", "testdata", "prs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("testdata/prs.json: %v", err)
	}
	for n, p := range f.Pulls {
		if p.Number, err = strconv.Atoi(n); err != nil {
			t.Fatalf("testdata/prs.json: pull %q: %v", n, err)
		}
	}
	return &f
}

func (f *fixtures) pull(t *testing.T, n int) *pull {
	t.Helper()
	p := f.Pulls[strconv.Itoa(n)]
	if p == nil {
		t.Fatalf("testdata/prs.json has no pull %d", n)
	}
	return p
}

// checkout is what actions/checkout leaves for a pull_request event: a shallow (depth 1) clone of the
// merge commit refs/pull/N/merge, detached; the base and head commits are not in it.
type checkout struct {
	dir                      string
	baseSHA, headSHA, merge  string
	baseRef, headRef, source string
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Mona", "GIT_AUTHOR_EMAIL=mona@example.com", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z",
		"GIT_COMMITTER_NAME=Mona", "GIT_COMMITTER_EMAIL=mona@example.com", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFixture(t *testing.T, dir string, f fixFile) {
	t.Helper()
	data := []byte(f.Text)
	if f.From != "" {
		var err error
		if data, err = os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(f.From))); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(dir, filepath.FromSlash(f.Path))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func makeCheckout(t *testing.T, p *pull) *checkout {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	origin := filepath.Join(t.TempDir(), "origin")
	if err := os.MkdirAll(origin, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, origin, "init", "-q")
	for _, f := range p.BaseFiles {
		writeFixture(t, origin, f)
	}
	git(t, origin, "add", "-A")
	git(t, origin, "commit", "-q", "-m", "base")
	c := &checkout{baseSHA: git(t, origin, "rev-parse", "HEAD"), baseRef: "main", headRef: p.HeadRef}
	git(t, origin, "checkout", "-q", "-b", p.HeadRef)
	for _, f := range p.Files {
		writeFixture(t, origin, f)
	}
	git(t, origin, "add", "-A")
	git(t, origin, "commit", "-q", "-m", p.Title)
	c.headSHA = git(t, origin, "rev-parse", "HEAD")
	git(t, origin, "checkout", "-q", "main")
	git(t, origin, "merge", "-q", "--no-ff", "-m", fmt.Sprintf("Merge %s into %s", c.headSHA, c.baseSHA), p.HeadRef)
	c.merge = git(t, origin, "rev-parse", "HEAD")

	// The workspace folder is named after the repository, as on a runner (.../work/r/r).
	c.dir = filepath.Join(t.TempDir(), "r")
	git(t, filepath.Dir(c.dir), "clone", "-q", "--depth", "1", "file://"+origin, c.dir)
	git(t, c.dir, "checkout", "-q", "--detach", c.merge)
	return c
}

// event is a pull_request webhook payload of the shape GitHub sends (trimmed to the fields a consumer reads).
func event(repo string, p *pull, c *checkout, fork bool) map[string]any {
	owner, name, _ := strings.Cut(repo, "/")
	user := map[string]any{"login": "octocat", "id": 583231, "type": "User"}
	repoObject := func(full string, isFork bool) map[string]any {
		o, _, _ := strings.Cut(full, "/")
		return map[string]any{
			"id": 1296269, "name": name, "full_name": full, "private": false, "default_branch": "main", "fork": isFork,
			"owner":    map[string]any{"login": o, "id": 9919, "type": "Organization"},
			"html_url": "https://github.com/" + full, "url": "https://api.github.com/repos/" + full,
		}
	}
	repository := repoObject(repo, false)
	headRepo := repository
	if fork {
		headRepo = repoObject("contributor/"+name, true)
	}
	return map[string]any{
		"action": "synchronize",
		"number": p.Number,
		"before": c.baseSHA,
		"after":  c.headSHA,
		"pull_request": map[string]any{
			"id": 1000 + p.Number, "number": p.Number, "state": "open", "title": p.Title, "user": user,
			"html_url":      fmt.Sprintf("https://github.com/%s/pull/%d", repo, p.Number),
			"url":           fmt.Sprintf("https://api.github.com/repos/%s/pulls/%d", repo, p.Number),
			"head":          map[string]any{"label": "octocat:" + c.headRef, "ref": c.headRef, "sha": c.headSHA, "user": user, "repo": headRepo},
			"base":          map[string]any{"label": owner + ":main", "ref": c.baseRef, "sha": c.baseSHA, "user": user, "repo": repository},
			"changed_files": len(p.Files), "commits": 1, "draft": false, "merged": false,
		},
		"repository": repository,
		"sender":     user,
	}
}

// actionInputs reads action.yml's inputs and their defaults: the runner sets INPUT_<NAME> for every input,
// given or not, to the given value or the default.
func actionInputs(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{}
	var section, current string
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case regexp.MustCompile(`^[a-z]`).MatchString(line):
			section, _, _ = strings.Cut(line, ":")
			current = ""
		case section == "inputs" && regexp.MustCompile(`^  [a-z][a-z0-9-]*:\s*$`).MatchString(line):
			current = strings.TrimSuffix(strings.TrimSpace(line), ":")
			inputs[current] = ""
		case section == "inputs" && current != "" && strings.HasPrefix(line, "    default:"):
			v := strings.TrimSpace(strings.TrimPrefix(line, "    default:"))
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			inputs[current] = v
		}
	}
	if len(inputs) == 0 {
		t.Fatal("action.yml: no inputs found")
	}
	return inputs
}

// run is one `mlguard ci` run and what it left behind.
type run struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
	outputs        map[string]string
	delimiters     []string
	outputsRaw     string
	summary        string
	summaryExists  bool
	requests       []request
	workspace      string
	head           string // the PR head commit
}

type request struct {
	Method        string          `json:"method"`
	Path          string          `json:"path"`
	Status        int             `json:"status"`
	Accept        string          `json:"accept"`
	Authorization bool            `json:"authorization"`
	APIVersion    string          `json:"api_version"`
	Scenario      string          `json:"scenario"`
	Injected      bool            `json:"injected"` // answered by a fault the test set, not by Prism
	Body          json.RawMessage `json:"body"`
	Response      json.RawMessage `json:"response"`
}

func (r request) String() string {
	s := fmt.Sprintf("%s %s -> %d", r.Method, r.Path, r.Status)
	if len(r.Response) > 0 && r.Status >= 400 {
		s += ": " + truncate(string(r.Response), 600)
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func randomID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// runOpts varies a run: the action's inputs (as a workflow's with: sets them), a pull request from a fork,
// faults the mock injects.
type runOpts struct {
	inputs map[string]string
	fork   bool
	faults []fault
}

// fault is an answer the mock's proxy gives instead of Prism's (githubmock/proxy.mjs, PUT /__mock/faults).
type fault struct {
	Method  string            `json:"method,omitempty"`
	Path    string            `json:"path"` // regular expression on the path, without the query
	Status  int               `json:"status"`
	Body    any               `json:"body,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Times   int               `json:"times,omitempty"` // 0: every time
}

func (h *harness) setFaults(t *testing.T, faults []fault) {
	t.Helper()
	body, err := json.Marshal(faults)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method string, body []byte) error {
		req, err := http.NewRequest(method, h.api+"/__mock/faults", bytes.NewReader(body))
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("%s /__mock/faults: %s", method, resp.Status)
		}
		return nil
	}
	if err := do(http.MethodPut, body); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := do(http.MethodDelete, nil); err != nil {
			t.Error(err)
		}
	})
}

// runCI runs `mlguard ci` on the checkout for pull p, as the runner runs the action's container.
func (h *harness) runCI(t *testing.T, repo string, p *pull, c *checkout, o runOpts) *run {
	t.Helper()
	if len(o.faults) > 0 {
		h.setFaults(t, o.faults)
	}
	fileCommands, workflow, home := t.TempDir(), t.TempDir(), t.TempDir()
	id := randomID()
	outName, summaryName := "set_output_"+id, "step_summary_"+id
	for _, name := range []string{outName, summaryName, "add_path_" + id, "set_env_" + id, "save_state_" + id} {
		if err := os.WriteFile(filepath.Join(fileCommands, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	payload, err := json.MarshalIndent(event(repo, p, c, o.fork), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(workflow, "event.json"), payload, 0o644); err != nil {
		t.Fatal(err)
	}

	ws, fc, wf, hm := c.dir, fileCommands, workflow, home
	if h.image != "" {
		ws, fc, wf, hm = ctrWorkspace, ctrFileCommands, ctrWorkflow, ctrHome
	}
	owner, _, _ := strings.Cut(repo, "/")
	env := map[string]string{
		"CI": "true", "HOME": hm, "GITHUB_ACTIONS": "true", "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
		"RUNNER_TEMP": "/home/runner/work/_temp", "RUNNER_NAME": "GitHub Actions 2", "RUNNER_ENVIRONMENT": "github-hosted",
		"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": wf + "/event.json",
		"GITHUB_REPOSITORY": repo, "GITHUB_REPOSITORY_OWNER": owner, "GITHUB_REPOSITORY_ID": "1296269",
		"GITHUB_SHA": c.merge, "GITHUB_REF": fmt.Sprintf("refs/pull/%d/merge", p.Number),
		"GITHUB_REF_NAME": fmt.Sprintf("%d/merge", p.Number), "GITHUB_REF_TYPE": "branch",
		"GITHUB_HEAD_REF": c.headRef, "GITHUB_BASE_REF": c.baseRef,
		"GITHUB_WORKSPACE": ws, "GITHUB_API_URL": h.api, "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_GRAPHQL_URL": h.api + "/graphql",
		"GITHUB_RUN_ID":      "987654321", "GITHUB_RUN_NUMBER": "42", "GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_JOB": "mlguard", "GITHUB_WORKFLOW": "mlguard", "GITHUB_ACTION": "mlguard", "GITHUB_ACTOR": "octocat",
		"GITHUB_TRIGGERING_ACTOR": "octocat", "GITHUB_RETENTION_DAYS": "90",
		"GITHUB_OUTPUT": fc + "/" + outName, "GITHUB_STEP_SUMMARY": fc + "/" + summaryName,
		"GITHUB_ENV": fc + "/set_env_" + id, "GITHUB_PATH": fc + "/add_path_" + id, "GITHUB_STATE": fc + "/save_state_" + id,
		"MLGUARD_PYPI_URL": registryURL, "MLGUARD_NPM_URL": registryURL, "MLGUARD_GOPROXY": registryURL,
		"MLGUARD_OSV_URL": registryURL, "MLGUARD_DEPSDEV_URL": registryURL, "MLGUARD_HF_URL": registryURL, "MLGUARD_CRATES_URL": registryURL,
	}
	for name, def := range actionInputs(t) {
		env["INPUT_"+strings.ToUpper(name)] = strings.ReplaceAll(def, "${{ github.token }}", token)
	}
	env["INPUT_GITHUB-TOKEN"] = token
	env["INPUT_FAIL-ON"] = "high"
	env["INPUT_SARIF-FILE"] = "mlguard.sarif"
	for k, v := range o.inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
	}

	logStart := fileSize(h.log)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var cmd *exec.Cmd
	if h.image == "" {
		cmd = exec.CommandContext(ctx, mlguard, "ci")
		cmd.Dir = c.dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + t.TempDir()}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	} else {
		args := append([]string{}, h.podman[1:]...)
		args = append(args, "run", "--rm", "--network", "host", "--workdir", ctrWorkspace,
			"-v", c.dir+":"+ctrWorkspace, "-v", fileCommands+":"+ctrFileCommands,
			"-v", workflow+":"+ctrWorkflow, "-v", home+":"+ctrHome)
		for k, v := range env {
			args = append(args, "-e", k+"="+v)
		}
		args = append(args, h.image, "ci")
		cmd = exec.CommandContext(ctx, h.podman[0], args...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	r := &run{elapsed: time.Since(start), stdout: stdout.String(), stderr: stderr.String(), workspace: c.dir, head: c.headSHA}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running mlguard ci: %v\nstderr:\n%s", err, r.stderr)
	}
	if ctx.Err() != nil {
		t.Fatalf("mlguard ci did not finish within %v", runTimeout)
	}
	raw, err := os.ReadFile(filepath.Join(fileCommands, outName))
	if err != nil {
		t.Fatal(err)
	}
	r.outputsRaw = string(raw)
	r.outputs, r.delimiters, err = parseOutputs(r.outputsRaw)
	if err != nil {
		t.Errorf("GITHUB_OUTPUT: %v\n%s", err, r.outputsRaw)
	}
	if s, err := os.ReadFile(filepath.Join(fileCommands, summaryName)); err == nil {
		r.summary, r.summaryExists = string(s), len(s) > 0
	}
	r.requests = readRequests(t, h.log, logStart)
	t.Cleanup(func() { r.report(t) })
	return r
}

func fileSize(name string) int64 {
	st, err := os.Stat(name)
	if err != nil {
		return 0
	}
	return st.Size()
}

func readRequests(t *testing.T, name string, from int64) []request {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatalf("the mock's request log: %v (set %s)", err, envLog)
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var reqs []request
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r request
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("request log line %q: %v", truncate(sc.Text(), 200), err)
		}
		reqs = append(reqs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return reqs
}

// parseOutputs reads a GITHUB_OUTPUT file the way the runner does. Every output must be a heredoc block
// (name<<DELIMITER ... DELIMITER): mlguard writes them so, with a random delimiter, so that no value can end its
// block early and set other outputs.
func parseOutputs(s string) (map[string]string, []string, error) {
	out := map[string]string{}
	var delims []string
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		name, delim, ok := strings.Cut(line, "<<")
		if !ok {
			return out, delims, fmt.Errorf("line %d: %q is not a heredoc block (name<<DELIMITER)", i+1, line)
		}
		if name == "" || delim == "" {
			return out, delims, fmt.Errorf("line %d: %q: empty name or delimiter", i+1, line)
		}
		var value []string
		closed := false
		for i++; i < len(lines); i++ {
			if lines[i] == delim {
				closed = true
				break
			}
			value = append(value, lines[i])
		}
		if !closed {
			return out, delims, fmt.Errorf("output %s: delimiter %q never closes", name, delim)
		}
		if _, dup := out[name]; dup {
			return out, delims, fmt.Errorf("output %s written twice", name)
		}
		out[name] = strings.Join(value, "\n")
		delims = append(delims, delim)
	}
	return out, delims, nil
}

// report prints what a failing run left, once per test.
func (r *run) report(t *testing.T) {
	t.Helper()
	if !t.Failed() {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "exit code %d after %v\n--- stdout\n%s\n--- stderr\n%s\n--- GITHUB_OUTPUT\n%s\n--- requests\n",
		r.code, r.elapsed.Round(time.Millisecond), truncate(r.stdout, 4000), truncate(r.stderr, 4000), r.outputsRaw)
	for _, req := range r.requests {
		fmt.Fprintln(&b, req)
	}
	t.Log(b.String())
}
