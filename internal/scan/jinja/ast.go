package jinja

// The syntax tree mirrors jinja2.nodes, reduced to what the analysis needs.
// Every node records where it starts in the template and how deep the
// expression tree below it goes, so that the analysis stays bounded.

type base struct {
	at    int // byte offset
	line  int
	depth int
}

func (b *base) where() *base { return b }

type expr interface{ where() *base }

type nameExpr struct {
	base
	name string
}

type constKind uint8

const (
	cStr constKind = iota
	cInt
	cFloat
	cBool
	cNone
)

type constExpr struct {
	base
	kind   constKind
	s      string // the string, or the integer's text
	opaque bool   // a string with an escape whose value is not known
}

type getattrExpr struct {
	base
	x    expr
	attr string
}

type getitemExpr struct {
	base
	x, key expr
}

type sliceExpr struct {
	base
	start, stop, step expr // each may be nil
}

type kwarg struct {
	name  string
	value expr
}

// callArgs are the arguments of a call, filter or test.
type callArgs struct {
	args              []expr
	kwargs            []kwarg
	dynArgs, dynKwarg expr // *args, **kwargs; may be nil
}

type callExpr struct {
	base
	fn expr
	callArgs
}

// filterExpr is x|name(args). x is nil for the filter of a {% filter %}
// or {% set x | f %} block, which applies to the block's output.
type filterExpr struct {
	base
	x    expr
	name string
	callArgs
}

type testExpr struct {
	base
	x    expr
	name string
	callArgs
}

// binExpr is an arithmetic operator (+ - * / // % **) or and/or.
type binExpr struct {
	base
	op   string
	l, r expr
}

// unaryExpr is not, - or +.
type unaryExpr struct {
	base
	op string
	x  expr
}

type operand struct {
	op string // == != < <= > >= in notin
	x  expr
}

type compareExpr struct {
	base
	x   expr
	ops []operand
}

// concatExpr is a ~ b ~ c.
type concatExpr struct {
	base
	items []expr
}

type condExpr struct {
	base
	test, then, els expr // els may be nil
}

type listExpr struct {
	base
	items []expr
	tuple bool
}

type dictExpr struct {
	base
	keys, values []expr
}

// nsrefExpr is the target ns.attr of {% set ns.attr = ... %}.
type nsrefExpr struct {
	base
	name, attr string
}

// Statements. tag is the byte range of the tag that opens the statement
// ({{ ... }} for output), used for evidence.
type stmt interface{ where() *base }

type span struct{ start, end int }

type dataStmt struct {
	base
	text string
}

// outputStmt is {{ expr }} or {% print a, b %}.
type outputStmt struct {
	base
	tag   span
	items []expr
}

type ifStmt struct {
	base
	tag    span
	tests  []expr   // if, then each elif
	bodies [][]stmt // one per test
	els    []stmt
}

type forStmt struct {
	base
	tag       span
	target    expr
	iter      expr
	test      expr // may be nil
	body, els []stmt
}

type setStmt struct {
	base
	tag    span
	target expr
	value  expr
}

type setBlockStmt struct {
	base
	tag    span
	target expr
	filter expr // may be nil
	body   []stmt
}

type macroStmt struct {
	base
	tag      span
	name     string
	params   []string
	defaults []expr // for the last len(defaults) params
	body     []stmt
}

type callBlockStmt struct {
	base
	tag      span
	params   []string
	defaults []expr
	call     *callExpr
	body     []stmt
}

type filterBlockStmt struct {
	base
	tag    span
	filter expr
	body   []stmt
}

type withStmt struct {
	base
	tag     span
	targets []expr
	values  []expr
	body    []stmt
}

// blockStmt is {% block %}, {% autoescape %} or {% generation %}: a body
// with, at most, one expression in its head.
type blockStmt struct {
	base
	tag  span
	kind string
	name string
	head expr // autoescape's value; may be nil
	body []stmt
}

// loadStmt is {% extends %}, {% include %}, {% import %} or {% from %}.
type loadStmt struct {
	base
	tag      span
	kind     string
	template expr
}

// exprStmt is {% do expr %}, and break/continue with a nil x.
type exprStmt struct {
	base
	tag  span
	kind string
	x    expr
}
