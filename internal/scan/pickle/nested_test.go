package pickle

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mlguard/mlguard/internal/finding"
)

// latin1Text maps bytes to the text _codecs.encode(text, 'latin1') turns back
// into them, as protocols 0-2 write bytes.
func latin1Text(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return s.String()
}

func TestNestedPickles(t *testing.T) {
	t.Parallel()
	var innerR int64
	inner := p().global("os", "system").string_("id").tuple1().here(&innerR).reduce().stop()
	var inner2R int64
	inner2 := p().proto(2).global("subprocess", "getoutput").binUnicode("id").tuple1().here(&inner2R).reduce().stop()
	member := func(off int64) string { return fmt.Sprintf("pickle.loads argument at offset %d", off) }
	runScanCases(t, []scanCase{
		{"pickle.loads of a literal", func() ([]byte, []got) {
			var r int64
			b := p().proto(3).global("pickle", "loads").binBytes(string(inner.b)).tuple1().here(&r).reduce().stop()
			nested := critGlobal(innerR, "os.system('id')")
			nested.Member = member(r)
			return b.bytes(), []got{critGlobal(r, `pickle.loads(b'cos\nsystem\nS\'id\'\n\x85R.')`), nested}
		}},
		{"_codecs.encode(..., 'latin1') folded into pickle.loads", func() ([]byte, []got) {
			var r, e int64
			b := p().proto(2).global("pickle", "loads").
				global("_codecs", "encode").binUnicode(latin1Text(inner2.b)).binUnicode("latin1").tuple2().here(&e).reduce().
				tuple1().here(&r).reduce().stop()
			nested := critGlobal(inner2R, "subprocess.getoutput('id')")
			nested.Member = member(r)
			return b.bytes(), []got{critGlobal(r, "pickle.loads(b'\\x80\\x02csubprocess\\ngetoutput\\nX\\x02\\x00\\x00\\x00id\\x85R.')"), nested}
		}},
		{"pickle.loads nested twice", func() ([]byte, []got) {
			var r1, r2 int64
			middle := p().proto(3).global("_pickle", "loads").binBytes(string(inner.b)).tuple1().here(&r2).reduce().stop()
			b := p().proto(3).global("pickle", "loads").binBytes(string(middle.b)).tuple1().here(&r1).reduce().stop()
			mid := critGlobal(r2, "")
			mid.Member = member(r1)
			deepest := critGlobal(innerR, "os.system('id')")
			deepest.Member = member(r1) + "!" + "_pickle.loads argument at offset " + fmt.Sprint(r2)
			all := scanBytes(b.bytes())
			for _, f := range all.Findings {
				if f.Member == mid.Member && f.Rule == finding.PickleDangerousGlobal {
					mid.Evidence = f.Evidence // the rendering of the inner bytes is tested above
				}
			}
			return b.bytes(), []got{critGlobal(r1, all.Findings[len(all.Findings)-1].Evidence), mid, deepest}
		}},
		{"a malformed nested pickle is incomplete, not silent", func() ([]byte, []got) {
			var r int64
			b := p().proto(3).global("pickle", "loads").binBytes("cos\nsys").tuple1().here(&r).reduce().stop()
			nested := incomplete(7, "offset 7 (GLOBAL): truncated: the stream ends inside an opcode")
			nested.Member = member(r)
			return b.bytes(), []got{critGlobal(r, `pickle.loads(b'cos\nsys')`), nested}
		}},
	})
	t.Run("repeated loads are scanned a bounded number of times", func(t *testing.T) {
		t.Parallel()
		b := p().proto(3).binBytes(string(inner.b)).binPut(0).pop().mark()
		for range 100 {
			b.global("pickle", "loads").binGet(0).tuple1().reduce()
		}
		res := scanBytes(b.list().stop().bytes())
		n := 0
		for _, f := range res.Findings {
			if f.Member != "" {
				n++
			}
		}
		if n != maxNestedScans {
			t.Errorf("nested findings: %d, want %d", n, maxNestedScans)
		}
	})
}
