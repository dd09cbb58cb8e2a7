package httpx_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/registry/httpx"
)

// step is one canned answer; the server plays them in order, repeating the last.
type step struct {
	code       int
	retryAfter string
	body       string
	hang       bool // block until the client gives up
}

func TestGetJSON(t *testing.T) {
	t.Parallel()
	type out struct {
		Name string `json:"name"`
	}
	tests := []struct {
		name     string
		steps    []step
		opts     []httpx.Option
		want     out
		wantErr  error  // errors.Is target, when set
		wantText string // substring of the error, when set
		calls    int32
		sleeps   []time.Duration // nil: no check of values, only the count
		nsleeps  int
	}{
		{name: "ok", steps: []step{{code: 200, body: `{"name":"x"}`}}, want: out{"x"}, calls: 1},
		{name: "500 then success", steps: []step{{code: 500}, {code: 200, body: `{"name":"x"}`}}, want: out{"x"}, calls: 2, nsleeps: 1},
		{name: "503 exhausted", steps: []step{{code: 503, body: "down"}}, wantText: "HTTP 503: down", calls: 4, nsleeps: 3},
		{name: "429 honours Retry-After", steps: []step{{code: 429, retryAfter: "7"}, {code: 200, body: `{"name":"y"}`}}, want: out{"y"}, calls: 2, sleeps: []time.Duration{7 * time.Second}, nsleeps: 1},
		{name: "429 beyond max wait", steps: []step{{code: 429, retryAfter: "120"}}, wantText: "more than 30s", calls: 1},
		{name: "429 retries exhausted", steps: []step{{code: 429, retryAfter: "1"}}, opts: []httpx.Option{httpx.WithRetries(1)}, wantText: "HTTP 429", calls: 2, sleeps: []time.Duration{time.Second}, nsleeps: 1},
		{name: "404 is ErrNotFound, no retry", steps: []step{{code: 404}}, wantErr: httpx.ErrNotFound, calls: 1},
		{name: "403 is not retried", steps: []step{{code: 403}}, wantText: "HTTP 403", calls: 1},
		{name: "malformed JSON", steps: []step{{code: 200, body: `{"name":`}}, wantText: "decoding", calls: 1},
		{name: "oversized body", steps: []step{{code: 200, body: `{"name":"` + strings.Repeat("a", 100) + `"}`}}, opts: []httpx.Option{httpx.WithMaxBody(64)}, wantErr: httpx.ErrTooLarge, calls: 1},
		{name: "timeout", steps: []step{{hang: true}}, opts: []httpx.Option{httpx.WithTimeout(20 * time.Millisecond), httpx.WithRetries(1)}, wantErr: context.DeadlineExceeded, calls: 2, nsleeps: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1)) - 1
				s := tt.steps[min(n, len(tt.steps)-1)]
				if got := r.Header.Get("User-Agent"); got != "mlguard/test" {
					t.Errorf("User-Agent = %q", got)
				}
				if s.hang {
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
					return
				}
				if s.retryAfter != "" {
					w.Header().Set("Retry-After", s.retryAfter)
				}
				w.WriteHeader(s.code)
				_, _ = w.Write([]byte(s.body))
			}))
			defer srv.Close()
			var mu sync.Mutex
			var slept []time.Duration
			opts := append([]httpx.Option{
				httpx.WithUserAgent("mlguard/test"),
				httpx.WithSleep(func(_ context.Context, d time.Duration) error {
					mu.Lock()
					slept = append(slept, d)
					mu.Unlock()
					return nil
				}),
			}, tt.opts...)
			c, err := httpx.New(srv.URL+"/", srv.Client(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			var got out
			err = c.GetJSON(t.Context(), "/thing", &got)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
			case tt.wantText != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("err = %v, want it to contain %q", err, tt.wantText)
				}
			case err != nil:
				t.Fatalf("GetJSON: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
			if got := calls.Load(); got != tt.calls {
				t.Errorf("server saw %d requests, want %d", got, tt.calls)
			}
			if len(slept) != tt.nsleeps {
				t.Errorf("slept %v, want %d waits", slept, tt.nsleeps)
			}
			if tt.sleeps != nil {
				if diff := cmp.Diff(tt.sleeps, slept); diff != "" {
					t.Errorf("waits (-want +got):\n%s", diff)
				}
			}
			for _, d := range slept {
				if d <= 0 || d > httpx.DefaultMaxWait {
					t.Errorf("wait %s out of (0, %s]", d, httpx.DefaultMaxWait)
				}
			}
		})
	}
}

func TestPostJSON(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		var b strings.Builder
		buf := make([]byte, 512)
		n, _ := r.Body.Read(buf)
		b.Write(buf[:n])
		_, _ = w.Write([]byte(`{"echo":` + b.String() + `}`))
	}))
	defer srv.Close()
	c, err := httpx.New(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Echo map[string]int `json:"echo"`
	}
	if err := c.PostJSON(t.Context(), "/q", map[string]int{"a": 1}, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"a": 1}, got.Echo); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := httpx.New(srv.URL, srv.Client(), httpx.WithBackoff(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Get(ctx, "/x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s after the context ended", d)
	}
}

func TestNewRejectsBadBase(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "pypi.org", "ftp://x", "http://"} {
		if _, err := httpx.New(base, nil); err == nil {
			t.Errorf("New(%q) succeeded", base)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"99999999999", 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := httpx.RetryAfter(tt.in, now); got != tt.want {
			t.Errorf("RetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// The start of an error body lands in a one-line message: no terminal
// escapes, no line breaks, no broken UTF-8.
func TestErrorBodyIsPlainText(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("\x1b[31mdenied\x1b[0m\r\n\tby  policy \xff!" + strings.Repeat("é", 150)))
	}))
	defer srv.Close()
	c, err := httpx.New(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(t.Context(), "/x")
	var se *httpx.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a StatusError", err)
	}
	want := "[31mdenied[0m by policy !" + strings.Repeat("é", 84) // 200 bytes end inside an é: dropped
	if diff := cmp.Diff(want, se.Body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestDefaultUserAgent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Header.Get("User-Agent")))
	}))
	defer srv.Close()
	c, err := httpx.New(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Get(t.Context(), "/")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != httpx.DefaultUserAgent || !strings.Contains(got, "https://github.com/mlguard/mlguard") {
		t.Errorf("User-Agent = %q, want one naming mlguard and where to reach it", got)
	}
}

// WithMinInterval spaces attempts, retries included; the waits go through
// the same sleep as the backoff.
func TestMinInterval(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	var mu sync.Mutex
	var slept []time.Duration
	c, err := httpx.New(srv.URL, srv.Client(),
		httpx.WithMinInterval(time.Hour), httpx.WithBackoff(time.Millisecond), httpx.WithMaxWait(2*time.Hour),
		httpx.WithSleep(func(_ context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			slept = append(slept, d)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.Get(t.Context(), "/x"); err != nil {
			t.Fatal(err)
		}
	}
	// Three attempts: the first at once; the retry after its backoff and
	// the rest of the hour; the second request an hour after that.
	if len(slept) != 3 || slept[0] > 2*time.Millisecond || slept[1] < 59*time.Minute || slept[2] < 59*time.Minute {
		t.Errorf("waits %v, want a short backoff then two of about an hour", slept)
	}
}

// A decoding error quotes the body's bad value: the decoder's message
// carries it raw, so the error text must be cleaned of control characters.
func TestGetJSONDecodeErrorIsPlain(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("{\"Time\":\"\x7f\x7f[31mred\"}")) // DEL may stand raw in a JSON string
	}))
	defer srv.Close()
	c, err := httpx.New(srv.URL+"/", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Time time.Time }
	err = c.GetJSON(t.Context(), "/info", &v)
	var de *httpx.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a *httpx.DecodeError", err)
	}
	var pe *time.ParseError
	if !errors.As(err, &pe) {
		t.Errorf("err = %v does not unwrap to the *time.ParseError", err)
	}
	if msg := err.Error(); strings.ContainsFunc(msg, unicode.IsControl) || !strings.Contains(msg, "[31mred") {
		t.Errorf("error text %q: want the bad value without its control characters", msg)
	}
}
