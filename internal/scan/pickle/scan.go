// Package pickle is mlguard's own pickle engine: a streaming decoder of every
// opcode of protocols 0 to 5 and a symbolic VM over stack and memo that
// resolves what each GLOBAL, STACK_GLOBAL, INST, OBJ, NEWOBJ, REDUCE, BUILD
// and EXT refers to, without creating a single Python object. Globals are
// classified allowlist first (see globals.go) and every call is recorded
// with its literal arguments, so a finding can show os.system('…') as evidence.
package pickle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/scan/pickle/pickleop"
)

// Options tune a scan.
type Options struct {
	// MaxPickles stops after this many complete pickles; 0 decodes every
	// pickle the stream holds back to back (as torch's legacy format and
	// several concatenated dumps do).
	MaxPickles int
	// Allow lists extra trusted globals, "module.name" or "module.*".
	Allow []string
	// Deny lists extra dangerous globals, in the same form; it wins over
	// Allow and over the built-in safe lists.
	Deny []string
	// Nested scans a whole file handed as bytes to a nested loader such as
	// torch.storage._load_from_bytes; findings come back with paths empty.
	// The reader is an io.ReaderAt as well when size >= 0.
	Nested func(ctx context.Context, r io.Reader, size int64) []finding.Finding
}

func (o Options) classify(module, name string) Verdict {
	v := Classify(module, name)
	for _, d := range o.Deny {
		if listed(d, v.Resolved) && v.Class != Dangerous {
			return Verdict{Class: Dangerous, Why: "denied by the policy", Resolved: v.Resolved}
		}
	}
	if v.Class != Unknown {
		return v
	}
	for _, a := range o.Allow {
		if listed(a, v.Resolved) {
			return Verdict{Class: SafeClass, Why: "allowed by policy", Resolved: v.Resolved}
		}
	}
	return v
}

// listed reports whether a policy entry ("module.name" or "module.*")
// names the global.
func listed(entry, global string) bool {
	return entry == global || strings.HasSuffix(entry, ".*") && strings.HasPrefix(global, strings.TrimSuffix(entry, "*"))
}

// Result is what a scan found. Finding paths are empty (the caller knows the
// file); Member is set for findings inside nested pickles.
type Result struct {
	Findings []finding.Finding
	// Pickles counts the complete pickles decoded.
	Pickles int
	// End is the offset just after the last complete pickle.
	End int64
	// Err is why decoding stopped early, when it did; Findings then hold a
	// scan/incomplete (or pickle/resource-exhaustion) finding.
	Err error
	// Globals lists every distinct global referenced, as "module.name".
	Globals []string
}

// Scan decodes the pickle stream r. It never returns an error: problems
// with the stream are findings. Offsets count from r's current position.
func Scan(ctx context.Context, r io.Reader, opt Options) *Result {
	return scan(ctx, r, opt, 0, false)
}

// scan decodes r; plain is set for payloads that the standard Unpickler reads
// (pickle.loads arguments), where joblib's array reading does not apply.
func scan(ctx context.Context, r io.Reader, opt Options, depth int, plain bool) *Result {
	m := &vm{ctx: ctx, rd: newReader(r, 0), opt: opt, depth: depth, plain: plain, globals: map[string]*global{}}
	res := &Result{}
	for {
		start := m.rd.offset()
		globalsBefore, findingsBefore := len(m.order), len(m.findings)
		err := m.runOne()
		if err == nil {
			res.Pickles++
			res.End = m.rd.offset()
			if opt.MaxPickles > 0 && res.Pickles >= opt.MaxPickles || m.rd.atEOF() {
				break
			}
			if p := m.rd.peek(1); len(p) == 0 || !IsOpcode(p[0]) {
				m.trailing(res.End, "")
				break
			}
			m.reset()
			continue
		}
		res.Err = err
		switch {
		case errors.Is(err, errBomb):
			// The resource finding says it all.
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			f := finding.New(finding.ScanIncomplete, "scan stopped before the end of the pickle: "+err.Error())
			f.Offset = m.rd.offset()
			m.findings = append(m.findings, f)
		case res.Pickles > 0 && len(m.order) == globalsBefore && len(m.findings) == findingsBefore:
			// Bytes after a complete pickle that only look like opcodes by chance.
			res.Err = nil
			m.trailing(start, err.Error())
		default:
			msg := "the pickle could not be decoded to the end"
			if strings.Contains(err.Error(), "truncated") {
				msg = "the pickle is truncated"
			}
			f := finding.New(finding.ScanIncomplete, msg+"; findings before the break are reported, the rest was not examined")
			f.Offset = m.opOff
			if de := (*DecodeError)(nil); errors.As(err, &de) {
				f.Offset = de.Offset
			}
			f.Evidence = err.Error()
			m.findings = append(m.findings, f)
		}
		break
	}
	m.emitGlobals()
	res.Findings = m.findings
	res.Globals = m.globalNames()
	return res
}

func (m *vm) trailing(at int64, why string) {
	msg := fmt.Sprintf("bytes from offset %d on are not another pickle", at)
	f := finding.New(finding.PickleTrailingData, msg)
	f.Offset = at
	f.Evidence = why
	m.findings = append(m.findings, f)
}

// runOne decodes one pickle, up to and including its STOP.
func (m *vm) runOne() error {
	for {
		m.ops++
		if m.ops&0xffff == 0 && m.ctx != nil {
			if err := m.ctx.Err(); err != nil {
				return err
			}
		}
		done, err := m.step()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if len(m.stack) > maxStack {
			return m.stackFull()
		}
	}
}

// emitGlobals turns what the stream did with each global into findings.
func (m *vm) emitGlobals() {
	for _, g := range m.order {
		if g.module == "" { // computed names were reported where they happened
			continue
		}
		var f finding.Finding
		off, evidence := g.off, g.display()
		if g.called {
			off, evidence = g.callOff, g.evidence
		}
		switch g.v.Class {
		case Dangerous:
			verb := "imports"
			if g.called {
				verb = "calls"
			}
			name := g.display()
			if g.v.Resolved != "" && g.v.Resolved != name {
				name += " (" + g.v.Resolved + ")"
			}
			f = finding.New(finding.PickleDangerousGlobal, fmt.Sprintf("pickle %s %s: %s", verb, name, g.v.Why))
		case Unknown:
			switch {
			case g.called:
				f = finding.New(finding.PickleUnknownCallable, fmt.Sprintf("pickle calls %s, which is not on the list of known-safe callables", g.display()))
			case g.instantiated:
				f = finding.New(finding.PickleUnknownGlobal, fmt.Sprintf("pickle instantiates %s, which is not on the list of known-safe classes", g.display()))
			default:
				f = finding.New(finding.PickleUnknownGlobal, fmt.Sprintf("pickle imports %s, which is not on the list of known-safe globals", g.display()))
			}
			if g.v.Why != "" {
				f.Message += " (" + g.v.Why + ")"
			}
		default:
			continue
		}
		f.Offset = off
		f.Evidence = evidence
		m.findings = append(m.findings, f)
	}
}

// PlausibleSized is Plausible for content of a known size (-1 when
// unknown): a first string that claims more bytes than the content holds
// makes pickle.load fail before anything runs, so such content is not a
// pickle. Text often starts that way: "Benchmarks" reads as BINBYTES of
// 1.7 GB, "TN:" as BINSTRING.
func PlausibleSized(head []byte, complete bool, size int64) bool {
	if size >= 0 && len(head) > 0 {
		var n int // bytes of the length field
		switch head[0] {
		case pickleop.BinString, pickleop.BinBytes, pickleop.BinUnicode:
			n = 4
		case pickleop.BinUnicode8, pickleop.BinBytes8, pickleop.ByteArray8:
			n = 8
		}
		if n > 0 && len(head) >= 1+n {
			var claimed uint64
			for i := n; i >= 1; i-- {
				claimed = claimed<<8 | uint64(head[i])
			}
			if claimed > uint64(size) || uint64(1+n)+claimed > uint64(size) {
				return false
			}
		}
	}
	return Plausible(head, complete)
}

// Plausible reports whether head, the first bytes of a file (all of it when
// complete), decodes as a pickle: either it reaches STOP, or it runs out of
// bytes only at the end of an incomplete head, after a few valid opcodes.
// Text, source code and random binaries fail within the first opcodes.
func Plausible(head []byte, complete bool) bool {
	if len(head) == 0 || !IsOpcode(head[0]) {
		return false
	}
	minOps := 4
	switch {
	case head[0] == pickleop.Proto && len(head) > 1 && head[1] <= HighestProtocol:
		minOps = 1
	case head[0] == pickleop.String && len(head) > 1 && (head[1] == '\'' || head[1] == '"'),
		head[0] == pickleop.BinString, head[0] == pickleop.BinBytes, head[0] == pickleop.BinUnicode, head[0] == pickleop.BinUnicode8,
		head[0] == pickleop.BinBytes8, head[0] == pickleop.ByteArray8:
		// A first string longer than the head: a pickle.load would read it whole.
		minOps = 0
	}
	m := &vm{rd: newReader(bytes.NewReader(head), 0), globals: map[string]*global{}}
	for ops := 0; ; ops++ {
		done, err := m.step()
		if done {
			return ops >= 1
		}
		if err != nil {
			var de *DecodeError
			truncated := errors.As(err, &de) && strings.HasPrefix(de.Msg, "truncated")
			return !complete && truncated && ops >= minOps
		}
	}
}

// globalNames lists the distinct globals referenced, sorted.
func (m *vm) globalNames() []string {
	var out []string
	for _, g := range m.order {
		out = append(out, g.display())
	}
	slices.Sort(out)
	return slices.Compact(out)
}
