package health

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlguard/mlguard/internal/deps"
)

func TestTyposquat(t *testing.T) {
	t.Parallel()
	type result struct {
		Target string
		OK     bool
	}
	for _, tc := range []struct {
		eco, name string
		want      result
	}{
		// Real incidents and their shapes.
		{deps.PyPI, "reqeusts", result{"requests", true}},                // adjacent swap
		{deps.PyPI, "colourama", result{"colorama", true}},               // 2018 clipboard hijacker
		{deps.PyPI, "tensorfow", result{"tensorflow", true}},             // letter left out
		{deps.PyPI, "python3-dateutil", result{"python-dateutil", true}}, // 2019, prefix swapped
		{deps.PyPI, "jeIlyfish", result{"jellyfish", true}},              // 2019, capital I for l
		{deps.PyPI, "ur1lib3", result{"urllib3", true}},                  // digit for letter
		{deps.PyPI, "b0t0core", result{"botocore", true}},                // two look-alike digits
		{deps.PyPI, "hugginface-hub", result{"huggingface-hub", true}},
		{deps.PyPI, "scikitlearn", result{"scikit-learn", true}}, // separator dropped
		{deps.PyPI, "pytorch", result{"torch", true}},            // the placeholder that only errors: "did you mean torch"
		{deps.PyPI, "numpy-python", result{"numpy", true}},       // suffix added
		{deps.PyPI, "pyrequests", result{"requests", true}},      // prefix added
		{deps.NPM, "crossenv", result{"cross-env", true}},        // 2017, separator dropped
		{deps.NPM, "electorn", result{"electron", true}},         // 2017, adjacent swap
		{deps.NPM, "loadash", result{"lodash", true}},
		{deps.NPM, "jquery.js", result{"jquery", true}},
		{deps.NPM, "CROSS-ENV", result{}}, // the same name once lower-cased
		{deps.NPM, "expres", result{"express", true}},

		// Not squats.
		{deps.PyPI, "requests", result{}},
		{deps.PyPI, "Requests", result{}},
		{deps.PyPI, "urllib3", result{}},
		{deps.PyPI, "boto3", result{}},
		{deps.PyPI, "boto", result{}},
		{deps.PyPI, "numpy", result{}},
		{deps.PyPI, "python_dateutil", result{}}, // PEP 503 makes it python-dateutil itself
		{deps.PyPI, "Python.Dateutil", result{}},
		{deps.PyPI, "pytorch-nightly", result{}}, // a channel name, not one typo from a popular name
		{deps.PyPI, "torchtriton", result{}},     // the 2022 incident was dependency confusion, not a typo
		{deps.PyPI, "markdown2", result{}},       // a digit is a version, not a typo
		{deps.PyPI, "nvidia-cudnn-cu11", result{}},
		{deps.PyPI, "pydub", result{}},
		{deps.PyPI, "sklearn", result{}},
		{deps.PyPI, "tensorflow-gpu", result{}},
		{deps.PyPI, "pandas-profiling", result{}},
		{deps.PyPI, "six", result{}},
		{deps.PyPI, "sox", result{}}, // short names are never squats (six, tox)
		{deps.NPM, "react-dom", result{}},
		{deps.NPM, "request", result{}},
		{deps.NPM, "preact", result{}},
		{deps.NPM, "lodash-es", result{}},
		{deps.NPM, "@types/lodash", result{}},
		{deps.NPM, "vue-router", result{}},
		{deps.NPM, "qs", result{}},
		{deps.Go, "github.com/stretchr/testfiy", result{}}, // no list for Go
		{deps.HuggingFace, "bert-base-uncased", result{}},
	} {
		t.Run(tc.eco+":"+tc.name, func(t *testing.T) {
			t.Parallel()
			target, ok := Typosquat(tc.eco, tc.name)
			if diff := cmp.Diff(tc.want, result{target, ok}); diff != "" {
				t.Errorf("Typosquat(%s, %s) (-want +got):\n%s", tc.eco, tc.name, diff)
			}
		})
	}
}

// No popular name may be reported, and the lists must be normalised,
// unique and big enough to matter.
func TestPopularLists(t *testing.T) {
	t.Parallel()
	for _, eco := range []string{deps.PyPI, deps.NPM} {
		b, err := popularFS.ReadFile("popular/" + eco + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			if n := normalise(eco, l); n != l || seen[l] {
				t.Errorf("%s: %q is not normalised (%q) or is listed twice", eco, l, n)
			}
			seen[l] = true
			if !Popular(eco, l) {
				t.Errorf("%s: Popular(%q) = false", eco, l)
			}
			if target, ok := Typosquat(eco, l); ok {
				t.Errorf("%s: popular %q reported as a squat of %q", eco, l, target)
			}
		}
		if n := PopularCount(eco); n < 300 || n != len(seen) {
			t.Errorf("%s: %d popular names, %d lines", eco, n, len(seen))
		}
	}
}

func TestOneEdit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"abcd", "abdc", true}, {"abcd", "abce", true}, {"abcd", "abcde", true}, {"abcde", "abcd", true},
		{"xabcd", "abcd", true}, {"abcd", "abcd", false}, {"abcd", "badc", false}, {"abcd", "acbe", false},
		{"abcd", "ab", false}, {"abc1", "abc2", false}, {"abc1", "abc", false}, {"ab1cd", "abcd", false},
	} {
		if _, got := oneEdit(tc.a, tc.b); got != tc.want {
			t.Errorf("oneEdit(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
