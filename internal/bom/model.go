package bom

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"golang.org/x/sync/errgroup"

	"github.com/mlguard/mlguard/internal/deps"
	"github.com/mlguard/mlguard/internal/digest"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/health"
	"github.com/mlguard/mlguard/internal/modelcard"
	"github.com/mlguard/mlguard/internal/scan/configs"
	"github.com/mlguard/mlguard/internal/scan/gguf"
	"github.com/mlguard/mlguard/internal/scan/modelfile"
	"github.com/mlguard/mlguard/internal/scan/tensorflow"
)

// Limits on what a model folder contributes.
const (
	maxFolderFiles = 1024    // files hashed in one model folder
	maxSmallFile   = 4 << 20 // bytes of config.json, a model card, a download metadata file
)

// configFormats are scanned files that describe a model rather than hold
// one: they join a folder's model, never make one of their own.
var configFormats = map[string]bool{
	configs.FormatHF: true, configs.FormatTokenizer: true, configs.FormatJSON: true,
	configs.FormatHydra: true, configs.FormatNemo: true, tensorflow.FormatKerasMetadata: true,
}

// modelFile is one file of a model.
type modelFile struct {
	path   string // display path
	size   int64
	sha256 string
	format string // "" for a folder file that is not a model file
	info   finding.ModelInfo
	err    string // why it could not be hashed
}

// model is one model: a single file, or a folder.
type model struct {
	name     string
	dir      string // the folder of a folder model, "" for a single file
	files    []modelFile
	card     *modelcard.Card
	config   *hfConfig
	revision string // the Hub commit the folder was downloaded at, when it says
	meta     map[string]hubMeta
	capped   bool     // the folder had more files than maxFolderFiles
	notes    []string // what could not be read: the component says so
}

// hfConfig is what the BOM reads from a transformers config.json.
type hfConfig struct {
	ModelType     string
	Architectures []string
	NameOrPath    string
	TorchDType    string
}

// groupModels turns scanned files into models: files of a folder with a
// config.json or a model card become one model with every file of that
// folder; any other model file is a model of its own.
func groupModels(ctx context.Context, files []finding.File, opt Options) ([]*model, error) {
	byDir := map[string][]finding.File{}
	var dirs []string
	for _, f := range files {
		if configFormats[f.Format] {
			continue
		}
		d := path.Dir(cleanPath(f.Path))
		if _, ok := byDir[d]; !ok {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], f)
	}
	slices.Sort(dirs)
	excluded := map[string]bool{}
	for _, x := range opt.Exclude {
		excluded[absClean(x)] = true
	}
	var models []*model
	var toHash []*modelFile
	for _, d := range dirs {
		fs := byDir[d]
		// The folder is listed once, for its card and for its files.
		entries, listErr := os.ReadDir(abs(opt.Root, d))
		if listErr != nil {
			entries = nil // the scanned files still make the model
		}
		card, cardNotes := readCard(opt.Root, d, entries)
		cfg, cfgNotes := readConfig(opt.Root, d)
		notes := append(cardNotes, cfgNotes...)
		if card == nil && cfg == nil {
			for _, f := range fs {
				models = append(models, &model{name: path.Base(cleanPath(f.Path)), files: []modelFile{fromFile(f)}, notes: notes})
			}
			continue
		}
		m := &model{name: folderName(d, card), dir: d, card: card, config: cfg, notes: notes}
		scanned := map[string]finding.File{}
		for _, f := range fs {
			scanned[path.Base(cleanPath(f.Path))] = f
		}
		if listErr != nil {
			m.notes = append(m.notes, "the folder could not be listed, only its model files are: "+listErr.Error())
		}
		seen := map[string]bool{}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || !e.Type().IsRegular() || excluded[absClean(filepath.Join(abs(opt.Root, d), name))] {
				continue
			}
			if len(m.files) >= maxFolderFiles {
				m.capped = true
				break
			}
			seen[name] = true
			if f, ok := scanned[name]; ok {
				m.files = append(m.files, fromFile(f))
				continue
			}
			m.files = append(m.files, modelFile{path: joinDisplay(d, name)})
		}
		for name, f := range scanned { // scanned but not listed (a read error)
			if !seen[name] {
				m.files = append(m.files, fromFile(f))
			}
		}
		slices.SortFunc(m.files, func(a, b modelFile) int { return strings.Compare(a.path, b.path) })
		m.meta = readHubMeta(opt.Root, d, m.files)
		models = append(models, m)
	}
	for _, m := range models {
		for i := range m.files {
			if m.files[i].sha256 == "" {
				toHash = append(toHash, &m.files[i])
			}
		}
	}
	if err := hashAll(ctx, opt, toHash); err != nil {
		return nil, err
	}
	for _, m := range models {
		m.revision = revision(m.meta, m.files)
	}
	return models, nil
}

func fromFile(f finding.File) modelFile {
	return modelFile{path: f.Path, size: f.Size, sha256: f.SHA256, format: f.Format, info: f.ModelInfo}
}

// hashAll hashes the files that have no digest yet, in parallel.
func hashAll(ctx context.Context, opt Options, files []*modelFile) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(opt.Jobs, 4))
	for _, f := range files {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			sum, n, err := digest.File(abs(opt.Root, f.path))
			if err != nil {
				f.err = err.Error()
				return nil
			}
			f.sha256, f.size = sum, n
			return nil
		})
	}
	return g.Wait()
}

func abs(root, display string) string {
	if filepath.IsAbs(display) || root == "" {
		return filepath.FromSlash(display)
	}
	return filepath.Join(root, filepath.FromSlash(display))
}

// absClean is p made absolute, for comparing paths.
func absClean(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

func joinDisplay(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// folderName names a folder model: the model card's model-index name, or
// the folder's name. (config.json's _name_or_path is where the config was
// loaded from, often the base model or a local checkpoint: never the
// folder's own identity.)
func folderName(dir string, card *modelcard.Card) string {
	if card != nil && card.ModelName != "" {
		return card.ModelName
	}
	if dir == "." {
		if wd, err := os.Getwd(); err == nil {
			return filepath.Base(wd)
		}
	}
	return path.Base(dir)
}

// readSmall reads a small regular file: nil when it is absent, and an
// error when it is a link, not a regular file (a FIFO would block), too
// large or unreadable. The pull request controls these files; a link could
// point anywhere on the runner.
func readSmall(name string) ([]byte, error) {
	st, err := os.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%s is a symbolic link, not followed", filepath.Base(name))
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file", filepath.Base(name))
	case st.Size() > maxSmallFile:
		return nil, fmt.Errorf("%s is %d bytes, more than the %d read", filepath.Base(name), st.Size(), maxSmallFile)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSmallFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSmallFile {
		return nil, fmt.Errorf("%s grew past %d bytes while read", filepath.Base(name), maxSmallFile)
	}
	return b, nil
}

// readCard reads the folder's model card: nil when there is none or it is
// not a model's (a project README, a Space's). A card counts when its front
// matter has a key only model cards have: pipeline_tag, library_name,
// base_model or model-index; a Space (sdk:) never does. Problems reading
// it are returned as notes. entries is the folder's listing (nil when it
// could not be listed, which the caller reports).
func readCard(root, dir string, entries []os.DirEntry) (*modelcard.Card, []string) {
	var notes []string
	for _, e := range entries {
		if !modelcard.IsCard(e.Name()) {
			continue
		}
		b, err := readSmall(filepath.Join(abs(root, dir), e.Name()))
		if err != nil {
			notes = append(notes, "the model card could not be read: "+err.Error())
			continue
		}
		if b == nil || bytes.Contains(firstLines(b, 64), []byte("\nsdk:")) {
			continue
		}
		c, err := modelcard.Parse(b)
		if err != nil && bytes.HasPrefix(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), []byte("---")) {
			notes = append(notes, e.Name()+": the front matter could not be read: "+err.Error())
		}
		if c != nil && (c.PipelineTag != "" || c.LibraryName != "" || len(c.BaseModels) > 0 || len(c.Metrics) > 0 || c.ModelName != "") {
			return c, notes
		}
	}
	return nil, notes
}

// firstLines is the start of b: up to n lines.
func firstLines(b []byte, n int) []byte {
	end := 0
	for i := 0; i < n && end < len(b); i++ {
		j := bytes.IndexByte(b[end:], '\n')
		if j < 0 {
			return b
		}
		end += j + 1
	}
	return b[:end]
}

// readConfig reads the folder's transformers config.json, nil when there is
// none. Fields of unexpected types are ignored.
func readConfig(root, dir string) (*hfConfig, []string) {
	b, err := readSmall(filepath.Join(abs(root, dir), "config.json"))
	if err != nil {
		return nil, []string{"config.json could not be read: " + err.Error()}
	}
	return parseConfig(b), nil
}

// parseConfig reads the fields the BOM uses from config.json content; nil
// when it is not a transformers config.
func parseConfig(b []byte) *hfConfig {
	if b == nil {
		return nil
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		return nil
	}
	c := &hfConfig{}
	_ = json.Unmarshal(raw["model_type"], &c.ModelType)
	_ = json.Unmarshal(raw["architectures"], &c.Architectures)
	_ = json.Unmarshal(raw["_name_or_path"], &c.NameOrPath)
	_ = json.Unmarshal(raw["torch_dtype"], &c.TorchDType)
	if c.ModelType == "" && len(c.Architectures) == 0 {
		return nil // some other JSON file named config.json
	}
	c.ModelType = clip(c.ModelType, 128)
	c.NameOrPath = clip(c.NameOrPath, 256)
	c.TorchDType = clip(c.TorchDType, 32)
	if len(c.Architectures) > 8 {
		c.Architectures = c.Architectures[:8]
	}
	for i := range c.Architectures {
		c.Architectures[i] = clip(c.Architectures[i], 128)
	}
	return c
}

// hubMeta is what huggingface_hub keeps next to a downloaded file
// (.cache/huggingface/download/<file>.metadata): the commit it was
// downloaded at and its etag (for a Git LFS file, the SHA-256 of its
// content).
type hubMeta struct{ commit, etag string }

// readHubMeta reads the download metadata of a folder's files.
func readHubMeta(root, dir string, files []modelFile) map[string]hubMeta {
	out := map[string]hubMeta{}
	base := filepath.Join(abs(root, dir), ".cache", "huggingface", "download")
	for _, f := range files {
		b, err := readSmall(filepath.Join(base, path.Base(f.path)+".metadata"))
		if err != nil || b == nil {
			continue
		}
		lines := strings.SplitN(string(b), "\n", 3)
		if len(lines) < 2 {
			continue
		}
		commit := strings.TrimSpace(lines[0])
		etag := strings.Trim(strings.TrimPrefix(strings.TrimSpace(lines[1]), "W/"), `"`)
		if len(commit) == 40 && isHex(commit) {
			out[f.path] = hubMeta{commit: strings.ToLower(commit), etag: strings.ToLower(etag)}
		}
	}
	return out
}

// revision is the Hub commit the folder was downloaded at, trusted only
// when a file's metadata etag is that file's SHA-256: a planted metadata
// file for some other content does not name the model's revision.
func revision(meta map[string]hubMeta, files []modelFile) string {
	for _, f := range files {
		if m, ok := meta[f.path]; ok && f.sha256 != "" && m.etag == strings.ToLower(f.sha256) {
			return m.commit
		}
	}
	return ""
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// model makes the component of a model.
func (b *builder) model(m *model) cdx.Component {
	paths := map[string]bool{}
	for _, f := range m.files {
		paths[cleanPath(f.path)] = true
	}
	refPath := m.dir
	if refPath == "" {
		refPath = m.files[0].path
	}
	c := cdx.Component{
		BOMRef: b.ref("model:" + refPath),
		Type:   cdx.ComponentTypeMachineLearningModel,
		Name:   clip(m.name, 256),
	}
	var props []cdx.Property
	info, format := m.mainInfo()
	if m.dir == "" {
		f := m.files[0]
		c.Version = f.sha256
		if f.sha256 != "" {
			c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: f.sha256}}
		} else {
			props = append(props, cdx.Property{Name: propIncomplete, Value: "not hashed: " + clip(cmp.Or(f.err, "the scan gave no digest"), 512)})
		}
		props = append(props, cdx.Property{Name: propFormat, Value: f.format})
	} else {
		c.Version = cmp0(m.revision, m.contentHash())
		sub := make([]cdx.Component, 0, len(m.files))
		for _, f := range m.files {
			fc := cdx.Component{BOMRef: b.ref("file:" + f.path), Type: cdx.ComponentTypeFile, Name: f.path}
			if f.sha256 != "" {
				fc.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: f.sha256}}
			}
			var fp []cdx.Property
			if f.format != "" {
				fp = append(fp, cdx.Property{Name: propFormat, Value: f.format})
			}
			if f.err != "" {
				fp = append(fp, cdx.Property{Name: propIncomplete, Value: "not hashed: " + clip(f.err, 512)})
			}
			if len(fp) > 0 {
				fc.Properties = &fp
			}
			sub = append(sub, fc)
		}
		c.Components = &sub
		if m.capped {
			props = append(props, cdx.Property{Name: propIncomplete, Value: fmt.Sprintf("the folder has more than %d files; only the first are listed", maxFolderFiles)})
		}
	}
	// Ancestors: the card's base models, and the Hub model config.json was
	// loaded from (a fine-tune's base), each once.
	var bases []string
	if m.card != nil {
		bases = append(bases, m.card.BaseModels...)
	}
	if m.config != nil && hubID(m.config.NameOrPath) {
		bases = append(bases, m.config.NameOrPath)
	}
	var ancestors []cdx.Component
	seenBase := map[string]bool{}
	for _, id := range bases {
		if seenBase[strings.ToLower(id)] {
			continue
		}
		seenBase[strings.ToLower(id)] = true
		a := cdx.Component{Type: cdx.ComponentTypeMachineLearningModel, Name: clip(id, 256)}
		if hubID(id) {
			a.PackageURL = deps.Package{Ecosystem: deps.HuggingFace, Name: id}.PURL()
		}
		ancestors = append(ancestors, a)
	}
	if len(ancestors) > 0 {
		c.Pedigree = &cdx.Pedigree{Ancestors: &ancestors}
	}
	for _, n := range m.notes {
		props = append(props, cdx.Property{Name: propIncomplete, Value: clip(n, 512)})
	}
	if m.card != nil {
		c.Licenses = cardLicenses(m.card)
		if len(m.card.Tags) > 0 {
			tags := slices.Clone(m.card.Tags)
			c.Tags = &tags
		}
	}
	if info.Parameters > 0 {
		props = append(props, cdx.Property{Name: propParameters, Value: strconv.FormatInt(info.Parameters, 10)})
	}
	dtype := info.DType
	if dtype == "" && m.config != nil {
		dtype = m.config.TorchDType
	}
	if dtype != "" {
		props = append(props, cdx.Property{Name: propDType, Value: dtype})
	}
	if info.Producer != "" {
		props = append(props, cdx.Property{Name: propProducer, Value: info.Producer})
	}
	props = append(props, scanProps(b.findingsOf(paths))...)
	sortProps(props)
	c.Properties = &props
	c.ModelCard = b.modelCard(m, info, format == gguf.Format)
	return c
}

func cmp0(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// shardName matches the files of a sharded checkpoint,
// "model-00001-of-00004.safetensors": the group is the name without the
// shard number.
var shardName = regexp.MustCompile(`^(.*)-\d{5}-of-(\d{5})(\.[^/]*)$`)

// mainInfo is the model information of the model's main weights file and
// its format: the largest model file that has a parameter count (else the
// largest). Its parameter count is summed over the shards of the same
// checkpoint ("-0000k-of-0000n" names) and of no other file: a folder often
// holds the same weights more than once (pytorch_model.bin next to
// model.safetensors, several GGUF quantizations, model_fp16.onnx).
func (m *model) mainInfo() (finding.ModelInfo, string) {
	best := -1
	for i, f := range m.files {
		if f.format == "" || configFormats[f.format] {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := m.files[best]
		if (f.info.Parameters > 0) != (b.info.Parameters > 0) {
			if f.info.Parameters > 0 {
				best = i
			}
			continue
		}
		if f.size > b.size {
			best = i
		}
	}
	if best < 0 {
		return finding.ModelInfo{}, ""
	}
	main := m.files[best]
	info := main.info
	if g := shardName.FindStringSubmatch(path.Base(main.path)); g != nil {
		var sum int64
		for _, f := range m.files {
			if h := shardName.FindStringSubmatch(path.Base(f.path)); h != nil && h[1] == g[1] && h[2] == g[2] && h[3] == g[3] && f.format == main.format {
				sum = modelfile.AddSat(sum, f.info.Parameters)
			}
		}
		info.Parameters = sum
	}
	return info, main.format
}

// contentHash identifies a folder's content: the SHA-256 of its files'
// names and digests.
func (m *model) contentHash() string {
	h := sha256.New()
	for _, f := range m.files {
		fmt.Fprintf(h, "%s\x00%s\n", path.Base(f.path), f.sha256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// modelCard builds the CycloneDX model card from the config, the format's
// headers and the model card.
func (b *builder) modelCard(m *model, info finding.ModelInfo, family bool) *cdx.MLModelCard {
	p := &cdx.MLModelParameters{}
	if m.config != nil {
		p.ArchitectureFamily = m.config.ModelType
		if len(m.config.Architectures) > 0 {
			p.ModelArchitecture = m.config.Architectures[0]
		}
	}
	switch arch := clip(info.Architecture, 128); {
	case arch == "":
	case family && p.ArchitectureFamily == "":
		p.ArchitectureFamily = arch // GGUF general.architecture: "llama", "qwen2"
	case !family && p.ModelArchitecture == "":
		p.ModelArchitecture = arch // a Keras class, an ONNX graph, a config's model class
	}
	for _, t := range info.Inputs {
		p.Inputs = appendIO(p.Inputs, t)
	}
	for _, t := range info.Outputs {
		p.Outputs = appendIO(p.Outputs, t)
	}
	mc := &cdx.MLModelCard{}
	if card := m.card; card != nil {
		p.Task = card.PipelineTag
		var ds []cdx.MLDatasetChoice
		for _, d := range card.Datasets {
			ds = append(ds, cdx.MLDatasetChoice{Ref: b.dataset(d)})
		}
		if len(ds) > 0 {
			p.Datasets = &ds
		}
		mc.QuantitativeAnalysis = metrics(card)
		mc.Considerations = considerations(card)
	}
	if *p != (cdx.MLModelParameters{}) {
		mc.ModelParameters = p
	}
	if mc.ModelParameters == nil && mc.QuantitativeAnalysis == nil && mc.Considerations == nil {
		return nil
	}
	return mc
}

func appendIO(list *[]cdx.MLInputOutputParameters, t finding.Tensor) *[]cdx.MLInputOutputParameters {
	s := t.Name
	if t.DType != "" {
		s += ": " + t.DType
	}
	if t.Shape != nil {
		s += "[" + strings.Join(t.Shape, ", ") + "]"
	}
	l := append(deref(list), cdx.MLInputOutputParameters{Format: clip(s, 512)})
	return &l
}

func metrics(card *modelcard.Card) *cdx.MLQuantitativeAnalysis {
	var ms []cdx.MLPerformanceMetric
	for _, m := range card.Metrics {
		if m.Value == "" {
			continue
		}
		slice := m.DatasetName
		if slice == "" {
			slice = m.DatasetType
		}
		if m.DatasetSplit != "" {
			slice += " (" + m.DatasetSplit + ")"
		}
		if m.TaskName != "" || m.Task != "" {
			slice = strings.TrimSpace(cmp0(m.TaskName, m.Task) + " on " + slice)
		}
		ms = append(ms, cdx.MLPerformanceMetric{Type: cmp0(m.Type, m.Name), Value: m.Value, Slice: slice})
	}
	if len(ms) == 0 {
		return nil
	}
	return &cdx.MLQuantitativeAnalysis{PerformanceMetrics: &ms}
}

func considerations(card *modelcard.Card) *cdx.MLModelCardConsiderations {
	s := card.Sections
	c := &cdx.MLModelCardConsiderations{}
	some := func(v ...string) *[]string {
		var out []string
		for _, x := range v {
			if x != "" {
				out = append(out, x)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return &out
	}
	c.UseCases = some(s.IntendedUse)
	outOfScope := ""
	if s.OutOfScope != "" {
		outOfScope = "Out-of-scope use: " + s.OutOfScope
	}
	c.TechnicalLimitations = some(s.Limitations, outOfScope)
	var eth []cdx.MLModelCardEthicalConsideration
	for _, t := range []string{s.Bias, s.Ethical} {
		if t != "" {
			eth = append(eth, cdx.MLModelCardEthicalConsideration{Name: t})
		}
	}
	if len(eth) > 0 {
		c.EthicalConsiderations = &eth
	}
	if c.UseCases == nil && c.TechnicalLimitations == nil && c.EthicalConsiderations == nil {
		return nil
	}
	return c
}

// cardLicenses is the model card's licence: an SPDX id or expression, or
// the named licence ("other" with license_name).
func cardLicenses(card *modelcard.Card) *cdx.Licenses {
	l := strings.TrimSpace(card.License)
	if l == "" {
		return nil
	}
	if strings.EqualFold(l, "other") && card.LicenseName != "" {
		lic := &cdx.License{Name: clip(card.LicenseName, 256)}
		if strings.HasPrefix(card.LicenseLink, "https://") {
			lic.URL = card.LicenseLink
		}
		return &cdx.Licenses{{License: lic}}
	}
	return licenses(l)
}

// spdx reports whether raw is an SPDX licence id (returned in its canonical
// case) or an expression of known ids (expr true).
func spdx(raw string) (s string, expr, ok bool) {
	if id, ok := health.CanonicalSPDX(raw); ok {
		return id, false, true
	}
	e, err := health.ParseLicence(raw)
	if err != nil || e.Op == "" && e.Exception == "" {
		return "", false, false
	}
	known := true
	var walk func(l *health.Licence)
	walk = func(l *health.Licence) {
		if l.Op == "" {
			id := strings.TrimSuffix(l.ID, "+")
			if c, ok := health.CanonicalSPDX(id); ok {
				l.ID = c + strings.TrimPrefix(l.ID, id)
			} else if !strings.HasPrefix(l.ID, "LicenseRef-") {
				known = false
			}
			if l.Exception != "" {
				if c, ok := health.CanonicalSPDX(l.Exception); ok {
					l.Exception = c
				} else {
					known = false
				}
			}
		}
		for _, p := range l.Parts {
			walk(p)
		}
	}
	walk(e)
	if !known {
		return "", false, false
	}
	return e.String(), true, true
}
