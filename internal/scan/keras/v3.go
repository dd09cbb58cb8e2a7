package keras

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/configs/pyjson"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	"github.com/mlguard/mlguard/internal/scan/zipx"
)

// A Keras 3 .keras file is a zip: config.json (the model config, what the
// loader deserializes), metadata.json (keras_version, date_saved) and
// model.weights.h5 (or model.weights.npz), plus assets/ for layers that
// save files (vocabularies). Keras opens it with Python's zipfile and reads
// members by exact name at the root.

// Member names Keras reads from a .keras archive.
const (
	ConfigMember   = "config.json"
	MetadataMember = "metadata.json"
	WeightsMember  = "model.weights.h5"
)

// FormatV3 is the format of a .keras archive.
const FormatV3 = "keras-v3"

// IsV3Archive reports whether the member names of a zip are those of a
// .keras archive: config.json at the root with metadata.json or weights.
func IsV3Archive(names []string) bool {
	config, other := false, false
	for _, n := range names {
		switch n {
		case ConfigMember:
			config = true
		case MetadataMember, WeightsMember, "model.weights.npz":
			other = true
		}
	}
	return config && other
}

// ScanConfigJSON scans the config.json of a .keras archive (or any Keras
// model config JSON, such as model.to_json() output): the report's Format
// is "keras-v3" and its findings have Member set to member (pass "" when
// the caller attaches the member itself). Size may be -1 when unknown.
func ScanConfigJSON(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options, member string) (*modelfile.Report, error) {
	b, err := modelfile.ReadAll(r, size, MaxConfig)
	if err != nil {
		rep := &modelfile.Report{Format: FormatV3}
		f := finding.New(finding.ScanIncomplete, "the Keras config could not be read: "+err.Error())
		f.Member = member
		rep.Findings = append(rep.Findings, f)
		return rep, nil
	}
	rep := AnalyzeConfigOpt(ctx, b, member, opt)
	rep.Format = FormatV3
	return rep, nil
}

// Metadata is what metadata.json says.
type Metadata struct {
	KerasVersion string
	DateSaved    string
}

// maxMetadata bounds metadata.json, a few dozen bytes in real archives.
const maxMetadata = 1 << 20

// ReadMetadata parses metadata.json.
func ReadMetadata(b []byte) (Metadata, error) {
	if len(b) > maxMetadata {
		return Metadata{}, errors.New("metadata.json is larger than 1 MiB")
	}
	v, err := pyjson.ParseBytes(b)
	if err != nil {
		return Metadata{}, err
	}
	o, ok := v.(*pyjson.Object)
	if !ok {
		return Metadata{}, errors.New("metadata.json is not an object")
	}
	var m Metadata
	m.KerasVersion, _ = o.String("keras_version")
	m.DateSaved, _ = o.String("date_saved")
	return m, nil
}

// ScanMetadataJSON reads the metadata.json of a .keras archive. It has no
// code in it; the report's Format is "keras-v3", and a metadata.json that
// is not JSON is a scan/incomplete finding (Keras refuses such archives,
// so a file that needs it is not what it claims).
func ScanMetadataJSON(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options, member string) (*modelfile.Report, error) {
	rep := &modelfile.Report{Format: FormatV3}
	b, err := modelfile.ReadAll(r, size, maxMetadata)
	if err == nil {
		_, err = ReadMetadata(b)
	}
	if err != nil {
		f := finding.New(finding.ScanIncomplete, "the Keras metadata.json could not be read")
		f.Member = member
		f.Evidence = err.Error()
		rep.Findings = append(rep.Findings, f)
	}
	return rep, nil
}

// ScanKerasZip scans the parts of a .keras archive that carry code: every
// member named config.json at the root (Python's zipfile reads the last of
// duplicates, mlguard reads them all) and metadata.json. The engine scans
// the other members (model.weights.h5, assets) as it scans any zip; a
// caller without the engine can pass them to ScanH5 itself.
func ScanKerasZip(ctx context.Context, r io.ReaderAt, size int64, opt modelfile.Options) (*modelfile.Report, error) {
	a, err := zipx.Open(r, size, zipx.Limits{})
	if a == nil {
		return &modelfile.Report{Format: FormatV3}, fmt.Errorf("opening the .keras archive: %w", err)
	}
	rep := &modelfile.Report{Format: FormatV3}
	if err != nil {
		f := finding.New(finding.ScanIncomplete, "the .keras archive could not be read completely")
		f.Evidence = err.Error()
		rep.Findings = append(rep.Findings, f)
	}
	configs := 0
	for i := range a.Entries {
		e := &a.Entries[i]
		name := e.Name
		if name != MetadataMember && !strings.EqualFold(name, ConfigMember) {
			continue
		}
		if e.UncompressedSize > MaxConfig {
			f := finding.New(finding.ScanIncomplete, fmt.Sprintf("%s is %d bytes, more than the %d this scanner reads", name, e.UncompressedSize, MaxConfig))
			f.Member = name
			rep.Findings = append(rep.Findings, f)
			continue
		}
		b, err := readMember(a, e)
		if err != nil {
			f := finding.New(finding.ScanIncomplete, name+" could not be read")
			f.Member = name
			f.Evidence = err.Error()
			rep.Findings = append(rep.Findings, f)
			continue
		}
		if name == MetadataMember {
			if _, err := ReadMetadata(b); err != nil {
				f := finding.New(finding.ScanIncomplete, "the Keras metadata.json could not be read")
				f.Member = name
				f.Evidence = err.Error()
				rep.Findings = append(rep.Findings, f)
			}
			continue
		}
		configs++
		sub := AnalyzeConfigOpt(ctx, b, name, opt)
		if name == ConfigMember && rep.Architecture == "" {
			rep.Architecture = sub.Architecture
		}
		rep.Findings = append(rep.Findings, sub.Findings...)
	}
	if configs == 0 {
		f := finding.New(finding.ScanIncomplete, "the .keras archive has no config.json; Keras cannot load it as it stands, and mlguard found nothing it would rebuild")
		rep.Findings = append(rep.Findings, f)
	}
	return rep, nil
}

func readMember(a *zipx.Archive, e *zipx.Entry) ([]byte, error) {
	rc, err := a.Open(e)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxConfig+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxConfig {
		return nil, fmt.Errorf("more than %d bytes once decompressed", MaxConfig)
	}
	return b, nil
}
