package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaC = "cccccccccccccccccccccccccccccccccccccccc"
)

// prPayload is the shape of a real pull_request event, trimmed to what
// matters plus a few fields mlguard ignores.
const prPayload = `{
  "action": "synchronize",
  "number": 7,
  "pull_request": {
    "number": 7, "state": "open", "title": "Add a model",
    "head": {"sha": "` + shaB + `", "ref": "feature", "repo": {"full_name": "fork/r"}},
    "base": {"sha": "` + shaA + `", "ref": "main", "repo": {"full_name": "o/r"}},
    "changed_files": 2
  },
  "repository": {"full_name": "o/r"}
}`

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func writeEvent(t *testing.T, payload string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, []byte(payload), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"GITHUB_REPOSITORY": "o/r", "GITHUB_SHA": shaC, "GITHUB_WORKSPACE": "/ws",
		"GITHUB_RUN_ID": "42", "GITHUB_SERVER_URL": "https://github.example/",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name       string
		vars       map[string]string
		payload    string
		wantErr    string
		head, base string
		pr         *PullRequest
	}{
		{
			name: "pull_request", vars: with("GITHUB_EVENT_NAME", "pull_request"), payload: prPayload,
			head: shaB, base: shaA,
			pr: &PullRequest{Number: 7, HeadSHA: shaB, HeadRef: "feature", HeadRepo: "fork/r", BaseSHA: shaA, BaseRef: "main", ChangedFiles: 2, Fork: true},
		},
		{
			name: "pull_request_target", vars: with("GITHUB_EVENT_NAME", "pull_request_target"), payload: prPayload,
			head: shaB, base: shaA,
			pr: &PullRequest{Number: 7, HeadSHA: shaB, HeadRef: "feature", HeadRepo: "fork/r", BaseSHA: shaA, BaseRef: "main", ChangedFiles: 2, Fork: true},
		},
		{name: "push", vars: with("GITHUB_EVENT_NAME", "push"), payload: `{"before":"` + shaA + `","after":"` + shaB + `"}`, head: shaB, base: shaA},
		{name: "push new branch", vars: with("GITHUB_EVENT_NAME", "push"), payload: `{"before":"` + zeroSHA + `","after":"` + shaB + `"}`, head: shaB, base: ""},
		{name: "push deleted branch", vars: with("GITHUB_EVENT_NAME", "push"), payload: `{"before":"` + shaA + `","after":"` + zeroSHA + `"}`, head: shaC, base: shaA},
		{name: "merge_group", vars: with("GITHUB_EVENT_NAME", "merge_group"), payload: `{"merge_group":{"head_sha":"` + shaB + `","base_sha":"` + shaA + `"}}`, head: shaB, base: shaA},
		{name: "workflow_dispatch needs no payload", vars: with("GITHUB_EVENT_NAME", "workflow_dispatch"), head: shaC},
		{name: "bad repository", vars: with("GITHUB_REPOSITORY", "o"), wantErr: "not owner/name"},
		{name: "nested repository", vars: with("GITHUB_REPOSITORY", "o/r/x"), wantErr: "not owner/name"},
		{name: "pull_request without payload", vars: with("GITHUB_EVENT_NAME", "pull_request"), wantErr: "GITHUB_EVENT_PATH is not set"},
		{name: "malformed payload", vars: with("GITHUB_EVENT_NAME", "pull_request"), payload: `{"pull_request":`, wantErr: "decoding the payload"},
		{name: "pull_request without head", vars: with("GITHUB_EVENT_NAME", "pull_request"), payload: `{"number":1,"pull_request":{"head":{},"base":{"sha":"` + shaA + `"}}}`, wantErr: "lacks its number"},
		{name: "push with a short sha", vars: with("GITHUB_EVENT_NAME", "push"), payload: `{"after":"abc"}`, wantErr: "lacks its after"},
		{name: "merge_group without heads", vars: with("GITHUB_EVENT_NAME", "merge_group"), payload: `{}`, wantErr: "lacks its head"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vars := tt.vars
			if tt.payload != "" {
				vars["GITHUB_EVENT_PATH"] = writeEvent(t, tt.payload)
			}
			g, err := FromEnv(env(vars))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.HeadSHA() != tt.head || g.BaseSHA() != tt.base {
				t.Errorf("head, base = %s, %s; want %s, %s", g.HeadSHA(), g.BaseSHA(), tt.head, tt.base)
			}
			if diff := cmp.Diff(tt.pr, g.PullRequest); diff != "" {
				t.Errorf("pull request (-want +got):\n%s", diff)
			}
			if g.Owner != "o" || g.Repo != "r" || g.APIURL != "https://api.github.com" || g.Workspace != "/ws" {
				t.Errorf("defaults: %+v", g)
			}
			if got, want := g.RunURL(), "https://github.example/o/r/actions/runs/42"; got != want {
				t.Errorf("RunURL = %q, want %q", got, want)
			}
		})
	}
}

func TestFromEnvOversizedPayload(t *testing.T) {
	t.Parallel()
	big := `{"after":"` + shaB + `","pad":"` + strings.Repeat("x", maxEventBytes) + `"}`
	_, err := FromEnv(env(map[string]string{
		"GITHUB_REPOSITORY": "o/r", "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": writeEvent(t, big),
	}))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a size error", err)
	}
}

func TestRunURLAttempt(t *testing.T) {
	t.Parallel()
	g := &GitHub{ServerURL: "https://github.com", Owner: "o", Repo: "r", RunID: "9", RunAttempt: "3"}
	if got, want := g.RunURL(), "https://github.com/o/r/actions/runs/9/attempts/3"; got != want {
		t.Errorf("RunURL = %q, want %q", got, want)
	}
	if (&GitHub{}).RunURL() != "" {
		t.Error("RunURL without a run id should be empty")
	}
}
