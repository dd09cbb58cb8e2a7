// Package sniff tells what a file is from its first bytes. The file name is
// only a hint, used to break ties the content leaves open: an attacker
// controls both, and a loader (torch.load, pickle.load) does not care about
// the extension either.
package sniff

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"path"
	"strings"
	"unicode/utf8"
)

// Format names what sniffing found. Model and container formats are scanned;
// the others are reported as skipped with Reason.
type Format string

// Formats mlguard scans (or unpacks to scan what is inside).
const (
	Pickle        Format = "pickle"
	PyTorchLegacy Format = "pytorch-legacy"
	Zip           Format = "zip"
	Tar           Format = "tar"
	SevenZip      Format = "7z"
	Gzip          Format = "gzip"
	Bzip2         Format = "bzip2"
	Xz            Format = "xz"
	Lzma          Format = "lzma"
	Zlib          Format = "zlib"
	Lz4           Format = "lz4"
	Zstd          Format = "zstd"
	JoblibZF      Format = "joblib-zfile"
	NumPy         Format = "numpy"
)

// Model formats with a magic number, read by their own scanners.
const (
	Safetensors Format = "safetensors"
	GGUF        Format = "gguf"
	HDF5        Format = "hdf5"
	TFLite      Format = "tflite"
)

// Formats that are not models.
const (
	Empty   Format = "empty"
	Text    Format = "text"
	Image   Format = "image"
	PDF     Format = "pdf"
	Exec    Format = "executable"
	Unknown Format = "unknown"
)

// Result is what Detect found.
type Result struct {
	Format Format
	// Reason says, for formats that are not scanned, what the file is.
	Reason string
}

// HeadSize is how many leading bytes Detect wants (fewer is fine for small files).
const HeadSize = 4096

// pickleMagic is the LONG1 magic number torch's legacy format pickles first.
var pickleMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// PicklePlausible reports whether head (the first bytes of a file, complete
// when the file is no longer) decodes as the start of a pickle. It is set by
// the pickle package, which owns the decoder, to keep this package free of it.
type PicklePlausible func(head []byte, complete bool) bool

// Detect sniffs head, the first bytes of a file or member; complete says
// whether head is the whole content. name is a hint only.
func Detect(head []byte, complete bool, name string, plausible PicklePlausible) Result {
	switch {
	case len(head) == 0:
		return Result{Format: Empty, Reason: "empty file"}
	case bytes.HasPrefix(head, pickleMagic):
		return Result{Format: PyTorchLegacy}
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")),
		bytes.HasPrefix(head, []byte("PK\x07\x08")):
		return Result{Format: Zip}
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		return Result{Format: NumPy}
	case bytes.HasPrefix(head, []byte("7z\xbc\xaf\x27\x1c")):
		return Result{Format: SevenZip}
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return Result{Format: Gzip}
	case len(head) >= 10 && bytes.HasPrefix(head, []byte("BZh")) && head[3] >= '1' && head[3] <= '9' &&
		(bytes.Equal(head[4:10], []byte("1AY&SY")) || bytes.Equal(head[4:10], []byte("\x17rE8P\x90"))):
		return Result{Format: Bzip2}
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return Result{Format: Xz}
	case bytes.HasPrefix(head, []byte{0x04, 0x22, 0x4d, 0x18}):
		return Result{Format: Lz4}
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Result{Format: Zstd}
	case bytes.HasPrefix(head, []byte("ZF0x")):
		return Result{Format: JoblibZF}
	}
	// A pickle that merely starts like a format we do not scan yet would pass
	// unseen, and pickle.load does not care about magic numbers: the pickle
	// check comes first. (Real GGUF, safetensors, TFLite and tar heads fail
	// it within a few bytes.)
	if isBMP(head) {
		return Result{Format: Image, Reason: "BMP image" + named(name)}
	}
	if plausible != nil && plausible(head, complete) {
		return Result{Format: Pickle}
	}
	switch {
	case bytes.HasPrefix(head, []byte("GGUF")):
		return Result{Format: GGUF, Reason: "GGUF model"}
	case bytes.HasPrefix(head, []byte("\x89HDF\r\n\x1a\n")):
		return Result{Format: HDF5, Reason: "HDF5 file (Keras .h5)"}
	case len(head) >= 8 && bytes.Equal(head[4:8], []byte("TFL3")):
		return Result{Format: TFLite, Reason: "TFLite model"}
	case isTar(head):
		return Result{Format: Tar}
	case isSafetensors(head):
		return Result{Format: Safetensors, Reason: "safetensors model"}
	}
	// Compression formats with short or weak magic numbers come after the
	// pickle check; the caller confirms them by decompressing.
	if isZlib(head, complete) {
		return Result{Format: Zlib}
	}
	if isLzma(head) {
		return Result{Format: Lzma}
	}
	if r, ok := notModel(head, name); ok {
		return r
	}
	return Result{Format: Unknown, Reason: "not a recognised model or archive format"}
}

// PickleExtension reports whether name's extension says "pickle" strongly
// enough that content which is neither a pickle nor anything else we know is
// still scanned as one (and so fails closed instead of being skipped).
func PickleExtension(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".pkl", ".pickle", ".pk", ".pt", ".pth", ".ckpt", ".joblib", ".dill", ".sav", ".dat", ".p":
		return true
	}
	return false
}

// isBMP recognises a Windows bitmap by its magic and DIB header size.
func isBMP(head []byte) bool {
	if len(head) < 18 || head[0] != 'B' || head[1] != 'M' {
		return false
	}
	switch binary.LittleEndian.Uint32(head[14:18]) {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

func isTar(head []byte) bool {
	if len(head) < 512 {
		return false
	}
	magic := head[257:265]
	if bytes.Equal(magic[:6], []byte("ustar\x00")) || bytes.Equal(magic, []byte("ustar  \x00")) {
		return true
	}
	// Pre-POSIX (v7) tar: verify the header checksum.
	return tarChecksumOK(head[:512])
}

func tarChecksumOK(h []byte) bool {
	field := bytes.Trim(h[148:156], " \x00")
	if len(field) == 0 {
		return false
	}
	var want int64
	for _, c := range field {
		if c < '0' || c > '7' {
			return false
		}
		want = want*8 + int64(c-'0')
	}
	var sum int64
	for i, c := range h {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	return sum == want && h[0] != 0
}

func isSafetensors(head []byte) bool {
	if len(head) < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(head)
	return n >= 2 && n < 100<<20 && head[8] == '{' && (head[9] == '"' || head[9] == '}' || head[9] == ' ')
}

func isZlib(head []byte, complete bool) bool {
	if len(head) < 2 {
		return false
	}
	cmf, flg := head[0], head[1]
	if cmf&0x0f != 8 || cmf>>4 > 7 || (uint16(cmf)<<8|uint16(flg))%31 != 0 || flg&0x20 != 0 {
		return false
	}
	// Two bytes are a weak signature that text passes ("XGBoost", "HKEY_"):
	// inflate what head holds, which text and other binaries fail quickly.
	fr := flate.NewReader(bytes.NewReader(head[2:]))
	defer fr.Close()
	_, err := io.Copy(io.Discard, io.LimitReader(fr, 1<<20))
	switch {
	case err == nil:
		return true
	case errors.Is(err, io.ErrUnexpectedEOF):
		// Cut short by the end of head, or a truncated stream (but not text
		// that happened to decode up to its end).
		return !complete || !isText(head)
	}
	return false
}

func isLzma(head []byte) bool {
	// .lzma "alone" header: properties byte (lc/lp/pb, 0x5d for the defaults),
	// dictionary size, then the uncompressed size (-1 when unknown).
	if len(head) < 13 || head[0] > 224 {
		return false
	}
	dict := binary.LittleEndian.Uint32(head[1:5])
	size := binary.LittleEndian.Uint64(head[5:13])
	return head[0] == 0x5d && dict >= 1<<12 && dict&(dict-1) == 0 && (size == ^uint64(0) || size < 1<<48)
}

// notModel recognises common files that are not models.
func notModel(head []byte, name string) (Result, bool) {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return Result{Format: Image, Reason: "PNG image" + named(name)}, true
	case bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}):
		return Result{Format: Image, Reason: "JPEG image" + named(name)}, true
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return Result{Format: Image, Reason: "GIF image" + named(name)}, true
	case len(head) >= 12 && bytes.HasPrefix(head, []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return Result{Format: Image, Reason: "WebP image" + named(name)}, true
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return Result{Format: PDF, Reason: "PDF document" + named(name)}, true
	case bytes.HasPrefix(head, []byte("\x7fELF")), bytes.HasPrefix(head, []byte("MZ")),
		bytes.HasPrefix(head, []byte{0xcf, 0xfa, 0xed, 0xfe}), bytes.HasPrefix(head, []byte{0xca, 0xfe, 0xba, 0xbe}):
		return Result{Format: Exec, Reason: "executable or object code" + named(name)}, true
	}
	if isText(head) {
		return Result{Format: Text, Reason: "text file" + named(name)}, true
	}
	return Result{}, false
}

func named(name string) string {
	if ext := path.Ext(name); ext != "" {
		return " (named " + ext + ")"
	}
	return ""
}

func isText(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	// Allow a multi-byte rune cut at the end of head.
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n == 1 {
			if len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
				break
			}
			return false
		}
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' && r != '\f' && r != 0x1b {
			return false
		}
		i += n
	}
	return true
}
