package tensorflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	pb "github.com/mlguard/mlguard/internal/scan/protobuf"
)

const (
	// maxMetadata bounds one node's JSON; a model's root node repeats the
	// config of every layer, which stays in the low megabytes for real models.
	maxMetadata  = 32 << 20
	maxJSONDepth = 256
)

// tfOpFunctions are the TensorFlow API functions a TFOpLambda layer can name
// (config.function, relative to the tf namespace) that map to an op of the
// table: Keras resolves the name at load time and calls it.
var tfOpFunctions = map[string]string{
	"io.write_file":       "WriteFile",
	"io.read_file":        "ReadFile",
	"io.matching_files":   "MatchingFiles",
	"py_function":         "EagerPyFunc",
	"numpy_function":      "PyFunc",
	"compat.v1.py_func":   "PyFunc",
	"raw_ops.PyFunc":      "PyFunc",
	"raw_ops.EagerPyFunc": "EagerPyFunc",
	"raw_ops.WriteFile":   "WriteFile",
	"raw_ops.ReadFile":    "ReadFile",
	"print":               "PrintV2",
}

// ScanKerasMetadata reads keras_metadata.pb, the Keras metadata that
// tf.keras writes next to saved_model.pb (SavedMetadata: nodes 1, each a
// SavedObject with node_path 3, identifier 4 and metadata 5, a JSON object
// with the layer's class_name and config). A layer whose class_name is
// Lambda, at any depth of any node's JSON (a model's config repeats its
// layers), is reported once by name as finding.KerasLambdaLayer with the
// kind of function it holds; a TFOpLambda that calls a file or Python
// function of TensorFlow as finding.KerasTFOpLambda. Architecture is the
// class_name of the root object ("Functional", "Sequential", a subclass).
func ScanKerasMetadata(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error) {
	rd := pb.NewReader(ctx, r, size, pb.DefaultLimits)
	k := &kerasScan{seen: map[string]bool{}}
	rep := &modelfile.Report{Format: FormatKerasMetadata}
	root := rd.Root()
	var f pb.Field
	nodes := 0
	for root.Next(&f) {
		if f.Num != 1 || f.Type != pb.Bytes {
			continue
		}
		nodes++
		var path, meta string
		var metaField pb.Field
		full := true
		obj := rd.Sub(f)
		var g pb.Field
		for obj.Next(&g) {
			switch {
			case g.Num == 3 && g.Type == pb.Bytes:
				path, _ = rd.Str(g, maxName)
			case g.Num == 5 && g.Type == pb.Bytes:
				meta, full = rd.Str(g, maxMetadata)
				metaField = g
			}
		}
		if rd.Err() != nil {
			break
		}
		if meta == "" {
			continue
		}
		if !full {
			fd := finding.New(finding.ScanIncomplete, fmt.Sprintf("the metadata of Keras object %q is larger than %d bytes and was not examined", modelfile.ClipText(path), maxMetadata))
			fd.Offset = metaField.Start
			rep.Findings = append(rep.Findings, fd)
			continue
		}
		k.node(path, meta, metaField.Start, rep)
		if err := ctx.Err(); err != nil {
			rep.Findings = append(rep.Findings, k.findings...)
			return rep, fmt.Errorf("scanning Keras metadata: %w", err)
		}
	}
	rep.Findings = append(k.findings, rep.Findings...)
	rep.Architecture = k.arch
	return finish(rep, rd.Err(), "Keras metadata", nodes == 0, "the file decodes as protobuf but has no Keras objects: it is not a keras_metadata.pb mlguard can examine")
}

type kerasScan struct {
	seen     map[string]bool // reported layers, by class and name
	findings []finding.Finding
	arch     string
}

// layer is what the JSON walker gathers of one object.
type layer struct {
	class  string // class_name
	name   string // name
	fnName string // function, when a name (TFOpLambda, a named function)
	fnKind string // what function is, from its shape
	fnType string // function_type (older tf.keras: "lambda" or "raw")
	config *layer // config, when an object
}

// effective is the layer's name and function as its config says.
func (l *layer) effective() (name, fn, kind string) {
	name, c := l.name, l.config
	if c == nil {
		return name, "", "a function"
	}
	name = cmpOr(c.name, name)
	switch c.fnType {
	case "lambda":
		kind = "Python bytecode (a serialized lambda)"
	case "raw":
		kind = "a reference to the Python function " + modelfile.ClipText(c.fnName)
	default:
		kind = cmpOr(c.fnKind, "a function")
	}
	return name, c.fnName, kind
}

func (k *kerasScan) node(path, meta string, off int64, rep *modelfile.Report) {
	d := json.NewDecoder(strings.NewReader(meta))
	d.UseNumber()
	w := &jsonWalker{d: d, emit: func(l *layer) { k.layer(path, l, off) }}
	top, err := w.value(0)
	if err == nil {
		if _, err = d.Token(); !errors.Is(err, io.EOF) {
			err = errors.New("data after the JSON value")
		} else {
			err = nil
		}
	}
	if err != nil {
		fd := finding.New(finding.ScanIncomplete, fmt.Sprintf("the metadata of Keras object %q is not valid JSON; the rest of it was not examined", modelfile.ClipText(path)))
		fd.Offset, fd.Evidence = off, err.Error()
		rep.Findings = append(rep.Findings, fd)
		return
	}
	if path == "root" && top != nil && k.arch == "" {
		k.arch = modelfile.ClipText(top.class)
	}
}

func (k *kerasScan) layer(path string, l *layer, off int64) {
	name, fn, kind := l.effective()
	key := l.class + "\x00" + name
	switch l.class {
	case "Lambda":
		if k.seen[key] {
			return
		}
		k.seen[key] = true
		f := finding.New(finding.KerasLambdaLayer, fmt.Sprintf("Keras Lambda layer %q (in %q) holds %s, which tf.keras rebuilds and runs when the SavedModel is loaded as a Keras model", modelfile.ClipText(name), modelfile.ClipText(path), kind))
		f.Offset = off
		f.Evidence = fmt.Sprintf("Lambda %q", modelfile.ClipText(name))
		if fn != "" {
			f.Evidence += fmt.Sprintf(": %q", modelfile.ClipText(fn))
		}
		k.findings = append(k.findings, f)
	case "TFOpLambda":
		short := strings.TrimPrefix(fn, "tf.")
		op, ok := tfOpFunctions[short]
		if !ok || k.seen[key] {
			return
		}
		k.seen[key] = true
		risk := dangerousOps[op]
		f := finding.New(finding.KerasTFOpLambda, fmt.Sprintf("Keras TFOpLambda layer %q (in %q) calls tf.%s, which %s", modelfile.ClipText(name), modelfile.ClipText(path), modelfile.ClipText(short), risk.what))
		f.Severity = max(f.Severity, risk.sev)
		f.Offset = off
		f.Evidence = fmt.Sprintf("TFOpLambda %q: tf.%s", modelfile.ClipText(name), modelfile.ClipText(short))
		k.findings = append(k.findings, f)
	}
}

// jsonWalker reads a JSON value token by token and calls emit for every
// object with a class_name, however deep, without building the document.
type jsonWalker struct {
	d    *json.Decoder
	emit func(*layer)
}

// value reads one value; for an object it returns what it gathered.
func (w *jsonWalker) value(depth int) (*layer, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("JSON nested more than %d deep", maxJSONDepth)
	}
	t, err := w.d.Token()
	if err != nil {
		return nil, err
	}
	switch t {
	case json.Delim('{'):
		return w.object(depth)
	case json.Delim('['):
		for w.d.More() {
			if _, err := w.value(depth + 1); err != nil {
				return nil, err
			}
		}
		_, err := w.d.Token()
		return nil, err
	}
	return nil, nil
}

// object reads the members of an object whose '{' was read, and emits it
// when it has a class_name.
func (w *jsonWalker) object(depth int) (*layer, error) {
	l := &layer{}
	for w.d.More() {
		t, err := w.d.Token()
		if err != nil {
			return nil, err
		}
		switch key, _ := t.(string); key {
		case "class_name", "name", "function_type":
			s, err := w.str(depth + 1)
			if err != nil {
				return nil, err
			}
			switch key {
			case "class_name":
				l.class = s
			case "name":
				l.name = s
			default:
				l.fnType = s
			}
		case "config":
			if l.config, err = w.value(depth + 1); err != nil {
				return nil, err
			}
		case "function":
			if l.fnKind, l.fnName, err = w.function(depth + 1); err != nil {
				return nil, err
			}
		default:
			if _, err := w.value(depth + 1); err != nil {
				return nil, err
			}
		}
	}
	if _, err := w.d.Token(); err != nil {
		return nil, err
	}
	if l.class != "" {
		w.emit(l)
	}
	return l, nil
}

// str reads a value and returns it if it is a string.
func (w *jsonWalker) str(depth int) (string, error) {
	t, err := w.d.Token()
	if err != nil {
		return "", err
	}
	switch t {
	case json.Delim('{'), json.Delim('['):
		return "", w.skipOpened(t, depth)
	}
	s, _ := t.(string)
	return s, nil
}

// function reads a "function" member: a name (TFOpLambda, a named
// function), a [code, defaults, closure] list (func_dump) or a
// {"class_name": "__lambda__", ...} object (newer tf.keras).
func (w *jsonWalker) function(depth int) (kind, name string, err error) {
	t, err := w.d.Token()
	if err != nil {
		return "", "", err
	}
	switch t {
	case json.Delim('['):
		return "Python bytecode (a serialized lambda)", "", w.skipOpened(t, depth)
	case json.Delim('{'):
		l, err := w.object(depth)
		if err != nil {
			return "", "", err
		}
		if l.class == "__lambda__" {
			return "Python bytecode (a serialized lambda)", "", nil
		}
		name := l.name
		if l.config != nil {
			name = cmpOr(l.config.name, name)
		}
		return "a reference to the function " + modelfile.ClipText(cmpOr(name, l.class)), name, nil
	}
	if s, ok := t.(string); ok {
		return "a reference to the function " + modelfile.ClipText(s), s, nil
	}
	return "a function", "", nil
}

// skipOpened skips the rest of an object or array whose opening was read.
func (w *jsonWalker) skipOpened(open json.Token, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("JSON nested more than %d deep", maxJSONDepth)
	}
	for w.d.More() {
		if open == json.Delim('{') {
			if _, err := w.d.Token(); err != nil { // key
				return err
			}
		}
		if _, err := w.value(depth + 1); err != nil {
			return err
		}
	}
	_, err := w.d.Token()
	return err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
