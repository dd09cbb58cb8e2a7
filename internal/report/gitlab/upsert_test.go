package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/reporttest"
)

const (
	fakeToken   = "glpat-test-token"
	fakeProject = "ml/models" // sent escaped: ml%2Fmodels
	fakeIID     = 17
	meID        = 101 // the token's user, a project access token's bot
	otherID     = 202 // a merge request author
)

// fakeNote is a note as the fake stores it.
type fakeNote struct {
	id       int64
	body     string
	authorID int64
	system   bool
}

// fakeGitLab is an httptest fake of the GitLab REST API endpoints UpsertNote
// uses, answering with the JSON shapes and pagination headers of the GitLab
// API documentation (doc/api/notes.md, doc/api/users.md,
// doc/api/rest/_index.md#pagination):
//
//	GET  /api/v4/user
//	GET  /api/v4/projects/:id/merge_requests/:iid/notes?page=&per_page=&sort=&order_by=
//	POST /api/v4/projects/:id/merge_requests/:iid/notes
//	PUT  /api/v4/projects/:id/merge_requests/:iid/notes/:note_id
//
// Anything else, or another project or merge request, is a 404 as GitLab
// gives it; a request without the token is a 401.
type fakeGitLab struct {
	t      *testing.T
	mu     sync.Mutex
	notes  []fakeNote
	nextID int64
	// fail holds statuses to answer, in order, before serving normally, per
	// "METHOD kind" with kind one of user, notes, note.
	fail map[string][]int
	log  []string // "GET notes page=2", "POST notes", "PUT note 5", "GET user"
	// bodies are the note bodies received by POST and PUT.
	bodies []string
}

func newFake(t *testing.T, notes ...fakeNote) (*fakeGitLab, *gl.Client) {
	t.Helper()
	f := &fakeGitLab{t: t, notes: notes, nextID: 1000, fail: map[string][]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL+"/api/v4", fakeToken, fastRetries()...)
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

// fastRetries keeps client-go's retries (up to 3) but makes its backoff,
// 0.7 to 0.9 s per attempt after a server error, a millisecond.
func fastRetries() []gl.ClientOptionFunc {
	return []gl.ClientOptionFunc{gl.WithCustomBackoff(func(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
		return time.Millisecond
	})}
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("PRIVATE-TOKEN") != fakeToken {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}
	path := r.URL.EscapedPath()
	notesPath := "/api/v4/projects/ml%2Fmodels/merge_requests/" + strconv.Itoa(fakeIID) + "/notes"
	var kind string
	var noteID int64
	switch {
	case path == "/api/v4/user":
		kind = "user"
	case path == notesPath:
		kind = "notes"
	case strings.HasPrefix(path, notesPath+"/"):
		id, err := strconv.ParseInt(strings.TrimPrefix(path, notesPath+"/"), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
			return
		}
		kind, noteID = "note", id
	case strings.HasPrefix(path, "/api/v4/projects/"):
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
		return
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
		return
	}
	key := r.Method + " " + kind
	entry := key
	switch {
	case key == "GET notes":
		entry += " page=" + r.URL.Query().Get("page")
	case kind == "note":
		entry += " " + strconv.FormatInt(noteID, 10)
	}
	f.log = append(f.log, entry)
	if q := f.fail[key]; len(q) > 0 {
		f.fail[key] = q[1:]
		msg := map[int]string{401: "401 Unauthorized", 403: "403 Forbidden", 404: "404 Not Found", 429: "Retry later", 500: "500 Internal Server Error", 502: "502 Bad Gateway", 503: "503 Service Unavailable"}[q[0]]
		writeJSON(w, q[0], map[string]string{"message": msg})
		return
	}
	switch key {
	case "GET user":
		writeJSON(w, http.StatusOK, userJSON(meID))
	case "GET notes":
		f.list(w, r)
	case "POST notes":
		body, ok := f.readBody(w, r)
		if !ok {
			return
		}
		f.nextID++
		n := fakeNote{id: f.nextID, body: body, authorID: meID}
		f.notes = append(f.notes, n)
		writeJSON(w, http.StatusCreated, noteJSON(n))
	case "PUT note":
		body, ok := f.readBody(w, r)
		if !ok {
			return
		}
		for i, n := range f.notes {
			if n.id == noteID {
				f.notes[i].body = body
				writeJSON(w, http.StatusOK, noteJSON(f.notes[i]))
				return
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "405 Method Not Allowed"})
	}
}

// list serves one page of notes, oldest first as asked, with GitLab's
// offset pagination headers.
func (f *fakeGitLab) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("sort") != "asc" || q.Get("order_by") != "created_at" {
		f.t.Errorf("notes listed with sort=%q order_by=%q", q.Get("sort"), q.Get("order_by"))
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 20
	}
	per = min(per, 100)
	total := len(f.notes)
	pages := max((total+per-1)/per, 1)
	from, to := min((page-1)*per, total), min(page*per, total)
	out := []map[string]any{}
	for _, n := range f.notes[from:to] {
		out = append(out, noteJSON(n))
	}
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Total", strconv.Itoa(total))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Prev-Page", "")
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
	}
	h.Set("X-Next-Page", "")
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
	}
	writeJSON(w, http.StatusOK, out)
}

// readBody reads the note body of a POST or PUT (client-go sends JSON).
func (f *fakeGitLab) readBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Body string `json:"body"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 2<<20)).Decode(&in); err != nil || in.Body == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is missing"})
		return "", false
	}
	f.bodies = append(f.bodies, in.Body)
	return in.Body, true
}

func (f *fakeGitLab) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fakeGitLab) note(id int64) fakeNote {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.notes {
		if n.id == id {
			return n
		}
	}
	return fakeNote{}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// userJSON is a user as GET /user shows it (doc/api/users.md), here a
// project access token's bot user.
func userJSON(id int64) map[string]any {
	return map[string]any{
		"id": id, "username": fmt.Sprintf("project_5_bot_%d", id), "name": "mlguard", "state": "active", "locked": false,
		"avatar_url": "https://gitlab.example.com/uploads/-/system/user/avatar/1/a.png", "web_url": "https://gitlab.example.com/project_5_bot",
		"created_at": "2026-01-02T03:04:05.000Z", "bio": "", "public_email": nil, "bot": true,
	}
}

// noteJSON is a merge request note as the notes API shows it
// (doc/api/notes.md).
func noteJSON(n fakeNote) map[string]any {
	return map[string]any{
		"id": n.id, "type": nil, "body": n.body, "attachment": nil,
		"author": map[string]any{
			"id": n.authorID, "username": fmt.Sprintf("user%d", n.authorID), "email": "user@example.com", "name": "A User",
			"state": "active", "created_at": "2026-01-02T03:04:05.000Z",
			"avatar_url": "https://gitlab.example.com/a.png", "web_url": "https://gitlab.example.com/u",
		},
		"created_at": "2026-11-20T08:57:14.000Z", "updated_at": "2026-11-20T08:57:14.000Z",
		"system": n.system, "noteable_id": 377, "noteable_type": "MergeRequest", "project_id": 5, "noteable_iid": fakeIID,
		"resolvable": false, "confidential": false, "internal": false, "imported": false, "imported_from": "none",
	}
}

func upsert(t *testing.T, c *gl.Client, r *finding.Result, opts NoteOptions) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return UpsertNote(ctx, c, fakeProject, fakeIID, r, opts)
}

func TestUpsertNote(t *testing.T) {
	t.Parallel()
	full, empty := reporttest.Full(), reporttest.Empty()
	fullBody, emptyBody := RenderNote(full, noteOpts), RenderNote(empty, noteOpts)
	always := noteOpts
	always.Always = true
	tests := []struct {
		name     string
		notes    []fakeNote
		result   *finding.Result
		opts     NoteOptions
		action   string
		requests []string
		body     string // the body posted or put, if any
	}{
		{
			name: "findings, no note: created", result: full, opts: noteOpts, action: NoteCreated,
			notes:    []fakeNote{{id: 1, body: "LGTM", authorID: otherID}},
			requests: []string{"GET notes page=1", "POST notes"}, body: fullBody,
		},
		{
			name: "no findings, no note: nothing posted", result: empty, opts: noteOpts, action: NoteNone,
			requests: []string{"GET notes page=1"},
		},
		{
			name: "no findings, Always: all clear created", result: empty, opts: always, action: NoteCreated,
			requests: []string{"GET notes page=1", "POST notes"}, body: emptyBody,
		},
		{
			name: "our note: updated in place", result: full, opts: noteOpts, action: NoteUpdated,
			notes:    []fakeNote{{id: 1, body: "hi", authorID: otherID}, {id: 7, body: NoteMarker + "\nold", authorID: meID}},
			requests: []string{"GET notes page=1", "GET user", "PUT note 7"}, body: fullBody,
		},
		{
			name: "our note, findings gone: all clear", result: empty, opts: noteOpts, action: NoteUpdated,
			notes:    []fakeNote{{id: 7, body: fullBody, authorID: meID}},
			requests: []string{"GET notes page=1", "GET user", "PUT note 7"}, body: emptyBody,
		},
		{
			name: "our note says the same: unchanged", result: full, opts: noteOpts, action: NoteUnchanged,
			notes:    []fakeNote{{id: 7, body: fullBody, authorID: meID}},
			requests: []string{"GET notes page=1", "GET user"},
		},
		{
			name: "marker planted by another user: ignored, ours created", result: full, opts: noteOpts, action: NoteCreated,
			notes:    []fakeNote{{id: 3, body: NoteMarker + "\n## ✅ mlguard: all clear", authorID: otherID}},
			requests: []string{"GET notes page=1", "GET user", "POST notes"}, body: fullBody,
		},
		{
			name: "marker planted, no findings: nothing posted", result: empty, opts: noteOpts, action: NoteNone,
			notes:    []fakeNote{{id: 3, body: NoteMarker, authorID: otherID}},
			requests: []string{"GET notes page=1", "GET user"},
		},
		{
			name: "planted before ours: ours updated", result: full, opts: noteOpts, action: NoteUpdated,
			notes:    []fakeNote{{id: 3, body: NoteMarker, authorID: otherID}, {id: 9, body: NoteMarker + "\nold", authorID: meID}},
			requests: []string{"GET notes page=1", "GET user", "PUT note 9"}, body: fullBody,
		},
		{
			name: "system note with the marker: ignored", result: full, opts: noteOpts, action: NoteCreated,
			notes:    []fakeNote{{id: 4, body: NoteMarker + " added 1 commit", authorID: meID, system: true}},
			requests: []string{"GET notes page=1", "POST notes"}, body: fullBody,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, c := newFake(t, tt.notes...)
			action, err := upsert(t, c, tt.result, tt.opts)
			if err != nil {
				t.Fatalf("UpsertNote: %v", err)
			}
			if action != tt.action {
				t.Errorf("action %q, want %q", action, tt.action)
			}
			if diff := cmp.Diff(tt.requests, fake.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if tt.body != "" {
				if len(fake.bodies) != 1 || fake.bodies[0] != tt.body {
					t.Errorf("sent bodies %q, want one of %d bytes", fake.bodies, len(tt.body))
				}
			}
			for _, n := range tt.notes {
				if n.authorID != meID && fake.note(n.id).body != n.body {
					t.Errorf("note %d of another user was changed", n.id)
				}
			}
		})
	}
}

func TestUpsertNotePagination(t *testing.T) {
	t.Parallel()
	var notes []fakeNote
	for i := range 250 {
		notes = append(notes, fakeNote{id: int64(i + 1), body: fmt.Sprintf("comment %d", i), authorID: otherID})
	}
	notes[230] = fakeNote{id: 231, body: NoteMarker + "\nold", authorID: meID}
	fake, c := newFake(t, notes...)
	action, err := upsert(t, c, reporttest.Full(), noteOpts)
	if err != nil || action != NoteUpdated {
		t.Fatalf("UpsertNote: %q, %v", action, err)
	}
	want := []string{"GET notes page=1", "GET notes page=2", "GET notes page=3", "GET user", "PUT note 231"}
	if diff := cmp.Diff(want, fake.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestUpsertNoteSearchCutShort(t *testing.T) {
	t.Parallel()
	var notes []fakeNote
	for i := range notesPerPage*maxNotePages + 1 {
		notes = append(notes, fakeNote{id: int64(i + 1), body: "+1", authorID: otherID})
	}
	fake, c := newFake(t, notes...)
	action, err := upsert(t, c, reporttest.Full(), noteOpts)
	if err == nil || action != NoteNone || !strings.Contains(err.Error(), "not searched beyond the first 5000 notes") {
		t.Fatalf("UpsertNote: %q, %v", action, err)
	}
	got := fake.requests()
	if len(got) != maxNotePages || got[len(got)-1] != fmt.Sprintf("GET notes page=%d", maxNotePages) {
		t.Errorf("requests %q", got)
	}
}

func TestUpsertNoteErrors(t *testing.T) {
	t.Parallel()
	mine := fakeNote{id: 7, body: NoteMarker + "\nold", authorID: meID}
	tests := []struct {
		name     string
		notes    []fakeNote
		fail     map[string][]int
		token    string
		project  string
		status   int
		hint     string
		requests []string
	}{
		{
			name: "401 bad token", token: "glpat-wrong", status: 401, hint: "the token was rejected",
			requests: []string{},
		},
		{
			name: "401 on list", fail: map[string][]int{"GET notes": {401}}, status: 401, hint: "the token was rejected",
			requests: []string{"GET notes page=1"},
		},
		{
			name: "403 on create", fail: map[string][]int{"POST notes": {403}}, status: 403, hint: "CI_JOB_TOKEN cannot write notes",
			requests: []string{"GET notes page=1", "POST notes"},
		},
		{
			name: "403 on update", notes: []fakeNote{mine}, fail: map[string][]int{"PUT note": {403}}, status: 403, hint: "needs the api scope",
			requests: []string{"GET notes page=1", "GET user", "PUT note 7"},
		},
		{
			name: "404 no such project", project: "ml/other", status: 404, hint: "no such project or merge request",
			requests: []string{},
		},
		{
			name: "404 on list", fail: map[string][]int{"GET notes": {404}}, status: 404, hint: "no such project or merge request",
			requests: []string{"GET notes page=1"},
		},
		{
			name: "GET /user fails", notes: []fakeNote{mine}, fail: map[string][]int{"GET user": {403}}, status: 403, hint: "the token's user",
			requests: []string{"GET notes page=1", "GET user"},
		},
		{
			name: "500 on create: not retried", fail: map[string][]int{"POST notes": {500}}, status: 500, hint: "creating a note",
			requests: []string{"GET notes page=1", "POST notes"},
		},
		{
			name: "502 on list, every retry", fail: map[string][]int{"GET notes": {502, 502, 502, 502}}, status: 502, hint: "listing notes",
			requests: []string{"GET notes page=1", "GET notes page=1", "GET notes page=1", "GET notes page=1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, c := newFake(t, tt.notes...)
			fake.fail = tt.fail
			if fake.fail == nil {
				fake.fail = map[string][]int{}
			}
			if tt.token != "" {
				var err error
				c, err = NewClient(c.BaseURL().String(), tt.token, fastRetries()...)
				if err != nil {
					t.Fatal(err)
				}
			}
			project := fakeProject
			if tt.project != "" {
				project = tt.project
			}
			action, err := UpsertNote(context.Background(), c, project, fakeIID, reporttest.Full(), noteOpts)
			if err == nil {
				t.Fatalf("no error, action %q", action)
			}
			if action != NoteNone {
				t.Errorf("action %q, want none", action)
			}
			if got := StatusCode(err); got != tt.status {
				t.Errorf("StatusCode = %d, want %d (%v)", got, tt.status, err)
			}
			if !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("error %q does not say %q", err, tt.hint)
			}
			if strings.Contains(err.Error(), fakeToken) {
				t.Errorf("error shows the token: %v", err)
			}
			got := fake.requests()
			if got == nil {
				got = []string{}
			}
			if diff := cmp.Diff(tt.requests, got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpsertNoteRetries(t *testing.T) {
	t.Parallel()
	mine := fakeNote{id: 7, body: NoteMarker + "\nold", authorID: meID}
	tests := []struct {
		name     string
		notes    []fakeNote
		fail     map[string][]int
		action   string
		requests []string
	}{
		{
			name: "503 on list, then served", fail: map[string][]int{"GET notes": {503}}, action: NoteCreated,
			requests: []string{"GET notes page=1", "GET notes page=1", "POST notes"},
		},
		{
			name: "502 on update, retried", notes: []fakeNote{mine}, fail: map[string][]int{"PUT note": {502}}, action: NoteUpdated,
			requests: []string{"GET notes page=1", "GET user", "PUT note 7", "PUT note 7"},
		},
		{
			name: "429 on create, retried", fail: map[string][]int{"POST notes": {429}}, action: NoteCreated,
			requests: []string{"GET notes page=1", "POST notes", "POST notes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, c := newFake(t, tt.notes...)
			fake.fail = tt.fail
			start := time.Now()
			action, err := upsert(t, c, reporttest.Full(), noteOpts)
			if err != nil || action != tt.action {
				t.Fatalf("UpsertNote: %q, %v; want %q", action, err, tt.action)
			}
			if diff := cmp.Diff(tt.requests, fake.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if n := len(fake.bodies); n != 1 && tt.action != NoteUpdated {
				t.Errorf("%d notes posted", n)
			}
		})
	}
}

func TestUpsertNoteArguments(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	ctx := context.Background()
	r := reporttest.Full()
	for name, call := range map[string]func() (string, error){
		"nil client": func() (string, error) { return UpsertNote(ctx, nil, fakeProject, fakeIID, r, noteOpts) },
		"nil result": func() (string, error) { return UpsertNote(ctx, c, fakeProject, fakeIID, nil, noteOpts) },
		"no project": func() (string, error) { return UpsertNote(ctx, c, "", fakeIID, r, noteOpts) },
		"bad iid":    func() (string, error) { return UpsertNote(ctx, c, fakeProject, 0, r, noteOpts) },
	} {
		if action, err := call(); err == nil || action != NoteNone {
			t.Errorf("%s: %q, %v", name, action, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := UpsertNote(cancelled, c, fakeProject, fakeIID, r, noteOpts); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	if _, err := NewClient("", ""); !errors.Is(err, ErrNoToken) || !strings.Contains(err.Error(), "CI_JOB_TOKEN") {
		t.Errorf("no token: %v", err)
	}
	for _, u := range []string{"gitlab.example.com", "ftp://gitlab.example.com/api/v4", "https://user:pw@gitlab.example.com/api/v4", "https://"} {
		if _, err := NewClient(u, fakeToken); err == nil {
			t.Errorf("NewClient(%q): no error", u)
		}
	}
	c, err := NewClient("", fakeToken)
	if err != nil || c.BaseURL().String() != DefaultAPIURL+"/" {
		t.Errorf("default: %v, %v", c.BaseURL(), err)
	}
	c, err = NewClient("https://gitlab.example.com", fakeToken)
	if err != nil || c.BaseURL().String() != "https://gitlab.example.com/api/v4/" {
		t.Errorf("host only: %v, %v", c.BaseURL(), err)
	}
}

func TestNewClientKeepsTokenOnOrigin(t *testing.T) {
	t.Parallel()
	var leaked sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.Header.Get("PRIVATE-TOKEN"); tok != "" {
			leaked.Store("token", tok)
		}
		writeJSON(w, http.StatusOK, []any{})
	}))
	t.Cleanup(other.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(api.Close)
	c, err := NewClient(api.URL+"/api/v4", fakeToken, fastRetries()...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = UpsertNote(context.Background(), c, fakeProject, fakeIID, reporttest.Full(), noteOpts)
	if err == nil || !strings.Contains(err.Error(), "refusing to follow a redirect") {
		t.Errorf("redirect to another origin: %v", err)
	}
	if tok, ok := leaked.Load("token"); ok {
		t.Errorf("token %q sent to another origin", tok)
	}
}
