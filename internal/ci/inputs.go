package ci

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// Inputs are the action's inputs (action.yml), as the runner passes them to
// a container action: one INPUT_<NAME> variable each, the name upper-cased
// with spaces turned into underscores and hyphens kept.
type Inputs struct {
	Policy     string
	Scope      string // "changed" or "all"
	Paths      []string
	Exclude    []string
	FailOn     string
	Comment    string // "true", "false" or "always"
	CheckRun   bool
	SARIFFile  string
	BOMFile    string
	BOMSpec    string
	Token      string
	Offline    bool
	PyPIURL    string
	NPMURL     string
	OSVURL     string
	DepsDevURL string
	CratesURL  string
	HFURL      string
	CacheDir   string
}

// InputEnv is the variable that carries the input name.
func InputEnv(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// ReadInputs reads the inputs, with action.yml's defaults for the ones not
// set (so that `mlguard ci` behaves the same outside a container action).
// The token falls back to GITHUB_TOKEN.
func ReadInputs(getenv func(string) string) (Inputs, error) {
	in := func(name string) string { return strings.TrimSpace(getenv(InputEnv(name))) }
	var err error
	boolean := func(name string, def bool) bool {
		v := in(name)
		if v == "" {
			return def
		}
		b, e := parseBool(v)
		if e != nil && err == nil {
			err = fmt.Errorf("input %s: %w", name, e)
		}
		return b
	}
	i := Inputs{
		Policy:     in("policy"),
		Scope:      strings.ToLower(or(in("scope"), "changed")),
		Paths:      List(in("paths")),
		Exclude:    List(in("exclude")),
		FailOn:     in("fail-on"), // "": the policy's thresholds
		Comment:    strings.ToLower(or(in("comment"), "true")),
		CheckRun:   boolean("check-run", true),
		SARIFFile:  in("sarif-file"),
		BOMFile:    in("bom-file"),
		BOMSpec:    or(in("bom-spec"), "1.6"),
		Token:      or(in("github-token"), strings.TrimSpace(getenv("GITHUB_TOKEN"))),
		Offline:    boolean("offline", false),
		PyPIURL:    in("pypi-url"),
		NPMURL:     in("npm-url"),
		OSVURL:     in("osv-url"),
		DepsDevURL: in("depsdev-url"),
		CratesURL:  in("crates-url"),
		HFURL:      in("hf-url"),
		CacheDir:   in("cache-dir"),
	}
	if i.Scope != "changed" && i.Scope != "all" && err == nil {
		err = fmt.Errorf("input scope: %q is not changed or all", i.Scope)
	}
	switch i.Comment {
	case "true", "false", "always":
	default:
		if b, e := parseBool(i.Comment); e == nil {
			i.Comment = fmt.Sprint(b)
		} else if err == nil {
			err = fmt.Errorf("input comment: %q is not true, false or always", i.Comment)
		}
	}
	return i, err
}

// parseBool accepts what @actions/core's getBooleanInput accepts (the YAML
// 1.2 core schema's booleans).
func parseBool(s string) (bool, error) {
	switch s {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true or false)", s)
}

// List splits a multi-line or comma-separated input into its items,
// dropping blanks and lines that start with #.
func List(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, item := range strings.Split(line, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// WriteOutputs appends step outputs to the GITHUB_OUTPUT file, each as a
// heredoc with a random delimiter that the value is checked not to contain:
// a fixed delimiter would let a value (a file name, say) end its block early
// and set other outputs.
func WriteOutputs(file string, outputs [][2]string) error {
	if file == "" {
		return nil
	}
	var b strings.Builder
	for _, kv := range outputs {
		name, value := kv[0], kv[1]
		if name == "" || strings.ContainsAny(name, "\r\n<=") {
			return fmt.Errorf("writing the outputs: invalid name %q", name)
		}
		delim, err := delimiter()
		if err != nil {
			return err
		}
		if strings.Contains(value, delim) || strings.Contains(name, delim) {
			return fmt.Errorf("writing the outputs: the value of %s contains the delimiter", name)
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	}
	return appendFile(file, b.String(), "the outputs")
}

// AppendSummary appends Markdown to the GITHUB_STEP_SUMMARY file.
func AppendSummary(file, markdown string) error {
	if file == "" {
		return nil
	}
	return appendFile(file, markdown, "the job summary")
}

func appendFile(name, s, what string) error {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", what, err)
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", what, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", what, err)
	}
	return nil
}

func delimiter() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("writing the outputs: %w", err)
	}
	return "ghadelimiter_" + hex.EncodeToString(b[:]), nil
}
