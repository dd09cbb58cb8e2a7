package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	ciBaseSHA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	ciHeadSHA = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	ciMerge   = "cccccccccccccccccccccccccccccccccccccccc"
)

// fakeGitHub is an httptest stand-in for the parts of api.github.com that
// `mlguard ci` calls on a pull request, shaped like the real responses. It
// records every request; status overrides a route's answer (403, 500...).
type fakeGitHub struct {
	t        *testing.T
	files    []string                     // the pull request's files
	comments []map[string]any             // existing issue comments
	status   map[string]int               // "POST /repos/o/r/check-runs" -> status
	header   map[string]map[string]string // route -> headers sent with its status
	base     map[string]string            // files as the base commit has them (contents API)
	mu       sync.Mutex
	requests []fakeRequest
}

type fakeRequest struct {
	Method, Path string
	Body         map[string]any
	Auth         string
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := fakeRequest{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization")}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req.Body); err != nil {
			f.t.Errorf("%s %s: body is not JSON: %v", r.Method, r.URL.Path, err)
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	route := r.Method + " " + r.URL.Path
	if s := f.status[route]; s != 0 {
		for k, v := range f.header[route] {
			w.Header().Set(k, v)
		}
		w.WriteHeader(s)
		fmt.Fprintf(w, `{"message":"status %d","documentation_url":"https://docs.github.com/rest"}`, s)
		return
	}
	switch {
	case route == "GET /repos/o/r/pulls/7/files":
		var out []map[string]any
		for _, p := range f.files {
			out = append(out, map[string]any{"sha": ciHeadSHA, "filename": p, "status": "added", "additions": 0, "deletions": 0, "changes": 0})
		}
		_ = json.NewEncoder(w).Encode(out)
	case route == "POST /repos/o/r/check-runs":
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id": 4242, "name": "mlguard", "head_sha": "` + ciHeadSHA + `", "status": "completed"}`))
	case strings.HasPrefix(route, "PATCH /repos/o/r/check-runs/"):
		_, _ = w.Write([]byte(`{"id": 4242, "name": "mlguard"}`))
	case route == "GET /repos/o/r/issues/7/comments":
		_ = json.NewEncoder(w).Encode(f.comments)
	case route == "POST /repos/o/r/issues/7/comments":
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id": 99, "body": "x"}`))
	case strings.HasPrefix(route, "GET /repos/o/r/contents/"):
		if body, ok := f.base[strings.TrimPrefix(r.URL.Path, "/repos/o/r/contents/")]; ok && r.URL.Query().Get("ref") == ciBaseSHA {
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "file", "encoding": "base64", "size": len(body),
				"name": path.Base(r.URL.Path), "path": strings.TrimPrefix(r.URL.Path, "/repos/o/r/contents/"),
				"content": base64.StdEncoding.EncodeToString([]byte(body))})
			return
		}
		// The base of a changed file: new.
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Not Found"}`))
	case strings.HasPrefix(route, "PATCH /repos/o/r/issues/comments/"):
		_, _ = w.Write([]byte(`{"id": 98, "body": "x"}`))
	default:
		f.t.Errorf("unexpected request %s", route)
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Not Found"}`))
	}
}

func (f *fakeGitHub) find(method, path string) []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeRequest
	for _, r := range f.requests {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// actionRun is one `mlguard ci` run as the runner starts a container action.
type actionRun struct {
	code                 int
	stdout, stderr       string
	outputs, summary, ws string
}

func runAction(t *testing.T, api string, files map[string]string, vars map[string]string, args ...string) actionRun {
	t.Helper()
	return runActionIn(t, t.TempDir(), api, files, vars, args...)
}

// runActionIn is runAction in a workspace the caller may have prepared.
func runActionIn(t *testing.T, ws, api string, files map[string]string, vars map[string]string, args ...string) actionRun {
	t.Helper()
	for dst, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(ws, filepath.FromSlash(dst))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmds := t.TempDir()
	event := filepath.Join(cmds, "event.json")
	payload := `{"action":"opened","number":7,"pull_request":{"number":7,"head":{"sha":"` + ciHeadSHA + `","ref":"f","repo":{"full_name":"o/r"}},"base":{"sha":"` + ciBaseSHA + `","ref":"main","repo":{"full_name":"o/r"}},"changed_files":` + fmt.Sprint(len(files)) + `}}`
	if err := os.WriteFile(event, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event,
		"GITHUB_REPOSITORY": "o/r", "GITHUB_SHA": ciMerge, "GITHUB_REF": "refs/pull/7/merge",
		"GITHUB_WORKSPACE": ws, "GITHUB_API_URL": api, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "1",
		"GITHUB_OUTPUT": filepath.Join(cmds, "set_output"), "GITHUB_STEP_SUMMARY": filepath.Join(cmds, "step_summary"),
		"INPUT_GITHUB-TOKEN": "s3cret-token", "INPUT_FAIL-ON": "high", "INPUT_SARIF-FILE": "mlguard.sarif",
		"INPUT_COMMENT": "true", "INPUT_CHECK-RUN": "true",
		// No registry is reachable in unit tests.
		"MLGUARD_PYPI_URL": "http://127.0.0.1:1", "MLGUARD_NPM_URL": "http://127.0.0.1:1", "MLGUARD_GOPROXY": "http://127.0.0.1:1",
		"MLGUARD_OSV_URL": "http://127.0.0.1:1", "MLGUARD_DEPSDEV_URL": "http://127.0.0.1:1", "MLGUARD_HF_URL": "http://127.0.0.1:1", "MLGUARD_CRATES_URL": "http://127.0.0.1:1",
	}
	for k, v := range vars {
		env[k] = v
	}
	var out, errb bytes.Buffer
	code := runCIEnv(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(cmds, name))
		return string(b)
	}
	if strings.Contains(out.String()+errb.String(), "s3cret-token") {
		t.Error("the token was printed")
	}
	return actionRun{code: code, stdout: out.String(), stderr: errb.String(), outputs: read("set_output"), summary: read("step_summary"), ws: ws}
}

func outputsOf(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var v []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			v = append(v, lines[i])
		}
		out[name] = strings.Join(v, "\n")
	}
	return out
}

var (
	maliciousModel = filepath.Join("testdata", "models", "posix_system.pkl")
	benignModel    = filepath.Join("testdata", "models", "sklearn_model.pkl")
)

func TestCIPullRequest(t *testing.T) {
	t.Parallel()
	fake := &fakeGitHub{t: t, files: []string{"models/evil.pkl", "models/ok.pkl"}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	r := runAction(t, srv.URL, map[string]string{"models/evil.pkl": maliciousModel, "models/ok.pkl": benignModel}, nil)
	if r.code != ExitFail {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, ExitFail, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "::error file=models/evil.pkl,") {
		t.Errorf("no annotation on the malicious file:\n%s", r.stdout)
	}
	outs := outputsOf(t, r.outputs)
	if outs["decision"] != "fail" || outs["findings"] == "0" || outs["sarif-file"] != "mlguard.sarif" {
		t.Errorf("outputs = %v", outs)
	}
	if !strings.Contains(r.summary, "mlguard: fail") || !strings.Contains(r.summary, "pull request #7") {
		t.Errorf("summary:\n%s", r.summary)
	}
	var sarifLog struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []any `json:"results"`
		} `json:"runs"`
	}
	b, err := os.ReadFile(filepath.Join(r.ws, "mlguard.sarif"))
	if err != nil || json.Unmarshal(b, &sarifLog) != nil || sarifLog.Version != "2.1.0" || len(sarifLog.Runs[0].Results) == 0 {
		t.Errorf("SARIF file: %v %s", err, b)
	}
	runs := fake.find("POST", "/repos/o/r/check-runs")
	if len(runs) != 1 {
		t.Fatalf("%d check runs created", len(runs))
	}
	cr := runs[0].Body
	if cr["name"] != "mlguard" || cr["head_sha"] != ciHeadSHA || cr["conclusion"] != "failure" || runs[0].Auth != "Bearer s3cret-token" {
		t.Errorf("check run = %v (auth %q)", cr, runs[0].Auth)
	}
	anns := cr["output"].(map[string]any)["annotations"].([]any)
	if a := anns[0].(map[string]any); a["path"] != "models/evil.pkl" || a["annotation_level"] != "failure" {
		t.Errorf("first annotation = %v", a)
	}
	posted := fake.find("POST", "/repos/o/r/issues/7/comments")
	if len(posted) != 1 || !strings.Contains(posted[0].Body["body"].(string), "pickle/dangerous-global") {
		t.Errorf("comments posted: %v", posted)
	}
}

func TestCIPullRequestBenignAndExistingComment(t *testing.T) {
	t.Parallel()
	fake := &fakeGitHub{t: t, files: []string{"ok.pkl", "README.md"}, comments: []map[string]any{
		{"id": 11, "body": "looks good", "user": map[string]any{"login": "alice", "type": "User"}},
		{"id": 12, "body": "<!-- mlguard:pr-comment -->\nold findings", "user": map[string]any{"login": "github-actions[bot]", "type": "Bot"}},
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	readme := filepath.Join("testdata", "models", "README.md")
	r := runAction(t, srv.URL, map[string]string{"ok.pkl": benignModel, "README.md": readme}, nil)
	if r.code != ExitPass {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if outs := outputsOf(t, r.outputs); outs["decision"] != "pass" || outs["findings"] != "0" {
		t.Errorf("outputs = %v", outs)
	}
	if runs := fake.find("POST", "/repos/o/r/check-runs"); len(runs) != 1 || runs[0].Body["conclusion"] != "success" {
		t.Errorf("check runs = %v", runs)
	}
	if len(fake.find("POST", "/repos/o/r/issues/7/comments")) != 0 {
		t.Error("a second comment was created")
	}
	edits := fake.find("PATCH", "/repos/o/r/issues/comments/12")
	if len(edits) != 1 || !strings.Contains(edits[0].Body["body"].(string), "<!-- mlguard:pr-comment -->") {
		t.Errorf("the earlier comment was not updated to all clear: %v", edits)
	}
}

func TestCIReadOnlyToken(t *testing.T) {
	t.Parallel()
	for _, status := range []int{403, 404, 422, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			fake := &fakeGitHub{t: t, files: []string{"evil.pkl"}, status: map[string]int{
				"POST /repos/o/r/check-runs":        status,
				"POST /repos/o/r/issues/7/comments": status,
			}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			r := runAction(t, srv.URL, map[string]string{"evil.pkl": maliciousModel}, map[string]string{"INPUT_SARIF-FILE": ""})
			if r.code != ExitFail {
				t.Fatalf("exit %d: the decision, not the API, must set the exit code\n%s%s", r.code, r.stdout, r.stderr)
			}
			if n := strings.Count(r.stdout, "::warning title=mlguard::"); n != 1 {
				t.Errorf("%d warnings, want one:\n%s", n, r.stdout)
			}
			if status == 403 && !strings.Contains(r.stdout, "checks: write") {
				t.Errorf("the warning does not name the permission:\n%s", r.stdout)
			}
			if !strings.Contains(r.stdout, "::error file=evil.pkl") || !strings.Contains(r.summary, "mlguard: fail") {
				t.Errorf("annotations or summary missing:\n%s\n%s", r.stdout, r.summary)
			}
			if outs := outputsOf(t, r.outputs); outs["decision"] != "fail" || outs["sarif-file"] != "" {
				t.Errorf("outputs = %v", outs)
			}
		})
	}
}

func TestCIListedButMissing(t *testing.T) {
	t.Parallel()
	fake := &fakeGitHub{t: t, files: []string{"ok.pkl", "added-by-pr.pkl"}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	r := runAction(t, srv.URL, map[string]string{"ok.pkl": benignModel}, map[string]string{"GITHUB_EVENT_NAME": "pull_request_target"})
	if r.code != ExitFail || !strings.Contains(r.stdout, "scan/incomplete") || !strings.Contains(r.stdout, "added-by-pr.pkl") {
		t.Errorf("exit %d; a changed file missing from the checkout must fail closed:\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, "pull_request_target: the checkout is not the pull request's head") {
		t.Errorf("no pull_request_target warning:\n%s", r.stdout)
	}
}

func TestCIOfflineAndFilters(t *testing.T) {
	t.Parallel()
	// Offline: no request at all; without git history the whole workspace
	// is scanned, and the paths/exclude inputs still apply.
	fake := &fakeGitHub{t: t}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	r := runAction(t, srv.URL, map[string]string{"a/evil.pkl": maliciousModel, "b/evil.pkl": maliciousModel, "a/ok.pkl": benignModel},
		map[string]string{"INPUT_OFFLINE": "true", "INPUT_EXCLUDE": "b/"})
	if len(fake.requests) != 0 {
		t.Errorf("offline run sent %d requests", len(fake.requests))
	}
	if r.code != ExitFail || !strings.Contains(r.stdout, "a/evil.pkl") || strings.Contains(r.stdout, "b/evil.pkl") {
		t.Errorf("exit %d:\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, "::notice title=mlguard::") {
		t.Errorf("no notice that the whole workspace was scanned:\n%s", r.stdout)
	}

	// scope: all scans the whole workspace even on a pull request, with no
	// notice, and still reports to the API.
	fake2 := &fakeGitHub{t: t}
	srv2 := httptest.NewServer(fake2)
	defer srv2.Close()
	r = runAction(t, srv2.URL, map[string]string{"x/evil.pkl": maliciousModel, "y/ok.pkl": benignModel},
		map[string]string{"INPUT_SCOPE": "all", "INPUT_PATHS": "y/"})
	if r.code != ExitPass || len(fake2.find("GET", "/repos/o/r/pulls/7/files")) != 0 || len(fake2.find("POST", "/repos/o/r/check-runs")) != 1 {
		t.Errorf("scope all, paths y/: exit %d, requests %v:\n%s", r.code, fake2.requests, r.stdout)
	}
	if !strings.Contains(r.summary, "Scope: scope&#58; all") {
		t.Errorf("the summary does not give the scope:\n%s", r.summary)
	}

	// --paths on the command line overrides the input.
	r = runAction(t, srv.URL, map[string]string{"a/evil.pkl": maliciousModel, "a/ok.pkl": benignModel},
		map[string]string{"INPUT_OFFLINE": "true", "INPUT_PATHS": "a/"}, "--paths", "*/ok.pkl")
	if r.code != ExitPass {
		t.Errorf("exit %d with --paths */ok.pkl:\n%s", r.code, r.stdout)
	}
}

func TestCIUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"bad boolean input", map[string]string{"INPUT_CHECK-RUN": "yes"}, nil, "not a boolean"},
		{"bad severity", map[string]string{"INPUT_FAIL-ON": "severe"}, nil, "fail-on"},
		{"missing policy file", map[string]string{"INPUT_POLICY": "no-such-policy.yaml"}, nil, "no-such-policy.yaml"},
		{"bad glob", map[string]string{"INPUT_PATHS": "a[b"}, nil, "unclosed"},
		{"positional argument", nil, []string{"models/"}, "use --paths"},
		{"no repository", map[string]string{"GITHUB_REPOSITORY": ""}, nil, "GITHUB_REPOSITORY"},
		{"bad comment flag", nil, []string{"--comment", "maybe"}, "want true, false or always"},
		{"bad scope", map[string]string{"INPUT_SCOPE": "some"}, nil, "not changed or all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runAction(t, "http://127.0.0.1:1", nil, tt.vars, tt.args...)
			if r.code != ExitError || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

// TestCILocal runs `mlguard ci --base` in a plain git checkout: only what
// changed since the base is scanned, untracked files included.
func TestCILocal(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	evil, err := filepath.Abs(maliciousModel)
	if err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	cp := func(src, dst string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "-b", "main")
	cp(maliciousModel, "old-evil.pkl") // committed before the base: not scanned with --base
	git("add", ".")
	git("commit", "-q", "-m", "base")
	git("tag", "base")
	cp(benignModel, "ok.pkl")
	git("add", ".")
	git("commit", "-q", "-m", "benign")

	t.Chdir(dir)
	env := func(string) string { return "" }
	var out, errb bytes.Buffer
	if code := runCIEnv(context.Background(), []string{"--base", "base"}, &out, &errb, env); code != ExitPass {
		t.Fatalf("--base base: exit %d\n%s%s", code, out.String(), errb.String())
	}
	cp(evil, "new-evil.pkl") // untracked
	out.Reset()
	if code := runCIEnv(context.Background(), []string{"--base", "base", "--format", "json"}, &out, &errb, env); code != ExitFail {
		t.Fatalf("untracked malicious file: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), `"path": "new-evil.pkl"`) || strings.Contains(out.String(), "old-evil.pkl") {
		t.Errorf("report:\n%s", out.String())
	}
	out.Reset()
	if code := runCIEnv(context.Background(), nil, &out, &errb, env); code != ExitFail || !strings.Contains(out.String(), "old-evil.pkl") {
		t.Errorf("without --base the whole folder is scanned: exit %d\n%s", code, out.String())
	}
	if code := runCIEnv(context.Background(), []string{"--base", "no-such-ref"}, &out, &errb, env); code != ExitError {
		t.Errorf("unknown base: exit %d", code)
	}
}

// runnerCommands reads stdout as the Actions runner does: a line whose text,
// after leading white space, starts with "::" is a command, except between
// "::stop-commands::TOKEN" and "::TOKEN::". It returns the commands processed,
// each as its line with the white space trimmed.
func runnerCommands(stdout string) []string {
	var out []string
	stopped := ""
	for _, line := range strings.Split(stdout, "\n") {
		line = strings.TrimLeftFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '\u00a0' })
		if stopped != "" {
			if line == "::"+stopped+"::" {
				stopped = ""
			}
			continue
		}
		if !strings.HasPrefix(line, "::") {
			continue
		}
		out = append(out, line)
		if tok, ok := strings.CutPrefix(line, "::stop-commands::"); ok {
			stopped = tok
		}
	}
	return out
}

// TestCINoCommandInjection checks that no file name or model string that the
// log prints can become a workflow command: the text report is printed with
// command processing stopped, and every finding still gets its annotation.
func TestCINoCommandInjection(t *testing.T) {
	t.Parallel()
	names := []string{"::stop-commands::pwned.pkl", "::add-mask::x.pkl", "::error file=a.py::fake.pkl"}
	files := map[string]string{}
	for _, n := range names {
		files[n] = maliciousModel
	}
	fake := &fakeGitHub{t: t, files: names}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	r := runAction(t, srv.URL, files, map[string]string{"INPUT_SARIF-FILE": ""}, "-v")
	if r.code != ExitFail {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	annotated := map[string]bool{}
	for _, c := range runnerCommands(r.stdout) {
		name, _, _ := strings.Cut(strings.TrimPrefix(c, "::"), "::")
		name, props, _ := strings.Cut(name, " ")
		switch name {
		case "error", "warning", "notice":
			for _, p := range strings.Split(props, ",") {
				if f, ok := strings.CutPrefix(p, "file="); ok {
					annotated[f] = true
				}
			}
		case "stop-commands":
			if len(c) < len("::stop-commands::")+32 {
				t.Errorf("stop-commands with a guessable token: %q", c)
			}
		default:
			t.Errorf("the runner would run %q", c)
		}
	}
	for _, n := range names {
		// The annotation's file property is escaped as @actions/core does.
		if esc := strings.NewReplacer("%", "%25", ":", "%3A", ",", "%2C").Replace(n); !annotated[esc] {
			t.Errorf("no annotation reaches the runner for %q (annotated: %v)\n%s", n, annotated, r.stdout)
		}
	}
}

// TestCISARIFThroughSymlink checks that a sarif-file the pull request planted
// as a symbolic link is replaced, and what it points at left alone: the
// container runs as root.
func TestCISARIFThroughSymlink(t *testing.T) {
	t.Parallel()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	if err := os.Symlink(victim, filepath.Join(ws, "mlguard.sarif")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(ws, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	fake := &fakeGitHub{t: t, files: []string{"evil.pkl"}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	r := runActionIn(t, ws, srv.URL, map[string]string{"evil.pkl": maliciousModel}, nil)
	if r.code != ExitFail {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the symbolic link's target was overwritten: %.80q", b)
	}
	st, err := os.Lstat(filepath.Join(ws, "mlguard.sarif"))
	if err != nil || !st.Mode().IsRegular() {
		t.Errorf("mlguard.sarif is not a regular file: %v %v", st, err)
	}

	// A folder link out of the workspace is refused, not written through.
	outside := t.TempDir()
	ws2 := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(ws2, "reports")); err != nil {
		t.Fatal(err)
	}
	r = runActionIn(t, ws2, srv.URL, map[string]string{"evil.pkl": maliciousModel}, map[string]string{"INPUT_SARIF-FILE": "reports/x.sarif"})
	if _, err := os.Stat(filepath.Join(outside, "x.sarif")); err == nil {
		t.Error("the SARIF file was written out of the workspace through a link")
	}
	if r.code != ExitError {
		t.Errorf("exit %d, want %d", r.code, ExitError)
	}
}

// TestCIUnscannableChangesFailClosed checks that a changed file that cannot
// be scanned is a scan/incomplete finding, never a silent pass: a name the
// path checks refuse (which also sends the listing to the whole-workspace
// fallback), and a Git LFS pointer checked out in place of the model.
func TestCIUnscannableChangesFailClosed(t *testing.T) {
	t.Parallel()
	lfs := filepath.Join(t.TempDir(), "pointer")
	pointer := "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n"
	if err := os.WriteFile(lfs, []byte(pointer), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"control character in the name", map[string]string{"evil\tmodel.pkl": maliciousModel, "ok.pkl": benignModel}, `evil\tmodel.pkl`},
		{"backslash in the name", map[string]string{`evil\model.pkl`: maliciousModel}, `evil\model.pkl`},
		{"Git LFS pointer", map[string]string{"models/big.pkl": lfs, "ok.pkl": benignModel}, "Git LFS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var names []string
			for n := range tt.files {
				names = append(names, n)
			}
			fake := &fakeGitHub{t: t, files: names}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			r := runAction(t, srv.URL, tt.files, map[string]string{"INPUT_SARIF-FILE": ""})
			if r.code != ExitFail || !strings.Contains(r.stdout, "scan/incomplete") || !strings.Contains(r.stdout, tt.want) {
				t.Errorf("exit %d; want a failing scan/incomplete finding that names %q:\n%s%s", r.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
}

// TestCIRateLimitedWarning checks that a rate limit that outlasts the wait is
// reported as one, not as a missing permission.
func TestCIRateLimitedWarning(t *testing.T) {
	t.Parallel()
	reset := fmt.Sprint(time.Now().Add(time.Hour).Unix())
	limited := map[string]string{"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
	fake := &fakeGitHub{t: t, files: []string{"evil.pkl"},
		status: map[string]int{"POST /repos/o/r/check-runs": 403, "POST /repos/o/r/issues/7/comments": 429},
		header: map[string]map[string]string{"POST /repos/o/r/check-runs": limited, "POST /repos/o/r/issues/7/comments": limited},
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	r := runAction(t, srv.URL, map[string]string{"evil.pkl": maliciousModel}, map[string]string{"INPUT_SARIF-FILE": ""})
	if r.code != ExitFail {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(r.stdout, "::warning title=mlguard::"); n != 1 {
		t.Errorf("%d warnings, want one:\n%s", n, r.stdout)
	}
	if strings.Contains(r.stdout, "lacks") || strings.Count(r.stdout, "rate limit") < 2 {
		t.Errorf("the warning does not say the API rate limit was hit:\n%s", r.stdout)
	}
}

// TestCIDependencies: a pull request that changes requirements.txt. The base
// comes from the contents API (the checkout is shallow); only what the
// change added or changed is looked up, and a typosquat fails the run.
func TestCIDependencies(t *testing.T) {
	t.Parallel()
	reg := fakeRegistry(t)
	fake := &fakeGitHub{t: t, files: []string{"requirements.txt"}, base: map[string]string{
		"requirements.txt": "requests==2.31.0\nnumpy==1.26.4\n",
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	dir := t.TempDir()
	req := filepath.Join(dir, "requirements.txt")
	if err := os.WriteFile(req, []byte("requests==2.32.0\nnumpy==1.26.4\nreqeusts==1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runAction(t, srv.URL, map[string]string{"requirements.txt": req}, map[string]string{
		"MLGUARD_PYPI_URL": reg.URL, "MLGUARD_OSV_URL": reg.URL, "MLGUARD_DEPSDEV_URL": reg.URL,
	})
	if r.code != ExitFail {
		t.Fatalf("exit %d, want 1 (a typosquat)\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"file=requirements.txt,line=3", "package/typosquat", "package/vulnerable", "CVE-2024-35195"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "pkg:pypi/numpy") {
		t.Errorf("the unchanged numpy was checked:\n%s", r.stdout)
	}
	if n := len(fake.find("GET", "/repos/o/r/contents/requirements.txt")); n != 1 {
		t.Errorf("%d contents requests for the base, want 1", n)
	}
}

// TestScanBase checks mlguard scan --base: only the packages added or
// changed since the merge base are checked, in a manifest reached through a
// sub-folder path, and a bad ref is an error.
func TestScanBase(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "-b", "main")
	write("svc/requirements.txt", "requests==2.32.3\nnumpy==1.26.4\n")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	git("tag", "base")
	git("checkout", "-q", "-b", "feature")
	write("svc/requirements.txt", "requests==2.32.3\nnumpy==2.1.0\nreqeusts==1.0.0\n")
	write("svc/other/package.json", `{"dependencies": {"left-pad": "1.3.0"}}`)

	t.Chdir(filepath.Join(dir, "svc"))
	purls := func(args ...string) []string {
		t.Helper()
		code, stdout, stderr := run(t, append([]string{"scan", "--offline", "--format", "json"}, args...)...)
		if code == ExitError {
			t.Fatalf("scan %v: exit %d\n%s", args, code, stderr)
		}
		var res struct {
			Packages []struct {
				PURL   string `json:"purl"`
				Change string `json:"change"`
			} `json:"packages"`
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		var out []string
		for _, p := range res.Packages {
			out = append(out, p.Change+" "+p.PURL)
		}
		sort.Strings(out)
		return out
	}
	want := []string{"added pkg:npm/left-pad@1.3.0", "added pkg:pypi/reqeusts@1.0.0", "changed pkg:pypi/numpy@2.1.0"}
	if diff := cmp.Diff(want, purls("--base", "base", ".")); diff != "" {
		t.Errorf("--base base (-want +got):\n%s", diff)
	}
	all := purls(".")
	if len(all) != 4 {
		t.Errorf("without --base every package is checked: %v", all)
	}
	if code, _, stderr := run(t, "scan", "--offline", "--base", "no-such-ref", "."); code != ExitError || !strings.Contains(stderr, "--base no-such-ref") {
		t.Errorf("an unknown ref: exit %d, %s", code, stderr)
	}
}
