package scan

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/configs"
	"github.com/mlguard/mlguard/internal/scan/gguf"
	"github.com/mlguard/mlguard/internal/scan/keras"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	"github.com/mlguard/mlguard/internal/scan/numpy"
	"github.com/mlguard/mlguard/internal/scan/onnx"
	"github.com/mlguard/mlguard/internal/scan/pickle"
	"github.com/mlguard/mlguard/internal/scan/safetensors"
	"github.com/mlguard/mlguard/internal/scan/tensorflow"
	"github.com/mlguard/mlguard/internal/scan/torchstate"
	"github.com/mlguard/mlguard/internal/sniff"
)

// node is one thing to scan: the top-level file, an archive member or a
// decompressed stream. Random-access nodes have ra; streams have br.
type node struct {
	name   string // file or member name, a hint for sniffing
	member string // where inside the top-level file, "a/b.zip!c.pkl"
	depth  int
	size   int64 // -1 when unknown
	ra     io.ReaderAt
	br     *bufio.Reader
	// wrapped is set on the content of a compressed top-level stream, so the
	// file's format reads "xz/pickle".
	wrapped bool
	// forcePickle scans the node as a pickle whatever sniffing says (members
	// that a loader unpickles by name, such as data.pkl in a PyTorch zip).
	forcePickle bool
}

// reader returns a fresh reader from the start of the node. For ra nodes it
// is seekable, which lets the pickle decoder jump over tensor bytes.
func (n *node) reader() io.Reader {
	if n.ra != nil {
		size := n.size
		if size < 0 {
			size = 1 << 62
		}
		return io.NewSectionReader(n.ra, 0, size)
	}
	return n.br
}

func streamNode(parent *node, name, member string, r io.Reader, size int64) *node {
	return &node{name: name, member: member, depth: parent.depth + 1, size: size, br: bufio.NewReaderSize(r, 64<<10)}
}

func (j *job) setFormat(n *node, f string) {
	switch {
	case n.depth == 0:
		j.format = f
	case n.wrapped:
		j.format += "/" + f
	}
}

// relabel changes the format a container was given once its members show
// which layout it is (a tar that is torch's legacy format).
func (j *job) relabel(n *node, from, to string) {
	switch {
	case n.depth == 0 && j.format == from:
		j.format = to
	case n.wrapped && strings.HasSuffix(j.format, "/"+from):
		j.format = strings.TrimSuffix(j.format, from) + to
	}
}

// scan sniffs a node and dispatches it to its scanner.
func (j *job) scan(n *node) {
	if err := j.ctx.Err(); err != nil {
		j.incomplete(n, "the scan was cancelled before this part was examined", err)
		return
	}
	head, complete, err := n.headOf()
	if err != nil {
		j.incomplete(n, "the content could not be read", err)
		return
	}
	s := sniff.Detect(head, complete, n.name, func(h []byte, c bool) bool { return pickle.PlausibleSized(h, c, n.size) })
	if n.forcePickle && s.Format != sniff.Pickle && s.Format != sniff.PyTorchLegacy {
		s = sniff.Result{Format: sniff.Pickle}
	}
	switch s.Format {
	case sniff.Pickle:
		j.scanPickle(n, 0, "pickle")
	case sniff.PyTorchLegacy:
		// Magic number, protocol version, system info, the object, storage keys; raw storages follow.
		j.scanPickle(n, 5, "pytorch-legacy")
		if n.ra != nil && (n.depth == 0 || n.wrapped) && j.pickleSafe() {
			j.torchState(func() (io.Reader, func(), error) { return n.reader(), func() {}, nil }, torchstate.ReadLegacy)
		}
	case sniff.Zip:
		j.scanZip(n)
	case sniff.Tar:
		j.scanTar(n)
	case sniff.SevenZip:
		j.scan7z(n)
	case sniff.Gzip, sniff.Bzip2, sniff.Xz, sniff.Lzma, sniff.Zlib, sniff.Lz4, sniff.Zstd, sniff.JoblibZF:
		j.scanCompressed(n, s.Format)
	case sniff.NumPy:
		j.scanNumpy(n)
	case sniff.Safetensors:
		j.scanFormat(n, "safetensors", safetensors.Scan)
		if n.ra != nil && hasZipTail(n.ra, n.size) && n.depth < j.e.opt.Limits.MaxDepth {
			// A polyglot: Python's zipfile reads a zip from its end, whatever
			// comes first. What it would find is scanned too.
			j.scanZip(&node{name: n.name, member: joinMember(n.member, "<zip appended to the safetensors data>"),
				depth: n.depth + 1, size: n.size, ra: n.ra})
		}
	case sniff.GGUF:
		j.scanFormat(n, "gguf", gguf.Scan)
	case sniff.HDF5:
		j.scanFormat(n, "hdf5", keras.ScanH5)
	case sniff.TFLite:
		j.scanFormat(n, "tflite", tensorflow.ScanTFLite)
	default:
		if j.scanByName(n, s, head) {
			return
		}
		if s.Format == sniff.Unknown && n.ra != nil && hasZipTail(n.ra, n.size) {
			// Junk before a zip: Python's zipfile (numpy.load, NpzFile) reads it from the end.
			j.scanZip(n)
			return
		}
		if sniff.PickleExtension(n.name) && (s.Format == sniff.Unknown || s.Format == sniff.Text && len(head) > 0 && pickle.IsOpcode(head[0])) {
			// Named like a pickle and starting like one, or nothing else we know: fail closed.
			j.scanPickle(n, 0, "pickle")
			return
		}
		if n.depth == 0 {
			j.skipReason = s.Reason
		}
		if n.wrapped {
			j.format += "/" + string(s.Format)
		}
	}
}

// scanByName routes the formats that have no magic number: protobuf files
// by their name (saved_model.pb, keras_metadata.pb) or, for ONNX, by a
// plausibility check of the content, and the text configs that loaders
// execute (Hugging Face config.json and tokenizer_config.json, Keras
// configs, Hydra YAML, chat templates) by name and content. It reports
// whether it took the node.
func (j *job) scanByName(n *node, s sniff.Result, head []byte) bool {
	base := strings.ToLower(baseName(n.name))
	switch {
	case base == "saved_model.pb":
		j.scanFormat(n, "tf-savedmodel", tensorflow.ScanSavedModel)
		return true
	case base == "keras_metadata.pb":
		j.scanFormat(n, "tf-keras-metadata", tensorflow.ScanKerasMetadata)
		return true
	case s.Format == sniff.Unknown && (path.Ext(base) == ".onnx" || onnx.Plausible(head)):
		j.scanFormat(n, "onnx", onnx.Scan)
		return true
	case s.Format != sniff.Text && s.Format != sniff.Unknown:
		return false
	}
	kind := configs.Kind(n.name, head)
	if kind == "" && (path.Ext(base) == ".yaml" || path.Ext(base) == ".yml") && n.ra != nil && n.size > int64(len(head)) {
		// A _target_ past the first few KiB still runs: look at the whole file.
		if full, err := modelfile.ReadAll(n.ra, n.size, configs.MaxSize); err == nil {
			kind = configs.Kind(n.name, full)
		}
	}
	var scan formatScanner
	switch kind {
	case configs.KindKeras:
		scan = withMember(keras.ScanConfigJSON)
	case configs.KindHF, configs.KindTokenizer:
		scan = withMember(configs.ScanJSONConfig)
	case configs.KindHydraYAML:
		scan = withMember(configs.ScanYAML)
		if n.depth == 0 {
			// A repository's own Hydra or Lightning config names its own
			// classes: ordinary. Only dangerous targets are reported there;
			// inside a model archive (.nemo) every unknown target is.
			scan = atLeast(finding.High, scan)
		}
	case configs.KindChatTemplate:
		scan = withMember(configs.ScanChatTemplate)
	default:
		return false
	}
	j.scanFormat(n, kind, scan)
	return true
}

// atLeast drops a scanner's findings below min.
func atLeast(min finding.Severity, f formatScanner) formatScanner {
	return func(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error) {
		rep, err := f(ctx, r, size, opt)
		if rep != nil {
			kept := rep.Findings[:0]
			for _, fd := range rep.Findings {
				if fd.Severity >= min {
					kept = append(kept, fd)
				}
			}
			rep.Findings = kept
		}
		return rep, err
	}
}

// withMember adapts the config scanners, which can name a member, to
// formatScanner: the engine attaches the node's member itself.
func withMember(f func(context.Context, io.ReaderAt, int64, modelfile.Options, string) (*modelfile.Report, error)) formatScanner {
	return func(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error) {
		return f(ctx, r, size, opt, "")
	}
}

// hasZipTail reports whether an end of central directory record sits in the
// last 64 KiB of the content.
func hasZipTail(ra io.ReaderAt, size int64) bool {
	if size < 22 {
		return false
	}
	n := min(size, 65535+22)
	buf := make([]byte, n)
	if k, _ := ra.ReadAt(buf, size-n); int64(k) != n {
		return false
	}
	return bytes.Contains(buf, []byte("PK\x05\x06"))
}

// pickleOptions are the pickle engine's options for a node: nested files
// (torch.storage._load_from_bytes payloads) go through the whole engine.
func (j *job) pickleOptions(n *node, maxPickles int) pickle.Options {
	return pickle.Options{MaxPickles: maxPickles, Allow: j.e.opt.Allow, Deny: j.e.opt.Deny,
		Nested: func(ctx context.Context, r io.Reader, size int64) []finding.Finding {
			sub := &job{e: j.e, ctx: ctx, budget: j.budget}
			child := &node{name: "payload", size: size, depth: n.depth + 1}
			if ra, ok := r.(io.ReaderAt); ok && size >= 0 {
				child.ra = ra
			} else {
				child.br = bufio.NewReaderSize(&budgetReader{j: sub, n: child, r: r}, 64<<10)
			}
			sub.scan(child)
			return sub.findings
		}}
}

// scanPickle decodes a pickle stream; maxPickles as in pickle.Options.
func (j *job) scanPickle(n *node, maxPickles int, format string) {
	res := pickle.Scan(j.ctx, n.reader(), j.pickleOptions(n, maxPickles))
	for _, g := range res.Globals {
		if pickle.IsJoblibWrapper(g) && format == "pickle" {
			format = "joblib"
		}
	}
	j.setFormat(n, format)
	for _, f := range res.Findings {
		j.add(n, f)
	}
}

// scanNumpy reads an .npy header; object arrays carry a pickle after it.
func (j *job) scanNumpy(n *node) {
	j.setFormat(n, "numpy")
	r := n.reader()
	h, err := numpy.ReadHeader(r)
	if err != nil {
		j.incomplete(n, "the NumPy header could not be read", err)
		return
	}
	if !h.Object {
		return
	}
	f := finding.New(finding.NumpyObjectArray, fmt.Sprintf("the array's dtype %s holds Python objects, stored as a pickle", h.Descr))
	f.Offset = h.DataOffset
	j.add(n, f)
	res := pickle.Scan(j.ctx, r, j.pickleOptions(n, 1))
	for _, f := range res.Findings {
		f.Offset += h.DataOffset
		j.add(n, f)
	}
}

// spool turns a stream node into a random-access one, for formats that need
// to seek (zip, 7z). The copy is charged to the decompression budget.
func (j *job) spool(n *node) (func(), error) {
	if n.ra != nil {
		return func() {}, nil
	}
	tmp, err := os.CreateTemp("", "mlguard-*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary file: %w", err)
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	size, err := io.Copy(tmp, n.br)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("copying %s to a temporary file: %w", n.name, err)
	}
	n.ra, n.size, n.br = tmp, size, nil
	return cleanup, nil
}

func baseName(name string) string { return path.Base(strings.ReplaceAll(name, "\\", "/")) }
