package ci

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		include, exclude []string
		path             string
		want             bool
	}{
		{nil, nil, "a/b.pt", true},
		{[]string{"*.pt"}, nil, "a/b/c.pt", true},
		{[]string{"*.pt"}, nil, "a/b/c.pth", false},
		{[]string{"models/"}, nil, "models/x/y.bin", true},
		{[]string{"models/"}, nil, "other/models.bin", false},
		{[]string{"models"}, nil, "models/x.bin", true},
		{[]string{"models/*.pt"}, nil, "models/x.pt", true},
		{[]string{"models/*.pt"}, nil, "models/sub/x.pt", false},
		{[]string{"models/**/*.pt"}, nil, "models/x.pt", true},
		{[]string{"models/**/*.pt"}, nil, "models/a/b/x.pt", true},
		{[]string{"./models/**"}, nil, "models/a/b", true},
		{[]string{"/models/*.pt"}, nil, "models/x.pt", true},
		{[]string{"m?.pt"}, nil, "m1.pt", true},
		{[]string{"m?.pt"}, nil, "m12.pt", false},
		{[]string{"m[0-9].pt"}, nil, "m7.pt", true},
		{[]string{"m[!0-9].pt"}, nil, "m7.pt", false},
		{[]string{"a.b"}, nil, "axb", false},
		{nil, []string{"tests/**"}, "tests/fixtures/evil.pkl", false},
		{nil, []string{"tests/**"}, "src/tests.pkl", true},
		{[]string{"**/*.pkl"}, []string{"vendor/"}, "vendor/x.pkl", false},
		{[]string{"**/*.pkl"}, []string{"vendor/"}, "src/x.pkl", true},
	}
	for _, tt := range tests {
		f, err := NewFilter(tt.include, tt.exclude)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(tt.path); got != tt.want {
			t.Errorf("include %q exclude %q: Match(%q) = %v, want %v", tt.include, tt.exclude, tt.path, got, tt.want)
		}
	}
	for _, bad := range []string{"", "  ", "a[b"} {
		if _, err := NewFilter([]string{bad}, nil); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("token"), 0o600); err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	for _, f := range []string{"m/a.pt", "m/b.pkl", "docs/readme.md", ".git/config", "tests/x.pkl"} {
		must(t, os.MkdirAll(filepath.Join(ws, filepath.Dir(f)), 0o755))
		must(t, os.WriteFile(filepath.Join(ws, f), []byte("x"), 0o644))
	}
	must(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(ws, "m", "leak.pt")))
	must(t, os.Symlink(outside, filepath.Join(ws, "linkdir")))
	must(t, os.Symlink("a.pt", filepath.Join(ws, "m", "alias.pt")))
	must(t, os.Symlink("nowhere", filepath.Join(ws, "m", "broken.pt")))
	must(t, os.MkdirAll(filepath.Join(ws, "sub"), 0o755))

	changes := &Changes{Files: []Change{
		{Path: "m/a.pt", Status: "added"},
		{Path: "m/a.pt", Status: "modified"}, // listed twice: scanned once
		{Path: "m/leak.pt", Status: "added"},
		{Path: "linkdir/secret", Status: "added"},
		{Path: "m/alias.pt", Status: "added"},
		{Path: "m/broken.pt", Status: "added"},
		{Path: "m/gone.pt", Status: "removed"},
		{Path: "m/missing.pt", Status: "added"},
		{Path: "sub", Status: "added"},
		{Path: "tests/x.pkl", Status: "added"},
	}}
	filter, err := NewFilter(nil, []string{"tests/"})
	must(t, err)
	paths, skipped, err := Select(ws, changes, filter)
	must(t, err)
	if diff := cmp.Diff([]string{"m/a.pt", "m/alias.pt"}, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	reasons := map[string]string{}
	for _, s := range skipped {
		reasons[s.Path] = s.Reason
	}
	want := map[string]string{
		"m/leak.pt":      "symbolic link out of the workspace",
		"linkdir/secret": "symbolic link out of the workspace",
		"m/broken.pt":    "broken symbolic link",
		"m/missing.pt":   "not in the checkout",
		"sub":            "a folder",
	}
	for p, w := range want {
		if !strings.Contains(reasons[p], w) {
			t.Errorf("%s: reason %q, want %q", p, reasons[p], w)
		}
	}
	if len(skipped) != len(want) {
		t.Errorf("skipped = %v", skipped)
	}

	// The whole workspace: every file but .git's, through the same checks.
	all, skipped, err := Select(ws, &Changes{All: true}, nil)
	must(t, err)
	if diff := cmp.Diff([]string{"docs/readme.md", "m/a.pt", "m/alias.pt", "m/b.pkl", "tests/x.pkl"}, all); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	if len(skipped) != 3 { // leak.pt, broken.pt, linkdir
		t.Errorf("skipped = %v", skipped)
	}
}

func TestBaseFiles(t *testing.T) {
	t.Parallel()
	repo := newTestRepo(t)
	api := apiClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/repos/o/r/contents/req/requirements.txt" && r.URL.Query().Get("ref") == shaA:
			_, _ = w.Write([]byte(`{"type":"file","encoding":"base64","size":9,"name":"requirements.txt","path":"req/requirements.txt","content":"dG9yY2g9\nPTIK\n"}`))
		case r.URL.Path == "/repos/o/r/contents/big.lock":
			if r.Header.Get("Accept") == "application/vnd.github.raw+json" {
				_, _ = w.Write([]byte("raw bytes"))
				return
			}
			_, _ = w.Write([]byte(`{"type":"file","encoding":"none","size":2000000,"name":"big.lock","path":"big.lock","content":""}`))
		case r.URL.Path == "/repos/o/r/contents/dir":
			_, _ = w.Write([]byte(`[{"type":"file","name":"x","path":"dir/x"}]`))
		case r.URL.Path == "/repos/o/r/contents/boom":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"Not Found"}`))
		}
	}))
	g := &GitHub{Owner: "o", Repo: "r"}
	ctx := context.Background()

	viaGit := &BaseFiles{GitHub: g, Git: NewGit(repo.dir), Commit: repo.first}
	if b, err := viaGit.Read(ctx, "a.txt"); err != nil || string(b) != "one\n" {
		t.Errorf("git a.txt = %q, %v", b, err)
	}
	if _, err := viaGit.Read(ctx, "models/new.pkl"); !errors.Is(err, ErrNotExist) {
		t.Errorf("git new file: err = %v, want ErrNotExist", err)
	}

	viaAPI := &BaseFiles{GitHub: g, Client: api, Git: &Git{}, Commit: shaA}
	tests := []struct {
		path, want string
		err        error
		errText    string
	}{
		{path: "req/requirements.txt", want: "torch==2\n"},
		{path: "big.lock", want: "raw bytes"},
		{path: "new.txt", err: ErrNotExist},
		{path: "dir", err: ErrNotExist},
		{path: "boom", errText: "500"},
		{path: "../x", errText: "unsafe"},
	}
	for _, tt := range tests {
		b, err := viaAPI.Read(ctx, tt.path)
		switch {
		case tt.err != nil && !errors.Is(err, tt.err):
			t.Errorf("%s: err = %v, want %v", tt.path, err, tt.err)
		case tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)):
			t.Errorf("%s: err = %v, want %q", tt.path, err, tt.errText)
		case tt.err == nil && tt.errText == "" && (err != nil || string(b) != tt.want):
			t.Errorf("%s = %q, %v; want %q", tt.path, b, err, tt.want)
		}
	}
	if _, err := (&BaseFiles{GitHub: g, Git: &Git{}, Commit: shaA}).Read(ctx, "a.txt"); err == nil {
		t.Error("offline without git: no error")
	}
}

func TestHead(t *testing.T) {
	t.Parallel()
	mk := func(files map[string]string) string {
		dir := t.TempDir()
		for name, s := range files {
			p := filepath.Join(dir, ".git", filepath.FromSlash(name))
			must(t, os.MkdirAll(filepath.Dir(p), 0o755))
			must(t, os.WriteFile(p, []byte(s), 0o644))
		}
		return dir
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"detached", map[string]string{"HEAD": shaA + "\n"}, shaA},
		{"loose branch", map[string]string{"HEAD": "ref: refs/heads/main\n", "refs/heads/main": shaB + "\n"}, shaB},
		{"packed branch", map[string]string{"HEAD": "ref: refs/heads/main\n", "packed-refs": "# pack-refs with: peeled\n" + shaC + " refs/heads/main\n"}, shaC},
		{"unborn", map[string]string{"HEAD": "ref: refs/heads/main\n"}, ""},
		{"escape", map[string]string{"HEAD": "ref: refs/../../etc/passwd\n"}, ""},
		{"none", map[string]string{}, ""},
	}
	for _, tt := range tests {
		if got := Head(mk(tt.files)); got != tt.want {
			t.Errorf("%s: Head = %q, want %q", tt.name, got, tt.want)
		}
	}
	repo := newTestRepo(t)
	if got := Head(repo.dir); got != repo.second {
		t.Errorf("real repository: Head = %q, want %q", got, repo.second)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSelectUnscannable checks the files that Select cannot hand to the
// scanners though they may be models: each comes back with a reason that
// Incomplete reports, for the caller to turn into a finding.
func TestSelectUnscannable(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	pointer := "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 999\n"
	for name, content := range map[string]string{
		"lfs.pkl":        pointer,
		"notes.txt":      "version https://git-lfs.github.com/spec/v1 is what the pointers say\n",
		"tab\tname.pkl":  "x",
		`back\slash.pkl`: "x",
		"ok.pkl":         "x",
		"sub/.git":       "gitdir: ../.git/modules/sub\n", // a submodule's link: neither scanned nor reported
	} {
		must(t, os.MkdirAll(filepath.Join(ws, filepath.Dir(name)), 0o755))
		must(t, os.WriteFile(filepath.Join(ws, name), []byte(content), 0o644))
	}
	paths, skipped, err := Select(ws, &Changes{All: true}, nil)
	must(t, err)
	if diff := cmp.Diff([]string{"notes.txt", "ok.pkl"}, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	got := map[string]string{}
	for _, s := range skipped {
		if !Incomplete(s.Reason) {
			t.Errorf("%q: reason %q is not one to report", s.Path, s.Reason)
		}
		got[s.Path] = s.Reason
	}
	want := map[string]string{"lfs.pkl": ReasonLFSPointer, "tab\tname.pkl": ReasonUnsafeName, `back\slash.pkl`: ReasonUnsafeName}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if Incomplete("not a model") {
		t.Error("an ordinary skip reason is reported")
	}
}
