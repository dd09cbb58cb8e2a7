package ci

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseEvent feeds arbitrary payloads to the event parser: it must
// return an error or a consistent GitHub, never panic.
func FuzzParseEvent(f *testing.F) {
	f.Add(EventPullRequest, []byte(prPayload))
	f.Add(EventPush, []byte(`{"before":"`+shaA+`","after":"`+shaB+`"}`))
	f.Add(EventMergeGroup, []byte(`{"merge_group":{"head_sha":"`+shaB+`","base_sha":"`+shaA+`"}}`))
	f.Add(EventPullRequestTarget, []byte(`{"number":1,"pull_request":null}`))
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		g := &GitHub{EventName: name}
		if err := g.parseEvent(bytes.NewReader(payload)); err != nil {
			return
		}
		if pr := g.PullRequest; pr != nil && (pr.Number <= 0 || !isSHA(pr.HeadSHA) || !isSHA(pr.BaseSHA)) {
			t.Fatalf("accepted a pull request without number or commits: %+v", pr)
		}
		_ = g.HeadSHA()
		_ = g.BaseSHA()
	})
}

// FuzzGlobAndPaths compiles arbitrary globs and checks arbitrary repository
// paths: no panic, and a path accepted by checkRepoPath never leaves the
// checkout.
func FuzzGlobAndPaths(f *testing.F) {
	for _, s := range []string{"models/**/*.pt", "*.pkl", "a[!b]c?", "./x/", "[", "**", "a/../b"} {
		f.Add(s, "models/a/b.pt")
	}
	f.Fuzz(func(t *testing.T, glob, path string) {
		if flt, err := NewFilter([]string{glob}, []string{glob}); err == nil {
			if flt.Match(path) {
				t.Fatalf("%q is both included and excluded by %q, yet kept", path, glob)
			}
		}
		if checkRepoPath(path) == nil {
			for _, el := range strings.Split(path, "/") {
				if el == ".." || el == "" || el == "." {
					t.Fatalf("checkRepoPath accepted %q", path)
				}
			}
		}
		_, _ = parseNameStatus([]byte(path))
	})
}
