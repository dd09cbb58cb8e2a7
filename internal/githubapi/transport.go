package githubapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"
)

const (
	// backoffBase is the first wait after a server error; it doubles with
	// each retry, capped by MaxWait.
	backoffBase = time.Second
	// secondaryWait is how long GitHub asks clients to wait after a
	// secondary rate limit that names no time ("at least one minute").
	secondaryWait = time.Minute
	// resetBuffer is added to a primary rate limit's reset time, for clock
	// skew between GitHub and the runner.
	resetBuffer = time.Second
	// maxPeek bounds what is read of a 403 body to tell a secondary rate
	// limit from a permission error, and what is drained of a response
	// before it is retried.
	maxPeek = 64 << 10
)

type noServerErrorRetries struct{}

// WithoutServerErrorRetries returns a context whose requests are not retried
// after a server error (5xx), though still after a rate limit. A request
// that met a 5xx may have been carried out all the same, so a request that
// must not happen twice (creating a comment) uses it; a rate-limited request
// was refused, and is safe to repeat.
func WithoutServerErrorRetries(ctx context.Context) context.Context {
	return context.WithValue(ctx, noServerErrorRetries{}, true)
}

// transport retries requests that met a server error or a rate limit,
// waiting in between, and bounds each attempt by a timeout.
type transport struct {
	next    http.RoundTripper
	timeout time.Duration // per attempt; 0 = none
	maxWait time.Duration
	retries int
	logger  *slog.Logger
	sleep   func(context.Context, time.Duration) error
	now     func() time.Time
	token   string   // "" sends no Authorization header
	origins []string // where the token may go: origin() of the API and upload URLs
}

// RoundTrip sends req, and sends it again (its body replayed through
// GetBody) after a retryable response, as long as attempts are left and the
// wait is within maxWait. Otherwise the last response is returned as it came.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.send(r)
		if err != nil || !replayable || attempt >= t.retries {
			return resp, err
		}
		wait, reason, ok := t.delay(resp, attempt)
		if !ok {
			return resp, nil
		}
		if reason == reasonServerError && ctx.Value(noServerErrorRetries{}) != nil {
			return resp, nil
		}
		attrs := []any{"method", req.Method, "path", req.URL.Path, "status", resp.StatusCode, "reason", reason, "wait", wait}
		if wait > t.maxWait {
			t.logger.Info("GitHub API: not waiting, the wait is longer than allowed", append(attrs, "max_wait", t.maxWait)...)
			return resp, nil
		}
		t.logger.Info("GitHub API: waiting before retrying", append(attrs, "retry", attempt+1, "of", t.retries)...)
		drain(resp)
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// send does one attempt, bounded by the timeout until its body is closed,
// with the token when the request goes to the API's origin.
func (t *transport) send(req *http.Request) (*http.Response, error) {
	if t.token != "" && slices.Contains(t.origins, origin(req.URL)) {
		req = req.Clone(req.Context()) // a RoundTripper must not change the request
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	if t.timeout <= 0 {
		return t.next.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// Reasons for a wait, as logged.
const (
	reasonServerError = "server error"
	reasonPrimary     = "primary rate limit"
	reasonSecondary   = "secondary rate limit"
)

// delay says whether resp is worth a retry, after how long and why:
//
//   - 500, 502, 503, 504: after Retry-After when given, else after an
//     exponential backoff capped by maxWait;
//   - 429 or 403 with Retry-After: after that (a secondary rate limit);
//   - 429 or 403 with X-RateLimit-Remaining: 0: once X-RateLimit-Reset is
//     past (the primary rate limit);
//   - any other 429: after the backoff;
//   - any other 403 only when its body says it is a secondary rate limit:
//     after a minute, as GitHub asks. A plain 403 is a permission error and
//     is never retried.
func (t *transport) delay(resp *http.Response, attempt int) (time.Duration, string, bool) {
	h := resp.Header
	switch code := resp.StatusCode; code {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if d, ok := t.retryAfter(h); ok {
			return d, reasonServerError, true
		}
		return t.backoff(attempt), reasonServerError, true
	case http.StatusTooManyRequests, http.StatusForbidden:
		if d, ok := t.retryAfter(h); ok {
			return d, reasonSecondary, true
		}
		if h.Get("X-RateLimit-Remaining") == "0" {
			reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
			if err != nil {
				return 0, "", false
			}
			return max(time.Unix(reset, 0).Sub(t.now()), 0) + resetBuffer, reasonPrimary, true
		}
		if code == http.StatusTooManyRequests {
			return t.backoff(attempt), reasonSecondary, true
		}
		if secondaryLimit(resp) {
			return secondaryWait, reasonSecondary, true
		}
	}
	return 0, "", false
}

// backoff is 1 s, 2 s, 4 s, ... capped by maxWait.
func (t *transport) backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt, 20)
	return min(d, t.maxWait)
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date.
func (t *transport) retryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(max(min(s, 1<<31), 0)) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(t.now()), 0), true
	}
	return 0, false
}

// secondaryLimit reports whether a 403 without rate-limit headers is a
// secondary rate limit, by its message. It reads at most maxPeek bytes of
// the body and puts them back.
func secondaryLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	peek, err := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peek), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	return bytes.Contains(bytes.ToLower(peek), []byte("secondary rate limit"))
}

// drain reads a little of a response about to be retried, so that the
// connection can be reused, and closes it.
func drain(resp *http.Response) {
	if resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxPeek))
	_ = resp.Body.Close()
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
