package github

import (
	"io"
	"strings"

	"github.com/mlguard/mlguard/internal/report/text"
)

// Message levels of WriteMessage: the workflow commands that show as an
// annotation of the run rather than of a file.
const (
	LevelError   = "error"
	LevelWarning = "warning"
	LevelNotice  = "notice"
)

// WriteMessage writes one workflow command that is not about a finding (a
// report that could not be published, a fallback taken), sanitized and
// escaped like the annotations, titled "mlguard".
func WriteMessage(w io.Writer, level, msg string) error {
	switch level {
	case LevelError, LevelWarning, LevelNotice:
	default:
		level = LevelWarning
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		lines[i] = defuse(text.Sanitize(l))
	}
	var b strings.Builder
	writeCommand(&b, level, []property{{"title", "mlguard"}}, strings.Join(lines, "\n"))
	_, err := io.WriteString(w, b.String())
	return err
}
