package zipx

import (
	"archive/zip"
	"bytes"
	"testing"
)

// A zip stored uncompressed inside another (a stored .npz or torch.save file)
// must not have its entries merged into the outer listing.
func TestStoredInnerZipNotMerged(t *testing.T) {
	t.Parallel()
	var inner bytes.Buffer
	iw := zip.NewWriter(&inner)
	for _, n := range []string{"model/data.pkl", "model/data/0"} {
		w, _ := iw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Store})
		w.Write([]byte("\x80\x02N."))
	}
	iw.Close()
	var outer bytes.Buffer
	ow := zip.NewWriter(&outer)
	w, _ := ow.CreateHeader(&zip.FileHeader{Name: "inner.pt", Method: zip.Store})
	w.Write(inner.Bytes())
	w, _ = ow.CreateHeader(&zip.FileHeader{Name: "readme.txt", Method: zip.Deflate})
	w.Write([]byte("hello"))
	ow.Close()
	a, err := Open(bytes.NewReader(outer.Bytes()), int64(outer.Len()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range a.Entries {
		names = append(names, e.Name)
	}
	if len(names) != 2 || names[0] != "inner.pt" || names[1] != "readme.txt" {
		t.Errorf("entries %q, want [inner.pt readme.txt]", names)
	}
	if len(a.Notes) != 0 {
		t.Errorf("notes on an ordinary archive: %q", a.Notes)
	}
}
