package celrule

import (
	"slices"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/mlguard/mlguard/internal/finding"
	"github.com/mlguard/mlguard/internal/registry"
)

// Input is the variable a program is evaluated over: build it with
// PackageInput, FileInput or FindingInput. Its zero value is no input.
type Input struct {
	obj *object
}

var (
	tString  = types.StringType
	tInt     = types.IntType
	tDouble  = types.DoubleType
	tBool    = types.BoolType
	tStrings = types.NewListType(types.StringType)
)

// The fields, in the order of the package doc's table (a test checks it).
var (
	pkgModel = newModel("package", "pkg", "mlguard.Package", []field{
		{name: "ecosystem", typ: tString},
		{name: "name", typ: tString},
		{name: "version", typ: tString},
		{name: "purl", typ: tString},
		{name: "pinned", typ: tBool},
		{name: "change", typ: tString},
		{name: "manifest", typ: tString},
		{name: "maintainers", typ: tInt, fact: true},
		{name: "age_days", typ: tInt, fact: true},
		{name: "version_age_days", typ: tInt, fact: true},
		{name: "days_since_release", typ: tInt, fact: true},
		{name: "versions", typ: tInt, fact: true},
		{name: "scorecard", typ: tDouble, fact: true},
		{name: "license", typ: tString, fact: true},
		{name: "deprecated", typ: tBool, fact: true},
		{name: "yanked", typ: tBool, fact: true},
		{name: "install_scripts", typ: tStrings, fact: true},
		{name: "source_repo", typ: tString, fact: true},
		{name: "advisories", typ: tInt, fact: true},
		{name: "malicious", typ: tBool, fact: true},
		{name: "vulnerable", typ: tBool, fact: true},
		{name: "downloads", typ: tInt, fact: true},
		{name: "likes", typ: tInt, fact: true},
		{name: "gated", typ: tBool, fact: true},
		{name: "author", typ: tString, fact: true},
		{name: "findings", typ: tStrings},
	})
	fileModel = newModel("file", "file", "mlguard.File", []field{
		{name: "path", typ: tString},
		{name: "format", typ: tString},
		{name: "sha256", typ: tString},
		{name: "size", typ: tInt},
		{name: "architecture", typ: tString},
		{name: "dtype", typ: tString},
		{name: "producer", typ: tString},
		{name: "parameters", typ: tInt, fact: true},
		{name: "findings", typ: tStrings},
		{name: "max_severity", typ: tString},
	})
	findingModel = newModel("finding", "finding", "mlguard.Finding", []field{
		{name: "rule", typ: tString},
		{name: "severity", typ: tString},
		{name: "path", typ: tString},
		{name: "member", typ: tString},
		{name: "message", typ: tString},
		{name: "evidence", typ: tString},
		{name: "line", typ: tInt},
		{name: "offset", typ: tInt},
	})
	models = []*model{pkgModel, fileModel, findingModel}
)

// builder fills an object by field name; it panics on a name that is not
// in the model, which the tests catch (the names are constants here).
type builder struct{ o *object }

func newBuilder(m *model) builder {
	return builder{&object{m: m, vals: make([]ref.Val, len(m.fields))}}
}

func (b builder) set(name string, v ref.Val) {
	i, ok := b.o.m.index[name]
	if !ok {
		panic("celrule: no field " + b.o.m.variable + "." + name)
	}
	b.o.vals[i] = v
}

func (b builder) input() Input { return Input{obj: b.o} }

func setKnown[T any](b builder, name string, k registry.Known[T], conv func(T) ref.Val) {
	if v, ok := k.Get(); ok {
		b.set(name, conv(v))
	}
}

func stringList(s []string) ref.Val {
	return types.NewStringList(types.DefaultTypeAdapter, slices.Clone(s))
}

func ruleIDs(fs []finding.Finding) ref.Val {
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.Rule
	}
	return types.NewStringList(types.DefaultTypeAdapter, ids)
}

// daysSince is whole days from t to now, 0 for a t after now.
func daysSince(now time.Time) func(time.Time) ref.Val {
	return func(t time.Time) ref.Val {
		return types.Int(max(0, now.Sub(t)/(24*time.Hour)))
	}
}

// PackageInput is the pkg variable for p. now is the time ages are measured
// at. p.Facts is a *registry.Facts or a registry.Facts; anything else (an
// empty struct when the registries were not asked) leaves every fact unknown.
func PackageInput(p finding.Package, now time.Time) Input {
	b := newBuilder(pkgModel)
	purl := p.PURL
	if purl == "" && p.Dep.Name != "" {
		purl = p.Dep.PURL()
	}
	b.set("ecosystem", types.String(p.Dep.Ecosystem))
	b.set("name", types.String(p.Dep.Name))
	b.set("version", types.String(p.Dep.Version))
	b.set("purl", types.String(purl))
	b.set("pinned", types.Bool(p.Dep.Pinned()))
	b.set("change", types.String(p.Change))
	b.set("manifest", types.String(p.Dep.Manifest))
	b.set("findings", ruleIDs(p.Findings))

	var f *registry.Facts
	switch v := p.Facts.(type) {
	case *registry.Facts:
		f = v
	case registry.Facts:
		f = &v
	}
	if f == nil {
		return b.input()
	}
	toInt := func(n int) ref.Val { return types.Int(n) }
	toInt64 := func(n int64) ref.Val { return types.Int(n) }
	toStr := func(s string) ref.Val { return types.String(s) }
	toBool := func(v bool) ref.Val { return types.Bool(v) }
	age := daysSince(now)

	setKnown(b, "maintainers", f.Maintainers, toInt)
	setKnown(b, "age_days", f.FirstRelease, age)
	setKnown(b, "version_age_days", f.VersionRelease, age)
	setKnown(b, "days_since_release", f.LatestRelease, age)
	setKnown(b, "versions", f.Versions, toInt)
	setKnown(b, "scorecard", f.Scorecard, func(v float64) ref.Val { return types.Double(v) })
	setKnown(b, "license", f.License, toStr)
	setKnown(b, "deprecated", f.Deprecated, toBool)
	setKnown(b, "yanked", f.Yanked, toBool)
	setKnown(b, "install_scripts", f.InstallScripts, stringList)
	setKnown(b, "source_repo", f.SourceRepo, toStr)
	setKnown(b, "advisories", f.Advisories, func(as []registry.Advisory) ref.Val { return types.Int(len(as)) })
	setKnown(b, "malicious", f.Advisories, func(as []registry.Advisory) ref.Val {
		return types.Bool(slices.ContainsFunc(as, func(a registry.Advisory) bool { return a.Malicious }))
	})
	setKnown(b, "vulnerable", f.Advisories, func(as []registry.Advisory) ref.Val {
		return types.Bool(slices.ContainsFunc(as, func(a registry.Advisory) bool { return !a.Malicious }))
	})
	setKnown(b, "downloads", f.Downloads, toInt64)
	setKnown(b, "likes", f.Likes, toInt64)
	setKnown(b, "gated", f.Gated, toBool)
	setKnown(b, "author", f.Author, toStr)
	return b.input()
}

// FileInput is the file variable for f; findings are the findings on the
// file (the caller selects them), for file.findings and file.max_severity.
func FileInput(f finding.File, findings []finding.Finding) Input {
	b := newBuilder(fileModel)
	b.set("path", types.String(f.Path))
	b.set("format", types.String(f.Format))
	b.set("sha256", types.String(f.SHA256))
	b.set("size", types.Int(f.Size))
	b.set("architecture", types.String(f.Architecture))
	b.set("dtype", types.String(f.DType))
	b.set("producer", types.String(f.Producer))
	if f.Parameters > 0 {
		b.set("parameters", types.Int(f.Parameters))
	}
	b.set("findings", ruleIDs(findings))
	maxSev := ""
	if len(findings) > 0 {
		m := finding.Info
		for _, x := range findings {
			m = max(m, x.Severity)
		}
		maxSev = m.String()
	}
	b.set("max_severity", types.String(maxSev))
	return b.input()
}

// FindingInput is the finding variable for f.
func FindingInput(f finding.Finding) Input {
	b := newBuilder(findingModel)
	b.set("rule", types.String(f.Rule))
	b.set("severity", types.String(f.Severity.String()))
	b.set("path", types.String(f.Path))
	b.set("member", types.String(f.Member))
	b.set("message", types.String(f.Message))
	b.set("evidence", types.String(f.Evidence))
	b.set("line", types.Int(f.Line))
	b.set("offset", types.Int(f.Offset))
	return b.input()
}
