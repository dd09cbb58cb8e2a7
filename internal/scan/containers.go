package scan

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/bodgit/sevenzip"
	"github.com/klauspost/compress/zstd"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/pickle"
	"github.com/mlguard/mlguard/internal/scan/zipx"
	"github.com/mlguard/mlguard/internal/sniff"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
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
	reDataPkl   = regexp.MustCompile(`(^|/)data\.pkl$`)
	reStorage   = regexp.MustCompile(`(^|/)data/[^/]+$`)
	reConstants = regexp.MustCompile(`(^|/)constants\.pkl$`)
	rePickleExt = regexp.MustCompile(`\.(pkl|debug_pkl|pickle)$`)
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
	torch := layout == "pytorch-zip" || layout == "torchscript"
	for i := range a.Entries {
		e := &a.Entries[i]
		if strings.HasSuffix(e.Name, "/") && e.UncompressedSize == 0 {
			continue
		}
		if torch && reStorage.MatchString(e.Name) && !rePickleExt.MatchString(e.Name) {
			continue // raw tensor storage: torch never unpickles it
		}
		j.zipMember(n, a, e, torch && rePickleExt.MatchString(e.Name))
		if j.ctx.Err() != nil {
			return
		}
	}
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
	if e.CompressedSize > 0 && int64(e.UncompressedSize) > j.e.opt.Limits.RatioFloor &&
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
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA && h.Typeflag != tar.TypeGNUSparse {
			continue
		}
		if count++; count > j.e.opt.Limits.MaxEntries {
			j.limit(n, fmt.Sprintf("the archive has more than %d members; the rest were not scanned", j.e.opt.Limits.MaxEntries))
			return
		}
		child := streamNode(n, h.Name, joinMember(n.member, h.Name), tr, h.Size)
		switch strings.TrimPrefix(h.Name, "./") {
		case "storages":
			j.legacyStorages(child)
		case "tensors":
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
		var re sevenzip.ReadError
		if errors.As(err, &re) && re.Encrypted {
			j.add(n, finding.New(finding.ArchiveEncrypted, "the 7z archive's headers are encrypted; nothing in it can be scanned"))
			return
		}
		j.incomplete(n, "the 7z archive could not be read", err)
		return
	}
	if !j.descend(n, "the archive") {
		return
	}
	for i, f := range r.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if i >= j.e.opt.Limits.MaxEntries {
			j.limit(n, fmt.Sprintf("the archive has more than %d members; the rest were not scanned", j.e.opt.Limits.MaxEntries))
			return
		}
		member := joinMember(n.member, f.Name)
		rc, err := f.Open()
		if err != nil {
			j.sevenZipError(member, f.Name, err)
			continue
		}
		child := streamNode(n, f.Name, member, &budgetReader{j: j, n: &node{member: member}, r: rc}, int64(f.UncompressedSize))
		before := len(j.findings)
		j.scan(child)
		rc.Close()
		// A wrong (empty) password shows up as a read error while scanning.
		for k := before; k < len(j.findings); k++ {
			if j.findings[k].Rule == finding.ScanIncomplete && strings.Contains(j.findings[k].Evidence, "encrypt") {
				j.findings[k] = j.findings[len(j.findings)-1]
				j.findings = j.findings[:len(j.findings)-1]
				j.add(&node{member: member}, finding.New(finding.ArchiveEncrypted, fmt.Sprintf("member %s is encrypted and cannot be scanned", f.Name)))
				break
			}
		}
	}
}

func (j *job) sevenZipError(member, name string, err error) {
	var re sevenzip.ReadError
	if errors.As(err, &re) && re.Encrypted {
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
	child := streamNode(n, strings.TrimSuffix(n.name, "."+string(f)), n.member, &budgetReader{j: j, n: n, r: r}, -1)
	child.wrapped = n.depth == 0 || n.wrapped
	j.scan(child)
}

// joblibZF opens joblib's pre-0.10 "ZF" format: "ZF0x" + hex length padded
// to 18 bytes, then a zlib stream.
func joblibZF(r io.Reader) (io.Reader, error) {
	var hdr [18]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("reading the ZF header: %w", err)
	}
	if _, err := strconv.ParseUint(strings.TrimSpace(string(bytes.TrimRight(hdr[4:], " \x00"))), 16, 64); err != nil {
		return nil, fmt.Errorf("bad ZF length field %q", hdr[:])
	}
	return zlib.NewReader(r)
}
