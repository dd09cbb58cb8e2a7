package jinja

import (
	"fmt"
	"slices"
)

// The parser is a port of jinja2/parser.py (Jinja 3.1): the same grammar,
// precedence and statement set, plus the tags that chat-template renderers
// enable: loop controls (break, continue) and transformers' {% generation %}.
// {% do %} (jinja2.ext.do) is accepted too, so that its expression is
// analysed rather than the template reported as unparseable.

// maxNesting bounds brackets, statement nesting and expression depth.
// CPython's recursion limit stops Jinja itself far earlier.
const maxNesting = 200

type parser struct {
	src   string
	toks  []token
	i     int
	depth int // recursion depth of statements and bracketed expressions
}

func parse(src string, toks []token) (body []stmt, err error) {
	p := &parser{src: src, toks: toks}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*syntaxError)
			if !ok {
				panic(r)
			}
			err = e
		}
	}()
	body = p.subparse(nil)
	if p.cur().kind != tEOF {
		p.fail(p.cur(), "unexpected %s", p.cur())
	}
	return body, nil
}

// fail aborts the parse with a syntax error at t; parse recovers it.
func (p *parser) fail(t token, format string, args ...any) {
	panic(&syntaxError{pos: t.pos, line: t.line, msg: fmt.Sprintf(format, args...)})
}

func (p *parser) cur() token { return p.toks[p.i] }

func (p *parser) look() token {
	if p.i+1 < len(p.toks) {
		return p.toks[p.i+1]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) isOp(op string) bool { t := p.cur(); return t.kind == tOp && t.val == op }

func (p *parser) isName(names ...string) bool {
	t := p.cur()
	return t.kind == tName && slices.Contains(names, t.val)
}

func (p *parser) skipOp(op string) bool {
	if p.isOp(op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) skipName(name string) bool {
	if p.isName(name) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectOp(op string) token {
	if !p.isOp(op) {
		p.fail(p.cur(), "expected %q, got %s", op, p.cur())
	}
	return p.next()
}

func (p *parser) expectKind(k tokKind) token {
	if p.cur().kind != k {
		p.fail(p.cur(), "expected %s, got %s", k, p.cur())
	}
	return p.next()
}

func (p *parser) expectName(name string) token {
	if !p.isName(name) {
		p.fail(p.cur(), "expected %q, got %s", name, p.cur())
	}
	return p.next()
}

func (p *parser) enter(t token) {
	p.depth++
	if p.depth > maxNesting {
		p.fail(t, "nested more than %d deep", maxNesting)
	}
}

func (p *parser) leave() { p.depth-- }

// mk returns the base of a node starting at t whose children are kids,
// failing when the expression tree gets too deep.
func (p *parser) mk(t token, kids ...expr) base {
	d := 0
	for _, k := range kids {
		if k != nil {
			d = max(d, k.where().depth)
		}
	}
	if d+1 > maxNesting {
		p.fail(t, "expression nested more than %d deep", maxNesting)
	}
	return base{at: t.pos, line: t.line, depth: d + 1}
}

func at(t token) base { return base{at: t.pos, line: t.line} }

// endOf is the end of the tag whose closing token was just consumed.
func (p *parser) endOf() int {
	t := p.toks[p.i-1]
	if t.kind == tBlockEnd || t.kind == tVarEnd {
		end := t.pos + 2
		if end < len(p.src) && p.src[t.pos] != '%' && p.src[t.pos] != '}' {
			end++ // -%} +%} -}}
		}
		return min(end, len(p.src))
	}
	return t.pos
}

// subparse reads template data, output tags and statements until one of
// the end tags (as in "{% endfor %}") or the end of the template. It leaves
// the stream at the end tag's name.
func (p *parser) subparse(endTags []string) []stmt {
	var body []stmt
	for {
		t := p.cur()
		switch t.kind {
		case tEOF:
			if endTags != nil {
				p.fail(t, "unexpected end of template, expected one of %v", endTags)
			}
			return body
		case tData:
			p.next()
			body = append(body, &dataStmt{base: at(t), text: t.val})
		case tVarBegin:
			p.next()
			p.enter(t)
			x := p.parseTuple(tupleOpts{withCondexpr: true})
			p.expectKind(tVarEnd)
			p.leave()
			body = append(body, &outputStmt{base: at(t), tag: span{t.pos, p.endOf()}, items: []expr{x}})
		case tBlockBegin:
			p.next()
			if endTags != nil && p.cur().kind == tName && slices.Contains(endTags, p.cur().val) {
				return body
			}
			p.enter(t)
			s := p.parseStatement(t)
			p.expectKind(tBlockEnd)
			p.leave()
			p.setTagEnd(s, t.pos, p.endOf())
			body = append(body, s)
		default:
			p.fail(t, "unexpected %s", t)
		}
	}
}

// setTagEnd records the opening tag's span on s, for statements without a
// body whose span the statement parser did not set.
func (p *parser) setTagEnd(s stmt, start, end int) {
	switch s := s.(type) {
	case *outputStmt:
		if s.tag.end == 0 {
			s.tag = span{start, end}
		}
	case *setStmt:
		s.tag = span{start, end}
	case *loadStmt:
		s.tag = span{start, end}
	case *exprStmt:
		s.tag = span{start, end}
	}
}

// statements reads a statement's body up to one of endTags, after the
// opening tag's end; the stream is left at the end tag's name.
func (p *parser) statements(endTags ...string) []stmt {
	p.skipOp(":")
	p.expectKind(tBlockEnd)
	return p.subparse(endTags)
}

// endStatement consumes the end tag's name ("endfor"), which the caller's
// subparse left current.
func (p *parser) endStatement(name string) {
	p.expectName(name)
}

func (p *parser) parseStatement(begin token) stmt {
	t := p.cur()
	if t.kind != tName {
		p.fail(t, "tag name expected")
	}
	switch t.val {
	case "for":
		p.next()
		target := p.parseAssignTarget(true, false, false)
		p.expectName("in")
		iter := p.parseTuple(tupleOpts{})
		var test expr
		if p.skipName("if") {
			test = p.parseExpression(true)
		}
		p.skipName("recursive")
		s := &forStmt{base: at(begin), tag: p.head(begin), target: target, iter: iter, test: test}
		s.body = p.statements("endfor", "else")
		if p.next().val == "else" {
			s.els = p.statements("endfor")
			p.endStatement("endfor")
		}
		return s
	case "if":
		p.next()
		s := &ifStmt{base: at(begin)}
		for {
			s.tests = append(s.tests, p.parseTuple(tupleOpts{}))
			if s.tag.end == 0 {
				s.tag = p.head(begin)
			}
			s.bodies = append(s.bodies, p.statements("elif", "else", "endif"))
			switch p.next().val {
			case "elif":
				continue
			case "else":
				s.els = p.statements("endif")
				p.endStatement("endif")
			}
			return s
		}
	case "set":
		p.next()
		target := p.parseAssignTarget(true, false, true)
		if p.skipOp("=") {
			return &setStmt{base: at(begin), target: target, value: p.parseTuple(tupleOpts{withCondexpr: true})}
		}
		s := &setBlockStmt{base: at(begin), target: target, filter: p.parseFilter(nil, false)}
		s.tag = p.head(begin)
		s.body = p.statements("endset")
		p.endStatement("endset")
		return s
	case "with":
		p.next()
		s := &withStmt{base: at(begin)}
		for p.cur().kind != tBlockEnd {
			if len(s.targets) > 0 {
				p.expectOp(",")
			}
			s.targets = append(s.targets, p.parseAssignTarget(true, false, false))
			p.expectOp("=")
			s.values = append(s.values, p.parseExpression(true))
		}
		s.tag = p.head(begin)
		s.body = p.statements("endwith")
		p.endStatement("endwith")
		return s
	case "autoescape":
		p.next()
		s := &blockStmt{base: at(begin), kind: t.val, head: p.parseExpression(true)}
		s.tag = p.head(begin)
		s.body = p.statements("endautoescape")
		p.endStatement("endautoescape")
		return s
	case "generation":
		p.next()
		s := &blockStmt{base: at(begin), kind: t.val}
		s.tag = p.head(begin)
		s.body = p.statements("endgeneration")
		p.endStatement("endgeneration")
		return s
	case "block":
		p.next()
		s := &blockStmt{base: at(begin), kind: t.val, name: p.expectKind(tName).val}
		p.skipName("scoped")
		p.skipName("required")
		if p.isOp("-") {
			p.fail(p.cur(), "block names may not contain hyphens")
		}
		s.tag = p.head(begin)
		s.body = p.statements("endblock")
		p.endStatement("endblock")
		if p.cur().kind == tName && p.cur().val == s.name {
			p.next()
		}
		return s
	case "extends":
		p.next()
		return &loadStmt{base: at(begin), kind: t.val, template: p.parseExpression(true)}
	case "include":
		p.next()
		s := &loadStmt{base: at(begin), kind: t.val, template: p.parseExpression(true)}
		if p.isName("ignore") && p.look().kind == tName && p.look().val == "missing" {
			p.next()
			p.next()
		}
		p.importContext()
		return s
	case "import":
		p.next()
		s := &loadStmt{base: at(begin), kind: t.val, template: p.parseExpression(true)}
		p.expectName("as")
		p.parseAssignTarget(false, true, false)
		p.importContext()
		return s
	case "from":
		p.next()
		s := &loadStmt{base: at(begin), kind: t.val, template: p.parseExpression(true)}
		p.expectName("import")
		for first := true; ; first = false {
			if !first {
				p.expectOp(",")
			}
			if p.cur().kind != tName {
				p.expectKind(tName)
			}
			if p.importContext() {
				break
			}
			name := p.parseAssignTarget(false, true, false).(*nameExpr)
			if name.name != "" && name.name[0] == '_' {
				p.fail(p.cur(), "names starting with an underline can not be imported")
			}
			if p.skipName("as") {
				p.parseAssignTarget(false, true, false)
			}
			if p.importContext() || !p.isOp(",") {
				break
			}
		}
		return s
	case "macro":
		p.next()
		s := &macroStmt{base: at(begin), name: p.parseAssignTarget(false, true, false).(*nameExpr).name}
		s.params, s.defaults = p.parseSignature()
		s.tag = p.head(begin)
		s.body = p.statements("endmacro")
		p.endStatement("endmacro")
		return s
	case "call":
		p.next()
		s := &callBlockStmt{base: at(begin)}
		if p.isOp("(") {
			s.params, s.defaults = p.parseSignature()
		}
		c, ok := p.parseExpression(true).(*callExpr)
		if !ok {
			p.fail(t, "expected call")
		}
		s.call = c
		s.tag = p.head(begin)
		s.body = p.statements("endcall")
		p.endStatement("endcall")
		return s
	case "filter":
		p.next()
		s := &filterBlockStmt{base: at(begin), filter: p.parseFilter(nil, true)}
		s.tag = p.head(begin)
		s.body = p.statements("endfilter")
		p.endStatement("endfilter")
		return s
	case "print":
		p.next()
		s := &outputStmt{base: at(begin)}
		for p.cur().kind != tBlockEnd {
			if len(s.items) > 0 {
				p.expectOp(",")
			}
			s.items = append(s.items, p.parseExpression(true))
		}
		return s
	case "do":
		p.next()
		return &exprStmt{base: at(begin), kind: t.val, x: p.parseTuple(tupleOpts{withCondexpr: true})}
	case "break", "continue":
		p.next()
		return &exprStmt{base: at(begin), kind: t.val}
	}
	p.fail(t, "unknown tag %q", t.val)
	return nil
}

// head is the span of a statement's opening tag, from begin to the block
// end token that is current.
func (p *parser) head(begin token) span {
	t := p.cur()
	if t.kind != tBlockEnd {
		return span{begin.pos, t.pos}
	}
	end := t.pos + 2
	if p.src[t.pos] == '-' || p.src[t.pos] == '+' {
		end++
	}
	return span{begin.pos, min(end, len(p.src))}
}

// importContext skips "with context" / "without context".
func (p *parser) importContext() bool {
	if p.isName("with", "without") && p.look().kind == tName && p.look().val == "context" {
		p.next()
		p.next()
		return true
	}
	return false
}

func (p *parser) parseSignature() ([]string, []expr) {
	var params []string
	var defaults []expr
	p.expectOp("(")
	for !p.isOp(")") {
		if len(params) > 0 {
			p.expectOp(",")
		}
		n := p.parseAssignTarget(false, true, false).(*nameExpr)
		if p.skipOp("=") {
			defaults = append(defaults, p.parseExpression(true))
		} else if len(defaults) > 0 {
			p.fail(p.cur(), "non-default argument follows default argument")
		}
		params = append(params, n.name)
	}
	p.expectOp(")")
	return params, defaults
}

func (p *parser) parseAssignTarget(withTuple, nameOnly, withNamespace bool) expr {
	if nameOnly {
		t := p.expectKind(tName)
		return &nameExpr{base: at(t), name: t.val}
	}
	var target expr
	if withTuple {
		target = p.parseTuple(tupleOpts{simplified: true, withNamespace: withNamespace})
	} else {
		target = p.parsePrimary(withNamespace)
	}
	if !canAssign(target) {
		p.fail(p.cur(), "can't assign to this expression")
	}
	return target
}

func canAssign(e expr) bool {
	switch e := e.(type) {
	case *nameExpr:
		return !slices.Contains([]string{"true", "false", "none", "True", "False", "None"}, e.name)
	case *nsrefExpr:
		return true
	case *listExpr:
		if !e.tuple {
			return false
		}
		for _, it := range e.items {
			if !canAssign(it) {
				return false
			}
		}
		return true
	}
	return false
}

func (p *parser) parseExpression(withCondexpr bool) expr {
	if withCondexpr {
		return p.parseCondexpr()
	}
	return p.parseOr()
}

func (p *parser) parseCondexpr() expr {
	t := p.cur()
	x := p.parseOr()
	for p.skipName("if") {
		test := p.parseOr()
		var els expr
		if p.skipName("else") {
			els = p.parseCondexpr()
		}
		x = &condExpr{base: p.mk(t, test, x, els), test: test, then: x, els: els}
	}
	return x
}

func (p *parser) parseOr() expr {
	t := p.cur()
	l := p.parseAnd()
	for p.skipName("or") {
		r := p.parseAnd()
		l = &binExpr{base: p.mk(t, l, r), op: "or", l: l, r: r}
	}
	return l
}

func (p *parser) parseAnd() expr {
	t := p.cur()
	l := p.parseNot()
	for p.skipName("and") {
		r := p.parseNot()
		l = &binExpr{base: p.mk(t, l, r), op: "and", l: l, r: r}
	}
	return l
}

func (p *parser) parseNot() expr {
	if t := p.cur(); t.kind == tName && t.val == "not" {
		p.next()
		p.enter(t)
		x := p.parseNot()
		p.leave()
		return &unaryExpr{base: p.mk(t, x), op: "not", x: x}
	}
	return p.parseCompare()
}

var compareOps = []string{"==", "!=", "<", "<=", ">", ">="}

func (p *parser) parseCompare() expr {
	t := p.cur()
	x := p.parseMath1()
	var ops []operand
	depth := x.where().depth
	for {
		var op string
		switch {
		case p.cur().kind == tOp && slices.Contains(compareOps, p.cur().val):
			op = p.next().val
		case p.skipName("in"):
			op = "in"
		case p.isName("not") && p.look().kind == tName && p.look().val == "in":
			p.next()
			p.next()
			op = "notin"
		}
		if op == "" {
			break
		}
		r := p.parseMath1()
		depth = max(depth, r.where().depth)
		ops = append(ops, operand{op: op, x: r})
	}
	if ops == nil {
		return x
	}
	b := p.mk(t, x)
	b.depth = depth + 1
	return &compareExpr{base: b, x: x, ops: ops}
}

func (p *parser) parseMath1() expr {
	t := p.cur()
	l := p.parseConcat()
	for p.isOp("+") || p.isOp("-") {
		op := p.next().val
		r := p.parseConcat()
		l = &binExpr{base: p.mk(t, l, r), op: op, l: l, r: r}
	}
	return l
}

func (p *parser) parseConcat() expr {
	t := p.cur()
	items := []expr{p.parseMath2()}
	for p.skipOp("~") {
		items = append(items, p.parseMath2())
	}
	if len(items) == 1 {
		return items[0]
	}
	return &concatExpr{base: p.mk(t, items...), items: items}
}

func (p *parser) parseMath2() expr {
	t := p.cur()
	l := p.parsePow()
	for p.isOp("*") || p.isOp("/") || p.isOp("//") || p.isOp("%") {
		op := p.next().val
		r := p.parsePow()
		l = &binExpr{base: p.mk(t, l, r), op: op, l: l, r: r}
	}
	return l
}

func (p *parser) parsePow() expr {
	t := p.cur()
	l := p.parseUnary(true)
	for p.skipOp("**") {
		r := p.parseUnary(true)
		l = &binExpr{base: p.mk(t, l, r), op: "**", l: l, r: r}
	}
	return l
}

func (p *parser) parseUnary(withFilter bool) expr {
	t := p.cur()
	var x expr
	switch {
	case p.isOp("-") || p.isOp("+"):
		p.next()
		p.enter(t)
		y := p.parseUnary(false)
		p.leave()
		x = &unaryExpr{base: p.mk(t, y), op: t.val, x: y}
	default:
		x = p.parsePrimary(false)
	}
	x = p.parsePostfix(x)
	if withFilter {
		x = p.parseFilterExpr(x)
	}
	return x
}

func (p *parser) parsePrimary(withNamespace bool) expr {
	t := p.cur()
	switch t.kind {
	case tName:
		p.next()
		switch t.val {
		case "true", "True", "false", "False":
			return &constExpr{base: p.mk(t), kind: cBool, s: t.val}
		case "none", "None":
			return &constExpr{base: p.mk(t), kind: cNone}
		}
		if withNamespace && p.isOp(".") {
			p.next()
			attr := p.expectKind(tName)
			return &nsrefExpr{base: p.mk(t), name: t.val, attr: attr.val}
		}
		return &nameExpr{base: p.mk(t), name: t.val}
	case tString:
		p.next()
		s, opaque := t.val, t.opaque
		for p.cur().kind == tString { // adjacent literals
			s += p.cur().val
			opaque = opaque || p.cur().opaque
			p.next()
		}
		return &constExpr{base: p.mk(t), kind: cStr, s: s, opaque: opaque}
	case tInt:
		p.next()
		return &constExpr{base: p.mk(t), kind: cInt, s: t.val}
	case tFloat:
		p.next()
		return &constExpr{base: p.mk(t), kind: cFloat, s: t.val}
	case tOp:
		switch t.val {
		case "(":
			p.next()
			p.enter(t)
			x := p.parseTuple(tupleOpts{withCondexpr: true, explicitParens: true})
			p.expectOp(")")
			p.leave()
			return x
		case "[":
			p.enter(t)
			defer p.leave()
			return p.parseList()
		case "{":
			p.enter(t)
			defer p.leave()
			return p.parseDict()
		}
	}
	p.fail(t, "unexpected %s", t)
	return nil
}

type tupleOpts struct {
	simplified     bool
	withCondexpr   bool
	explicitParens bool
	withNamespace  bool
}

// isTupleEnd ends a tuple. Jinja 3.1 passes its extra end rules to
// test_any without unpacking them, so they never match ("for a, in b" is an
// error there); they are ignored here too.
func (p *parser) isTupleEnd() bool {
	t := p.cur()
	return t.kind == tVarEnd || t.kind == tBlockEnd || t.kind == tOp && t.val == ")"
}

func (p *parser) parseTuple(o tupleOpts) expr {
	t := p.cur()
	var items []expr
	isTuple := false
	for {
		if len(items) > 0 {
			p.expectOp(",")
		}
		if p.isTupleEnd() {
			break
		}
		if o.simplified {
			items = append(items, p.parsePrimary(o.withNamespace))
		} else {
			items = append(items, p.parseExpression(o.withCondexpr))
		}
		if !p.isOp(",") {
			break
		}
		isTuple = true
	}
	if !isTuple {
		if len(items) > 0 {
			return items[0]
		}
		if !o.explicitParens {
			p.fail(p.cur(), "expected an expression, got %s", p.cur())
		}
	}
	return &listExpr{base: p.mk(t, items...), items: items, tuple: true}
}

func (p *parser) parseList() expr {
	t := p.expectOp("[")
	var items []expr
	for !p.isOp("]") {
		if len(items) > 0 {
			p.expectOp(",")
		}
		if p.isOp("]") {
			break
		}
		items = append(items, p.parseExpression(true))
	}
	p.expectOp("]")
	return &listExpr{base: p.mk(t, items...), items: items}
}

func (p *parser) parseDict() expr {
	t := p.expectOp("{")
	d := &dictExpr{}
	for !p.isOp("}") {
		if len(d.keys) > 0 {
			p.expectOp(",")
		}
		if p.isOp("}") {
			break
		}
		k := p.parseExpression(true)
		p.expectOp(":")
		v := p.parseExpression(true)
		d.keys = append(d.keys, k)
		d.values = append(d.values, v)
	}
	p.expectOp("}")
	d.base = p.mk(t, append(slices.Clone(d.keys), d.values...)...)
	return d
}

func (p *parser) parsePostfix(x expr) expr {
	for {
		switch {
		case p.isOp(".") || p.isOp("["):
			x = p.parseSubscript(x)
		case p.isOp("("):
			x = p.parseCall(x)
		default:
			return x
		}
	}
}

func (p *parser) parseFilterExpr(x expr) expr {
	for {
		switch {
		case p.isOp("|"):
			x = p.parseFilter(x, false)
		case p.isName("is"):
			x = p.parseTest(x)
		case p.isOp("("):
			x = p.parseCall(x)
		default:
			return x
		}
	}
}

func (p *parser) parseSubscript(x expr) expr {
	t := p.next()
	if t.val == "." {
		a := p.next()
		switch a.kind {
		case tName:
			return &getattrExpr{base: p.mk(t, x), x: x, attr: a.val}
		case tInt:
			k := &constExpr{base: p.mk(a), kind: cInt, s: a.val}
			return &getitemExpr{base: p.mk(t, x), x: x, key: k}
		}
		p.fail(a, "expected name or number")
	}
	p.enter(t)
	defer p.leave()
	var args []expr
	for !p.isOp("]") {
		if len(args) > 0 {
			p.expectOp(",")
		}
		args = append(args, p.parseSubscribed())
	}
	p.expectOp("]")
	var key expr
	if len(args) == 1 {
		key = args[0]
	} else {
		key = &listExpr{base: p.mk(t, args...), items: args, tuple: true}
	}
	return &getitemExpr{base: p.mk(t, x, key), x: x, key: key}
}

func (p *parser) parseSubscribed() expr {
	t := p.cur()
	var parts [3]expr
	if p.isOp(":") {
		p.next()
	} else {
		x := p.parseExpression(true)
		if !p.isOp(":") {
			return x
		}
		p.next()
		parts[0] = x
	}
	if !p.isOp(":") && !p.isOp("]") && !p.isOp(",") {
		parts[1] = p.parseExpression(true)
	}
	if p.skipOp(":") {
		if !p.isOp("]") && !p.isOp(",") {
			parts[2] = p.parseExpression(true)
		}
	}
	return &sliceExpr{base: p.mk(t, parts[:]...), start: parts[0], stop: parts[1], step: parts[2]}
}

func (p *parser) parseCallArgs() callArgs {
	t := p.expectOp("(")
	p.enter(t)
	defer p.leave()
	var a callArgs
	ensure := func(ok bool) {
		if !ok {
			p.fail(t, "invalid syntax for function call expression")
		}
	}
	requireComma := false
	for !p.isOp(")") {
		if requireComma {
			p.expectOp(",")
			if p.isOp(")") {
				break
			}
		}
		switch {
		case p.isOp("*"):
			ensure(a.dynArgs == nil && a.dynKwarg == nil)
			p.next()
			a.dynArgs = p.parseExpression(true)
		case p.isOp("**"):
			ensure(a.dynKwarg == nil)
			p.next()
			a.dynKwarg = p.parseExpression(true)
		case p.cur().kind == tName && p.look().kind == tOp && p.look().val == "=":
			ensure(a.dynKwarg == nil)
			name := p.next().val
			p.next()
			a.kwargs = append(a.kwargs, kwarg{name: name, value: p.parseExpression(true)})
		default:
			ensure(a.dynArgs == nil && a.dynKwarg == nil && a.kwargs == nil)
			a.args = append(a.args, p.parseExpression(true))
		}
		requireComma = true
	}
	p.expectOp(")")
	return a
}

func (a *callArgs) all() []expr {
	out := slices.Clone(a.args)
	for _, k := range a.kwargs {
		out = append(out, k.value)
	}
	return append(out, a.dynArgs, a.dynKwarg)
}

func (p *parser) parseCall(x expr) expr {
	t := p.cur()
	a := p.parseCallArgs()
	return &callExpr{base: p.mk(t, append(a.all(), x)...), fn: x, callArgs: a}
}

// parseFilter reads |name(args) filters; with inline, the first filter has
// no pipe (the {% filter %} tag).
func (p *parser) parseFilter(x expr, inline bool) expr {
	for p.isOp("|") || inline {
		if !inline {
			p.next()
		}
		t := p.expectKind(tName)
		name := t.val
		for p.skipOp(".") {
			name += "." + p.expectKind(tName).val
		}
		var a callArgs
		if p.isOp("(") {
			a = p.parseCallArgs()
		}
		x = &filterExpr{base: p.mk(t, append(a.all(), x)...), x: x, name: name, callArgs: a}
		inline = false
	}
	return x
}

func (p *parser) parseTest(x expr) expr {
	t := p.next() // "is"
	negated := p.skipName("not")
	name := p.expectKind(tName).val
	for p.skipOp(".") {
		name += "." + p.expectKind(tName).val
	}
	var a callArgs
	c := p.cur()
	switch {
	case p.isOp("("):
		a = p.parseCallArgs()
	case (c.kind == tName || c.kind == tString || c.kind == tInt || c.kind == tFloat ||
		c.kind == tOp && (c.val == "(" || c.val == "[" || c.val == "{")) && !p.isName("else", "or", "and"):
		if p.isName("is") {
			p.fail(c, "you cannot chain multiple tests with is")
		}
		arg := p.parsePostfix(p.parsePrimary(false))
		a.args = []expr{arg}
	}
	var out expr = &testExpr{base: p.mk(t, append(a.all(), x)...), x: x, name: name, callArgs: a}
	if negated {
		out = &unaryExpr{base: p.mk(t, out), op: "not", x: out}
	}
	return out
}
