package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// The GitLab job, end to end: the job script of templates/mlguard.yml (the
// CI/CD component, its inputs interpolated) and of gitlab/mlguard.gitlab-ci.yml
// (the include template) run the way a GitLab runner's Docker executor runs
// them, in a shallow clone of a merge request, against a fake of the GitLab
// API. With MLGUARD_E2E_GITLAB_IMAGE the script runs in that container image
// (test/e2e/gitlab-container.sh builds Dockerfile.gitlab's final stage); without,
// with the host's sh and a freshly built mlguard on PATH.

const (
	envGitLabImage = "MLGUARD_E2E_GITLAB_IMAGE" // run the GitLab job in this image
	glToken        = "glpat-mlguardE2eDummyToken01"
	glJobToken     = "glcbt-mlguardE2eJobToken0123" // CI_JOB_TOKEN: cannot write notes, must never be sent
	glProjectID    = 42
	glMRIID        = 3
	glUserID       = 7
	glNoteMarker   = "<!-- mlguard:mr-note -->"
	ctrProjectDir  = "/builds/ml/demo" // where the Docker executor clones the project
)

var (
	binaryOnce sync.Once
	binaryErr  error
)

// binary is the mlguard under test for the host-shell runs, built once.
func binary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		if mlguard == "" && buildErr == nil {
			mlguard, binaryErr = buildBinary()
		} else {
			binaryErr = buildErr
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return mlguard
}

// glJob is what the test needs of the templates' mlguard job.
type glJob struct {
	Image struct {
		Name       string   `yaml:"name"`
		Entrypoint []string `yaml:"entrypoint"`
	} `yaml:"image"`
	Variables map[string]string `yaml:"variables"`
	Rules     []struct {
		If        string            `yaml:"if"`
		Variables map[string]string `yaml:"variables"`
	} `yaml:"rules"`
	Script []string `yaml:"script"`
}

// template is one way to include mlguard: its global variables and its job.
type template struct {
	name string
	vars map[string]string
	job  glJob
}

var inputInterpolation = regexp.MustCompile(`\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]`)

// loadComponent reads templates/mlguard.yml and interpolates its inputs, as
// GitLab does when a pipeline includes the component: the given inputs, the
// spec's defaults for the rest.
func loadComponent(t *testing.T, inputs map[string]string) template {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "templates", "mlguard.yml"))
	if err != nil {
		t.Fatal(err)
	}
	header, body, ok := bytes.Cut(data, []byte("\n---\n"))
	if !ok {
		t.Fatal("templates/mlguard.yml: no --- after the spec header")
	}
	var spec struct {
		Spec struct {
			Inputs map[string]struct {
				Default string `yaml:"default"`
			} `yaml:"inputs"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(header, &spec); err != nil {
		t.Fatalf("templates/mlguard.yml header: %v", err)
	}
	var bad []string
	body = inputInterpolation.ReplaceAllFunc(body, func(m []byte) []byte {
		name := string(inputInterpolation.FindSubmatch(m)[1])
		if v, ok := inputs[name]; ok {
			return []byte(v)
		}
		in, ok := spec.Spec.Inputs[name]
		if !ok {
			bad = append(bad, name)
		}
		return []byte(in.Default)
	})
	if len(bad) > 0 {
		t.Fatalf("templates/mlguard.yml interpolates undeclared inputs %v", bad)
	}
	var doc struct {
		Mlguard glJob `yaml:"mlguard"`
	}
	if err := yaml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("templates/mlguard.yml job: %v", err)
	}
	return template{name: "component", job: doc.Mlguard}
}

// loadInclude reads gitlab/mlguard.gitlab-ci.yml, the include template.
func loadInclude(t *testing.T) template {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "gitlab", "mlguard.gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Variables map[string]string `yaml:"variables"`
		Mlguard   glJob             `yaml:"mlguard"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("gitlab/mlguard.gitlab-ci.yml: %v", err)
	}
	return template{name: "include", vars: doc.Variables, job: doc.Mlguard}
}

// jobVariables are the variables the job sees for a pipeline: the
// template's global ones, the job's, then those of the first rule that
// matches (GitLab's precedence, lowest first). Only the two rule shapes the
// templates use are evaluated.
func (tp template) jobVariables(t *testing.T, mergeRequest bool) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for k, v := range tp.vars {
		vars[k] = v
	}
	for k, v := range tp.job.Variables {
		vars[k] = v
	}
	for _, r := range tp.job.Rules {
		isMR := strings.Contains(r.If, `"merge_request_event"`)
		isDefault := strings.Contains(r.If, "$CI_DEFAULT_BRANCH")
		if (mergeRequest && isMR) || (!mergeRequest && isDefault) {
			for k, v := range r.Variables {
				vars[k] = v
			}
			return vars
		}
	}
	t.Fatalf("%s: no rule runs the job in a %s pipeline", tp.name, map[bool]string{true: "merge request", false: "default branch"}[mergeRequest])
	return nil
}

// shellDetection is what a GitLab runner's Docker executor runs as the
// container's command (sh -c): the first shell the image has, bash before
// sh, which then reads the job's script on its standard input.
const shellDetection = `if [ -x /usr/local/bin/bash ]; then
	exec /usr/local/bin/bash
elif [ -x /usr/bin/bash ]; then
	exec /usr/bin/bash
elif [ -x /bin/bash ]; then
	exec /bin/bash
elif [ -x /usr/local/bin/sh ]; then
	exec /usr/local/bin/sh
elif [ -x /usr/bin/sh ]; then
	exec /usr/bin/sh
elif [ -x /bin/sh ]; then
	exec /bin/sh
elif [ -x /busybox/sh ]; then
	exec /busybox/sh
else
	echo shell not found
	exit 1
fi
`

// runnerScript is the script a GitLab runner (its bash shell writer, the
// default feature flags) feeds that shell for the step_script stage: the
// job's variables exported, a cd to the project, each script line echoed
// and run; all of it quoted as one $'...' string and eval'ed behind
// errexit, pipefail when the shell has it (found with grep) and a TERM
// trap. A shell without $'...' quoting (dash) cannot run it.
func runnerScript(env map[string]string, projectDir string, lines []string) string {
	var inner strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(&inner, "export %s=%s\n", k, ansiC(env[k]))
	}
	fmt.Fprintf(&inner, "cd %s\n", ansiC(projectDir))
	for _, l := range lines {
		fmt.Fprintf(&inner, "echo %s\n", ansiC("\x1b[32;1m$ "+l+"\x1b[0;m"))
		inner.WriteString(l + "\n")
	}
	return "#!/usr/bin/env bash\n\ntrap exit 1 TERM\n\n" +
		"if set -o | grep pipefail > /dev/null; then set -o pipefail; fi; set -o errexit\n" +
		"set +o noclobber\n" +
		": | eval " + ansiC(inner.String()) + "\n" +
		"exit 0\n"
}

// ansiC quotes s as a bash $'...' string, control characters as \xNN.
func ansiC(s string) string {
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// glCheckout is a runner's clone of a merge request pipeline's commit: shallow
// (depth 1), detached at the merge request's head, without the diff base.
type glCheckout struct {
	origin, dir     string
	baseSHA, headSH string
}

func gitlabCheckout(t *testing.T, p *pull) *glCheckout {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	c := &glCheckout{origin: filepath.Join(t.TempDir(), "origin.git")}
	work := filepath.Join(t.TempDir(), "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, work, "init", "-q")
	for _, f := range p.BaseFiles {
		writeFixture(t, work, f)
	}
	git(t, work, "add", "-A")
	git(t, work, "commit", "-q", "-m", "base")
	c.baseSHA = git(t, work, "rev-parse", "HEAD")
	git(t, work, "checkout", "-q", "-b", p.HeadRef)
	for _, f := range p.Files {
		writeFixture(t, work, f)
	}
	git(t, work, "add", "-A")
	git(t, work, "commit", "-q", "-m", p.Title)
	c.headSH = git(t, work, "rev-parse", "HEAD")
	git(t, filepath.Dir(c.origin), "clone", "-q", "--bare", work, c.origin)

	c.dir = filepath.Join(t.TempDir(), "demo")
	git(t, filepath.Dir(c.dir), "clone", "-q", "--depth", "1", "--branch", p.HeadRef, "file://"+c.origin, c.dir)
	git(t, c.dir, "checkout", "-q", "--detach", c.headSH)
	if c.has(c.baseSHA) {
		t.Fatal("the shallow clone already has the diff base")
	}
	// The job runs as root; the clone belongs to someone else, as when the
	// runner's helper clones as another user: git refuses such a repository
	// unless told it is safe, which mlguard does for the workspace.
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "-R", "1000:1000", c.dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v\n%s", err, out)
		}
	}
	return c
}

// has reports whether the clone has a commit.
func (c *glCheckout) has(sha string) bool {
	return exec.Command("git", "-c", "safe.directory=*", "-C", c.dir, "cat-file", "-e", sha+"^{commit}").Run() == nil
}

// glRun is one job run.
type glRun struct {
	code           int
	stdout, stderr string
}

type glPipeline struct {
	template     template
	mergeRequest bool // a merge request pipeline; else the default branch's
	token        bool // MLGUARD_GITLAB_TOKEN set as a CI/CD variable
}

// runJob runs the job's script as the runner would, in the image or with the
// host's shell.
func runJob(t *testing.T, api *fakeGitLab, c *glCheckout, pl glPipeline) *glRun {
	t.Helper()
	image := os.Getenv(envGitLabImage)
	projectDir := c.dir
	if image != "" {
		projectDir = ctrProjectDir
	}
	env := map[string]string{
		"CI": "true", "GITLAB_CI": "true", "CI_SERVER": "yes", "CI_SERVER_URL": "https://gitlab.example.com",
		"CI_SERVER_FQDN": "gitlab.example.com", "CI_API_V4_URL": api.url + "/api/v4",
		"CI_PROJECT_ID": strconv.Itoa(glProjectID), "CI_PROJECT_PATH": "ml/demo", "CI_PROJECT_NAME": "demo",
		"CI_PROJECT_NAMESPACE": "ml", "CI_PROJECT_URL": "https://gitlab.example.com/ml/demo", "CI_PROJECT_DIR": projectDir,
		"CI_BUILDS_DIR": "/builds", "CI_COMMIT_SHA": c.headSH, "CI_COMMIT_SHORT_SHA": c.headSH[:8],
		"CI_DEFAULT_BRANCH": "main", "CI_PIPELINE_ID": "1001", "CI_PIPELINE_IID": "9",
		"CI_PIPELINE_URL": "https://gitlab.example.com/ml/demo/-/pipelines/1001", "CI_JOB_ID": "5005",
		"CI_JOB_NAME": "mlguard", "CI_JOB_STAGE": "test", "CI_JOB_URL": "https://gitlab.example.com/ml/demo/-/jobs/5005",
		"CI_JOB_TOKEN": glJobToken, "CI_REPOSITORY_URL": "file://" + c.origin,
		"GIT_DEPTH":        "1",
		"MLGUARD_PYPI_URL": registryURL, "MLGUARD_NPM_URL": registryURL, "MLGUARD_GOPROXY": registryURL,
		"MLGUARD_OSV_URL": registryURL, "MLGUARD_DEPSDEV_URL": registryURL, "MLGUARD_HF_URL": registryURL, "MLGUARD_CRATES_URL": registryURL,
	}
	if pl.mergeRequest {
		for k, v := range map[string]string{
			"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": strconv.Itoa(glMRIID),
			"CI_MERGE_REQUEST_ID": "777", "CI_MERGE_REQUEST_PROJECT_ID": strconv.Itoa(glProjectID),
			"CI_MERGE_REQUEST_DIFF_BASE_SHA": c.baseSHA, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
			"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature", "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": "",
			"CI_MERGE_REQUEST_EVENT_TYPE": "detached", "CI_COMMIT_REF_NAME": "feature",
		} {
			env[k] = v
		}
	} else {
		for k, v := range map[string]string{
			"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main",
			"CI_COMMIT_BEFORE_SHA": c.baseSHA,
		} {
			env[k] = v
		}
	}
	if pl.token {
		env["MLGUARD_GITLAB_TOKEN"] = glToken
	}
	for k, v := range pl.template.jobVariables(t, pl.mergeRequest) {
		env[k] = v
	}
	script := runnerScript(env, projectDir, pl.template.job.Script)

	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var cmd *exec.Cmd
	if image == "" {
		bin := binary(t)
		cmd = exec.CommandContext(ctx, "sh", "-c", shellDetection)
		cmd.Env = []string{"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
	} else {
		if e := pl.template.job.Image.Entrypoint; len(e) != 1 || e[0] != "" {
			t.Fatalf("%s: image.entrypoint %q: the runner would start the image's entrypoint, not a shell", pl.template.name, e)
		}
		pod := strings.Fields(os.Getenv(envPodman))
		if len(pod) == 0 {
			pod = []string{filepath.Join(repoRoot, "test", "e2e", "podman.sh")}
		}
		// The entrypoint override of the template, the project at
		// /builds/<path>, the origin at its own path (the remote of the
		// clone), the host's network for the fake API.
		args := append(append([]string{}, pod[1:]...), "run", "--rm", "-i", "--network", "host", "--entrypoint", "",
			"-v", c.dir+":"+ctrProjectDir, "-v", c.origin+":"+c.origin+":ro", "--workdir", ctrProjectDir)
		for k, v := range env {
			args = append(args, "-e", k+"="+v)
		}
		args = append(args, image, "sh", "-c", shellDetection)
		cmd = exec.CommandContext(ctx, pod[0], args...)
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if image == "" {
		cmd.Dir = c.dir
	}
	cmd.Stdin = strings.NewReader(script)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &glRun{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("the job did not finish within %v\n%s%s", runTimeout, r.stdout, r.stderr)
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running the job: %v\n%s", err, r.stderr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s job, exit %d\nstdout:\n%s\nstderr:\n%s", pl.template.name, r.code, r.stdout, r.stderr)
		}
	})
	return r
}

// fakeGitLab serves the part of GitLab's REST API (v4) mlguard uses, in the
// documented shapes (https://docs.gitlab.com/api/notes/,
// https://docs.gitlab.com/api/users/, https://docs.gitlab.com/api/merge_requests/):
// the token's user, a merge request's notes (listed a page at a time, with
// GitLab's pagination headers; created; edited by their author only) and its
// diffs. It checks every request's authentication and records it.
type fakeGitLab struct {
	url string

	mu       sync.Mutex
	notes    []glNote
	nextID   int
	calls    []string
	problems []string
}

type glNote struct {
	ID     int    `json:"id"`
	Type   any    `json:"type"`
	Body   string `json:"body"`
	System bool   `json:"system"`
	Author struct {
		ID       int    `json:"id"`
		Username string `json:"username"`
	} `json:"author"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
	NoteableID   int    `json:"noteable_id"`
	NoteableType string `json:"noteable_type"`
	NoteableIID  int    `json:"noteable_iid"`
	Resolvable   bool   `json:"resolvable"`
	Confidential bool   `json:"confidential"`
	Internal     bool   `json:"internal"`
}

func newFakeGitLab(t *testing.T) *fakeGitLab {
	t.Helper()
	f := &fakeGitLab{nextID: 500}
	// Notes already on the merge request: a reviewer's that starts with the
	// marker (anyone can write it; mlguard must not take it for its own),
	// a system note, and enough others that the list takes two pages of the
	// largest page size (100).
	f.addNote(11, "reviewer", glNoteMarker+" a note that looks like mlguard's", false)
	f.addNote(1, "root", "added 2 commits", true)
	for i := range 120 {
		f.addNote(11, "reviewer", fmt.Sprintf("comment %d", i), false)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fakeGitLab) addNote(author int, username, body string, system bool) glNote {
	f.nextID++
	n := glNote{ID: f.nextID, Body: body, System: system, CreatedAt: "2026-11-01T10:00:00.000Z", UpdatedAt: "2026-11-01T10:00:00.000Z",
		NoteableID: 777, NoteableType: "MergeRequest", NoteableIID: glMRIID}
	n.Author.ID, n.Author.Username = author, username
	f.notes = append(f.notes, n)
	return n
}

var (
	notesPath = regexp.MustCompile(fmt.Sprintf(`^/api/v4/projects/%d/merge_requests/%d/notes$`, glProjectID, glMRIID))
	notePath  = regexp.MustCompile(fmt.Sprintf(`^/api/v4/projects/%d/merge_requests/%d/notes/(\d+)$`, glProjectID, glMRIID))
	diffsPath = regexp.MustCompile(fmt.Sprintf(`^/api/v4/projects/%d/merge_requests/%d/diffs$`, glProjectID, glMRIID))
)

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("JOB-TOKEN") != "" || strings.Contains(r.URL.RawQuery+string(body)+fmt.Sprint(r.Header), glJobToken) {
		f.problems = append(f.problems, r.Method+" "+r.URL.Path+" carries CI_JOB_TOKEN")
	}
	if r.URL.Query().Get("private_token") != "" {
		f.problems = append(f.problems, r.Method+" "+r.URL.Path+": the token is in the query string")
	}
	w.Header().Set("Content-Type", "application/json")
	reply := func(code int, v any) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.Header.Get("PRIVATE-TOKEN") != glToken && r.Header.Get("Authorization") != "Bearer "+glToken {
		reply(http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v4/user":
		reply(http.StatusOK, map[string]any{"id": glUserID, "username": "mlguard-bot", "name": "mlguard bot", "state": "active",
			"web_url": "https://gitlab.example.com/mlguard-bot", "bot": true})
	case r.Method == http.MethodGet && notesPath.MatchString(r.URL.Path):
		page, perPage := queryInt(r, "page", 1), min(queryInt(r, "per_page", 20), 100)
		if page < 1 || perPage < 1 {
			reply(http.StatusBadRequest, map[string]string{"error": "page is invalid"})
			return
		}
		total := len(f.notes)
		pages := max((total+perPage-1)/perPage, 1)
		lo, hi := min((page-1)*perPage, total), min(page*perPage, total)
		h := w.Header()
		h.Set("X-Page", strconv.Itoa(page))
		h.Set("X-Per-Page", strconv.Itoa(perPage))
		h.Set("X-Total", strconv.Itoa(total))
		h.Set("X-Total-Pages", strconv.Itoa(pages))
		if page < pages {
			h.Set("X-Next-Page", strconv.Itoa(page+1))
			h.Set("Link", fmt.Sprintf(`<%s%s?page=%d&per_page=%d>; rel="next"`, f.url, r.URL.Path, page+1, perPage))
		} else {
			h.Set("X-Next-Page", "")
		}
		if page > 1 {
			h.Set("X-Prev-Page", strconv.Itoa(page-1))
		}
		reply(http.StatusOK, f.notes[lo:hi])
	case r.Method == http.MethodPost && notesPath.MatchString(r.URL.Path):
		text, ok := f.noteBody(r, body)
		if !ok {
			reply(http.StatusBadRequest, map[string]string{"error": "body is missing"})
			return
		}
		reply(http.StatusCreated, f.addNote(glUserID, "mlguard-bot", text, false))
	case r.Method == http.MethodPut && notePath.MatchString(r.URL.Path):
		id, _ := strconv.Atoi(notePath.FindStringSubmatch(r.URL.Path)[1])
		text, ok := f.noteBody(r, body)
		if !ok {
			reply(http.StatusBadRequest, map[string]string{"error": "body is missing"})
			return
		}
		for i := range f.notes {
			if f.notes[i].ID != id {
				continue
			}
			if f.notes[i].Author.ID != glUserID || f.notes[i].System {
				f.problems = append(f.problems, fmt.Sprintf("PUT on note %d, which is not the bot's", id))
				reply(http.StatusForbidden, map[string]string{"message": "403 Forbidden"})
				return
			}
			f.notes[i].Body, f.notes[i].UpdatedAt = text, "2026-11-02T10:00:00.000Z"
			reply(http.StatusOK, f.notes[i])
			return
		}
		reply(http.StatusNotFound, map[string]string{"message": "404 Not found"})
	case r.Method == http.MethodGet && diffsPath.MatchString(r.URL.Path):
		reply(http.StatusOK, []any{})
	default:
		reply(http.StatusNotFound, map[string]string{"message": "404 Not Found"})
	}
}

// noteBody reads a create or edit request's body parameter, as JSON or a
// form, and checks GitLab's limit of 1,000,000 characters.
func (f *fakeGitLab) noteBody(r *http.Request, raw []byte) (string, bool) {
	var text string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var v struct {
			Body string `json:"body"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			f.problems = append(f.problems, "a note request with invalid JSON: "+err.Error())
			return "", false
		}
		text = v.Body
	} else {
		f.problems = append(f.problems, "a note request with Content-Type "+r.Header.Get("Content-Type"))
		return "", false
	}
	if text == "" || len([]rune(text)) > 1_000_000 {
		f.problems = append(f.problems, fmt.Sprintf("a note body of %d characters", len([]rune(text))))
		return "", false
	}
	return text, true
}

func queryInt(r *http.Request, name string, def int) int {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// botNotes are the notes the token's user wrote.
func (f *fakeGitLab) botNotes() []glNote {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []glNote
	for _, n := range f.notes {
		if n.Author.ID == glUserID {
			out = append(out, n)
		}
	}
	return out
}

func (f *fakeGitLab) snapshot() (calls, problems []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...), append([]string(nil), f.problems...)
}

// TestGitLabJob runs the GitLab job through a merge request's life: the
// component on a merge request that adds a malicious pickle (the job fails,
// every report is written and valid, one note appears), the include template
// on the same pipeline (the note is edited in place), a benign merge request
// without a token (the job passes, nothing is sent), and the default branch,
// whose full scan finds the pickle that the benign change left alone.
func TestGitLabJob(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds mlguard and runs the job four times")
	}
	if image := os.Getenv(envGitLabImage); image != "" {
		t.Logf("the job runs in the image %s", image)
	} else {
		t.Log("the job runs with the host's sh and a fresh mlguard build")
	}
	fx := loadFixtures(t)
	api := newFakeGitLab(t)
	component := loadComponent(t, map[string]string{"fail-on": "high"})
	include := loadInclude(t)
	include.vars["MLGUARD_FAIL_ON"] = "high"

	// 1. The component, on a merge request adding models/evil.pkl.
	c1 := gitlabCheckout(t, fx.pull(t, 1))
	r := runJob(t, api, c1, glPipeline{template: component, mergeRequest: true, token: true})
	if r.code != 1 {
		t.Fatalf("component job on the malicious merge request: exit %d, want 1 (the policy fails it)", r.code)
	}
	if !strings.Contains(r.stdout, "models/evil.pkl") {
		t.Errorf("the job log does not name models/evil.pkl")
	}
	if !c1.has(c1.baseSHA) {
		t.Errorf("the diff base was not fetched into the shallow clone")
	}
	checkGitLabReports(t, c1.dir)
	notes := api.botNotes()
	if len(notes) != 1 || !strings.HasPrefix(notes[0].Body, glNoteMarker) || !strings.Contains(notes[0].Body, "evil.pkl") {
		t.Fatalf("bot notes after the first run: %+v", notes)
	}
	noteID := notes[0].ID
	calls, problems := api.snapshot()
	if len(problems) > 0 {
		t.Errorf("GitLab API misuse: %v", problems)
	}
	if n := countCalls(calls, fmt.Sprintf("GET /api/v4/projects/%d/merge_requests/%d/notes", glProjectID, glMRIID)); n != 2 {
		t.Errorf("the notes were listed in %d requests, want 2 (two pages)", n)
	}
	for _, c := range calls {
		if strings.HasSuffix(c, "/diffs") {
			t.Errorf("the job asked the diffs API (%s) although git could list the change", c)
		}
	}

	// 2. The author pushes a fix (the merge request now only adds a benign
	// classifier.pkl); the include template runs: the job passes and the
	// note is edited in place to say so.
	c4 := gitlabCheckout(t, fx.pull(t, 4))
	r = runJob(t, api, c4, glPipeline{template: include, mergeRequest: true, token: true})
	if r.code != 0 {
		t.Fatalf("include job after the fix: exit %d, want 0", r.code)
	}
	checkGitLabReports(t, c4.dir)
	notes = api.botNotes()
	if len(notes) != 1 || notes[0].ID != noteID || notes[0].UpdatedAt == notes[0].CreatedAt || strings.Contains(notes[0].Body, "evil.pkl") {
		t.Errorf("after the fix, bot notes %+v: want note %d edited in place, without evil.pkl", notes, noteID)
	}
	// The same pipeline again: nothing to edit.
	r = runJob(t, api, c4, glPipeline{template: component, mergeRequest: true, token: true})
	if r.code != 0 {
		t.Errorf("component job, the fix again: exit %d, want 0", r.code)
	}
	before, _ := api.snapshot()
	if n := countCalls(before, fmt.Sprintf("PUT /api/v4/projects/%d/merge_requests/%d/notes/%d", glProjectID, glMRIID, noteID)); n != 1 {
		t.Errorf("note %d was edited %d times, want once (the unchanged rerun edits nothing): %v", noteID, n, before)
	}
	if n := countCalls(before, fmt.Sprintf("POST /api/v4/projects/%d/merge_requests/%d/notes", glProjectID, glMRIID)); n != 1 {
		t.Errorf("%d notes posted, want 1", n)
	}

	// 3. A benign merge request (only models/classifier.pkl changes; evil.pkl
	// is in the base), without a token: pass, no note, no API call.
	c2 := gitlabCheckout(t, fx.pull(t, 2))
	r = runJob(t, api, c2, glPipeline{template: component, mergeRequest: true, token: false})
	if r.code != 0 {
		t.Errorf("component job on the benign merge request: exit %d, want 0", r.code)
	}
	if strings.Contains(r.stdout, "evil.pkl") {
		t.Errorf("the benign merge request's job reports evil.pkl, which it did not change")
	}
	if !strings.Contains(r.stdout+r.stderr, "MLGUARD_GITLAB_TOKEN") {
		t.Errorf("without a token the job does not say why there is no note")
	}
	after, problems := api.snapshot()
	if len(after) != len(before) {
		t.Errorf("without a token the job called the API: %v", after[len(before):])
	}
	if len(problems) > 0 {
		t.Errorf("GitLab API misuse: %v", problems)
	}
	checkGitLabReports(t, c2.dir)

	// 4. The default branch: the include template's rule scans everything.
	r = runJob(t, api, c2, glPipeline{template: include, mergeRequest: false, token: true})
	if r.code != 1 || !strings.Contains(r.stdout, "models/evil.pkl") {
		t.Errorf("default branch job: exit %d, want 1 with models/evil.pkl found by the full scan", r.code)
	}
	if final, _ := api.snapshot(); len(final) != len(after) {
		t.Errorf("a default branch pipeline has no merge request, yet the job called the API: %v", final[len(after):])
	}
}

func countCalls(calls []string, want string) int {
	n := 0
	for _, c := range calls {
		if c == want {
			n++
		}
	}
	return n
}

// checkGitLabReports validates the job's four report files: the Code Quality
// report's documented fields, the SAST report against GitLab's published
// schema (the copy in internal/report/gitlab/testdata), the ML-BOM with the
// CycloneDX validator (when installed) and the SARIF log's version.
func checkGitLabReports(t *testing.T, dir string) {
	t.Helper()
	read := func(name string) any {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("the job did not write %s: %v", name, err)
			return nil
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Errorf("%s is not JSON: %v", name, err)
		}
		return v
	}
	if cq, ok := read("gl-code-quality-report.json").([]any); ok {
		for i, e := range cq {
			m, _ := e.(map[string]any)
			loc, _ := m["location"].(map[string]any)
			lines, _ := loc["lines"].(map[string]any)
			if m["description"] == "" || m["check_name"] == "" || m["fingerprint"] == "" || m["severity"] == nil ||
				loc["path"] == nil || lines["begin"] == nil {
				t.Errorf("code quality entry %d lacks a documented field: %v", i, e)
			}
		}
	} else {
		t.Errorf("gl-code-quality-report.json is not a JSON array")
	}
	if sast := read("gl-sast-report.json"); sast != nil {
		s, err := sastSchema()
		if err != nil {
			t.Fatalf("compiling GitLab's SAST schema: %v", err)
		}
		if err := s.Validate(sast); err != nil {
			t.Errorf("gl-sast-report.json does not follow GitLab's SAST schema 15.2.1: %v", err)
		}
	}
	if sarif, ok := read("mlguard.sarif").(map[string]any); !ok || sarif["version"] != "2.1.0" {
		t.Errorf("mlguard.sarif is not a SARIF 2.1.0 log")
	}
	if read("mlguard.cdx.json") != nil && validatorInstalled() {
		validateBOM(t, filepath.Join(dir, "mlguard.cdx.json"), "1.6")
	}
}

// validatorInstalled reports whether cdxValidator would find the validator.
func validatorInstalled() bool {
	_, err := os.Stat(filepath.Join(repoRoot, "test", "e2e", "cyclonedx", "node_modules", "@cyclonedx", "cyclonedx-library"))
	_, nodeErr := exec.LookPath("node")
	return err == nil && nodeErr == nil
}

// sastSchema compiles GitLab's SAST report schema, version 15.2.1, from the
// copy the unit tests use, under its published address.
func sastSchema() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join(repoRoot, "internal", "report", "gitlab", "testdata", "sast-report-format-15.2.1.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	const id = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/master/dist/sast-report-format.json"
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		return nil, err
	}
	return c.Compile(id)
}
