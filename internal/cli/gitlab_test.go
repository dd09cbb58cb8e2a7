package cli

import (
	"bytes"
	"context"
	"encoding/json"
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

// fakeGitLab answers the GitLab API calls mlguard makes: the merge
// request's notes (list, create), the token's user, and the changes.
type fakeGitLab struct {
	mu    sync.Mutex
	notes []map[string]any
	calls []string
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("PRIVATE-TOKEN") != "glpat-test" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"401 Unauthorized"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/v4/user":
		_, _ = io.WriteString(w, `{"id": 7, "username": "mlguard-bot", "name": "mlguard bot", "state": "active"}`)
	case r.Method == "GET" && r.URL.Path == "/api/v4/projects/42/merge_requests/3/notes":
		w.Header().Set("X-Total-Pages", "1")
		_ = json.NewEncoder(w).Encode(f.notes)
	case r.Method == "POST" && r.URL.Path == "/api/v4/projects/42/merge_requests/3/notes":
		var body struct {
			Body string `json:"body"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		note := map[string]any{"id": 100 + len(f.notes), "body": body.Body, "system": false, "author": map[string]any{"id": 7, "username": "mlguard-bot"}}
		f.notes = append(f.notes, note)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(note)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"404 Not Found"}`)
	}
}

// TestCIGitLab runs mlguard ci as a GitLab merge request job: the changes
// come from git against the diff base, the four reports are written, the
// merge request gets one note, and the job fails on the malicious model;
// without a token there is no note, one log line, and the same decision.
func TestCIGitLab(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	evil, err := os.ReadFile(maliciousModel)
	if err != nil {
		t.Fatal(err)
	}
	git("init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("# demo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "base")
	base := git("rev-parse", "HEAD")
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "evil.pkl"), evil, 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "add a model")
	head := git("rev-parse", "HEAD")

	fake := &fakeGitLab{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	env := map[string]string{
		"GITLAB_CI": "true", "CI_API_V4_URL": srv.URL + "/api/v4", "CI_SERVER_URL": "https://gitlab.example.com",
		"CI_PROJECT_ID": "42", "CI_PROJECT_PATH": "ml/demo", "CI_PROJECT_DIR": dir, "CI_COMMIT_SHA": head,
		"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "3", "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
		"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_PIPELINE_URL": "https://gitlab.example.com/ml/demo/-/pipelines/9",
		"MLGUARD_GITLAB_TOKEN": "glpat-test", "SOURCE_DATE_EPOCH": "1700000000",
		// No registry is reachable in unit tests.
		"MLGUARD_PYPI_URL": "http://127.0.0.1:1", "MLGUARD_NPM_URL": "http://127.0.0.1:1", "MLGUARD_GOPROXY": "http://127.0.0.1:1",
		"MLGUARD_OSV_URL": "http://127.0.0.1:1", "MLGUARD_DEPSDEV_URL": "http://127.0.0.1:1", "MLGUARD_HF_URL": "http://127.0.0.1:1",
		"MLGUARD_CRATES_URL": "http://127.0.0.1:1",
	}
	args := []string{"--code-quality-file", "gl-code-quality-report.json", "--sast-file", "gl-sast-report.json",
		"--bom-file", "mlguard.cdx.json", "--sarif-file", "mlguard.sarif"}
	run := func() (int, string, string) {
		var out, errb bytes.Buffer
		code := runCIEnv(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
		return code, out.String(), errb.String()
	}
	code, out, stderr := run()
	if code != ExitFail || !strings.Contains(out, "models/evil.pkl") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	for _, name := range []string{"gl-code-quality-report.json", "gl-sast-report.json", "mlguard.cdx.json", "mlguard.sarif"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !json.Valid(b) || !bytes.Contains(b, []byte("models/evil.pkl")) {
			t.Errorf("%s: %v, %.300s", name, err, b)
		}
	}
	if len(fake.notes) != 1 || !strings.HasPrefix(fake.notes[0]["body"].(string), "<!-- mlguard:mr-note -->") {
		t.Errorf("notes %v; calls %v", fake.notes, fake.calls)
	}
	// A second run edits nothing new: still one note.
	if code, _, _ := run(); code != ExitFail || len(fake.notes) != 1 {
		t.Errorf("second run: exit %d, %d notes", code, len(fake.notes))
	}

	delete(env, "MLGUARD_GITLAB_TOKEN")
	calls := len(fake.calls)
	code, out, _ = run()
	if code != ExitFail || !strings.Contains(out, "no MLGUARD_GITLAB_TOKEN") || len(fake.calls) != calls {
		t.Errorf("without a token: exit %d, %d new API calls\n%s", code, len(fake.calls)-calls, out)
	}

	// A merge request from a fork, in the fork's pipeline: CI_PROJECT_ID is
	// the fork's; the merge request, its notes and diffs are the target
	// project's (CI_MERGE_REQUEST_PROJECT_ID).
	env["MLGUARD_GITLAB_TOKEN"], env["CI_PROJECT_ID"], env["CI_MERGE_REQUEST_PROJECT_ID"] = "glpat-test", "99", "42"
	env["CI_PROJECT_PATH"] = "contributor/demo"
	calls = len(fake.calls)
	if code, out, _ := run(); code != ExitFail || len(fake.notes) != 1 {
		t.Errorf("fork pipeline: exit %d, %d notes\n%s", code, len(fake.notes), out)
	}
	for _, c := range fake.calls[calls:] {
		if strings.Contains(c, "/projects/99/") {
			t.Errorf("fork pipeline: %s went to the fork's project", c)
		}
	}

	// The flags the GitLab templates pass are all mlguard ci's.
	var help bytes.Buffer
	runCIEnv(context.Background(), []string{"-h"}, &help, &help, func(string) string { return "" })
	for _, flag := range strings.Fields("--scope --policy --fail-on --paths --code-quality-file --sast-file --bom-file --sarif-file") {
		if !strings.Contains(help.String(), "  -"+strings.TrimPrefix(flag, "--")+" ") && !strings.Contains(help.String(), "  -"+strings.TrimPrefix(flag, "--")+"\n") {
			t.Errorf("mlguard ci -h does not list %s", flag)
		}
	}
}
