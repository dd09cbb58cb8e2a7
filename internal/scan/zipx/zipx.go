// Package zipx is a lenient, bounded ZIP reader for scanning hostile model files.
//
// Attackers craft archives that the strict readers used by scanners reject
// (Go's archive/zip, Python's zipfile) while the loader they target still reads
// them: PyTorch's PyTorchStreamReader (miniz) takes sizes and offsets from the
// central directory, skips the local header by its own name/extra lengths, and
// does not care whether the local name matches; Python's zipfile adjusts every
// offset for data prepended to the archive. zipx reads every member that either
// of them could read, and reports oddities in Archive.Notes instead of failing,
// so that a scanner can flag them and never stop early on a file a loader accepts.
//
// How zipx decides:
//
//   - The end of central directory (EOCD) record is searched for backward over
//     at most 65535+22 bytes. Every signature found is a candidate; candidates
//     whose fields do not lead to a central directory (for example a fake
//     "PK\x05\x06" inside the archive comment) are skipped with a Note. The
//     last consistent record is the primary one; other consistent records that
//     point to a different central directory are read too and their members
//     merged, with a Note, so no directory a loader might choose goes unseen.
//   - The central directory is looked for at its declared offset and, like
//     Python's zipfile, at the offset implied by where the directory really ends
//     ("concat", for self-extracting stubs and other prepended bytes). Member
//     offsets are shifted by the same amount. Zip64 EOCD records (found through
//     the locator or right before it) and zip64 extra fields are honoured.
//   - Entries are read while the directory's declared size or its declared
//     count says there are more, so a directory that lies in one of them still
//     yields every entry either kind of reader would see.
//   - With no usable central directory (a truncated file, a corrupt or missing
//     directory) zipx scans local file headers from the start of the file,
//     finding the end of members with a data descriptor by decoding (deflate)
//     or by searching for the descriptor signature, sets Archive.Recovered and
//     adds a Note. A directory that breaks off part way is also completed this way.
//   - Bytes before the first local header (Archive.Prefix) and after the end
//     record get a Note: a pickle glued before or after a zip is a polyglot
//     that loads as a pickle, and callers should scan those bytes too.
//   - Stored, deflate and bzip2 members are decoded (Python's zipfile reads
//     bzip2); other methods, LZMA and zstd among them, give
//     ErrUnsupportedMethod, which callers report as an unscanned member.
//   - CRC-32 values are recorded, never checked (PyTorch builds miniz with
//     MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS).
//   - Stored members span the larger of their compressed and uncompressed sizes
//     (miniz reads the uncompressed size, Python the compressed size), clipped
//     to the file; reading a member cut short by the end of the file returns
//     io.ErrUnexpectedEOF after the bytes that are there.
//
// Flag bits, so that no member passes silently:
//
//   - Bit 0 (encrypted) or method 99 (AES): Entry.Encrypted is true and
//     Archive.Open returns ErrEncrypted. Python's zipfile asks for a password and
//     miniz refuses such members, but other readers (and streaming loaders) do
//     not, and attackers set bit 0 on plaintext members to make scanners give
//     up. Archive.OpenIgnoringEncryption therefore returns the member's bytes
//     (decompressed when the method allows) as if the bit were clear, so the
//     caller can both scan them and report the flag. A Note says when the sizes
//     leave no room for a traditional encryption header, that is when the data is
//     most likely plaintext. Method 99 cannot be read and is ErrEncrypted always.
//   - Bit 6 (strong encryption) counts as encrypted only together with bit 0,
//     as the specification requires; alone it is read normally, with a Note.
//   - Bit 5 (compressed patched data) and bit 13 (masked local header) are
//     ignored for reading, with a Note; reserved bits likewise.
//   - PyTorch's miniz (mz_zip_reader_extract_*) and Python's zipfile both
//     refuse members with bit 0, 5 or 6 in the central directory, so such
//     members mostly serve to make scanners built on zipfile give up; other
//     readers ignore the bits. zipx reads them all the same and leaves the
//     verdict to the caller, who sees Flags, Encrypted and the Notes.
//   - Bit 3 (data descriptor) and bit 11 (UTF-8 names) are ordinary. Names are
//     kept as raw bytes whatever bit 11 says; making them safe to display is the
//     caller's job.
//
// Open reads the tail of the file, the central directory and each member's
// 30-byte local header and name, never member data, unless it has to recover
// from a missing or corrupt directory. Every length is checked against the
// file size before anything is allocated, and Limits caps entries and metadata.
package zipx

import (
	"errors"
	"fmt"
	"io"
)

// Errors returned by Open and Archive.Open; test with errors.Is.
var (
	// ErrNotZip means neither an end of central directory record nor a local
	// file header was found.
	ErrNotZip = errors.New("zipx: not a zip archive")
	// ErrEncrypted means the member is encrypted (flag bit 0 or method 99).
	ErrEncrypted = errors.New("zipx: member is encrypted")
	// ErrUnsupportedMethod means the member's compression method cannot be
	// decoded; the error text carries the method number.
	ErrUnsupportedMethod = errors.New("zipx: unsupported compression method")
	// ErrTooManyEntries is returned alongside the archive when it holds more
	// than Limits.MaxEntries entries; Entries then holds the first ones.
	ErrTooManyEntries = errors.New("zipx: too many entries")
	// ErrDirectoryTooLarge is returned alongside the archive when the entry
	// metadata exceeds Limits.MaxDirectorySize; Entries then holds the first ones.
	ErrDirectoryTooLarge = errors.New("zipx: central directory too large")
	// ErrLocalHeader means a member's local file header is missing or corrupt,
	// so its data cannot be located.
	ErrLocalHeader = errors.New("zipx: local file header missing or corrupt")
)

// General purpose flag bits of Entry.Flags.
const (
	FlagEncrypted        = 1 << 0
	FlagDataDescriptor   = 1 << 3
	FlagPatched          = 1 << 5
	FlagStrongEncryption = 1 << 6
	FlagUTF8             = 1 << 11
	FlagMaskedHeader     = 1 << 13
)

// Compression methods of Entry.Method.
const (
	MethodStore   = 0
	MethodDeflate = 8
	MethodBzip2   = 12
	MethodAES     = 99
)

// Defaults used for zero Limits fields.
const (
	DefaultMaxEntries       = 100_000
	DefaultMaxDirectorySize = 64 << 20
)

// maxNotes caps Archive.Notes; one more note says how many were left out.
const maxNotes = 200

// Limits bounds what Open reads. Zero fields take the defaults.
type Limits struct {
	// MaxEntries is the most entries Open returns (default DefaultMaxEntries).
	MaxEntries int
	// MaxDirectorySize is the most bytes of entry metadata (central directory
	// headers with names, extras and comments, or recovered local headers)
	// Open reads (default DefaultMaxDirectorySize).
	MaxDirectorySize int64
}

// Entry is one archive member.
type Entry struct {
	Name      string // from the central directory (from the local header when recovered)
	LocalName string // from the local header, when it differs from Name
	Method    uint16 // MethodStore, MethodDeflate and MethodBzip2 can be read
	Flags     uint16 // general purpose bits, from the central directory
	Encrypted bool   // flag bit 0, or method 99 (AES)

	CompressedSize, UncompressedSize uint64 // zip64 aware

	HeaderOffset int64 // offset of the local header in the file, after any "concat" shift; -1 when outside the file
	DataOffset   int64 // offset of the data, from the local header's lengths; -1 when the local header is unusable
	CRC32        uint32
}

// Archive is an opened archive.
type Archive struct {
	Entries   []Entry
	Comment   string
	Notes     []string // oddities worth reporting, in the order found
	Recovered bool     // some entries were found by scanning local headers, not through a central directory
	// Prefix is the number of bytes before the first local header: a
	// self-extracting stub, or the other half of a polyglot file (a pickle
	// before a zip loads as a pickle), worth scanning on its own.
	Prefix int64

	r       io.ReaderAt
	size    int64
	dropped int // notes left out past maxNotes
}

// Open reads the directory of the archive in r, which is size bytes long.
// On ErrTooManyEntries or ErrDirectoryTooLarge it returns the archive read so
// far together with the error; on other errors the archive is nil.
func Open(r io.ReaderAt, size int64, lim Limits) (*Archive, error) {
	if r == nil || size < 0 {
		return nil, errors.New("zipx: opening archive: invalid reader or size")
	}
	if lim.MaxEntries <= 0 {
		lim.MaxEntries = DefaultMaxEntries
	}
	if lim.MaxDirectorySize <= 0 {
		lim.MaxDirectorySize = DefaultMaxDirectorySize
	}
	z := &reader{r: r, size: size, lim: lim, a: &Archive{r: r, size: size}}
	if err := z.run(); err != nil {
		return nil, err
	}
	a := z.a
	if a.dropped > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("%d more notes left out", a.dropped))
	}
	return a, z.limitErr
}

func (a *Archive) note(format string, args ...any) {
	if len(a.Notes) >= maxNotes {
		a.dropped++
		return
	}
	a.Notes = append(a.Notes, fmt.Sprintf(format, args...))
}

// quote renders an untrusted name for a Note: quoted, escaped, and cut short.
func quote(s string) string {
	const max = 200
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// flagNotes records the flag bits worth reporting for a member.
func (a *Archive) flagNotes(e *Entry) {
	n := quote(e.Name)
	f := e.Flags
	if f&FlagEncrypted != 0 && e.Method == MethodStore && e.CompressedSize == e.UncompressedSize {
		a.note("member %s: marked encrypted (flag bit 0) but its sizes leave no room for an encryption header; the data is probably plaintext", n)
	}
	if f&FlagStrongEncryption != 0 && f&FlagEncrypted == 0 {
		a.note("member %s: strong encryption flag (bit 6) set without the encryption flag (bit 0); read as unencrypted", n)
	}
	if f&FlagPatched != 0 {
		a.note("member %s: compressed patched data flag (bit 5) set; ignored", n)
	}
	if f&FlagMaskedHeader != 0 {
		a.note("member %s: masked local header flag (bit 13) set; ignored", n)
	}
	if r := f &^ (FlagEncrypted | 1<<1 | 1<<2 | FlagDataDescriptor | 1<<4 | FlagPatched | FlagStrongEncryption | FlagUTF8 | FlagMaskedHeader); r != 0 {
		a.note("member %s: reserved flag bits 0x%04x set; ignored", n, r)
	}
	switch e.Method {
	case MethodStore, MethodDeflate, MethodBzip2, MethodAES:
	default:
		a.note("member %s: unsupported compression method %d", n, e.Method)
	}
}

// checkEntries adds Notes about the entry list as a whole.
func (a *Archive) checkEntries() {
	names := make(map[string]int, len(a.Entries))
	headers := make(map[int64]int, len(a.Entries))
	for _, e := range a.Entries {
		names[e.Name]++
		if e.DataOffset >= 0 {
			headers[e.HeaderOffset]++
		}
	}
	for i := range a.Entries {
		e := &a.Entries[i]
		if c := names[e.Name]; c > 1 {
			a.note("name %s used by %d entries", quote(e.Name), c)
			names[e.Name] = 0
		}
		if c := headers[e.HeaderOffset]; c > 1 && e.DataOffset >= 0 {
			a.note("%d entries share the local header at offset %d", c, e.HeaderOffset)
			headers[e.HeaderOffset] = 0
		}
	}
}
