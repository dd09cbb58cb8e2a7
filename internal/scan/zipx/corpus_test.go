package zipx

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// corpusDir holds picklescan's test files, shared across packages; tests
// that use it skip when it is absent.
const corpusDir = "/work/shared/corpus/picklescan"

// corpusZips are the zip files in corpusDir and what each one tests.
var corpusZips = []struct {
	file      string
	encrypted []string // members really encrypted: Open and OpenIgnoringEncryption give no pickle
	flagged   []string // members with flag bit 0 set over plaintext
	localName map[string]string
	notes     []string
}{
	{file: "malicious1.zip"},
	{file: "malicious1_wrong_ext.zip"}, // a pickle named data.txt
	{file: "malicious1_0x1.zip", flagged: []string{"model/config.pkl"}, notes: []string{"probably plaintext"}},
	{file: "malicious1_0x20.zip", notes: []string{"bit 5"}},
	{file: "malicious1_0x40.zip", notes: []string{"bit 6"}},
	{file: "malicious1_central_directory.zip", localName: map[string]string{"data.pkl": "datap.kl"}, notes: []string{"differs from the central directory"}},
	{file: "benign_password_protected.zip", encrypted: []string{"test.txt"}},
	{file: "new_pytorch_model.bin"}, // zip64 end records, data descriptors, "FB" padding extras
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	for _, tc := range corpusZips {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join(corpusDir, tc.file))
			if err != nil {
				t.Skip(err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			a, err := Open(f, st.Size(), Limits{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if len(a.Entries) == 0 {
				t.Fatal("no entries")
			}
			t.Logf("entries %q notes %q", entryNames(a), a.Notes)
			for _, s := range tc.notes {
				if !hasNote(a, s) {
					t.Errorf("no note containing %q in %q", s, a.Notes)
				}
			}
			for i := range a.Entries {
				e := &a.Entries[i]
				if e.LocalName != tc.localName[e.Name] {
					t.Errorf("%s: LocalName %q, want %q", e.Name, e.LocalName, tc.localName[e.Name])
				}
				really := slices.Contains(tc.encrypted, e.Name)
				flagged := slices.Contains(tc.flagged, e.Name)
				if e.Encrypted != (really || flagged) {
					t.Errorf("%s: Encrypted = %v", e.Name, e.Encrypted)
				}
				rc, err := a.Open(e)
				if really || flagged {
					if !errors.Is(err, ErrEncrypted) {
						t.Errorf("%s: Open error = %v, want ErrEncrypted", e.Name, err)
					}
					if really {
						continue
					}
					rc, err = a.OpenIgnoringEncryption(e)
				}
				if err != nil {
					t.Errorf("%s: %v", e.Name, err)
					continue
				}
				data, err := io.ReadAll(io.LimitReader(rc, 1<<20))
				rc.Close()
				if err != nil {
					t.Errorf("%s: read: %v", e.Name, err)
				}
				if uint64(len(data)) != e.UncompressedSize {
					t.Errorf("%s: read %d bytes, want %d", e.Name, len(data), e.UncompressedSize)
				}
				if filepath.Ext(e.Name) == ".pkl" || filepath.Base(e.Name) == "data.txt" {
					if len(data) == 0 || !isPickleStart(data[0]) {
						t.Errorf("%s: content %q does not start like a pickle", e.Name, data[:min(len(data), 16)])
					}
				}
			}
		})
	}
}

// isPickleStart reports whether b can start a pickle: PROTO, or an opcode of
// protocol 0 or 1.
func isPickleStart(b byte) bool {
	const proto01 = "(.012FGIJKLMNPQRSTUVXabcdeghijlopqrstu})]"
	return b == 0x80 || strings.IndexByte(proto01, b) >= 0
}
