// Package githubapi builds the GitHub REST client that every mlguard command
// uses: authenticated with a token, pointed at github.com or a GitHub
// Enterprise Server, and patient, within bounds, with rate limits and
// transient server errors.
//
// The waiting and retrying happen in an http.RoundTripper under go-github, so
// that one place decides: go-github's own client-side rate-limit bookkeeping
// is turned off, and what the transport finally returns is what go-github
// turns into *github.ErrorResponse, *github.RateLimitError or
// *github.AbuseRateLimitError.
package githubapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v82/github"
)

// Defaults for the zero values of Options.
const (
	DefaultBaseURL   = "https://api.github.com/"
	DefaultTimeout   = 30 * time.Second
	DefaultMaxWait   = 60 * time.Second
	DefaultRetries   = 3
	DefaultUserAgent = "mlguard"
)

// APIVersion is the REST API version every request asks for, in the
// X-GitHub-Api-Version header (go-github sets it on every request it builds).
const APIVersion = "2022-11-28"

// Options configure New. The zero value talks to api.github.com without a token.
type Options struct {
	// BaseURL is the REST API root, as GITHUB_API_URL gives it:
	// https://api.github.com or, on GitHub Enterprise Server,
	// https://HOST/api/v3. "" means DefaultBaseURL. A trailing slash is added
	// when missing, and nothing else is: the URL is used as given.
	BaseURL string
	// Token is sent as "Authorization: Bearer TOKEN" to the API's own origin
	// (scheme, host and port of BaseURL and of the upload URL), never to a
	// host a redirect leads to. It is never logged.
	Token string
	// HTTPClient is copied, not changed; its Transport (nil: the default
	// transport) does the requests, and its Timeout (0: none) bounds each
	// attempt rather than the whole call with its waits. nil means a client
	// whose attempts time out after DefaultTimeout.
	HTTPClient *http.Client
	// MaxWait is the longest single wait honoured for a rate limit or a
	// Retry-After header; a limit that resets later is returned at once as
	// an error. It also caps the backoff between server-error retries. 0
	// means DefaultMaxWait; a negative value means never wait.
	MaxWait time.Duration
	// Retries is the number of attempts after the first for server errors
	// (500, 502, 503, 504), 429 and rate-limited 403 responses. 0 means
	// DefaultRetries; a negative value means none.
	Retries int
	// Logger receives one Info record per wait. nil means discard.
	Logger *slog.Logger
	// UserAgent is sent with every request, e.g. "mlguard/0.1.0". ""
	// means DefaultUserAgent.
	UserAgent string
	// Sleep waits d or until ctx is done, whichever comes first, and returns
	// ctx.Err() in the second case. nil means a timer; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// New returns a go-github client configured by opts. It makes no request.
func New(opts Options) (*github.Client, error) {
	base, upload, err := apiURLs(opts.BaseURL)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{}
	timeout := DefaultTimeout
	var next http.RoundTripper
	if opts.HTTPClient != nil {
		hc.CheckRedirect = opts.HTTPClient.CheckRedirect
		hc.Jar = opts.HTTPClient.Jar
		timeout = opts.HTTPClient.Timeout
		next = opts.HTTPClient.Transport
	}
	if next == nil {
		next = http.DefaultTransport
	}
	t := &transport{
		next:    next,
		timeout: timeout,
		maxWait: opts.MaxWait,
		retries: opts.Retries,
		logger:  opts.Logger,
		sleep:   opts.Sleep,
		now:     time.Now,
		token:   opts.Token,
		origins: []string{origin(base), origin(upload)},
	}
	switch {
	case t.maxWait == 0:
		t.maxWait = DefaultMaxWait
	case t.maxWait < 0:
		t.maxWait = 0
	}
	switch {
	case t.retries == 0:
		t.retries = DefaultRetries
	case t.retries < 0:
		t.retries = 0
	}
	if t.logger == nil {
		t.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if t.sleep == nil {
		t.sleep = sleep
	}
	hc.Transport = t

	// Not WithAuthToken: it sets the header on every request its transport
	// sees, a redirect to another host included.
	c := github.NewClient(hc)
	c.BaseURL, c.UploadURL = base, upload
	c.UserAgent = DefaultUserAgent
	if opts.UserAgent != "" {
		c.UserAgent = opts.UserAgent
	}
	c.DisableRateLimitCheck = true
	return c, nil
}

// apiURLs parses the REST API root and derives the upload root from it
// (https://HOST/api/uploads/ for a GitHub Enterprise Server).
func apiURLs(raw string) (base, upload *url.URL, err error) {
	if raw == "" {
		raw = DefaultBaseURL
	}
	base, err = url.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing GitHub API URL: %w", err)
	}
	if (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.User != nil {
		return nil, nil, fmt.Errorf("parsing GitHub API URL %q: want http(s)://HOST[/PATH] without credentials", base.Redacted())
	}
	base.RawQuery, base.Fragment = "", ""
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		if base.RawPath != "" {
			base.RawPath += "/"
		}
	}
	upload, _ = url.Parse("https://uploads.github.com/")
	if prefix, ok := strings.CutSuffix(base.Path, "/api/v3/"); ok {
		u := *base
		u.Path, u.RawPath = prefix+"/api/uploads/", ""
		upload = &u
	}
	return base, upload, nil
}

// origin is "scheme://host[:port]" of u, lower-cased.
func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// StatusCode returns the HTTP status behind an error from go-github (an
// *github.ErrorResponse, *github.RateLimitError, *github.AbuseRateLimitError,
// *github.TwoFactorAuthError or *github.RedirectionError, also when wrapped),
// and 0 for any other error or nil.
func StatusCode(err error) int {
	var (
		er  *github.ErrorResponse
		rl  *github.RateLimitError
		ab  *github.AbuseRateLimitError
		tfa *github.TwoFactorAuthError
		rd  *github.RedirectionError
	)
	var resp *http.Response
	switch {
	case err == nil:
		return 0
	case errors.As(err, &er):
		resp = er.Response
	case errors.As(err, &rl):
		resp = rl.Response
	case errors.As(err, &ab):
		resp = ab.Response
	case errors.As(err, &tfa):
		resp = tfa.Response
	case errors.As(err, &rd):
		return rd.StatusCode
	}
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}
