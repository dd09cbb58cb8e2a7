// Package modelfile holds what every format scanner under internal/scan
// shares with the engine: the options it is given and the report it returns.
// A format scanner reads only headers and metadata, never the weights; it
// returns findings with Path left empty (the engine sets it) and Member and
// Offset set where they help, and the facts the ML-BOM uses.
package modelfile

import (
	"context"
	"fmt"
	"io"

	"github.com/mlguard/mlguard/internal/finding"
)

// Nested scans an embedded file (a pickle inside a Keras config, a model
// inside a NeMo archive) through the whole engine, as if it were a member
// named name, and returns its findings.
type Nested func(ctx context.Context, name string, r io.ReaderAt, size int64) []finding.Finding

// Options are given to every format scanner.
type Options struct {
	// Nested scans embedded files; nil means they are reported but not
	// scanned (tests).
	Nested Nested
}

// Report is what a format scanner found in one file.
type Report struct {
	// Format names the layout read, e.g. "safetensors", "gguf", "onnx",
	// "keras-h5", "keras-v3", "tf-savedmodel", "tflite".
	Format string
	// ModelInfo is what the headers say about the model (architecture,
	// parameter count, dtype, producer, inputs and outputs), for the report
	// and the ML-BOM.
	finding.ModelInfo
	// Findings, each with Path empty.
	Findings []finding.Finding
}

// ReadAll reads the content of r (size bytes, or to the end when size < 0)
// for a scanner that needs it whole, refusing more than limit bytes before
// reading them.
func ReadAll(r io.ReaderAt, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, fmt.Errorf("the file is %d bytes, more than the %d this scanner reads", size, limit)
	}
	n := size
	if n < 0 {
		n = limit + 1
	}
	b, err := io.ReadAll(io.NewSectionReader(r, 0, n))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("the file is more than the %d bytes this scanner reads", limit)
	}
	return b, nil
}

// Clip shortens text taken from a file to at most n bytes, on a rune
// boundary, marking the cut, for a finding's message or evidence.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// MulSat multiplies non-negative counts (tensor dimensions), saturating at
// the largest int64 instead of overflowing.
func MulSat(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > (1<<63-1)/b {
		return 1<<63 - 1
	}
	return a * b
}

// AddSat adds non-negative counts, saturating at the largest int64.
func AddSat(a, b int64) int64 {
	if a > 1<<63-1-b {
		return 1<<63 - 1
	}
	return a + b
}

// ClipText is Clip at the 200 bytes a name or location taken from a file
// gets in a message.
func ClipText(s string) string { return Clip(s, 200) }
