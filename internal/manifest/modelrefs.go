package manifest

import (
	"bytes"
	"encoding/json"
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mlguard/mlguard/internal/deps"
)

// hfID is a Hugging Face repository id of the form org/name. Bare names
// ("gpt2") are not taken: in code and configs they are as often local
// directories.
var hfID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$`)

// DatasetPrefix marks a Hugging Face dataset among HuggingFace packages.
const DatasetPrefix = "datasets/"

// anyRevision is the Range of a model reference that names no revision.
const anyRevision = "*"

const maxPyTokens = 4 << 20

func isHFID(s string) bool {
	return hfID.MatchString(s) && !strings.Contains(s, "..") && !strings.HasSuffix(s, ".json") &&
		!strings.HasSuffix(s, ".bin") && !strings.HasSuffix(s, ".safetensors")
}

// ModelRefs finds Hugging Face model and dataset references in a file,
// chosen by its name: from_pretrained / hf_hub_download / snapshot_download /
// load_dataset / pipeline(model=) calls in .py files (string literals only,
// comments skipped), base_model_name_or_path and _name_or_path in
// config.json and adapter_config.json, and base_model / datasets in the YAML
// front matter of a model card (README.md). Datasets are named
// "datasets/org/name". A revision= argument is the Version; without one the
// reference is unpinned with Range "*". Other files yield nothing.
func ModelRefs(p string, content []byte) []deps.Package {
	if len(content) > MaxContentSize {
		return nil
	}
	base := path.Base(strings.ReplaceAll(p, `\`, "/"))
	var refs []deps.Package
	switch {
	case strings.HasSuffix(base, ".py"):
		refs = pythonRefs(content)
	case base == "config.json" || base == "adapter_config.json":
		refs = configRefs(content)
	case strings.EqualFold(base, "README.md"):
		refs = modelCardRefs(content)
	}
	for i := range refs {
		refs[i].Ecosystem = deps.HuggingFace
		refs[i].Manifest = p
		if refs[i].Version == "" {
			refs[i].Range = anyRevision
		}
	}
	return refs
}

func configRefs(content []byte) []deps.Package {
	var cfg map[string]json.RawMessage
	if json.Unmarshal(content, &cfg) != nil {
		return nil
	}
	li := newLineIndex(content)
	var out []deps.Package
	for _, key := range []string{"base_model_name_or_path", "_name_or_path"} {
		var s string
		if json.Unmarshal(cfg[key], &s) != nil || !isHFID(s) {
			continue
		}
		out = append(out, deps.Package{Name: s, Line: li.find(`"`+key+`"`, 1)})
	}
	return out
}

func modelCardRefs(content []byte) []deps.Package {
	content = bytes.TrimPrefix(content, []byte("\xef\xbb\xbf"))
	content = bytes.ReplaceAll(content, []byte("\r\n"), []byte("\n"))
	rest, ok := bytes.CutPrefix(content, []byte("---\n"))
	if !ok {
		return nil
	}
	front := rest
	if i := bytes.Index(rest, []byte("\n---")); i >= 0 {
		front = rest[:i+1]
	} else {
		return nil // an unterminated front matter is not one
	}
	var doc yaml.Node
	if yaml.Unmarshal(front, &doc) != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	var out []deps.Package
	add := func(key, prefix string) {
		for _, n := range scalarsOf(mapValue(doc.Content[0], key)) {
			if isHFID(n.Value) {
				out = append(out, deps.Package{Name: prefix + n.Value, Line: n.Line + 1}) // +1: the opening ---
			}
		}
	}
	add("base_model", "")
	add("datasets", DatasetPrefix)
	return out
}

// scalarsOf is a scalar node, or the scalars of a sequence node.
func scalarsOf(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return []*yaml.Node{n}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode {
				out = append(out, c)
			}
		}
		return out
	}
	return nil
}

// pyToken is an identifier, a string literal or one punctuation byte.
type pyToken struct {
	kind byte // 'i' identifier, 's' string, 'b' bytes, 'f' f-string, or the punctuation byte
	text string
	line int
}

// hfCalls are the calls whose arguments name Hugging Face repositories:
// the keyword arguments holding the id, and whether the first positional
// argument is the id.
var hfCalls = map[string]struct {
	keys       []string
	positional bool
	dataset    bool
}{
	"from_pretrained":     {[]string{"pretrained_model_name_or_path"}, true, false},
	"hf_hub_download":     {[]string{"repo_id"}, true, false},
	"snapshot_download":   {[]string{"repo_id"}, true, false},
	"load_dataset":        {[]string{"path"}, true, true},
	"pipeline":            {[]string{"model"}, false, false},
	"SentenceTransformer": {[]string{"model_name_or_path"}, true, false},
}

const maxCallTokens = 512

func pythonRefs(content []byte) []deps.Package {
	toks := tokenizePython(content)
	var out []deps.Package
	for i := 0; i+1 < len(toks); i++ {
		call, ok := hfCalls[toks[i].text]
		if toks[i].kind != 'i' || !ok || toks[i+1].kind != '(' {
			continue
		}
		if i > 0 && toks[i-1].kind == 'i' && toks[i-1].text == "def" {
			continue
		}
		var id, revision, repoType string
		idLine := 0
		depth, argStart, argIndex := 1, i+2, 0
		for j := i + 2; j < len(toks) && j < i+2+maxCallTokens && depth > 0; j++ {
			switch toks[j].kind {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				depth--
			}
			if depth == 1 && toks[j].kind != ',' || depth > 1 {
				continue
			}
			// toks[argStart:j] is one argument at depth 1
			arg := toks[argStart:j]
			switch {
			case len(arg) == 1 && arg[0].kind == 's' && argIndex == 0 && call.positional:
				id, idLine = arg[0].text, arg[0].line
			case len(arg) == 3 && arg[0].kind == 'i' && arg[1].kind == '=' && arg[2].kind == 's':
				switch key := arg[0].text; {
				case key == "revision":
					revision = arg[2].text
				case key == "repo_type":
					repoType = arg[2].text
				case contains(call.keys, key):
					id, idLine = arg[2].text, arg[2].line
				}
			}
			argIndex++
			argStart = j + 1
		}
		if !isHFID(id) || repoType == "space" {
			continue
		}
		if call.dataset || repoType == "dataset" {
			id = DatasetPrefix + id
		}
		out = append(out, deps.Package{Name: id, Version: revision, Line: idLine})
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// tokenizePython splits Python source into the tokens pythonRefs needs. It
// skips comments and reads string literals with any prefix and either
// quote, single or triple. It is lenient: an unterminated string ends the
// scan.
func tokenizePython(src []byte) []pyToken {
	var toks []pyToken
	line := 1
	for i := 0; i < len(src) && len(toks) < maxPyTokens; {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			s, end, ok := readPyString(src, i, line)
			if !ok {
				return toks
			}
			toks = append(toks, pyToken{kind: 's', text: s, line: line})
			line += bytes.Count(src[i:end], []byte("\n"))
			i = end
		case isIdentByte(c):
			j := i
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			word := string(src[i:j])
			if j < len(src) && (src[j] == '"' || src[j] == '\'') && isStringPrefix(word) {
				s, end, ok := readPyString(src, j, line)
				if !ok {
					return toks
				}
				kind := byte('s')
				switch {
				case strings.ContainsAny(word, "fF"):
					kind = 'f' // formatted: not a literal
				case strings.ContainsAny(word, "bB"):
					kind = 'b' // bytes: no model id, but setup.py reads them
				}
				toks = append(toks, pyToken{kind: kind, text: s, line: line})
				line += bytes.Count(src[j:end], []byte("\n"))
				i = end
				continue
			}
			toks = append(toks, pyToken{kind: 'i', text: word, line: line})
			i = j
		case c == ' ' || c == '\t' || c == '\r' || c == '\\':
			i++
		default:
			toks = append(toks, pyToken{kind: c, line: line})
			i++
		}
	}
	return toks
}

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "r", "u", "b", "f", "br", "rb", "fr", "rf":
		return true
	}
	return false
}

// readPyString reads the string literal whose quote starts at src[i],
// returning its raw contents (escapes kept) and the offset after it.
func readPyString(src []byte, i, _ int) (string, int, bool) {
	q := src[i]
	triple := i+2 < len(src) && src[i+1] == q && src[i+2] == q
	start := i + 1
	if triple {
		start = i + 3
	}
	for j := start; j < len(src); j++ {
		switch c := src[j]; {
		case c == '\\':
			j++
		case c == '\n' && !triple:
			return "", 0, false
		case c == q && !triple:
			return string(src[start:j]), j + 1, true
		case c == q && triple && j+2 < len(src) && src[j+1] == q && src[j+2] == q:
			return string(src[start:j]), j + 3, true
		}
	}
	return "", 0, false
}
