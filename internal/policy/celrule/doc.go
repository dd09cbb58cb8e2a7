// Package celrule compiles and evaluates the custom rules of a policy,
// written in CEL (https://cel.dev). A rule is evaluated over one variable:
// pkg (on: package), file (on: file) or finding (on: finding); its
// expression must be a bool.
//
// # Variables
//
// "fact" marks a value that may be unknown (see below); every other value
// is always known.
//
//	| field                     | type         | meaning |
//	|---------------------------|--------------|---------|
//	| pkg.ecosystem             | string       | pypi, npm, golang, cargo, maven or huggingface |
//	| pkg.name                  | string       | as the ecosystem spells it ("@types/node") |
//	| pkg.version               | string       | the pinned version; "" when the manifest gives only a range |
//	| pkg.purl                  | string       | the package URL, with the version when pinned |
//	| pkg.pinned                | bool         | the manifest fixes one version |
//	| pkg.change                | string       | how the change touched it: "added" or "changed" |
//	| pkg.manifest              | string       | the manifest's path, relative to the repository |
//	| pkg.maintainers           | int          | fact: how many people can publish |
//	| pkg.age_days              | int          | fact: days since the project's first release |
//	| pkg.version_age_days      | int          | fact: days since this version was released |
//	| pkg.days_since_release    | int          | fact: days since the latest release |
//	| pkg.versions              | int          | fact: how many versions were published |
//	| pkg.scorecard             | double       | fact: OpenSSF Scorecard score, 0 to 10 |
//	| pkg.license               | string       | fact: SPDX expression, or the raw text |
//	| pkg.deprecated            | bool         | fact: this version is deprecated |
//	| pkg.yanked                | bool         | fact: this version was yanked |
//	| pkg.install_scripts       | list(string) | fact: install hooks, e.g. ["postinstall"]; [] when none |
//	| pkg.source_repo           | string       | fact: the source repository's URL |
//	| pkg.advisories            | int          | fact: how many OSV advisories affect it (unpinned: any version) |
//	| pkg.malicious             | bool         | fact: an advisory says the package is malicious |
//	| pkg.vulnerable            | bool         | fact: an advisory other than a malicious-package one affects it |
//	| pkg.downloads             | int          | fact: Hugging Face downloads, last 30 days |
//	| pkg.likes                 | int          | fact: Hugging Face likes |
//	| pkg.gated                 | bool         | fact: Hugging Face access needs approval |
//	| pkg.author                | string       | fact: Hugging Face owning user or organisation |
//	| pkg.findings              | list(string) | ids of the rules that found something on the package |
//	| file.path                 | string       | the file, relative to the scanned root |
//	| file.format               | string       | the detected format ("pickle", "safetensors", "gguf"...) |
//	| file.sha256               | string       | the file's SHA-256, hex; "" when not computed |
//	| file.size                 | int          | bytes |
//	| file.architecture         | string       | the model's architecture; "" when the format does not say |
//	| file.dtype                | string       | the element type of most parameters, as the format spells it; "" when not said |
//	| file.producer             | string       | the tool that wrote the file; "" when not said |
//	| file.parameters           | int          | fact: how many weights; unknown when the format gives no tensor shapes |
//	| file.findings             | list(string) | ids of the rules that found something in the file |
//	| file.max_severity         | string       | the highest severity of those findings; "" when none |
//	| finding.rule              | string       | the rule id ("pickle/dangerous-global") |
//	| finding.severity          | string       | info, low, medium, high or critical |
//	| finding.path              | string       | the file |
//	| finding.member            | string       | the place inside a container; "" when none |
//	| finding.message           | string       | what the finding says |
//	| finding.evidence          | string       | the bytes or text that triggered it; "" when none |
//	| finding.line              | int          | 1-based line; 0 when none |
//	| finding.offset            | int          | byte offset; 0 when none |
//
// Ints are 64-bit. An int compares with a double (pkg.scorecard < 3). The
// standard CEL functions and macros are available (size, in, contains,
// startsWith, endsWith, matches with RE2 syntax, exists, all, exists_one,
// map, filter), and the string extensions (lowerAscii, split, replace,
// trim...).
//
// # Unknown facts
//
// A fact the registries did not give is unknown, and an unknown fact never
// reads as zero: with the maintainer count unknown, pkg.maintainers < 2 does
// not match. Every operation on an unknown value is itself unknown, except
// that && and || decide without it when the other side does
// (false && unknown is false, true || unknown is true). When the whole
// expression is unknown the rule does not match and Eval returns the names of
// the unknown facts it needed, for the caller to report. has() tests
// knownness: has(pkg.scorecard) is false when the score is unknown, true for
// every always-known field. So
//
//	pkg.ecosystem == "npm" && pkg.maintainers < 2
//
// over an npm package whose maintainers are unknown does not match and
// reports ["maintainers"]; over a PyPI package it is false, with nothing
// unknown; and a rule that wants unknown counts to match says so:
//
//	!has(pkg.maintainers) || pkg.maintainers < 2
//
// Design: CEL's own unknown values carry this. pkg, file and finding are
// object types known to the checker through a type provider with one typed
// field per row above, so a misspelt field, a wrong operand type or a non-bool
// result is a compile error with its position. At run time a field's getter
// returns the value, or for an unknown fact a CEL Unknown naming the
// attribute (pkg.maintainers); the interpreter propagates Unknown through
// operators, functions and comprehensions and merges the attributes, exactly
// as for CEL partial evaluation; and a field's presence test is its
// knownness, so has() is well-defined. Partial evaluation with unknown
// attribute patterns was the alternative; it marks the same attributes
// unknown, but an unknown there stands for a value not supplied yet, whose
// presence is not known either: has() over it is not specified to be false
// (in cel-go the answer depends on how the qualifier happens to be matched),
// so an author could not test knownness reliably; it also needs a partial
// activation built for every input.
// Native Go struct types with pointer fields were rejected too: an unset
// pointer reads as null, null < 2 is an error, and telling "unknown" from a
// real error would mean parsing error messages.
//
// # Limits
//
// An expression is at most MaxExprLen bytes and MaxNesting levels deep, and
// nests at most MaxComprehensionNesting comprehensions (exists, all, map...).
// A regular expression literal must compile. An evaluation costs at most
// CostLimit (CEL's cost units: about one per operation or list element), and
// a comprehension stops soon after its ctx is done; an expression whose
// cheapest evaluation already exceeds CostLimit is a compile error.
package celrule
