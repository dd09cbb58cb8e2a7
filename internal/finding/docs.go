package finding

import (
	"fmt"
	"strings"
)

// Markdown renders docs/rules.md from the rules table, so the documentation
// cannot drift from the code (a test compares the two).
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Rules\n\n")
	b.WriteString("Every finding mlguard reports names one of these rules. Ids are stable once released.\n")
	b.WriteString("This file is generated from `internal/finding/rules.go`: run `go test ./internal/finding -update` after changing a rule.\n\n")
	b.WriteString("| rule | severity | summary |\n|---|---|---|\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", r.ID, r.Anchor(), r.Severity, r.Summary)
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n## %s\n\n", r.Anchor(), r.ID)
		fmt.Fprintf(&b, "**Severity:** %s\n\n%s\n\n", r.Severity, r.Summary)
		fmt.Fprintf(&b, "**Why it matters.** %s\n\n**What to do.** %s\n", r.Rationale, r.Remediation)
	}
	return b.String()
}
