package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/registry"
	"github.com/mlguard/mlguard/internal/registry/httpx"
)

// FuzzBase is the base URL of the fuzz targets' clients; nothing resolves
// it, the transport answers in memory.
const FuzzBase = "http://registry.invalid"

// FuzzTimeout bounds one call of Facts in a fuzz target. A registry that
// answers at once leaves nothing to wait for, so reaching it is a hang.
const FuzzTimeout = 10 * time.Second

// Codes are the statuses a fuzz target picks from.
var Codes = [...]int{http.StatusOK, http.StatusNotFound, http.StatusTooManyRequests, http.StatusInternalServerError}

// Code picks one of Codes.
func Code(sel uint8) int { return Codes[int(sel)%len(Codes)] }

// constant answers every request, in memory, with one status and body.
type constant struct {
	code int
	body []byte
}

func (c constant) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{
		Status:        http.StatusText(c.code),
		StatusCode:    c.code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
		Request:       r,
	}, nil
}

// HTTPClient returns a client that answers every request with code and
// body, without a network.
func HTTPClient(code int, body []byte) *http.Client {
	return &http.Client{Transport: constant{code: code, body: body}}
}

// FuzzOptions are the httpx options of the fuzz targets' clients: retries
// on 429 and 5xx happen at once instead of after a backoff, no spacing of
// requests, and a per-attempt timeout well inside FuzzTimeout.
func FuzzOptions() []httpx.Option {
	return []httpx.Option{
		httpx.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }),
		httpx.WithMinInterval(0),
		httpx.WithTimeout(FuzzTimeout / 2),
	}
}

// CheckFacts fails t unless f and err, a client's answer about one package
// from a registry that answered every request with code, keep the
// invariants every client promises whatever the registry sends:
//
//   - it returned, before FuzzTimeout;
//   - an error comes without facts and reads as plain text (no control
//     characters, valid UTF-8); a 404 is httpx.ErrNotFound; a 429 or 500 on
//     every request is an error;
//   - facts come without an error, and only from a 200;
//   - known times are plausible (Plausible, in UTC), the first release is not
//     after the latest;
//   - known counts are not negative, a Scorecard is within 0-10, the
//     maintainer count matches the names, which are distinct and not empty;
//   - a yank or deprecation reason only comes with the yank or deprecation;
//   - known texts (licence, status, author) are not blank, a source
//     repository is a normalised forge URL, advisories have ids;
//   - the facts survive the JSON round trip of the cache unchanged.
func CheckFacts(t *testing.T, code int, f *registry.Facts, err error) {
	t.Helper()
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Fatalf("no answer within %s: %v", FuzzTimeout, err)
	}
	if err != nil {
		if f != nil {
			t.Errorf("facts %+v alongside the error %v", f, err)
		}
		if msg := err.Error(); !plainText(msg) {
			t.Errorf("error text is not plain: %q", msg)
		}
		if code == http.StatusNotFound && !errors.Is(err, httpx.ErrNotFound) {
			t.Errorf("HTTP 404 gave %v, want httpx.ErrNotFound", err)
		}
		return
	}
	if code != http.StatusOK {
		t.Fatalf("HTTP %d on every request gave facts %+v and no error", code, f)
	}
	if f == nil {
		t.Fatal("no facts and no error")
	}
	for name, k := range map[string]registry.Known[time.Time]{
		"FirstRelease": f.FirstRelease, "LatestRelease": f.LatestRelease, "VersionRelease": f.VersionRelease,
	} {
		if k.OK && (!registry.Plausible(k.V) || k.V.Location() != time.UTC) {
			t.Errorf("%s = %s: implausible or not UTC", name, k.V)
		}
	}
	if f.FirstRelease.OK && f.LatestRelease.OK && f.FirstRelease.V.After(f.LatestRelease.V) {
		t.Errorf("first release %s after the latest %s", f.FirstRelease.V, f.LatestRelease.V)
	}
	for name, k := range map[string]registry.Known[int64]{
		"Maintainers": widen(f.Maintainers), "Versions": widen(f.Versions), "Downloads": f.Downloads, "Likes": f.Likes,
	} {
		if k.OK && k.V < 0 {
			t.Errorf("%s = %d", name, k.V)
		}
	}
	if s, ok := f.Scorecard.Get(); ok && !(s >= 0 && s <= 10) {
		t.Errorf("Scorecard = %v, want 0-10", s)
	}
	if names, ok := f.MaintainerNames.Get(); ok {
		if n, ok := f.Maintainers.Get(); ok && n != len(names) {
			t.Errorf("%d maintainers but %d names %q", n, len(names), names)
		}
		for i, n := range names {
			if strings.TrimSpace(n) == "" || slices.Contains(names[:i], n) {
				t.Errorf("maintainer names %q: blank or repeated", names)
			}
		}
	}
	if f.YankedReason.OK && !f.Yanked.V {
		t.Errorf("yank reason %q without a yank (%+v)", f.YankedReason.V, f.Yanked)
	}
	if f.DeprecatedReason.OK && !f.Deprecated.V {
		t.Errorf("deprecation reason %q without a deprecation (%+v)", f.DeprecatedReason.V, f.Deprecated)
	}
	for name, k := range map[string]registry.Known[string]{
		"License": f.License, "DevStatus": f.DevStatus, "Author": f.Author, "SourceRepo": f.SourceRepo,
	} {
		if k.OK && (k.V == "" || strings.TrimSpace(k.V) != k.V) {
			t.Errorf("%s = %q: blank or padded", name, k.V)
		}
	}
	if r, ok := f.SourceRepo.Get(); ok && (!strings.HasPrefix(r, "https://") || registry.ForgeRepo(r) != r) {
		t.Errorf("SourceRepo = %q, not a normalised forge URL", r)
	}
	if s, ok := f.InstallScripts.Get(); ok && slices.Contains(s, "") {
		t.Errorf("InstallScripts = %q", s)
	}
	for _, a := range f.Advisories.V {
		if a.ID == "" {
			t.Errorf("advisory without an id: %+v", a)
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatalf("facts cannot be cached: %v", err)
	}
	var back registry.Facts
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("cached facts cannot be read back: %v\n%s", err, b)
	}
	if diff := cmp.Diff(*f, back, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("facts change in the cache (-fetched +cached):\n%s", diff)
	}
}

func widen(k registry.Known[int]) registry.Known[int64] {
	return registry.Known[int64]{V: int64(k.V), OK: k.OK}
}

// plainText reports whether s is valid UTF-8 without control characters.
func plainText(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

// Seed adds every file matching pattern (e.g. "testdata/*.json") and each
// extra body to f's corpus, each once per status of Codes.
func Seed(f *testing.F, pattern string, extra ...string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	bodies := make([][]byte, 0, len(files)+len(extra))
	for _, name := range files {
		if st, err := os.Stat(name); err != nil || !st.Mode().IsRegular() {
			continue // testdata/fuzz holds the fuzzer's own corpus
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	for _, s := range extra {
		bodies = append(bodies, []byte(s))
	}
	if len(bodies) == 0 {
		f.Fatalf("no seeds match %s", pattern)
	}
	for _, b := range bodies {
		for i := range Codes {
			f.Add(uint8(i), b)
		}
	}
}

// Fuzz builds a client with build (from an *http.Client that answers every
// request with code and body, and FuzzOptions), asks it about each package
// and checks every answer with CheckFacts.
func Fuzz(t *testing.T, code int, body []byte, build func(*http.Client, ...httpx.Option) (registry.Source, error), pkgs ...deps.Package) {
	t.Helper()
	src, err := build(HTTPClient(code, body), FuzzOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		ctx, cancel := context.WithTimeout(t.Context(), FuzzTimeout)
		f, err := src.Facts(ctx, p)
		cancel()
		CheckFacts(t, code, f, err)
	}
}
