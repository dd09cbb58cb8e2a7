package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/mlguard/mlguard/internal/finding"
)

// What UpsertNote did.
const (
	NoteCreated   = "created"
	NoteUpdated   = "updated"
	NoteUnchanged = "unchanged" // the note already said the same
	NoteNone      = "none"      // no note, and nothing worth one
)

// Limits of the search for mlguard's note: the first 5000 notes of a merge
// request, oldest first.
const (
	notesPerPage = 100
	maxNotePages = 50
)

// DefaultAPIURL is GitLab.com's REST API, for NewClient without a base URL.
const DefaultAPIURL = "https://gitlab.com/api/v4"

// Defaults of NewClient.
const (
	clientTimeout = 30 * time.Second
	clientRetries = 3
)

// ErrNoToken is returned by NewClient without a token: the caller skips the
// note, says so once, and still writes the reports.
var ErrNoToken = errors.New("no GitLab token (CI_JOB_TOKEN cannot write merge request notes)")

// NewClient returns a GitLab REST client for UpsertNote: baseURL is the API
// root as CI_API_V4_URL gives it ("" means DefaultAPIURL), token a personal,
// project or group access token with the api scope, sent as PRIVATE-TOKEN
// (CI_JOB_TOKEN cannot write notes) and never to another origin a redirect
// leads to. Each attempt times out after 30 s;
// rate-limited requests (429) and, for idempotent methods only, server
// errors are retried up to 3 times, so that a 5xx answer to a POST cannot
// post a note twice. options are applied after these defaults (tests make
// the backoff short). It makes no request.
func NewClient(baseURL, token string, options ...gl.ClientOptionFunc) (*gl.Client, error) {
	if token == "" {
		return nil, fmt.Errorf("creating GitLab client: %w", ErrNoToken)
	}
	if baseURL == "" {
		baseURL = DefaultAPIURL
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("creating GitLab client: API URL %q is not an http(s) URL", baseURL)
	}
	defaults := []gl.ClientOptionFunc{
		gl.WithBaseURL(baseURL),
		gl.WithHTTPClient(&http.Client{Timeout: clientTimeout, CheckRedirect: sameOrigin}),
		gl.WithOnlyIdempotentRetries(),
		gl.WithCustomRetryMax(clientRetries),
		gl.WithUserAgent(toolName),
	}
	c, err := gl.NewClient(token, append(defaults, options...)...)
	if err != nil {
		return nil, fmt.Errorf("creating GitLab client: %w", err)
	}
	return c, nil
}

// sameOrigin refuses a redirect that leaves the API's scheme, host and port:
// the token is a PRIVATE-TOKEN header, which Go's client, unlike an
// Authorization header, would send on to another host.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if from := via[0].URL; req.URL.Scheme != from.Scheme || req.URL.Host != from.Host {
		return fmt.Errorf("refusing to follow a redirect from %s to another origin, %s://%s", from.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// UpsertNote keeps one mlguard note on merge request mrIID of project
// projectID (numeric id or "group/project" path) up to date. It lists the
// merge request's notes (at most 5000, oldest first) for mlguard's own (see
// findNote) and then: leaves it when it already says the same
// (NoteUnchanged), or edits it in place (NoteUpdated), which turns it into
// an "all clear" when the findings are gone; without one, it posts a new note
// when there are findings or opts.Always is set (NoteCreated), and otherwise
// does nothing (NoteNone). It never posts a second note: when the search was
// cut short it returns an error rather than create one, and a POST is not
// retried after a server error. Errors wrap client-go's (see StatusCode) and
// say what a 401, 403 or 404 most likely means.
func UpsertNote(ctx context.Context, client *gl.Client, projectID string, mrIID int64, r *finding.Result, opts NoteOptions) (string, error) {
	switch {
	case client == nil:
		return NoteNone, errors.New("updating merge request note: nil client")
	case r == nil:
		return NoteNone, errors.New("updating merge request note: nil result")
	case projectID == "":
		return NoteNone, errors.New("updating merge request note: no project id")
	case mrIID <= 0:
		return NoteNone, fmt.Errorf("updating merge request note: invalid merge request iid %d", mrIID)
	}
	where := fmt.Sprintf("merge request !%d of project %q", mrIID, projectID)
	body := RenderNote(r, opts)
	existing, complete, err := findNote(ctx, client, projectID, mrIID)
	if err != nil {
		return NoteNone, fmt.Errorf("finding mlguard's note on %s: %w", where, err)
	}
	switch {
	case existing != nil && existing.Body == body:
		return NoteUnchanged, nil
	case existing != nil:
		_, _, err := client.Notes.UpdateMergeRequestNote(projectID, mrIID, existing.ID, &gl.UpdateMergeRequestNoteOptions{Body: &body}, gl.WithContext(ctx))
		if err != nil {
			return NoteNone, fmt.Errorf("updating note %d on %s: %w", existing.ID, where, explain(err))
		}
		return NoteUpdated, nil
	case len(r.Findings) == 0 && !opts.Always:
		return NoteNone, nil
	case !complete:
		return NoteNone, fmt.Errorf("creating a note on %s: not searched beyond the first %d notes, so one may exist already",
			where, notesPerPage*maxNotePages)
	}
	_, _, err = client.Notes.CreateMergeRequestNote(projectID, mrIID, &gl.CreateMergeRequestNoteOptions{Body: &body},
		gl.WithContext(ctx), gl.WithRequestRetry(retryRateLimitOnly))
	if err != nil {
		return NoteNone, fmt.Errorf("creating a note on %s: %w", where, explain(err))
	}
	return NoteCreated, nil
}

// retryRateLimitOnly retries a request that was rate limited (429: rejected
// before it was processed) and nothing else. A server error after a POST
// does not prove that nothing was posted.
func retryRateLimitOnly(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return err == nil && resp != nil && resp.StatusCode == http.StatusTooManyRequests, nil
}

// findNote returns mlguard's earlier note, or nil; complete is false when
// there were more notes than it looked at. A note is mlguard's when it is not
// a system note, its body starts with NoteMarker and its author is the
// token's own user, asked for (GET /user) only when some note carries the
// marker; of several, the oldest. Anyone can write the marker: a note by
// anyone else is never taken for mlguard's, lest a merge request's author
// have the report written into a note they can edit back, or keep it from
// being posted at all.
func findNote(ctx context.Context, client *gl.Client, projectID string, mrIID int64) (found *gl.Note, complete bool, err error) {
	var marked []*gl.Note
	opt := &gl.ListMergeRequestNotesOptions{
		ListOptions: gl.ListOptions{PerPage: notesPerPage, Page: 1},
		OrderBy:     gl.Ptr("created_at"),
		Sort:        gl.Ptr("asc"),
	}
	for range maxNotePages {
		notes, resp, err := client.Notes.ListMergeRequestNotes(projectID, mrIID, opt, gl.WithContext(ctx))
		if err != nil {
			return nil, false, fmt.Errorf("listing notes: %w", explain(err))
		}
		for _, n := range notes {
			if n != nil && !n.System && strings.HasPrefix(n.Body, NoteMarker) {
				marked = append(marked, n)
			}
		}
		if resp == nil || resp.NextPage == 0 {
			complete = true
			break
		}
		opt.Page = resp.NextPage
	}
	if len(marked) == 0 {
		return nil, complete, nil
	}
	me, _, err := client.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return nil, false, fmt.Errorf("finding out the token's user: %w", explain(err))
	}
	if me == nil || me.ID == 0 {
		return nil, false, errors.New("finding out the token's user: GitLab did not say")
	}
	for _, n := range marked {
		if n.Author.ID == me.ID {
			return n, true, nil
		}
	}
	return nil, complete, nil
}

// StatusCode returns the HTTP status of a GitLab API error that err wraps,
// or 0.
func StatusCode(err error) int {
	var e *gl.ErrorResponse
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// statusError adds to a GitLab API error what its status most likely means,
// keeping it for errors.As and StatusCode.
type statusError struct {
	hint string
	err  error
}

func (e *statusError) Error() string { return e.err.Error() + " (" + e.hint + ")" }
func (e *statusError) Unwrap() error { return e.err }

// explain wraps err with a hint for the statuses a misconfigured token or
// project gives.
func explain(err error) error {
	var hint string
	switch StatusCode(err) {
	case http.StatusUnauthorized:
		hint = "the token was rejected: it is missing, mistyped, expired or revoked"
	case http.StatusForbidden:
		hint = "the token may not do this: it needs the api scope and a role in the project that may comment on merge requests; CI_JOB_TOKEN cannot write notes"
	case http.StatusNotFound:
		hint = "no such project or merge request, or the token cannot see it"
	default:
		return err
	}
	return &statusError{hint: hint, err: err}
}
