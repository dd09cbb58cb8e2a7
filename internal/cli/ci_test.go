package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
	files    []string         // the pull request's files
	comments []map[string]any // existing issue comments
	status   map[string]int   // "POST /repos/o/r/check-runs" -> status
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
	ws := t.TempDir()
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
	if !strings.Contains(r.summary, "scope: all") {
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
		{"unknown policy", map[string]string{"INPUT_POLICY": "strict"}, nil, "only the built-in default"},
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
