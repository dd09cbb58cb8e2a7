package scan

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/bodgit/sevenzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/keras"
	"github.com/mlguard/mlguard/internal/scan/pickle"
	"github.com/mlguard/mlguard/internal/scan/torchstate"
	"github.com/mlguard/mlguard/internal/scan/zipx"
	"github.com/mlguard/mlguard/internal/sniff"
)

// descend checks the depth limit before entering a container's members.
func (j *job) descend(n *node, what string) bool {
	if n.depth+1 > j.e.opt.Limits.MaxDepth {
		j.limit(n, fmt.Sprintf("%s nested %d levels deep; its content was not scanned", what, n.depth+1))
		return false
	}
	return true
}

// ---- zip (PyTorch, TorchScript, npz, Keras v3 and plain archives) ----

var (
	// torch's reader (miniz) finds members case-insensitively.
	reDataPkl   = regexp.MustCompile(`(?i)(^|/)data\.pkl$`)
	reConstants = regexp.MustCompile(`(?i)(^|/)constants\.pkl$`)
	rePickleExt = regexp.MustCompile(`(?i)\.(pkl|debug_pkl|pickle)$`)
)

// zipLayout says which loader a zip is written for, from its member names.
func zipLayout(entries []zipx.Entry) string {
	torch, script, npy := false, false, len(entries) > 0
	for _, e := range entries {
		switch {
		case reDataPkl.MatchString(e.Name):
			torch = true
		case reConstants.MatchString(e.Name), strings.Contains(e.Name, "/code/") || strings.HasPrefix(e.Name, "code/"):
			script = true
		}
		if !strings.HasSuffix(e.Name, ".npy") && !strings.HasSuffix(e.Name, "/") {
			npy = false
		}
	}
	switch {
	case torch && script:
		return "torchscript"
	case torch:
		return "pytorch-zip"
	case npy:
		return "npz"
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	if keras.IsV3Archive(names) {
		return keras.FormatV3
	}
	return "zip"
}

func (j *job) scanZip(n *node) {
	cleanup, err := j.spool(n)
	if err != nil {
		j.setFormat(n, "zip")
		j.incomplete(n, "the zip archive could not be read", err)
		return
	}
	defer cleanup()
	a, err := zipx.Open(n.ra, n.size, zipx.Limits{MaxEntries: j.e.opt.Limits.MaxEntries})
	if a == nil {
		j.setFormat(n, "zip")
		j.incomplete(n, "the zip archive could not be read", err)
		return
	}
	if errors.Is(err, zipx.ErrTooManyEntries) {
		j.limit(n, fmt.Sprintf("the archive has more than %d members; the rest were not scanned", j.e.opt.Limits.MaxEntries))
	} else if err != nil {
		j.incomplete(n, "the zip archive could not be read completely", err)
	}
	layout := zipLayout(a.Entries)
	j.setFormat(n, layout)
	for _, note := range a.Notes {
		f := finding.New(finding.ArchiveAnomaly, "zip: "+note)
		j.add(n, f)
	}
	if !j.descend(n, "the archive") {
		return
	}
	if a.Prefix > 0 {
		// Bytes before the first member: a pickle placed there loads as a pickle.
		j.scan(&node{name: n.name, member: joinMember(n.member, "<bytes before the archive>"), depth: n.depth + 1,
			size: a.Prefix, ra: io.NewSectionReader(n.ra, 0, a.Prefix)})
	}
	torch := layout == "pytorch-zip" || layout == "torchscript"
	var storageDirs []string // "<folder of data.pkl>/data/", lower-case
	for _, e := range a.Entries {
		if reDataPkl.MatchString(e.Name) {
			storageDirs = append(storageDirs, strings.ToLower(e.Name[:len(e.Name)-len("data.pkl")])+"data/")
		}
	}
	for i := range a.Entries {
		e := &a.Entries[i]
		if strings.HasSuffix(e.Name, "/") && e.UncompressedSize == 0 {
			continue
		}
		if torch && j.rawStorage(a, e, storageDirs) {
			continue // raw tensor bytes: torch never unpickles them
		}
		j.zipMember(n, a, e, torch && rePickleExt.MatchString(e.Name))
		if j.ctx.Err() != nil {
			return
		}
	}
	if torch && (n.depth == 0 || n.wrapped) && j.pickleSafe() {
		for i := range a.Entries {
			if e := &a.Entries[i]; reDataPkl.MatchString(e.Name) && !e.Encrypted {
				j.torchState(func() (io.Reader, func(), error) {
					if e.Method == 0 {
						return a.Raw(e), func() {}, nil
					}
					rc, err := a.Open(e)
					if err != nil {
						return nil, nil, err
					}
					return rc, func() { rc.Close() }, nil
				}, torchstate.Read)
				break
			}
		}
	}
}

// maxStatePickle bounds the state-dict pickle read for the model's
// parameter count (a real data.pkl of a large model is a few MiB).
const maxStatePickle = 32 << 20

// pickleSafe reports whether the pickles scanned so far gave no finding of
// medium severity or above: only then is a checkpoint's state dict read.
func (j *job) pickleSafe() bool {
	for _, f := range j.findings {
		if strings.HasPrefix(f.Rule, "pickle/") && f.Severity >= finding.Medium {
			return false
		}
	}
	return true
}

// torchState reads a PyTorch checkpoint's state dict (without its tensor
// data) for the model's parameter count and dtype. A state dict it cannot
// read leaves them unknown: the security scan has already been done.
func (j *job) torchState(open func() (io.Reader, func(), error), read func(context.Context, io.Reader, int64) (torchstate.Info, error)) {
	r, done, err := open()
	if err != nil {
		return
	}
	defer done()
	info, err := read(j.ctx, r, maxStatePickle)
	if err != nil {
		j.e.log.Debug("the state dict could not be read for its parameter count", "path", j.path, "err", err)
		return
	}
	if info.Tensors > 0 {
		j.info.Parameters, j.info.DType = info.Parameters, info.DType
	}
}

// rawStorage reports whether e is a tensor storage of a PyTorch zip: a
// stored member right under a data/ folder beside data.pkl whose first bytes
// are not anything mlguard scans (another loader, numpy.load say, may still
// read a pickle or array hidden under that name, so such members are scanned).
func (j *job) rawStorage(a *zipx.Archive, e *zipx.Entry, storageDirs []string) bool {
	if e.Method != 0 || e.Encrypted || rePickleExt.MatchString(e.Name) {
		return false
	}
	name := strings.ToLower(e.Name)
	under := false
	for _, d := range storageDirs {
		if strings.HasPrefix(name, d) && !strings.Contains(name[len(d):], "/") {
			under = true
		}
	}
	if !under {
		return false
	}
	head := make([]byte, 64)
	k, _ := a.Raw(e).ReadAt(head, 0)
	f := sniff.Detect(head[:k], int64(k) == a.Raw(e).Size(), e.Name, nil).Format
	return !scannable(f) || f == sniff.Tar || f == sniff.Zlib || f == sniff.Lzma
}

func (j *job) zipMember(n *node, a *zipx.Archive, e *zipx.Entry, forcePickle bool) {
	member := joinMember(n.member, e.Name)
	child := &node{name: e.Name, member: member, depth: n.depth + 1, size: int64(e.UncompressedSize), forcePickle: forcePickle}
	if e.Encrypted {
		f := finding.New(finding.ArchiveEncrypted, fmt.Sprintf("member %s is encrypted and cannot be scanned", e.Name))
		j.add(&node{member: member}, f)
		// The flag may sit on plaintext to make scanners give up: look anyway.
		rc, err := a.OpenIgnoringEncryption(e)
		if err != nil {
			return
		}
		defer rc.Close()
		child.br = bufio.NewReaderSize(&budgetReader{j: j, n: child, r: rc}, 64<<10)
		child.forcePickle = false
		head, _, _ := child.headOf()
		if forcePickle || scannable(sniff.Detect(head, false, e.Name, pickle.Plausible).Format) {
			j.scan(child)
		}
		return
	}
	if e.Method == 0 {
		child.ra = a.Raw(e)
		child.size = a.Raw(e).Size()
		j.scan(child)
		return
	}
	if e.CompressedSize > 0 && e.UncompressedSize > uint64(j.e.opt.Limits.RatioFloor) &&
		float64(e.UncompressedSize)/float64(e.CompressedSize) > j.e.opt.Limits.MaxRatio {
		j.limit(child, fmt.Sprintf("member %s would expand %d bytes to %d (ratio over %.0f); not scanned", e.Name, e.CompressedSize, e.UncompressedSize, j.e.opt.Limits.MaxRatio))
		return
	}
	rc, err := a.Open(e)
	if err != nil {
		j.incomplete(child, fmt.Sprintf("member %s could not be opened", e.Name), err)
		return
	}
	defer rc.Close()
	child.br = bufio.NewReaderSize(&budgetReader{j: j, n: child, r: rc}, 64<<10)
	child.size = -1
	j.scan(child)
}

// scannable reports whether a sniffed format is one mlguard reads.
func scannable(f sniff.Format) bool {
	switch f {
	case sniff.Unknown, sniff.Text, sniff.Image, sniff.PDF, sniff.Exec, sniff.Empty:
		return false
	}
	return true
}

// ---- tar (including torch's legacy tar layout) ----

func (j *job) scanTar(n *node) {
	j.setFormat(n, "tar")
	if !j.descend(n, "the archive") {
		return
	}
	tr := tar.NewReader(n.reader())
	count := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			j.incomplete(n, "the tar archive could not be read to the end", err)
			return
		}
		if h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink {
			switch strings.TrimPrefix(h.Name, "./") {
			case "storages", "tensors", "pickle", "sys_info":
				// torch.load extracts these by name and unpickles what the link points to.
				j.incomplete(&node{member: joinMember(n.member, h.Name)}, fmt.Sprintf("member %s of a legacy PyTorch tar is a link to %s; torch.load unpickles the target, which was not scanned", h.Name, h.Linkname), nil)
			}
			continue
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA && h.Typeflag != tar.TypeGNUSparse {
			continue
		}
		if count++; count > j.e.opt.Limits.MaxEntries {
			j.limit(n, fmt.Sprintf("the archive has more than %d members; the rest were not scanned", j.e.opt.Limits.MaxEntries))
			return
		}
		var r io.Reader = tr
		if sparse(h) {
			// Holes read as zeros: a small archive can hold a member of
			// terabytes. Charge them like decompressed bytes.
			r = &budgetReader{j: j, n: n, r: tr}
		}
		child := streamNode(n, h.Name, joinMember(n.member, h.Name), r, h.Size)
		switch strings.TrimPrefix(h.Name, "./") {
		case "storages":
			j.relabel(n, "tar", "pytorch-legacy-tar")
			j.legacyStorages(child)
		case "tensors":
			j.relabel(n, "tar", "pytorch-legacy-tar")
			j.legacyTensors(child)
		case "pickle", "sys_info":
			child.forcePickle = true
			j.scan(child)
		default:
			j.scan(child)
		}
		if j.ctx.Err() != nil {
			return
		}
	}
}

// sparse reports whether a tar member is a sparse file, in any of the GNU formats.
func sparse(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// ---- 7z ----

func (j *job) scan7z(n *node) {
	j.setFormat(n, "7z")
	cleanup, err := j.spool(n)
	if err != nil {
		j.incomplete(n, "the 7z archive could not be read", err)
		return
	}
	defer cleanup()
	r, err := sevenzip.NewReader(n.ra, n.size)
	if err != nil {
		if encrypted7z(err) {
			j.add(n, finding.New(finding.ArchiveEncrypted, "the 7z archive's headers are encrypted; nothing in it can be scanned"))
			return
		}
		j.incomplete(n, "the 7z archive could not be read", err)
		return
	}
	if !j.descend(n, "the archive") {
		return
	}
	encrypted := encryptedFolders(n.ra, n.size)
	// Members of one folder (a solid block) are decoded in sequence: opening
	// a member decodes every byte between where the folder's decoder stands
	// and the member's start. That is charged to the budget like the bytes
	// read, so that a huge member nobody reads cannot be decoded for free.
	start := map[int]int64{} // where the next member of each folder starts
	pos := map[int]int64{}   // where each folder's decoder stands
	for i, f := range r.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if i >= j.e.opt.Limits.MaxEntries {
			j.limit(n, fmt.Sprintf("the archive has more than %d members; the rest were not scanned", j.e.opt.Limits.MaxEntries))
			return
		}
		member := joinMember(n.member, f.Name)
		size := int64(f.UncompressedSize)
		if size <= 0 {
			continue // an empty file, with no stream of its own
		}
		off := start[f.Stream]
		start[f.Stream] = off + size
		if encrypted[f.Stream] {
			j.add(&node{member: member}, finding.New(finding.ArchiveEncrypted, fmt.Sprintf("member %s is encrypted and cannot be scanned", f.Name)))
			continue
		}
		if skip := off - pos[f.Stream]; skip > 0 {
			if skip > j.budget {
				j.budget = 0
				j.overBudget(n)
				return
			}
			j.budget -= skip
		}
		rc, err := f.Open()
		if err != nil {
			j.sevenZipError(member, f.Name, err)
			continue
		}
		hint := &hintReader{r: rc}
		counted := &countingReader{r: &budgetReader{j: j, n: &node{member: member}, r: hint}}
		child := streamNode(n, f.Name, member, counted, size)
		before := len(j.findings)
		j.scan(child)
		rc.Close()
		pos[f.Stream] = off + counted.n
		if hint.encrypted {
			// Decoding with a wrong (empty) password failed while scanning.
			kept := j.findings[:before]
			for _, fd := range j.findings[before:] {
				if fd.Rule != finding.ScanIncomplete {
					kept = append(kept, fd)
				}
			}
			j.findings = kept
			j.add(&node{member: member}, finding.New(finding.ArchiveEncrypted, fmt.Sprintf("member %s is encrypted and cannot be scanned", f.Name)))
		}
	}
}

// encrypted7z reports whether a sevenzip error says encryption is involved.
func encrypted7z(err error) bool {
	var re *sevenzip.ReadError
	return errors.As(err, &re) && re.Encrypted
}

// hintReader records whether a read failed on an encrypted folder.
type hintReader struct {
	r         io.Reader
	encrypted bool
}

func (h *hintReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if err != nil && encrypted7z(err) {
		h.encrypted = true
	}
	return n, err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// encryptedFolders tells which folders of a 7z archive are encrypted.
// sevenzip hints at encryption only when decoding fails, and decoding with a
// wrong password can also yield garbage without an error. Passwords change
// nothing for folders that are not encrypted, so the first bytes of each
// folder are decoded under two different passwords and compared.
func encryptedFolders(ra io.ReaderAt, size int64) map[int]bool {
	a, errA := sevenzip.NewReaderWithPassword(ra, size, "mlguard-probe-1")
	b, errB := sevenzip.NewReaderWithPassword(ra, size, "mlguard-probe-2")
	if errA != nil || errB != nil || len(a.File) != len(b.File) {
		return nil
	}
	out := map[int]bool{}
	seen := map[int]bool{}
	for i, f := range a.File {
		if f.FileInfo().IsDir() || f.UncompressedSize == 0 || seen[f.Stream] {
			continue
		}
		seen[f.Stream] = true
		ha, hintA := head7z(f)
		hb, hintB := head7z(b.File[i])
		out[f.Stream] = hintA || hintB || !bytes.Equal(ha, hb)
	}
	return out
}

// head7z decodes the first bytes of a member; hint is set when decoding
// failed on an encrypted folder.
func head7z(f *sevenzip.File) (head []byte, hint bool) {
	rc, err := f.Open()
	if err != nil {
		return nil, encrypted7z(err)
	}
	defer rc.Close()
	buf := make([]byte, 64)
	k, err := io.ReadFull(rc, buf)
	return buf[:k], err != nil && encrypted7z(err)
}

func (j *job) sevenZipError(member, name string, err error) {
	if encrypted7z(err) {
		j.add(&node{member: member}, finding.New(finding.ArchiveEncrypted, fmt.Sprintf("member %s is encrypted and cannot be scanned", name)))
		return
	}
	j.incomplete(&node{member: member}, fmt.Sprintf("member %s could not be opened", name), err)
}

// ---- compressed streams ----

func (j *job) scanCompressed(n *node, f sniff.Format) {
	j.setFormat(n, string(f))
	if !j.descend(n, "the compressed stream") {
		return
	}
	src := n.reader()
	var r io.Reader
	var err error
	switch f {
	case sniff.Gzip:
		var gz *gzip.Reader
		if gz, err = gzip.NewReader(src); err == nil {
			r = gz
		}
	case sniff.Bzip2:
		r = bzip2.NewReader(src)
	case sniff.Xz:
		r, err = xz.NewReader(src)
	case sniff.Lzma:
		r, err = lzma.NewReader(src)
	case sniff.Zlib:
		r, err = zlib.NewReader(src)
	case sniff.Lz4:
		r = lz4.NewReader(src)
	case sniff.Zstd:
		var d *zstd.Decoder
		if d, err = zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30)); err == nil {
			defer d.Close()
			r = d
		}
	case sniff.JoblibZF:
		r, err = joblibZF(src)
	}
	if err != nil {
		j.incomplete(n, fmt.Sprintf("the %s stream could not be opened", f), err)
		return
	}
	child := streamNode(n, decompressedName(n.name), n.member, &budgetReader{j: j, n: n, r: r}, -1)
	child.wrapped = n.depth == 0 || n.wrapped
	j.scan(child)
}

// decompressedName is the name a compressed file's content would have, a
// hint for sniffing it: "model.pkl.gz" holds "model.pkl", "a.tgz" "a.tar".
func decompressedName(name string) string {
	ext := path.Ext(name)
	switch strings.ToLower(ext) {
	case ".gz", ".gzip", ".bz2", ".bzip2", ".xz", ".lzma", ".z", ".zlib", ".lz4", ".zst", ".zstd":
		return strings.TrimSuffix(name, ext)
	case ".tgz", ".tbz", ".tbz2", ".txz", ".tlz", ".tzst":
		return strings.TrimSuffix(name, ext) + ".tar"
	}
	return name
}

// joblibZF opens joblib's pre-0.10 "ZF" format, as
// numpy_pickle_compat.read_zfile reads it: "ZF", the data length in hex
// ("0x1a2b") padded with spaces to 19 bytes, then a zlib stream, which
// Python 2 writers up to joblib 0.8.4 put one more space before.
func joblibZF(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	var hdr [21]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("reading the ZF header: %w", err)
	}
	field := strings.TrimSpace(string(hdr[2:]))
	field = strings.TrimPrefix(strings.TrimPrefix(field, "0x"), "0X")
	if _, err := strconv.ParseUint(field, 16, 64); err != nil {
		return nil, fmt.Errorf("bad ZF length field %q", hdr[2:])
	}
	if b, err := br.Peek(1); err == nil && b[0] == ' ' {
		br.Discard(1)
	}
	return zlib.NewReader(br)
}
