package health

import (
	"embed"
	"strings"
	"sync"

	"github.com/mlguard/mlguard/internal/deps"
)

//go:embed popular/pypi.txt popular/npm.txt
var popularFS embed.FS

// minSquatLen excludes short names, as targets and as candidates: among
// names of three characters or fewer, one edit reaches too many legitimate
// packages (six, tox, ws, pg, qs) to mean anything.
const minSquatLen = 4

type popularList struct {
	names []string // normalised, in file order (most popular first)
	set   map[string]bool
}

var popularLists = sync.OnceValue(func() map[string]*popularList {
	lists := map[string]*popularList{}
	for eco, file := range map[string]string{deps.PyPI: "popular/pypi.txt", deps.NPM: "popular/npm.txt"} {
		b, err := popularFS.ReadFile(file)
		if err != nil {
			panic("health: embedded " + file + ": " + err.Error()) // the embed directive guarantees it
		}
		l := &popularList{set: map[string]bool{}}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			n := normalise(eco, line)
			if !l.set[n] {
				l.set[n] = true
				l.names = append(l.names, n)
			}
		}
		lists[eco] = l
	}
	return lists
})

// normalise is the name as the registry compares names: PEP 503 for PyPI,
// lower case for npm (which has refused upper-case names since 2017).
func normalise(ecosystem, name string) string {
	name = strings.TrimSpace(name)
	if ecosystem == deps.PyPI {
		return deps.NormalizePyPI(name)
	}
	return strings.ToLower(name)
}

// Popular reports whether name is on the embedded list of popular packages
// of its ecosystem (PyPI and npm only).
func Popular(ecosystem, name string) bool {
	l := popularLists()[ecosystem]
	return l != nil && l.set[normalise(ecosystem, name)]
}

// PopularCount is the size of the embedded popular-name list of an ecosystem.
func PopularCount(ecosystem string) int {
	if l := popularLists()[ecosystem]; l != nil {
		return len(l.names)
	}
	return 0
}

// Typosquat reports the popular package that name imitates, for PyPI and
// npm: after normalisation, one insertion, deletion, substitution or
// adjacent swap away from a popular name; the same but for separators or
// look-alike characters (0/o, 1/l/i, rn/m, vv/w); or a popular name with a
// prefix or suffix added or swapped (py, python-, -python, node-, -js). A name
// that is itself popular is never a typosquat, nor one of 3 characters or
// fewer, nor one that differs only by a digit (markdown2, cu11/cu12).
func Typosquat(ecosystem, name string) (target string, ok bool) {
	target, _, ok = squat(ecosystem, name)
	return target, ok
}

// squat is Typosquat, also saying how the name differs.
func squat(ecosystem, name string) (target, how string, ok bool) {
	l := popularLists()[ecosystem]
	if l == nil {
		return "", "", false
	}
	n := normalise(ecosystem, name)
	if len(n) < minSquatLen || l.set[n] {
		return "", "", false
	}
	k := lookalikeKey(n)
	for _, t := range l.names {
		if len(t) >= minSquatLen && lookalikeKey(t) == k {
			return t, "same name but for separators or look-alike characters", true
		}
	}
	for _, t := range l.names {
		if len(t) < minSquatLen {
			continue
		}
		if how, ok := oneEdit(n, t); ok {
			return t, how, true
		}
	}
	// A popular name with an affix added ("pyrequests", "requests-python"), or
	// with its own affix swapped for another ("python3-dateutil").
	for _, a := range affixes[ecosystem] {
		core, ok := a.strip(n)
		if !ok || len(core) < minSquatLen {
			continue
		}
		for _, t := range l.names {
			if len(t) < minSquatLen {
				continue
			}
			if t == core {
				return t, a.String() + " added", true
			}
			for _, b := range affixes[ecosystem] {
				if tc, ok := b.strip(t); ok && tc == core && b != a {
					return t, a.String() + " in place of " + b.String(), true
				}
			}
		}
	}
	return "", "", false
}

type affix struct {
	text   string
	suffix bool
}

func (a affix) String() string {
	if a.suffix {
		return "suffix " + a.text
	}
	return "prefix " + a.text
}

func (a affix) strip(n string) (string, bool) {
	if a.suffix {
		return strings.CutSuffix(n, a.text)
	}
	return strings.CutPrefix(n, a.text)
}

// affixes are what squatters add to a popular name, longest first so that
// "python3-" is tried before "py".
var affixes = map[string][]affix{
	deps.PyPI: {
		{"python3-", false}, {"python-", false}, {"py3-", false}, {"py-", false}, {"py", false},
		{"-python3", true}, {"-python", true}, {"-py3", true}, {"-py", true},
	},
	deps.NPM: {
		{"node-", false}, {"-node", true}, {"-js", true}, {".js", true}, {"js", true},
	},
}

// lookalikeKey folds away separators and characters that read alike, so
// that names equal under it are the same name to a hurried reader.
func lookalikeKey(n string) string {
	n = strings.NewReplacer("rn", "m", "vv", "w").Replace(n)
	var b strings.Builder
	for _, r := range n {
		switch r {
		case '-', '_', '.':
			continue
		case '0':
			r = 'o'
		case '1', 'i':
			r = 'l'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// oneEdit reports whether a differs from b by exactly one insertion,
// deletion, substitution or swap of adjacent characters, and which.
func oneEdit(a, b string) (string, bool) {
	x, y := []rune(a), []rune(b)
	switch len(x) - len(y) {
	case 0:
		var diff []int
		for i := range x {
			if x[i] != y[i] {
				diff = append(diff, i)
				if len(diff) > 2 {
					return "", false
				}
			}
		}
		switch {
		case len(diff) == 1 && isDigit(x[diff[0]]) && isDigit(y[diff[0]]):
			return "", false // a version number (cu11/cu12), not a typo
		case len(diff) == 1:
			return "one character substituted", true
		case len(diff) == 2 && diff[1] == diff[0]+1 && x[diff[0]] == y[diff[1]] && x[diff[1]] == y[diff[0]]:
			return "two adjacent characters swapped", true
		}
	case 1:
		if i, ok := deletesTo(x, y); ok && !isDigit(x[i]) {
			return "one character inserted", true
		}
	case -1:
		if i, ok := deletesTo(y, x); ok && !isDigit(y[i]) {
			return "one character left out", true
		}
	}
	return "", false
}

// deletesTo reports whether deleting one rune of long gives short, and
// which one. An added or dropped digit is a version (markdown2, boto3), not
// a typo: oneEdit ignores it, and the look-alike and affix checks still see
// python3-dateutil and ur1lib3.
func deletesTo(long, short []rune) (int, bool) {
	i := 0
	for i < len(short) && long[i] == short[i] {
		i++
	}
	for j := i; j < len(short); j++ {
		if long[j+1] != short[j] {
			return 0, false
		}
	}
	return i, true
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }
