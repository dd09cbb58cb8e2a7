package keras

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/hdf5"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
)

// Formats ScanH5 reports.
const (
	// FormatH5 is a Keras model saved whole in HDF5 (model.save("m.h5")).
	FormatH5 = "keras-h5"
	// FormatHDF5 is any other HDF5 file: Keras weights only
	// (save_weights, model.weights.h5 inside a .keras archive) or data.
	FormatHDF5 = "hdf5"
)

// h5ConfigAttributes are the root attributes that legacy Keras loading
// deserializes: model_config (the architecture, rebuilt layer by layer) and
// training_config (optimizer, losses and metrics, rebuilt on compile).
var h5ConfigAttributes = []string{"model_config", "training_config"}

// ScanH5 scans a Keras HDF5 file: the model_config and training_config
// root attributes are Keras configs, walked as AnalyzeConfig does, with
// Member set to the attribute's name. Keras's legacy HDF5 loading ignores
// safe_mode (CVE-2025-9905), so a Lambda layer here runs on load whatever
// the caller asked. A file without model_config (weights only, or HDF5 that
// is not Keras) has nothing to rebuild: Format "hdf5", no finding. A file
// the reader cannot parse is a scan/incomplete finding.
func ScanH5(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error) {
	rep := &modelfile.Report{Format: FormatHDF5}
	incomplete := func(msg string, err error) {
		f := finding.New(finding.ScanIncomplete, msg)
		if err != nil {
			f.Evidence = err.Error()
			if errors.Is(err, hdf5.ErrUnsupported) {
				f.Message += " (it uses an HDF5 feature mlguard does not read)"
			}
		}
		rep.Findings = append(rep.Findings, f)
	}
	f, err := hdf5.Open(r, size)
	if err != nil {
		incomplete("the HDF5 file could not be read, so a Keras model config in it could not be examined", err)
		return rep, nil
	}
	root, err := f.Root()
	if err != nil {
		incomplete("the root group of the HDF5 file could not be read", err)
		return rep, nil
	}
	for _, name := range h5ConfigAttributes {
		if err := ctx.Err(); err != nil {
			incomplete("the scan was cancelled before the Keras config was examined", err)
			return rep, nil
		}
		a, ok, err := root.Attribute(name)
		if err != nil {
			incomplete("the "+name+" attribute of the HDF5 file could not be read", err)
			continue
		}
		if !ok {
			continue
		}
		text, ok := attributeText(a.Value)
		if !ok {
			incomplete("the "+name+" attribute holds something other than text, so the Keras config could not be examined", nil)
			continue
		}
		if name == "model_config" {
			rep.Format = FormatH5
		}
		sub := AnalyzeConfigOpt(ctx, []byte(text), name, opt)
		if name == "model_config" {
			rep.Architecture = sub.Architecture
		}
		for _, fd := range sub.Findings {
			// Positions are in the attribute's text, not in the file.
			if fd.Member == name {
				fd.Offset, fd.Line = 0, 0
			}
			rep.Findings = append(rep.Findings, fd)
		}
	}
	return rep, nil
}

// attributeText returns an attribute value as the text Keras would decode
// with json.loads: h5py gives str or bytes, sometimes in a one-element array.
func attributeText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	case []string:
		return strings.Join(x, ""), len(x) > 0
	}
	return "", false
}
