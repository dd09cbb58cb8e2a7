// Package scan walks the paths it is given, sniffs every file by content and
// hands it to the scanner for its format, recursing into archives and
// compressed streams within limits. Format packages (pickle, numpy, zipx)
// are pure parsers; this package owns the list of them, recursion, limits
// and the bookkeeping that turns their output into a finding.Result.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/mlguard/mlguard/internal/digest"
	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/sniff"
	"golang.org/x/sync/errgroup"
)

// Limits bound how far the scanner goes into containers. Hitting one is an
// archive/limit-exceeded finding: what lies beyond was not scanned.
type Limits struct {
	MaxDepth        int     // nesting of archives and compressed streams
	MaxEntries      int     // members read from one archive
	MaxDecompressed int64   // bytes produced by decompression, per top-level file
	MaxRatio        float64 // decompressed/compressed, for members over RatioFloor bytes
	RatioFloor      int64
}

// DefaultLimits are generous for real models and tight for bombs.
var DefaultLimits = Limits{
	MaxDepth:        5,
	MaxEntries:      100_000,
	MaxDecompressed: 16 << 30,
	MaxRatio:        1200,
	RatioFloor:      64 << 20,
}

// Options configure an Engine.
type Options struct {
	Limits Limits
	// Hash computes each scanned file's SHA-256 (for the JSON and SARIF reports).
	Hash bool
	// Allow lists extra trusted pickle globals ("module.name", "module.*");
	// Deny extra dangerous ones (the policy's pickle allow and deny).
	Allow, Deny []string
	// Jobs is how many files are scanned at once (default: GOMAXPROCS).
	Jobs   int
	Logger *slog.Logger
}

// Engine scans paths.
type Engine struct {
	opt Options
	log *slog.Logger
}

// New returns an engine with opt, filling in defaults: each zero field of
// opt.Limits takes its value from DefaultLimits.
func New(opt Options) *Engine {
	l, d := &opt.Limits, DefaultLimits
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxDecompressed <= 0 {
		l.MaxDecompressed = d.MaxDecompressed
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.RatioFloor <= 0 {
		l.RatioFloor = d.RatioFloor
	}
	if opt.Jobs <= 0 {
		opt.Jobs = runtime.GOMAXPROCS(0)
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{opt: opt, log: log}
}

// Report is what a run found, before a decision is taken.
type Report struct {
	Files    []finding.File
	Skipped  []finding.Skipped
	Findings []finding.Finding
}

type fileJob struct {
	abs     string // path on disk
	display string // path as reported
}

// Scan walks paths (files or folders) and scans every file found. Errors
// are returned only for paths that do not exist or cannot be walked at all;
// problems with a file's content are findings.
func (e *Engine) Scan(ctx context.Context, paths []string) (*Report, error) {
	rep := &Report{}
	var jobs []fileJob
	for _, p := range paths {
		js, skipped, err := walk(p)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, js...)
		rep.Skipped = append(rep.Skipped, skipped...)
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.opt.Jobs)
	for _, j := range jobs {
		g.Go(func() error {
			file, skip, findings := e.ScanFile(gctx, j.abs, j.display)
			mu.Lock()
			defer mu.Unlock()
			if skip != nil {
				rep.Skipped = append(rep.Skipped, *skip)
			} else {
				rep.Files = append(rep.Files, file)
			}
			rep.Findings = append(rep.Findings, findings...)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return rep, ctx.Err()
}

// walk lists the files under root. Symbolic links are followed only when
// they stay inside root, and never into folders; .git folders are skipped.
func walk(root string) ([]fileJob, []finding.Skipped, error) {
	info, err := os.Lstat(root)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", root, err)
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		// A folder named on the command line is scanned even when the name
		// is a link; a trailing separator makes WalkDir follow it.
		if st, err := os.Stat(root); err == nil && st.IsDir() {
			root += string(filepath.Separator)
			info = st
		}
	}
	if !info.IsDir() {
		if info.Mode()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(root); err != nil || !st.Mode().IsRegular() {
				return nil, []finding.Skipped{{Path: filepath.ToSlash(root), Reason: "symbolic link to something other than a file"}}, nil
			}
		} else if !info.Mode().IsRegular() {
			return nil, []finding.Skipped{{Path: filepath.ToSlash(root), Reason: "not a regular file"}}, nil
		}
		return []fileJob{{abs: root, display: filepath.ToSlash(filepath.Clean(root))}}, nil, nil
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, nil, fmt.Errorf("resolving %s: %w", root, err)
	}
	realRoot, _ = filepath.Abs(realRoot)
	var jobs []fileJob
	var skipped []finding.Skipped
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		display := filepath.ToSlash(p)
		if err != nil {
			skipped = append(skipped, finding.Skipped{Path: display, Reason: "cannot be read: " + err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			if d.Name() == ".git" && p != root {
				return fs.SkipDir
			}
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				skipped = append(skipped, finding.Skipped{Path: display, Reason: "broken symbolic link"})
				return nil
			}
			abs, _ := filepath.Abs(target)
			if rel, err := filepath.Rel(realRoot, abs); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				skipped = append(skipped, finding.Skipped{Path: display, Reason: "symbolic link out of the scanned folder, not followed"})
				return nil
			}
			if st, err := os.Stat(abs); err != nil || !st.Mode().IsRegular() {
				skipped = append(skipped, finding.Skipped{Path: display, Reason: "symbolic link to something other than a file, not followed"})
				return nil
			}
			jobs = append(jobs, fileJob{abs: abs, display: display})
		case d.Type().IsRegular():
			jobs = append(jobs, fileJob{abs: p, display: display})
		default:
			skipped = append(skipped, finding.Skipped{Path: display, Reason: "not a regular file"})
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("walking %s: %w", root, err)
	}
	return jobs, skipped, nil
}

// ScanFile scans one file. It returns either the file's entry or, for
// files that are not models, a skipped entry; and the findings.
func (e *Engine) ScanFile(ctx context.Context, abs, display string) (finding.File, *finding.Skipped, []finding.Finding) {
	f, err := os.Open(abs)
	if err != nil {
		fd := finding.New(finding.ScanIncomplete, "the file could not be opened: "+err.Error())
		fd.Path = display
		return finding.File{Path: display, Format: "unreadable"}, nil, []finding.Finding{fd}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fd := finding.New(finding.ScanIncomplete, "the file could not be read: "+err.Error())
		fd.Path = display
		return finding.File{Path: display, Format: "unreadable"}, nil, []finding.Finding{fd}
	}
	j := &job{e: e, ctx: ctx, path: display, budget: e.opt.Limits.MaxDecompressed}
	root := &node{name: filepath.Base(abs), size: st.Size(), ra: f}
	j.scan(root)
	if j.skipReason != "" {
		return finding.File{}, &finding.Skipped{Path: display, Reason: j.skipReason}, nil
	}
	file := finding.File{Path: display, Format: j.format, Size: st.Size(), ModelInfo: j.info}
	if e.opt.Hash {
		sum, err := hashFile(f)
		if err != nil {
			j.add(root, finding.New(finding.ScanIncomplete, "the file could not be hashed: "+err.Error()))
		}
		file.SHA256 = sum
	}
	return file, nil, j.findings
}

func hashFile(f *os.File) (string, error) {
	sum, _, err := digest.Reader(io.NewSectionReader(f, 0, 1<<62))
	return sum, err
}

// job is the scan of one top-level file.
type job struct {
	e          *Engine
	ctx        context.Context
	path       string
	format     string
	info       finding.ModelInfo // what the file's format says about the model
	skipReason string
	findings   []finding.Finding
	budget     int64 // decompressed bytes left
	budgetHit  bool
}

func (j *job) add(n *node, f finding.Finding) {
	f.Path = j.path
	f.Member = joinMember(n.member, f.Member)
	j.findings = append(j.findings, f)
}

func joinMember(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "!" + b
}

func (j *job) incomplete(n *node, msg string, err error) {
	f := finding.New(finding.ScanIncomplete, msg)
	if err != nil {
		f.Evidence = err.Error()
	}
	j.add(n, f)
}

func (j *job) limit(n *node, msg string) {
	j.add(n, finding.New(finding.ArchiveLimit, msg))
}

// overBudget reports, once per file, that the decompression budget is spent.
func (j *job) overBudget(n *node) {
	if !j.budgetHit {
		j.budgetHit = true
		j.limit(n, fmt.Sprintf("decompressed data passed %d bytes; the rest of the file was not scanned", j.e.opt.Limits.MaxDecompressed))
	}
}

// errBudget is returned by readers once the decompressed-size budget is spent.
var errBudget = errors.New("decompressed size limit reached")

// budgetReader charges every byte it reads to the job's decompression budget.
type budgetReader struct {
	j *job
	n *node
	r io.Reader
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.j.budget <= 0 {
		// Only data past the budget is over it: a stream that ends exactly
		// there is whole.
		var one [1]byte
		if n, err := b.r.Read(one[:]); n == 0 {
			return 0, err
		}
		b.j.overBudget(b.n)
		return 0, errBudget
	}
	if int64(len(p)) > b.j.budget {
		p = p[:b.j.budget]
	}
	n, err := b.r.Read(p)
	b.j.budget -= int64(n)
	return n, err
}

// headOf reads the first sniff.HeadSize bytes of a node.
func (n *node) headOf() ([]byte, bool, error) {
	buf := make([]byte, sniff.HeadSize)
	if n.ra != nil {
		k, err := n.ra.ReadAt(buf, 0)
		if err != nil && err != io.EOF {
			return buf[:k], false, err
		}
		return buf[:k], n.size >= 0 && int64(k) >= n.size || err == io.EOF, nil
	}
	b, err := n.br.Peek(sniff.HeadSize)
	if err != nil && err != io.EOF {
		// io.ErrUnexpectedEOF too: a truncated compressed stream or archive.
		return b, false, err
	}
	return b, len(b) < sniff.HeadSize, nil
}
