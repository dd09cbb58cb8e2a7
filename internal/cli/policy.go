package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mlguard/mlguard/internal/policy"
)

const policyUsage = `Usage:
  mlguard policy check FILE...                 validate policy files
  mlguard policy print [--policy NAME|FILE]    print the effective policy, after extends

check prints every error with its file, line and key; exit 0 when every file
is valid, 1 when one is not, 2 on a usage error or a file that cannot be read.

print shows the policy a scan would use: --policy names a built-in policy
(default, strict, audit) or a file; without it, ./.mlguard.yaml when there is
one, else the built-in default. See docs/policies.md.
`

// runPolicy runs mlguard policy check|print.
func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, policyUsage)
		return ExitError
	}
	switch args[0] {
	case "check":
		return runPolicyCheck(args[1:], stdout, stderr)
	case "print":
		return runPolicyPrint(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, policyUsage)
		return ExitPass
	}
	fmt.Fprintf(stderr, "mlguard policy: unknown subcommand %q\n\n%s", args[0], policyUsage)
	return ExitError
}

// runPolicyCheck validates files: their errors are its result, on stdout;
// a file it cannot read is an error, on stderr.
func runPolicyCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mlguard policy check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), policyUsage) }
	files, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitPass
	}
	if err != nil {
		return ExitError
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "mlguard policy check: name at least one policy file")
		return ExitError
	}
	code := ExitPass
	for _, f := range files {
		data, err := policy.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "mlguard policy check: %v\n", err)
			code = ExitError
			continue
		}
		p, err := policy.Parse(f, data)
		if err == nil {
			_, err = policy.Resolve(p)
		}
		if err != nil {
			fmt.Fprintln(stdout, err)
			if code == ExitPass {
				code = ExitFail
			}
			continue
		}
		fmt.Fprintf(stdout, "%s: valid\n", f)
	}
	return code
}

// runPolicyPrint prints the effective policy as YAML, after a comment
// naming where it comes from.
func runPolicyPrint(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mlguard policy print", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("policy", "", "a built-in policy `NAME` (default, strict, audit) or a policy FILE; default: ./.mlguard.yaml, else default")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), policyUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	rest, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitPass
	}
	if err != nil {
		return ExitError
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "mlguard policy print: unexpected argument %q (name a policy with --policy)\n", rest[0])
		return ExitError
	}
	p, err := policy.Select(*name, ".") // the working folder, named relative in messages

	if err != nil {
		fmt.Fprintf(stderr, "mlguard policy print: %v\n", err)
		return ExitError
	}
	out, err := policy.Marshal(p)
	if err != nil {
		fmt.Fprintf(stderr, "mlguard policy print: %v\n", err)
		return ExitError
	}
	fmt.Fprintf(stdout, "# Effective policy: %s\n%s", commentSafe(p.Source), out)
	return ExitPass
}

// commentSafe keeps a file name on one comment line.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
