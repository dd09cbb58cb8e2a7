// Package modelfile holds what every format scanner under internal/scan
// shares with the engine: the options it is given and the report it returns.
// A format scanner reads only headers and metadata, never the weights; it
// returns findings with Path left empty (the engine sets it) and Member and
// Offset set where they help, and the facts the ML-BOM uses.
package modelfile

import (
	"context"
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
	// Architecture is the model's architecture where the format says it
	// (GGUF general.architecture, a Keras model's class, ONNX producer and
	// graph name...), else "".
	Architecture string
	// Parameters counts the model's parameters where the tensor shapes say
	// it, else 0.
	Parameters int64
	// Findings, each with Path empty.
	Findings []finding.Finding
}
