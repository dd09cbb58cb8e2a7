package github

import (
	"strings"
	"testing"
)

func TestWriteMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level, msg, want string
	}{
		{LevelWarning, "could not post: 50% done", "::warning title=mlguard::could not post: 50%25 done\n"},
		{LevelNotice, "two\nlines", "::notice title=mlguard::two%0Alines\n"},
		{"bogus", "x", "::warning title=mlguard::x\n"},
		{LevelError, "a\n::set-output name=x::y", "::error title=mlguard::a%0A\\::set-output name=x::y\n"},
		{LevelWarning, "esc \x1b[31m", "::warning title=mlguard::esc \\x1b[31m\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := WriteMessage(&b, tt.level, tt.msg); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("WriteMessage(%q, %q) = %q, want %q", tt.level, tt.msg, b.String(), tt.want)
		}
	}
}
