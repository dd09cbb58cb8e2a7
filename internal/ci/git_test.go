package ci

import "testing"

func TestWebURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://github.com/org/repo.git":                           "https://github.com/org/repo",
		"https://x-access-token:ghs_secret@github.com/org/repo":     "https://github.com/org/repo",
		"https://oauth2:glpat-secret@gitlab.example:8443/g/s/p.git": "https://gitlab.example:8443/g/s/p",
		"git@github.com:org/repo.git":                               "https://github.com/org/repo",
		"ssh://git@github.com:22/org/repo.git":                      "https://github.com/org/repo",
		"file:///srv/git/repo.git":                                  "",
		"/srv/git/repo.git":                                         "",
		"../other":                                                  "",
		"https://github.com/":                                       "",
		"ext::sh -c touch% /tmp/pwned":                              "",
	} {
		if got := WebURL(in); got != want {
			t.Errorf("WebURL(%q) = %q, want %q", in, got, want)
		}
	}
}
