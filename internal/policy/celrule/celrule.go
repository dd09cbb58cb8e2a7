package celrule

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// Limits on an expression and its evaluation.
const (
	// MaxExprLen is the longest expression, in bytes.
	MaxExprLen = 4 << 10
	// MaxNesting bounds how deeply an expression nests (parentheses,
	// calls, operators), as the parser counts it.
	MaxNesting = 64
	// MaxComprehensionNesting bounds comprehensions (exists, all, map...)
	// inside comprehensions.
	MaxComprehensionNesting = 3
	// CostLimit is the most one evaluation may cost, in CEL cost units.
	CostLimit = 100_000
	// interruptEvery is how many comprehension iterations run between two
	// looks at ctx.
	interruptEvery = 100
)

// Error is a bad expression: what is wrong and where, as a 1-based line and
// column (in characters) inside the expression.
type Error struct {
	Line, Column int
	Msg          string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

// Program is a compiled rule expression, safe for concurrent use.
type Program struct {
	m   *model
	prg cel.Program
}

// Compile parses and type-checks expr as a rule over on ("package", "file"
// or "finding"). A bad expression is an *Error; a bad on is a plain error.
func Compile(on, expr string) (*Program, error) {
	i := slices.IndexFunc(models, func(m *model) bool { return m.on == on })
	if i < 0 {
		return nil, fmt.Errorf("unknown rule target %q (want package, file or finding)", on)
	}
	m := models[i]
	if len(expr) > MaxExprLen {
		return nil, &Error{Line: 1, Column: 1, Msg: fmt.Sprintf("the expression is %d bytes long, the limit is %d", len(expr), MaxExprLen)}
	}
	env, err := envs[i]()
	if err != nil {
		return nil, fmt.Errorf("setting up CEL: %w", err)
	}
	checked, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, issuesError(iss)
	}
	if t := checked.OutputType(); !t.IsExactType(types.BoolType) {
		e := exprStart(expr)
		e.Msg = fmt.Sprintf("the expression must be a bool, not %s", t)
		return nil, e
	}
	est, err := env.EstimateCost(checked, estimator{})
	if err != nil {
		return nil, &Error{Line: 1, Column: 1, Msg: fmt.Sprintf("estimating the cost: %v", err)}
	}
	if est.Min > CostLimit {
		return nil, &Error{Line: 1, Column: 1, Msg: fmt.Sprintf("the expression costs at least %d to evaluate, the limit is %d", est.Min, CostLimit)}
	}
	prg, err := env.Program(checked,
		cel.EvalOptions(cel.OptOptimize),
		cel.CostLimit(CostLimit),
		cel.InterruptCheckFrequency(interruptEvery),
	)
	if err != nil {
		// Rare: the validators catch bad regular expression literals
		// first. Planning errors carry no position.
		return nil, &Error{Line: 1, Column: 1, Msg: err.Error()}
	}
	return &Program{m: m, prg: prg}, nil
}

// Eval evaluates the program over in. matched is false when the expression
// is false or unknown; unknown lists, sorted, the facts (field names, as
// "maintainers") that made it unknown. err is a failed evaluation (a
// runtime error such as a division by zero, the cost limit, ctx done), and
// in that case matched is false and unknown nil.
func (p *Program) Eval(ctx context.Context, in Input) (matched bool, unknown []string, err error) {
	if in.obj == nil || in.obj.m != p.m {
		return false, nil, fmt.Errorf("evaluating a %s rule: the input is not a %s", p.m.on, p.m.on)
	}
	if err := ctx.Err(); err != nil {
		return false, nil, fmt.Errorf("evaluating a %s rule: %w", p.m.on, err)
	}
	return p.eval(ctx, in)
}

// eval is Eval after the checks on its arguments.
func (p *Program) eval(ctx context.Context, in Input) (matched bool, unknown []string, err error) {
	out, _, err := p.prg.ContextEval(ctx, activation{name: p.m.variable, val: in.obj})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return false, nil, fmt.Errorf("evaluating a %s rule: %w: %w", p.m.on, err, cerr)
		}
		return false, nil, fmt.Errorf("evaluating a %s rule: %w", p.m.on, err)
	}
	switch v := out.(type) {
	case types.Bool:
		return bool(v), nil, nil
	case *types.Unknown:
		return false, unknownFacts(v), nil
	default:
		return false, nil, fmt.Errorf("evaluating a %s rule: the result is %s, not a bool", p.m.on, out.Type().TypeName())
	}
}

// unknownFacts are the field names in the attribute trails of u.
func unknownFacts(u *types.Unknown) []string {
	var names []string
	for _, id := range u.IDs() {
		trails, _ := u.GetAttributeTrails(id)
		for _, t := range trails {
			if q := t.QualifierPath(); len(q) > 0 {
				if s, ok := q[0].(string); ok {
					names = append(names, s)
				}
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// activation holds the one variable of an evaluation.
type activation struct {
	name string
	val  ref.Val
}

func (a activation) ResolveName(name string) (any, bool) {
	if name == a.name {
		return a.val, true
	}
	return nil, false
}

func (activation) Parent() interpreter.Activation { return nil }

// envs are the CEL environments of the models, built on first use.
var envs = func() []func() (*cel.Env, error) {
	out := make([]func() (*cel.Env, error), len(models))
	for i, m := range models {
		out[i] = sync.OnceValues(func() (*cel.Env, error) { return newEnv(m) })
	}
	return out
}()

func newEnv(m *model) (*cel.Env, error) {
	reg, err := types.NewRegistry()
	if err != nil {
		return nil, err
	}
	return cel.NewEnv(
		cel.CustomTypeProvider(provider{reg}),
		cel.Variable(m.variable, m.typ),
		ext.Strings(),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(MaxExprLen),
		cel.ParserRecursionLimit(MaxNesting),
		cel.ASTValidators(
			cel.ValidateRegexLiterals(),
			cel.ValidateComprehensionNestingLimit(MaxComprehensionNesting),
			noStructs{},
		),
	)
}

// noStructs rejects creating a struct (mlguard.Package{...}): the only
// struct types are the models, and rules only read them.
type noStructs struct{}

func (noStructs) Name() string { return "mlguard.no_structs" }

func (noStructs) Validate(_ *cel.Env, _ cel.ValidatorConfig, a *ast.AST, iss *cel.Issues) {
	for _, e := range ast.MatchDescendants(ast.NavigateAST(a), ast.KindMatcher(ast.StructKind)) {
		iss.ReportErrorAtID(e.ID(), "a rule cannot create %s values", e.AsStruct().TypeName())
	}
}

// estimator leaves every size to CEL's defaults: unknown for the
// variables' lists and strings, exact for literals.
type estimator struct{}

func (estimator) EstimateSize(checker.AstNode) *checker.SizeEstimate { return nil }
func (estimator) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// issuesError is the first of the issues, by position.
func issuesError(iss *cel.Issues) *Error {
	errs := iss.Errors()
	if len(errs) == 0 {
		return &Error{Line: 1, Column: 1, Msg: iss.String()}
	}
	first := slices.MinFunc(errs, func(a, b *cel.Error) int {
		if c := a.Location.Line() - b.Location.Line(); c != 0 {
			return c
		}
		return a.Location.Column() - b.Location.Column()
	})
	e := position(first.Location.Line(), first.Location.Column())
	e.Msg = first.Message
	if n := len(errs) - 1; n > 0 {
		e.Msg += fmt.Sprintf(" (and %d more %s)", n, plural(n, "error", "errors"))
	}
	return e
}

// exprStart is the position of the expression's first character that is
// neither blank nor in a comment.
func exprStart(expr string) *Error {
	for i, line := range strings.Split(expr, "\n") {
		col := 0
		for _, r := range line {
			if !unicode.IsSpace(r) {
				break
			}
			col++
		}
		rest := strings.TrimLeftFunc(line, unicode.IsSpace)
		if rest != "" && !strings.HasPrefix(rest, "//") {
			return &Error{Line: i + 1, Column: col + 1}
		}
	}
	return &Error{Line: 1, Column: 1}
}

// position turns CEL's 1-based line and 0-based column into an Error's,
// with 1:1 for an unknown location.
func position(line, col int) *Error {
	if line < 1 {
		return &Error{Line: 1, Column: 1}
	}
	return &Error{Line: line, Column: max(col, 0) + 1}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
