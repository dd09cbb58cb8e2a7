package github

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	gh "github.com/google/go-github/v82/github"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/report/markdown"
	"github.com/mlguard/mlguard/internal/report/text"
)

// Repo names a repository on GitHub.
type Repo struct{ Owner, Name string }

// String is "owner/name".
func (r Repo) String() string { return r.Owner + "/" + r.Name }

// repoPart is what GitHub allows in an owner or repository name; go-github
// puts both into the request path unescaped, so nothing else may pass.
var repoPart = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func (r Repo) validate() error {
	for _, p := range []string{r.Owner, r.Name} {
		if !repoPart.MatchString(p) || p == "." || p == ".." {
			return fmt.Errorf("invalid repository %q", text.Sanitize(r.String()))
		}
	}
	return nil
}

// CheckRunName is the default name of the check run.
const CheckRunName = "mlguard"

// Limits of the Checks API.
const (
	// MaxAnnotationsPerRequest is how many annotations one create or update
	// request may carry; more take further update requests.
	MaxAnnotationsPerRequest = 50
	// MaxCheckAnnotations caps the annotations of one check run, the most
	// severe first, so that a flood of findings costs at most 20 requests
	// (GitHub's secondary rate limits count content-creating requests); the
	// summary, the job summary and SARIF list every finding.
	MaxCheckAnnotations = 1000
	// maxCheckText bounds output.summary and output.text, in bytes (GitHub
	// counts 65535 characters; a byte is never less than one).
	maxCheckText = 65535
	// Bounds on an annotation's parts, in bytes before sanitizing, well
	// within GitHub's 64 KB for message and raw_details.
	maxAnnotationMessage = 4 << 10
	maxRawDetails        = 16 << 10
	maxAnnotationTitle   = 200
)

// Check run conclusions and annotation levels, as the API spells them.
const (
	conclusionFailure = "failure"
	conclusionSuccess = "success"
	levelFailure      = "failure"
)

// CheckRunOptions change the check run.
type CheckRunOptions struct {
	Name       string // "" means CheckRunName
	HeadSHA    string // the pull request's head commit (not the merge commit); required
	DetailsURL string // the workflow run, or ""
}

// CheckOutput is what a check run shows, computed from a result without any
// request.
type CheckOutput struct {
	Conclusion string // "failure" when the decision is fail, else "success"
	Title      string // "2 findings: 1 critical, 1 high", or "No findings"
	// Summary is the job summary's Markdown, at most 65535 bytes. When the
	// findings do not all fit, the rest continue in Text, also at most
	// 65535 bytes, which ends with a pointer to the job summary and the
	// SARIF report if even it cannot hold them.
	Summary string
	Text    string
	// Annotations has one annotation per finding with a path, most severe
	// first, at most MaxCheckAnnotations in batches of at most
	// MaxAnnotationsPerRequest.
	Annotations [][]*gh.CheckRunAnnotation
}

// CheckRunOutput computes the check run's conclusion, title, texts and
// annotations from r, which must not be nil.
func CheckRunOutput(r *finding.Result) CheckOutput {
	out := CheckOutput{Conclusion: conclusionSuccess, Title: checkTitle(r)}
	if r.Decision == finding.Fail {
		out.Conclusion = conclusionFailure
	}
	fs := finding.BySeverity(r.Findings)
	out.Summary, out.Text = checkTexts(r, fs)

	var batch []*gh.CheckRunAnnotation
	n := 0
	for _, f := range fs {
		if f.Path == "" { // GitHub requires a path; the summary lists it
			continue
		}
		if n++; n > MaxCheckAnnotations {
			break
		}
		batch = append(batch, checkAnnotation(f))
		if len(batch) == MaxAnnotationsPerRequest {
			out.Annotations = append(out.Annotations, batch)
			batch = nil
		}
	}
	if len(batch) > 0 {
		out.Annotations = append(out.Annotations, batch)
	}
	return out
}

// checkTitle is "2 findings: 1 critical, 1 high", or "No findings".
func checkTitle(r *finding.Result) string {
	if len(r.Findings) == 0 {
		return "No findings"
	}
	t := markdown.Plural(len(r.Findings), "finding")
	if by := finding.SeverityCounts(r.Findings); by != "" {
		t += ": " + by
	}
	return t
}

// checkTexts lays out the summary as the job summary does, and the findings
// that do not fit in it in the text, with their evidence too.
func checkTexts(r *finding.Result, fs []finding.Finding) (summary, rest string) {
	l := summaryLayout(r, maxCheckText)
	l.omitted = func(n int) string {
		return fmt.Sprintf("\n**%s** did not fit in this summary; they are listed below.\n", markdown.Plural(n, "more finding"))
	}
	summary, shown, err := l.render(fs)
	if err != nil { // cannot happen with 64 KB for a heading of a few lines
		summary, shown = heading(r), 0
	}
	if shown == len(fs) {
		return summary, ""
	}
	more := fs[shown:]
	l.head = "## More findings\n\n" + markdown.Plural(len(more), "finding") + " did not fit in the summary.\n"
	l.omitted = func(n int) string {
		return omittedNote(n, "the check run is limited in size. The job summary and the SARIF report list every finding.")
	}
	l.skipped, l.waived, l.foot = nil, nil, ""
	rest, _, err = l.render(more)
	if err != nil {
		rest = ""
	}
	return summary, rest
}

// checkAnnotation is one finding as a check run annotation. GitHub shows the
// title, message and raw details as plain text, so they are sanitized and
// not escaped further.
func checkAnnotation(f finding.Finding) *gh.CheckRunAnnotation {
	line := max(f.Line, 1)
	a := &gh.CheckRunAnnotation{
		Path:            gh.Ptr(text.Sanitize(f.Path)),
		StartLine:       gh.Ptr(line),
		EndLine:         gh.Ptr(line),
		AnnotationLevel: gh.Ptr(annotationLevel(f.Severity)),
		Title:           gh.Ptr(markdown.Clip(text.Sanitize(f.Rule), maxAnnotationTitle) + " (" + f.Severity.String() + ")"),
		Message:         gh.Ptr(checkMessage(f)),
	}
	if f.Evidence != "" {
		a.RawDetails = gh.Ptr(markdown.Clip(sanitizeLines(markdown.Clip(f.Evidence, maxRawDetails)), maxRawDetails))
	}
	return a
}

// checkMessage is the finding's message, where inside the file it is, and
// the link to the rule's documentation.
func checkMessage(f finding.Finding) string {
	msg := text.Sanitize(markdown.Clip(f.Message, maxText))
	var where string
	if f.Member != "" {
		where = "in " + text.Sanitize(markdown.Clip(f.Member, maxText))
	}
	if f.Offset > 0 {
		if where != "" {
			where += " "
		}
		where += "at offset " + strconv.FormatInt(f.Offset, 10)
	}
	if where != "" {
		msg += " (" + where + ")"
	}
	if u := helpURL(f); u != "" {
		msg += "\nHelp: " + text.Sanitize(u)
	}
	return markdown.Clip(msg, maxAnnotationMessage)
}

// annotationLevel maps a severity to a check run annotation level, the
// workflow command's level by another name.
func annotationLevel(s finding.Severity) string {
	if l := commandLevel(s); l != "error" {
		return l
	}
	return levelFailure
}

// PublishCheckRun creates a completed check run for opts.HeadSHA with the
// output of r: one POST /repos/{owner}/{repo}/check-runs with the first 50
// annotations, then one PATCH /repos/{owner}/{repo}/check-runs/{id} for each
// further 50 (title, summary and text repeated, as the API requires). It
// returns the check run as GitHub last reported it; when a later request
// fails, the check run created so far is returned with the error. Errors from
// go-github are wrapped, so githubapi.StatusCode still finds their status.
func PublishCheckRun(ctx context.Context, c *gh.Client, repo Repo, r *finding.Result, opts CheckRunOptions) (*gh.CheckRun, error) {
	switch {
	case c == nil:
		return nil, errors.New("creating check run: nil client")
	case r == nil:
		return nil, errors.New("creating check run: nil result")
	case opts.HeadSHA == "":
		return nil, errors.New("creating check run: no head commit")
	}
	if err := repo.validate(); err != nil {
		return nil, fmt.Errorf("creating check run: %w", err)
	}
	name := opts.Name
	if name == "" {
		name = CheckRunName
	}
	out := CheckRunOutput(r)
	output := func(batch int) *gh.CheckRunOutput {
		o := &gh.CheckRunOutput{Title: gh.Ptr(out.Title), Summary: gh.Ptr(out.Summary)}
		if out.Text != "" {
			o.Text = gh.Ptr(out.Text)
		}
		if batch < len(out.Annotations) {
			o.Annotations = out.Annotations[batch]
		}
		return o
	}
	create := gh.CreateCheckRunOptions{
		Name:       name,
		HeadSHA:    opts.HeadSHA,
		Status:     gh.Ptr("completed"),
		Conclusion: gh.Ptr(out.Conclusion),
		Output:     output(0),
	}
	if opts.DetailsURL != "" {
		create.DetailsURL = gh.Ptr(opts.DetailsURL)
	}
	run, _, err := c.Checks.CreateCheckRun(ctx, repo.Owner, repo.Name, create)
	if err != nil {
		return nil, fmt.Errorf("creating check run on %s: %w", repo, err)
	}
	for batch := 1; batch < len(out.Annotations); batch++ {
		update := gh.UpdateCheckRunOptions{Name: name, Output: output(batch)}
		next, _, err := c.Checks.UpdateCheckRun(ctx, repo.Owner, repo.Name, run.GetID(), update)
		if err != nil {
			return run, fmt.Errorf("adding annotations %d to %d of %d to check run %d: %w",
				batch*MaxAnnotationsPerRequest+1, batch*MaxAnnotationsPerRequest+len(out.Annotations[batch]),
				annotationCount(out.Annotations), run.GetID(), err)
		}
		run = next
	}
	return run, nil
}

func annotationCount(batches [][]*gh.CheckRunAnnotation) int {
	n := 0
	for _, b := range batches {
		n += len(b)
	}
	return n
}
