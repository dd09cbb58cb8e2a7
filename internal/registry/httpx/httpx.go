// Package httpx is the HTTP layer every registry client shares: a base URL,
// a per-request timeout, bounded retries with backoff on 5xx and 429
// (honouring Retry-After), optional spacing of requests, a cap on response
// bodies, JSON decoding, a User-Agent that names mlguard and where to reach
// it (crates.io refuses requests without one), and a typed ErrNotFound for
// 404.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Defaults; each can be changed with an Option.
const (
	DefaultTimeout    = 30 * time.Second
	DefaultRetries    = 3 // retries after the first attempt
	DefaultBackoff    = 500 * time.Millisecond
	DefaultMaxWait    = 30 * time.Second // the longest single wait, Retry-After included
	DefaultMaxBody    = 32 << 20         // 32 MiB
	DefaultUserAgent  = "mlguard (+https://github.com/mlguard/mlguard)"
	drainLimit        = 64 << 10
	maxErrorBodyQuote = 200
)

// ErrNotFound is returned (wrapped) when the registry answers 404 or 410:
// the package, version or advisory does not exist there.
var ErrNotFound = errors.New("not found")

// ErrTooLarge is returned (wrapped) when a response body exceeds the cap.
var ErrTooLarge = errors.New("response body too large")

// StatusError is an unexpected HTTP status, after any retries.
type StatusError struct {
	Method, URL string
	Code        int
	Body        string // the start of the body, for messages
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.URL, e.Code)
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Client is a registry's HTTP endpoint. It is safe for concurrent use.
type Client struct {
	base      string // scheme://host[/prefix], no trailing slash
	hc        *http.Client
	timeout   time.Duration
	retries   int
	backoff   time.Duration
	maxWait   time.Duration
	maxBody   int64
	userAgent string
	sleep     func(context.Context, time.Duration) error
	interval  time.Duration // the least time between the starts of two attempts

	mu   sync.Mutex
	next time.Time // when the next attempt may start, with interval > 0
}

// Option changes a Client's defaults.
type Option func(*Client)

// WithTimeout bounds each attempt (connect, headers and body).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetries sets how many times a 5xx, 429 or network error is retried.
func WithRetries(n int) Option { return func(c *Client) { c.retries = max(n, 0) } }

// WithBackoff sets the first backoff; it doubles on each retry, with jitter.
func WithBackoff(d time.Duration) Option { return func(c *Client) { c.backoff = d } }

// WithMaxWait bounds a single wait between attempts. A Retry-After longer
// than this ends the retries with an error rather than blocking CI.
func WithMaxWait(d time.Duration) Option { return func(c *Client) { c.maxWait = d } }

// WithMaxBody caps response bodies; a longer body is ErrTooLarge.
func WithMaxBody(n int64) Option { return func(c *Client) { c.maxBody = n } }

// WithUserAgent sets the User-Agent, e.g. "mlguard/0.1.0".
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithMinInterval spaces the attempts (retries included) at least d apart,
// for registries that ask clients to keep to a request rate. Zero, the
// default, does not space them.
func WithMinInterval(d time.Duration) Option {
	return func(c *Client) { c.interval = max(d, 0) }
}

// WithSleep replaces the wait between attempts (tests record or skip it).
func WithSleep(f func(context.Context, time.Duration) error) Option {
	return func(c *Client) { c.sleep = f }
}

// New returns a client for base (e.g. "https://pypi.org" or a mirror such as
// "https://artifactory.example/api/pypi/pypi-remote"). A nil hc means
// http.DefaultClient.
func New(base string, hc *http.Client, opts ...Option) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("parsing base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: want http(s)://host[/path]", base)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	c := &Client{
		base:      strings.TrimRight(base, "/"),
		hc:        hc,
		timeout:   DefaultTimeout,
		retries:   DefaultRetries,
		backoff:   DefaultBackoff,
		maxWait:   DefaultMaxWait,
		maxBody:   DefaultMaxBody,
		userAgent: DefaultUserAgent,
		sleep:     Sleep,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Sleep waits d or until ctx is done; it is the default wait.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Base is the base URL without its trailing slash.
func (c *Client) Base() string { return c.base }

// Get fetches base+path (path already escaped, starting with "/") and
// returns the body.
func (c *Client) Get(ctx context.Context, path string) ([]byte, error) {
	return c.Do(ctx, http.MethodGet, path, nil)
}

// GetJSON fetches base+path and decodes the JSON body into v.
func (c *Client) GetJSON(ctx context.Context, path string, v any) error {
	b, err := c.Get(ctx, path)
	if err != nil {
		return err
	}
	return decode(c.base+path, b, v)
}

// PostJSON posts body as JSON to base+path and decodes the answer into v.
func (c *Client) PostJSON(ctx context.Context, path string, body, v any) error {
	in, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encoding request to %s: %w", path, err)
	}
	b, err := c.Do(ctx, http.MethodPost, path, in)
	if err != nil {
		return err
	}
	return decode(c.base+path, b, v)
}

func decode(u string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return &DecodeError{URL: u, Err: err}
	}
	return nil
}

// DecodeError is a body that is not the JSON expected. Its text is one
// plain line: the decoder's own messages quote parts of the body (a bad time
// string, an unexpected character) as they are, control characters included.
type DecodeError struct {
	URL string
	Err error
}

func (e *DecodeError) Error() string {
	return "decoding " + e.URL + ": " + quote([]byte(e.Err.Error()))
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Do sends one request with retries and returns the 2xx body.
func (c *Client) Do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	u := c.base + path
	if _, err := url.Parse(u); err != nil {
		return nil, fmt.Errorf("building URL: %w", err)
	}
	var last error
	for attempt := 0; ; attempt++ {
		if err := c.pace(ctx); err != nil {
			return nil, fmt.Errorf("%s %s: waiting for a turn: %w", method, u, err)
		}
		b, wait, err := c.once(ctx, method, u, body)
		if err == nil {
			return b, nil
		}
		last = err
		if wait < 0 || attempt >= c.retries || ctx.Err() != nil {
			break
		}
		if wait == 0 {
			wait = c.backoffFor(attempt)
		}
		if wait > c.maxWait {
			last = fmt.Errorf("%w (server asks to wait %s, more than %s)", err, wait, c.maxWait)
			break
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s %s: waiting to retry: %w", method, u, err)
		}
	}
	return nil, last
}

// pace waits until the client's next turn when attempts are spaced.
func (c *Client) pace(ctx context.Context) error {
	if c.interval <= 0 {
		return nil
	}
	c.mu.Lock()
	now := time.Now()
	at := c.next
	if at.Before(now) {
		at = now
	}
	c.next = at.Add(c.interval)
	c.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		return c.sleep(ctx, d)
	}
	return ctx.Err()
}

// backoffFor is backoff·2^attempt with ±25% jitter, capped at maxWait.
func (c *Client) backoffFor(attempt int) time.Duration {
	d := c.backoff << min(attempt, 16)
	if d <= 0 || d > c.maxWait {
		d = c.maxWait
	}
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return min(d+jitter, c.maxWait)
}

// once makes one attempt. wait < 0: do not retry; wait == 0: retry after the
// usual backoff; wait > 0: retry after wait (Retry-After).
func (c *Client) once(ctx context.Context, method, u string, body []byte) (_ []byte, wait time.Duration, _ error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, -1, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		b, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
		if err != nil {
			return nil, 0, fmt.Errorf("%s %s: reading body: %w", method, u, err)
		}
		if int64(len(b)) > c.maxBody {
			return nil, -1, fmt.Errorf("%s %s: %w (over %d bytes)", method, u, ErrTooLarge, c.maxBody)
		}
		return b, 0, nil
	case code == http.StatusNotFound || code == http.StatusGone:
		drain(resp.Body)
		return nil, -1, fmt.Errorf("%s %s: %w", method, u, ErrNotFound)
	default:
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyQuote))
		drain(resp.Body)
		serr := &StatusError{Method: method, URL: u, Code: code, Body: quote(snippet)}
		if code == http.StatusTooManyRequests || code >= 500 {
			return nil, RetryAfter(resp.Header.Get("Retry-After"), time.Now()), serr
		}
		return nil, -1, serr
	}
}

// quote makes the start of an error body fit for a one-line message: valid
// UTF-8, runs of white space as one space, other control characters (a
// terminal's escape sequences) dropped.
func quote(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, drainLimit)) }

// RetryAfter parses a Retry-After header (delay-seconds or an HTTP date);
// 0 when absent or unparsable.
func RetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
