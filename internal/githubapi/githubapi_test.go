package githubapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v82/github"
)

const token = "ghs_secret_token_value"

// reply is one scripted response.
type reply struct {
	status int
	header map[string]string
	body   string
}

// request is one request as the server saw it.
type request struct {
	Method, Path, Body string
	Header             http.Header
}

// fakeAPI answers with the replies in order, repeating the last one, and
// records every request.
type fakeAPI struct {
	*httptest.Server
	mu       sync.Mutex
	replies  []reply
	requests []request
}

func newFakeAPI(t *testing.T, replies ...reply) *fakeAPI {
	t.Helper()
	f := &fakeAPI{replies: replies}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.requests)
		f.requests = append(f.requests, request{r.Method, r.URL.Path, string(body), r.Header.Clone()})
		rep := f.replies[min(n, len(f.replies)-1)]
		f.mu.Unlock()
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, rep.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) seen() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

// sleeper records the waits asked for and returns at once.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

// syncBuffer is a bytes.Buffer for a logger that parallel code writes to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	ok200        = reply{status: 200, body: `{"id":1,"body":"hello"}`}
	serverError  = func(code int) reply { return reply{status: code, body: `{"message":"Server Error"}`} }
	forbidden    = reply{status: 403, body: `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest"}`}
	secondaryMsg = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
)

func primaryLimit(reset time.Time) reply {
	return reply{status: 403, body: `{"message":"API rate limit exceeded"}`, header: map[string]string{
		"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10),
	}}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name      string
		replies   []reply
		opts      Options
		want      int // the HTTP status the call ends with (StatusCode of the error, or 200)
		wantErr   any // a pointer to the go-github error type expected, or nil
		waits     []time.Duration
		tolerance time.Duration
		requests  int
	}{
		{name: "success", replies: []reply{ok200}, want: 200, requests: 1},
		{
			name:    "5xx then success",
			replies: []reply{serverError(502), serverError(503), serverError(500), ok200},
			want:    200, waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, requests: 4,
		},
		{
			name:    "5xx exhausted",
			replies: []reply{serverError(504)},
			want:    504, wantErr: new(*github.ErrorResponse),
			waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, requests: 4,
		},
		{
			name:    "5xx retries and backoff as configured",
			replies: []reply{serverError(500)},
			opts:    Options{Retries: 5, MaxWait: 3 * time.Second},
			want:    500, wantErr: new(*github.ErrorResponse),
			waits: []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}, requests: 6,
		},
		{name: "no retries", replies: []reply{serverError(500), ok200}, opts: Options{Retries: -1}, want: 500, wantErr: new(*github.ErrorResponse), requests: 1},
		{
			name:    "503 Retry-After",
			replies: []reply{{status: 503, header: map[string]string{"Retry-After": "5"}}, ok200},
			want:    200, waits: []time.Duration{5 * time.Second}, requests: 2,
		},
		{name: "501 is not retried", replies: []reply{serverError(501), ok200}, want: 501, wantErr: new(*github.ErrorResponse), requests: 1},
		{
			name:    "429 Retry-After",
			replies: []reply{{status: 429, header: map[string]string{"Retry-After": "7"}}, ok200},
			want:    200, waits: []time.Duration{7 * time.Second}, requests: 2,
		},
		{
			name:    "429 Retry-After as a date",
			replies: []reply{{status: 429, header: map[string]string{"Retry-After": now.Add(-time.Hour).UTC().Format(http.TimeFormat)}}, ok200},
			want:    200, waits: []time.Duration{0}, requests: 2,
		},
		{
			name:    "429 without headers backs off",
			replies: []reply{{status: 429}, {status: 429}, ok200},
			want:    200, waits: []time.Duration{time.Second, 2 * time.Second}, requests: 3,
		},
		{
			name:    "429 Retry-After too long",
			replies: []reply{{status: 429, header: map[string]string{"Retry-After": "61"}}, ok200},
			want:    429, wantErr: new(*github.ErrorResponse), requests: 1,
		},
		{
			name:    "403 Retry-After",
			replies: []reply{{status: 403, body: secondaryMsg, header: map[string]string{"Retry-After": "3"}}, ok200},
			want:    200, waits: []time.Duration{3 * time.Second}, requests: 2,
		},
		{
			name:    "403 secondary limit without headers",
			replies: []reply{{status: 403, body: secondaryMsg}, ok200},
			want:    200, waits: []time.Duration{time.Minute}, requests: 2,
		},
		{
			name:    "403 secondary limit longer than MaxWait",
			replies: []reply{{status: 403, body: secondaryMsg}, ok200},
			opts:    Options{MaxWait: 10 * time.Second},
			want:    403, wantErr: new(*github.AbuseRateLimitError), requests: 1,
		},
		{
			name:    "403 primary limit reset in the past",
			replies: []reply{primaryLimit(now.Add(-time.Minute)), ok200},
			want:    200, waits: []time.Duration{resetBuffer}, requests: 2,
		},
		{
			name:    "403 primary limit reset in the near future",
			replies: []reply{primaryLimit(now.Add(20 * time.Second)), ok200},
			want:    200, waits: []time.Duration{21 * time.Second}, tolerance: 2 * time.Second, requests: 2,
		},
		{
			name:    "403 primary limit reset too far",
			replies: []reply{primaryLimit(now.Add(time.Hour)), ok200},
			want:    403, wantErr: new(*github.RateLimitError), requests: 1,
		},
		{
			name:    "403 remaining 0 without a reset",
			replies: []reply{{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0"}}, ok200},
			want:    403, wantErr: new(*github.RateLimitError), requests: 1,
		},
		{name: "plain 403 is not retried", replies: []reply{forbidden, ok200}, want: 403, wantErr: new(*github.ErrorResponse), requests: 1},
		{name: "404 is not retried", replies: []reply{{status: 404, body: `{"message":"Not Found"}`}, ok200}, want: 404, wantErr: new(*github.ErrorResponse), requests: 1},
		{name: "422 is not retried", replies: []reply{{status: 422, body: `{"message":"Validation Failed"}`}, ok200}, want: 422, wantErr: new(*github.ErrorResponse), requests: 1},
		{
			name:    "rate limit waits count as retries",
			replies: []reply{{status: 429, header: map[string]string{"Retry-After": "1"}}},
			opts:    Options{Retries: 2},
			want:    429, wantErr: new(*github.ErrorResponse), waits: []time.Duration{time.Second, time.Second}, requests: 3,
		},
		{
			name:    "negative MaxWait never waits for a limit",
			replies: []reply{{status: 429, header: map[string]string{"Retry-After": "1"}}, ok200},
			opts:    Options{MaxWait: -1},
			want:    429, wantErr: new(*github.ErrorResponse), requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, tt.replies...)
			var s sleeper
			var logs syncBuffer
			opts := tt.opts
			opts.BaseURL, opts.Token, opts.UserAgent = api.URL, token, "mlguard/test"
			opts.Sleep = s.sleep
			opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			c, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = c.Issues.CreateComment(t.Context(), "o", "r", 1, &github.IssueComment{Body: github.Ptr("hello")})

			got := 200
			if err != nil {
				got = StatusCode(err)
			}
			if got != tt.want {
				t.Errorf("status %d (err %v), want %d", got, err, tt.want)
			}
			if tt.wantErr != nil && !errors.As(err, tt.wantErr) {
				t.Errorf("error %T (%v), want %T", err, err, tt.wantErr)
			}
			approx := cmp.Comparer(func(a, b time.Duration) bool { return (a - b).Abs() <= tt.tolerance })
			if diff := cmp.Diff(tt.waits, s.waits, approx); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			seen := api.seen()
			if len(seen) != tt.requests {
				t.Errorf("%d requests, want %d", len(seen), tt.requests)
			}
			for i, r := range seen {
				want := request{
					Method: "POST", Path: "/repos/o/r/issues/1/comments", Body: `{"body":"hello"}` + "\n",
					Header: http.Header{
						"Authorization":        {"Bearer " + token},
						"X-Github-Api-Version": {APIVersion},
						"User-Agent":           {"mlguard/test"},
						"Accept":               {"application/vnd.github.v3+json"},
						"Content-Type":         {"application/json"},
					},
				}
				r.Header = onlyKeys(r.Header, want.Header)
				if diff := cmp.Diff(want, r); diff != "" {
					t.Errorf("request %d (-want +got):\n%s", i, diff)
				}
			}
			log := logs.String()
			if strings.Contains(log, token) {
				t.Errorf("the token is in the log:\n%s", log)
			}
			if n := strings.Count(log, "waiting before retrying"); n != len(tt.waits) {
				t.Errorf("%d waits logged, want %d:\n%s", n, len(tt.waits), log)
			}
		})
	}
}

func onlyKeys(h, keys http.Header) http.Header {
	out := http.Header{}
	for k := range keys {
		if v, ok := h[k]; ok {
			out[k] = v
		}
	}
	return out
}

// TestCancelDuringWait uses the real sleep: a cancelled context ends a long
// wait at once.
func TestCancelDuringWait(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, reply{status: 429, header: map[string]string{"Retry-After": "50"}}, ok200)
	c, err := New(Options{BaseURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = c.Repositories.Get(ctx, "o", "r")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("returned after %v", d)
	}
	if n := len(api.seen()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestWithoutServerErrorRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replies  []reply
		want     int
		requests int
	}{
		{"5xx is not retried", []reply{serverError(502), ok200}, 502, 1},
		{"rate limit still is", []reply{{status: 429, header: map[string]string{"Retry-After": "1"}}, ok200}, 200, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, tt.replies...)
			var s sleeper
			c, err := New(Options{BaseURL: api.URL, Sleep: s.sleep})
			if err != nil {
				t.Fatal(err)
			}
			ctx := WithoutServerErrorRetries(t.Context())
			_, _, err = c.Issues.CreateComment(ctx, "o", "r", 1, &github.IssueComment{Body: github.Ptr("x")})
			got := 200
			if err != nil {
				got = StatusCode(err)
			}
			if got != tt.want || len(api.seen()) != tt.requests {
				t.Errorf("status %d after %d requests, want %d after %d (err %v)", got, len(api.seen()), tt.want, tt.requests, err)
			}
		})
	}
}

// TestAttemptTimeout checks that HTTPClient.Timeout bounds each attempt and
// not the waits between them.
func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	c, err := New(Options{BaseURL: slow.URL, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Repositories.Get(t.Context(), "o", "r"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow server: err = %v, want a deadline", err)
	}

	api := newFakeAPI(t, serverError(502), ok200)
	waited := func(ctx context.Context, d time.Duration) error {
		time.Sleep(150 * time.Millisecond)
		return ctx.Err()
	}
	c, err = New(Options{BaseURL: api.URL, HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}, Sleep: waited})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Repositories.Get(t.Context(), "o", "r"); err != nil {
		t.Errorf("a wait longer than the timeout: %v", err)
	}
}

func TestEnterpriseBaseURL(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, reply{status: 200, body: `{"full_name":"o/r"}`})
	c, err := New(Options{BaseURL: api.URL + "/api/v3", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	repo, _, err := c.Repositories.Get(t.Context(), "o", "r")
	if err != nil {
		t.Fatal(err)
	}
	if repo.GetFullName() != "o/r" {
		t.Errorf("repo %v", repo)
	}
	seen := api.seen()
	if len(seen) != 1 || seen[0].Path != "/api/v3/repos/o/r" || seen[0].Header.Get("X-GitHub-Api-Version") != APIVersion {
		t.Errorf("requests %+v", seen)
	}
}

func TestAPIURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, base, upload string
		err              bool
	}{
		{in: "", base: "https://api.github.com/", upload: "https://uploads.github.com/"},
		{in: "https://api.github.com", base: "https://api.github.com/", upload: "https://uploads.github.com/"},
		{in: "https://ghe.example/api/v3", base: "https://ghe.example/api/v3/", upload: "https://ghe.example/api/uploads/"},
		{in: "https://ghe.example/api/v3/", base: "https://ghe.example/api/v3/", upload: "https://ghe.example/api/uploads/"},
		{in: "http://127.0.0.1:8080/prefix/api/v3?x=y#f", base: "http://127.0.0.1:8080/prefix/api/v3/", upload: "http://127.0.0.1:8080/prefix/api/uploads/"},
		{in: "https://ghe.example/custom", base: "https://ghe.example/custom/", upload: "https://uploads.github.com/"},
		{in: "ftp://ghe.example/", err: true},
		{in: "https://user:pw@ghe.example/api/v3", err: true},
		{in: "api.github.com", err: true},
		{in: "https://ghe.example/%zz", err: true},
	}
	for _, tt := range tests {
		base, upload, err := apiURLs(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("apiURLs(%q) = %v, %v; want an error", tt.in, base, upload)
			} else if strings.Contains(err.Error(), "pw") {
				t.Errorf("apiURLs(%q): the error shows the password: %v", tt.in, err)
			}
			continue
		}
		if err != nil || base.String() != tt.base || upload.String() != tt.upload {
			t.Errorf("apiURLs(%q) = %v, %v, %v; want %s, %s", tt.in, base, upload, err, tt.base, tt.upload)
		}
	}
}

func TestStatusCode(t *testing.T) {
	t.Parallel()
	resp := func(code int) *http.Response {
		return &http.Response{StatusCode: code, Request: &http.Request{Method: "GET", URL: &url.URL{Path: "/x"}}}
	}
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), 0},
		{&github.ErrorResponse{Response: resp(404)}, 404},
		{fmt.Errorf("doing X: %w", &github.ErrorResponse{Response: resp(422)}), 422},
		{&github.ErrorResponse{}, 0},
		{&github.RateLimitError{Response: resp(403)}, 403},
		{fmt.Errorf("doing X: %w", &github.AbuseRateLimitError{Response: resp(429)}), 429},
		{&github.TwoFactorAuthError{Response: resp(401)}, 401},
		{&github.RedirectionError{Response: resp(301), StatusCode: 301}, 301},
	}
	for _, tt := range tests {
		if got := StatusCode(tt.err); got != tt.want {
			t.Errorf("StatusCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL.String() != DefaultBaseURL || c.UserAgent != DefaultUserAgent || !c.DisableRateLimitCheck {
		t.Errorf("client %v %q %v", c.BaseURL, c.UserAgent, c.DisableRateLimitCheck)
	}
	tr, ok := c.Client().Transport.(*transport)
	if !ok {
		t.Fatalf("transport %T", c.Client().Transport)
	}
	if tr.timeout != DefaultTimeout || tr.maxWait != DefaultMaxWait || tr.retries != DefaultRetries || c.Client().Timeout != 0 {
		t.Errorf("transport %+v, client timeout %v", tr, c.Client().Timeout)
	}
}

// TestBodyWithoutGetBody checks that a request whose body cannot be replayed
// is sent once.
func TestBodyWithoutGetBody(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, serverError(502), ok200)
	var s sleeper
	c, err := New(Options{BaseURL: api.URL, Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), "POST", api.URL+"/x", io.NopCloser(strings.NewReader("once")))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 502 || len(api.seen()) != 1 {
		t.Errorf("status %d after %d requests", resp.StatusCode, len(api.seen()))
	}
}

// TestTokenOnlyToTheAPI checks that the token goes to the API's host and
// nowhere a redirect points: go-github's WithAuthToken sets it in the
// transport, under net/http's redirect handling, which strips it on a
// cross-host redirect only for headers set before the client sees the request.
func TestTokenOnlyToTheAPI(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"full_name":"o/r"}`)
	}))
	t.Cleanup(other.Close)
	api := newFakeAPI(t, reply{status: 302, header: map[string]string{"Location": other.URL + "/stolen"}})
	c, err := New(Options{BaseURL: api.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _ = c.Repositories.Get(t.Context(), "o", "r")
	if seen := api.seen(); len(seen) != 1 || seen[0].Header.Get("Authorization") != "Bearer "+token {
		t.Errorf("the API was not sent the token: %+v", seen)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhere) != 1 || elsewhere[0] != "" {
		t.Errorf("requests redirected to another host carried %q", elsewhere)
	}
}
