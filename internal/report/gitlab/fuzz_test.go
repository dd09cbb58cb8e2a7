package gitlab

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/reporttest"
)

// FuzzWriters feeds arbitrary finding text to every writer: the Code Quality
// and SAST reports must stay valid JSON that follows their schemas, with
// bounded fields, and the note must stay within its limit with nothing in it
// live.
func FuzzWriters(f *testing.F) {
	seeds := append(reporttest.Full().Findings, injection().Findings...)
	seeds = append(seeds, mixed().Findings...)
	for _, s := range seeds {
		f.Add(s.Rule, s.Path, s.Member, s.Message, s.Evidence, int(s.Severity), s.Line, s.Offset, "0.1.0")
	}
	f.Add("", "./", "", "", "", -1, -5, int64(-1), "")
	f.Add("a/b", "\xff\xfe/\x00.pkl", "m", "@all :x: #1", "```", 9, 1<<30, int64(1)<<62, "v1 <b>")
	f.Fuzz(func(t *testing.T, rule, path, member, message, evidence string, sev, line int, offset int64, version string) {
		fd := finding.Finding{
			Rule: rule, Severity: finding.Severity(sev), Path: path, Member: member,
			Offset: offset, Line: line, Message: message, Evidence: evidence,
		}
		r := &finding.Result{
			Tool:     finding.Tool{Name: "mlguard", Version: version},
			Decision: finding.Fail,
			Findings: []finding.Finding{fd, fd},
			Skipped:  []finding.Skipped{{Path: path, Reason: message}},
			Waived:   []finding.Waived{{Finding: fd, Waiver: rule, Reason: evidence, Expires: member}},
		}

		var cq bytes.Buffer
		if err := WriteCodeQuality(&cq, r); err != nil {
			t.Fatalf("WriteCodeQuality: %v", err)
		}
		if !json.Valid(cq.Bytes()) {
			t.Fatalf("Code Quality report is not JSON:\n%s", cq.Bytes())
		}
		validateCodeQuality(t, cq.Bytes())
		var issues []codeQualityIssue
		if err := json.Unmarshal(cq.Bytes(), &issues); err != nil {
			t.Fatal(err)
		}
		for _, is := range issues {
			if len(is.Description) > maxDescription || len(is.CheckName) > 4*maxText+64 {
				t.Errorf("unbounded issue: description %d bytes, check_name %d bytes", len(is.Description), len(is.CheckName))
			}
		}
		if len(issues) == 2 && issues[0].Fingerprint == issues[1].Fingerprint {
			t.Error("identical findings share a fingerprint")
		}

		var sast bytes.Buffer
		if err := WriteSAST(&sast, r, SASTOptions{StartTime: time.Unix(1_700_000_000, 0)}); err != nil {
			t.Fatalf("WriteSAST: %v", err)
		}
		if !json.Valid(sast.Bytes()) {
			t.Fatalf("SAST report is not JSON:\n%s", sast.Bytes())
		}
		validateSAST(t, sast.Bytes())
		var rep sastReport
		if err := json.Unmarshal(sast.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		for _, v := range rep.Vulnerabilities {
			if len(v.Description) > maxSASTDescription || utf8.RuneCountInString(v.Name) > maxSASTName {
				t.Errorf("unbounded vulnerability: description %d bytes, name %d characters", len(v.Description), utf8.RuneCountInString(v.Name))
			}
			if !uuidRE.MatchString(v.ID) {
				t.Errorf("id %q", v.ID)
			}
		}

		note := RenderNote(r, noteOpts)
		checkNote(t, note)
		if !utf8.ValidString(note) || strings.ContainsAny(note, "\x00\x1b\r") {
			t.Errorf("note has invalid UTF-8 or control characters")
		}
	})
}
