package jinja

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mlguard/mlguard/internal/finding"
)

// The analysis evaluates the template abstractly. Variables are bound
// flow-insensitively (every {% set %}, loop target, macro parameter and
// namespace attribute adds to the values its name may hold), iterated to a
// fixpoint, then a last pass reports. Three layers find an escape:
//
//  1. attribute and subscript names, str.format fields, attr/map/selectattr
//     arguments and called functions, each folded to the strings they may
//     be, checked against the escape names;
//  2. any string the template builds that is an escape name, wherever it
//     flows (a catch-all for flows the first layer does not follow);
//  3. names computed at render time from parts that are not constants
//     (characters picked out of an object's repr, |attr of a variable),
//     which are suspicious rather than proven.

const maxPasses = 8

type analyzer struct {
	src      string
	assigned map[string]bool
	macros   map[string][]*macroStmt
	prev     map[string]val
	cur      map[string]val
	f        folder
	report   bool
	tag      span
	hole     val // input of a filter with no left operand ({% filter %}, {% set x | f %})
	res      *results
}

type candidate struct {
	b    base
	tag  span
	name string
}

type results struct {
	src      string
	findings []finding.Finding
	seen     map[string]bool
	escaped  map[string]bool // line + name of escapes reported by layer 1
	later    []candidate     // layer 2
}

func analyze(src string, body []stmt) []finding.Finding {
	a := &analyzer{
		src:      src,
		assigned: map[string]bool{},
		macros:   map[string][]*macroStmt{},
		prev:     map[string]val{},
		res:      &results{src: src, seen: map[string]bool{}, escaped: map[string]bool{}},
	}
	a.collect(body)
	for range maxPasses {
		a.cur = map[string]val{}
		a.f = folder{budget: passBudget}
		a.stmts(body)
		if maps.EqualFunc(a.cur, a.prev, sameVal) {
			break
		}
		a.prev = a.cur
	}
	a.report = true
	a.cur = map[string]val{}
	a.f = folder{budget: passBudget}
	a.stmts(body)
	for _, c := range a.res.later {
		if !a.res.escaped[fmt.Sprint(c.b.line, c.name)] {
			a.res.add(finding.TemplateSandboxEscape, c.b, c.tag,
				fmt.Sprintf("the template builds the name %q, the kind of name used to reach Python internals from a template", c.name))
			a.res.escaped[fmt.Sprint(c.b.line, c.name)] = true
		}
	}
	if a.f.spent {
		a.res.add(finding.TemplateUnparseable, base{line: 1}, span{},
			"the template builds more string data than the analysis follows; the rest was not folded")
	}
	slices.SortStableFunc(a.res.findings, func(x, y finding.Finding) int { return int(x.Offset - y.Offset) })
	return a.res.findings
}

// add records a finding once per rule, line and message, up to maxFindings.
func (r *results) add(rule string, b base, tag span, msg string) {
	key := fmt.Sprint(rule, b.line, msg)
	if r.seen[key] || len(r.findings) >= maxFindings {
		return
	}
	r.seen[key] = true
	f := finding.New(rule, msg)
	f.Line = b.line
	f.Offset = int64(b.at)
	f.Evidence = snippet(r.src, tag, b.at)
	r.findings = append(r.findings, f)
}

// snippet is the tag around a node, shortened.
func snippet(src string, tag span, at int) string {
	start, end := tag.start, tag.end
	if end <= start || end > len(src) || start < 0 {
		start, end = max(0, at-40), min(len(src), at+80)
	}
	s := src[start:end]
	if r := []rune(s); len(r) > maxEvidence {
		s = string(r[:maxEvidence]) + "…"
	}
	return s
}

// collect finds the names the template binds and its macros.
func (a *analyzer) collect(body []stmt) {
	var targets func(e expr)
	targets = func(e expr) {
		switch e := e.(type) {
		case *nameExpr:
			a.assigned[e.name] = true
		case *nsrefExpr:
			a.assigned[e.name+"."+e.attr] = true
		case *listExpr:
			for _, it := range e.items {
				targets(it)
			}
		}
	}
	for _, s := range body {
		switch s := s.(type) {
		case *ifStmt:
			for _, b := range s.bodies {
				a.collect(b)
			}
			a.collect(s.els)
		case *forStmt:
			targets(s.target)
			a.collect(s.body)
			a.collect(s.els)
		case *setStmt:
			targets(s.target)
			if n, ok := s.target.(*nameExpr); ok {
				if c, ok := s.value.(*callExpr); ok {
					if fn, ok := c.fn.(*nameExpr); ok && fn.name == "namespace" {
						for _, k := range c.kwargs {
							a.assigned[n.name+"."+k.name] = true
						}
					}
				}
			}
		case *setBlockStmt:
			targets(s.target)
			a.collect(s.body)
		case *macroStmt:
			a.assigned[s.name] = true
			a.macros[s.name] = append(a.macros[s.name], s)
			for _, p := range s.params {
				a.assigned[p] = true
			}
			a.collect(s.body)
		case *callBlockStmt:
			for _, p := range s.params {
				a.assigned[p] = true
			}
			a.collect(s.body)
		case *filterBlockStmt:
			a.collect(s.body)
		case *withStmt:
			for _, t := range s.targets {
				targets(t)
			}
			a.collect(s.body)
		case *blockStmt:
			a.collect(s.body)
		}
	}
}

func (a *analyzer) lookup(name string) val {
	if !a.assigned[name] {
		return unknown(anyT) // an input of the template (messages, tools...) or a global
	}
	return union(a.prev[name], a.cur[name])
}

func (a *analyzer) bind(name string, v val) {
	if old, ok := a.cur[name]; ok {
		v = union(old, v)
	}
	a.cur[name] = v
}

func (a *analyzer) bindTarget(t expr, v val) {
	switch t := t.(type) {
	case *nameExpr:
		a.bind(t.name, v)
	case *nsrefExpr:
		a.bind(t.name+"."+t.attr, v)
	case *listExpr:
		for i, it := range t.items {
			if v.list && !v.open && len(v.items) == len(t.items) {
				a.bindTarget(it, v.items[i])
			} else {
				a.bindTarget(it, val{open: true, derived: v.derived})
			}
		}
	}
}

func (a *analyzer) stmts(body []stmt) {
	for _, s := range body {
		a.stmt(s)
	}
}

func (a *analyzer) stmt(s stmt) {
	switch s := s.(type) {
	case *outputStmt:
		a.tag = s.tag
		for _, x := range s.items {
			a.eval(x)
		}
	case *ifStmt:
		for i, t := range s.tests {
			a.tag = s.tag
			a.eval(t)
			a.stmts(s.bodies[i])
		}
		a.stmts(s.els)
	case *forStmt:
		a.tag = s.tag
		it := a.eval(s.iter)
		a.bindTarget(s.target, elements(it))
		// A loop over pieces that accumulates them ({% set ns.n = ns.n ~ c %})
		// builds their concatenation, which the flow-insensitive values
		// cannot follow: check it as a built name.
		if a.report && it.list && !it.open {
			if joined := a.join(strVal(""), it); joined.onlyStrs() {
				for _, j := range joined.strs {
					if name, ok := escapeInPath(j); ok {
						a.res.later = append(a.res.later, candidate{b: s.base, tag: s.tag, name: name})
					}
				}
			}
		}
		if s.test != nil {
			a.eval(s.test)
		}
		a.stmts(s.body)
		a.stmts(s.els)
	case *setStmt:
		a.tag = s.tag
		v := a.eval(s.value)
		a.bindTarget(s.target, v)
		if n, ok := s.target.(*nameExpr); ok {
			if c, ok := s.value.(*callExpr); ok {
				if fn, ok := c.fn.(*nameExpr); ok && fn.name == "namespace" {
					for _, k := range c.kwargs {
						a.bind(n.name+"."+k.name, a.eval(k.value))
					}
				}
			}
		}
	case *setBlockStmt:
		a.stmts(s.body)
		a.tag = s.tag
		v := a.text(s.body)
		if s.filter != nil {
			a.hole = v
			v = a.eval(s.filter)
		}
		a.bindTarget(s.target, v)
	case *macroStmt:
		a.tag = s.tag
		off := len(s.params) - len(s.defaults)
		for i, d := range s.defaults {
			a.bind(s.params[off+i], a.eval(d))
		}
		a.stmts(s.body)
	case *callBlockStmt:
		a.tag = s.tag
		off := len(s.params) - len(s.defaults)
		for i, d := range s.defaults {
			a.bind(s.params[off+i], a.eval(d))
		}
		a.eval(s.call)
		a.stmts(s.body)
	case *filterBlockStmt:
		a.tag = s.tag
		a.hole = unknown(strT)
		a.eval(s.filter)
		a.stmts(s.body)
	case *withStmt:
		a.tag = s.tag
		for i := range s.targets {
			a.bindTarget(s.targets[i], a.eval(s.values[i]))
		}
		a.stmts(s.body)
	case *blockStmt:
		a.tag = s.tag
		if s.head != nil {
			a.eval(s.head)
		}
		a.stmts(s.body)
	case *loadStmt:
		a.tag = s.tag
		v := a.eval(s.template)
		name := "a template named at render time"
		if v.single() && len(v.strs) == 1 {
			name = strconv.Quote(v.strs[0])
		}
		if a.report {
			a.res.add(finding.TemplateExternal, s.base, s.tag,
				fmt.Sprintf("{%% %s %%} loads %s: a chat template is self-contained, and a renderer with a loader would read it from disk", s.kind, name))
		}
	case *exprStmt:
		a.tag = s.tag
		if s.x != nil {
			a.eval(s.x)
		}
	}
}

// text is the output of a block body, when it is all known text.
func (a *analyzer) text(body []stmt) val {
	out := strVal("")
	for _, s := range body {
		switch s := s.(type) {
		case *dataStmt:
			out = a.f.concat(out, strVal(s.text))
		case *outputStmt:
			for _, x := range s.items {
				// evaluated again without reporting: a.stmts did report
				report := a.report
				a.report = false
				out = a.f.concat(out, a.eval(x))
				a.report = report
			}
		default:
			return derivedStr()
		}
	}
	return out
}

// elements is the value of one item when iterating over v.
func elements(v val) val {
	var out val
	if v.list {
		for _, it := range v.items {
			out = union(out, it)
		}
	}
	for _, s := range v.strs {
		for _, r := range s {
			out = union(out, val{strs: []string{string(r)}, derived: true})
		}
	}
	if v.open || len(v.ints) > 0 {
		out = widen(out, anyT)
	}
	return out
}

func (a *analyzer) flag(rule string, b *base, msg string) {
	if a.report {
		a.res.add(rule, *b, a.tag, msg)
	}
}

// checkName checks one attribute or key name; getattr is true for .name
// and |attr(name), false for ['name'] (which Jinja also resolves as an
// attribute when the item is missing).
func (a *analyzer) checkName(b *base, name string, getattr bool, root string) {
	how := "attribute"
	if !getattr {
		how = "key"
	}
	switch {
	case escapeName(name):
		a.flag(finding.TemplateSandboxEscape, b, fmt.Sprintf("the template accesses the %s %q%s: a way out of the Jinja sandbox to Python internals", how, name, root))
		if a.report {
			a.res.escaped[fmt.Sprint(b.line, name)] = true
		}
	case getattr && moduleAttrs[name]:
		a.flag(finding.TemplateSandboxEscape, b, fmt.Sprintf("the template reaches the %s module as an attribute%s", name, root))
	case getattr && strings.HasPrefix(name, "_"):
		a.flag(finding.TemplateSuspiciousAccess, b, fmt.Sprintf("the template accesses the private attribute %q%s, which Jinja's sandbox refuses", name, root))
	}
}

// checkKey checks the names a subscript or |attr argument may be.
func (a *analyzer) checkKey(b *base, k val, getattr bool, root string) {
	for _, s := range k.strs {
		a.checkName(b, s, getattr, root)
	}
	if k.open && k.derived && (k.typ == strT || k.typ == anyT) {
		a.flag(finding.TemplateSuspiciousAccess, b, "the template looks up an attribute or key whose name is assembled at render time from parts that are not constants"+root)
	}
}

// rootOf names the gadget global an access chain starts from, for messages.
func rootOf(e expr) string {
	for {
		switch x := e.(type) {
		case *getattrExpr:
			e = x.x
		case *getitemExpr:
			e = x.x
		case *callExpr:
			e = x.fn
		case *filterExpr:
			if x.x == nil {
				return ""
			}
			e = x.x
		case *nameExpr:
			if gadgetGlobals[x.name] {
				return " (starting from " + x.name + ")"
			}
			return ""
		default:
			return ""
		}
	}
}

// eval returns what e may evaluate to, checking it on the way.
func (a *analyzer) eval(e expr) val {
	v := a.eval1(e)
	if a.report {
		for _, s := range v.strs {
			if name, ok := escapeInPath(s); ok {
				a.res.later = append(a.res.later, candidate{b: *e.where(), tag: a.tag, name: name})
			}
		}
	}
	return v
}

func (a *analyzer) eval1(e expr) val {
	switch e := e.(type) {
	case nil:
		return val{}
	case *constExpr:
		switch e.kind {
		case cStr:
			if e.opaque {
				return derivedStr()
			}
			if !a.f.keep(e.s) {
				return unknown(strT)
			}
			return strVal(e.s)
		case cInt:
			if n, err := strconv.ParseInt(e.s, 0, 64); err == nil {
				return val{ints: []int64{n}}
			}
			return unknown(numT)
		case cFloat:
			return unknown(numT)
		}
		return unknown(anyT)
	case *nameExpr:
		return a.lookup(e.name)
	case *getattrExpr:
		a.eval(e.x)
		if n, ok := e.x.(*nameExpr); ok && a.assigned[n.name+"."+e.attr] {
			// An attribute of the template's own namespace(): only its
			// name can be an escape, not a module it happens to share.
			if escapeName(e.attr) || strings.HasPrefix(e.attr, "_") {
				a.checkName(&e.base, e.attr, true, "")
			}
			return a.lookup(n.name + "." + e.attr)
		}
		a.checkName(&e.base, e.attr, true, rootOf(e.x))
		return unknown(anyT)
	case *getitemExpr:
		return a.getitem(e)
	case *sliceExpr:
		a.eval(e.start)
		a.eval(e.stop)
		a.eval(e.step)
		return unknown(anyT)
	case *callExpr:
		return a.call(e)
	case *filterExpr:
		return a.filter(e)
	case *testExpr:
		a.eval(e.x)
		a.evalArgs(&e.callArgs)
		return unknown(anyT)
	case *binExpr:
		return a.binary(e)
	case *unaryExpr:
		x := a.eval(e.x)
		if e.op == "-" && x.single() && len(x.ints) == 1 {
			return val{ints: []int64{-x.ints[0]}}
		}
		if e.op == "+" {
			return x
		}
		return unknown(anyT)
	case *compareExpr:
		a.eval(e.x)
		for _, o := range e.ops {
			a.eval(o.x)
		}
		return unknown(anyT)
	case *concatExpr:
		out := strVal("")
		for _, it := range e.items {
			out = a.f.concat(out, a.eval(it))
		}
		return out
	case *condExpr:
		a.eval(e.test)
		then := a.eval(e.then)
		if e.els == nil {
			return union(then, strVal(""))
		}
		return union(then, a.eval(e.els))
	case *listExpr:
		out := val{list: true}
		for _, it := range e.items {
			out.items = append(out.items, a.eval(it))
		}
		if len(out.items) > maxItems {
			return unknown(listT)
		}
		return out
	case *dictExpr:
		out := val{list: true}
		for i := range e.keys {
			out.items = append(out.items, a.eval(e.keys[i]))
			a.eval(e.values[i])
		}
		if len(out.items) > maxItems {
			return unknown(listT)
		}
		return out
	case *nsrefExpr:
		return a.lookup(e.name + "." + e.attr)
	}
	return unknown(anyT)
}

type evaluatedArgs struct {
	args  []val
	named map[string]val
}

func (a *analyzer) evalArgs(c *callArgs) evaluatedArgs {
	out := evaluatedArgs{named: map[string]val{}}
	for _, x := range c.args {
		out.args = append(out.args, a.eval(x))
	}
	for _, k := range c.kwargs {
		out.named[k.name] = a.eval(k.value)
	}
	if c.dynArgs != nil {
		a.eval(c.dynArgs)
	}
	if c.dynKwarg != nil {
		a.eval(c.dynKwarg)
	}
	return out
}

func (a *analyzer) getitem(e *getitemExpr) val {
	x := a.eval(e.x)
	root := rootOf(e.x)
	if sl, ok := e.key.(*sliceExpr); ok {
		bounds := [3]*int64{}
		known := true
		for i, p := range []expr{sl.start, sl.stop, sl.step} {
			v := a.eval(p)
			switch {
			case p == nil:
			case v.single() && len(v.ints) == 1:
				bounds[i] = &v.ints[0]
			default:
				known = false
			}
		}
		switch {
		case x.list && !x.open:
			return unknown(listT)
		case x.isStr():
			if !known {
				return derivedStr()
			}
			return a.f.mapStr(x, true, func(s string) (string, bool) { return slice(s, bounds[0], bounds[1], bounds[2]) }).withDerived()
		}
		return unknown(anyT)
	}
	k := a.eval(e.key)
	a.checkKey(&e.base, k, false, root)
	if x.list && !x.open && k.single() && len(k.ints) == 1 {
		i := k.ints[0]
		if i < 0 {
			i += int64(len(x.items))
		}
		if i >= 0 && i < int64(len(x.items)) {
			return x.items[i]
		}
		return unknown(anyT)
	}
	if x.isStr() && k.single() && len(k.ints) == 1 {
		return a.f.mapStr(x, true, func(s string) (string, bool) { return index(s, k.ints[0]) }).withDerived()
	}
	if x.isStr() && k.open && k.typ != strT {
		return derivedStr() // a character picked out of a string
	}
	return unknown(anyT)
}

func (a *analyzer) call(e *callExpr) val {
	var recv val
	method := ""
	switch fn := e.fn.(type) {
	case *getattrExpr:
		recv = a.eval(fn.x)
		method = fn.attr
		a.checkName(&fn.base, fn.attr, true, rootOf(fn.x))
	default:
		a.eval(e.fn)
	}
	args := a.evalArgs(&e.callArgs)
	root := rootOf(e.fn)
	for _, k := range e.kwargs {
		if escapeName(k.name) && a.report {
			a.res.later = append(a.res.later, candidate{b: e.base, tag: a.tag, name: k.name})
		}
	}
	switch fn := e.fn.(type) {
	case *getattrExpr:
		if dangerousCalls[fn.attr] {
			a.flag(finding.TemplateSandboxEscape, &e.base, fmt.Sprintf("the template calls %s(), which runs commands or code, imports modules or opens files%s", fn.attr, root))
		}
	case *getitemExpr:
		for _, s := range a.keyStrs(fn.key) {
			if dangerousCalls[s] {
				a.flag(finding.TemplateSandboxEscape, &e.base, fmt.Sprintf("the template calls %s(), which runs commands or code, imports modules or opens files%s", s, root))
			}
		}
	case *nameExpr:
		if dangerousBuiltins[fn.name] && !a.assigned[fn.name] { // not the template's own macro
			a.flag(finding.TemplateSandboxEscape, &e.base, fmt.Sprintf("the template calls the Python built-in %s(), which no template environment provides unless its sandbox is broken", fn.name))
		}
		switch {
		case fn.name == "dict":
			out := val{list: true}
			for _, k := range e.kwargs {
				out.items = append(out.items, strVal(k.name))
			}
			return out
		case a.macros[fn.name] != nil:
			for _, m := range a.macros[fn.name] {
				for i, v := range args.args {
					if i < len(m.params) {
						a.bind(m.params[i], v)
					}
				}
				for k, v := range args.named {
					if slices.Contains(m.params, k) {
						a.bind(k, v)
					}
				}
			}
			return unknown(strT)
		}
		return unknown(anyT)
	}
	if method == "" {
		return unknown(anyT)
	}
	return a.method(&e.base, recv, method, args, root)
}

// keyStrs are the strings a subscript key folds to, without reporting.
func (a *analyzer) keyStrs(k expr) []string {
	report := a.report
	a.report = false
	defer func() { a.report = report }()
	return a.eval(k).strs
}

// method folds the string and dict methods that can assemble a name.
func (a *analyzer) method(b *base, recv val, name string, args evaluatedArgs, root string) val {
	arg := func(i int) (string, bool) {
		if i < len(args.args) && args.args[i].single() && len(args.args[i].strs) == 1 {
			return args.args[i].strs[0], true
		}
		return "", false
	}
	switch name {
	case "format", "format_map":
		if !recv.isStr() {
			return unknown(anyT)
		}
		named := args.named
		if name == "format_map" {
			named = nil
		}
		out := val{derived: true}
		for _, s := range recv.strs {
			fields, r, ok := strFormat(s, args.args, named)
			for _, f := range fields {
				for _, at := range f.attrs {
					a.checkName(b, strings.Trim(at, "'\""), true, " in a str.format field"+root)
				}
			}
			if ok && a.f.keep(r) {
				out.strs = mergeStrs(out.strs, []string{r})
			} else {
				out = widen(out, strT)
			}
		}
		if recv.open {
			out = widen(out, strT)
		}
		return out
	case "join":
		if len(args.args) == 1 {
			return a.join(recv, args.args[0])
		}
	case "replace":
		old, ok1 := arg(0)
		nw, ok2 := arg(1)
		if ok1 && ok2 {
			return a.f.mapStr(recv, true, func(s string) (string, bool) { return strings.ReplaceAll(s, old, nw), true })
		}
		if recv.isStr() {
			return derivedStr()
		}
	case "lower", "casefold":
		return a.f.mapStr(recv, false, func(s string) (string, bool) { return strings.ToLower(s), true })
	case "upper":
		return a.f.mapStr(recv, false, func(s string) (string, bool) { return strings.ToUpper(s), true })
	case "capitalize":
		return a.f.mapStr(recv, false, func(s string) (string, bool) { return pyCapitalize(s), true })
	case "title":
		return a.f.mapStr(recv, false, func(s string) (string, bool) { return pyTitle(s), true })
	case "swapcase":
		return a.f.mapStr(recv, false, func(s string) (string, bool) { return pySwapcase(s), true })
	case "strip", "lstrip", "rstrip":
		cut := " \t\n\r\v\f"
		if c, ok := arg(0); ok {
			cut = c
		} else if len(args.args) > 0 {
			return a.f.mapStr(recv, true, func(string) (string, bool) { return "", false })
		}
		trim := map[string]func(string, string) string{"strip": strings.Trim, "lstrip": strings.TrimLeft, "rstrip": strings.TrimRight}[name]
		return a.f.mapStr(recv, false, func(s string) (string, bool) { return trim(s, cut), true })
	case "removeprefix", "removesuffix":
		if c, ok := arg(0); ok {
			cut := map[string]func(string, string) string{"removeprefix": strings.TrimPrefix, "removesuffix": strings.TrimSuffix}[name]
			return a.f.mapStr(recv, false, func(s string) (string, bool) { return cut(s, c), true })
		}
	case "split", "rsplit":
		sep, ok := arg(0)
		if recv.single() && len(recv.strs) == 1 && (ok || len(args.args) == 0) {
			var parts []string
			if ok && sep != "" {
				parts = strings.Split(recv.strs[0], sep)
			} else {
				parts = strings.Fields(recv.strs[0])
			}
			if len(parts) <= maxItems {
				out := val{list: true}
				for _, p := range parts {
					out.items = append(out.items, strVal(p))
				}
				return out
			}
		}
		return unknown(listT)
	case "keys":
		if recv.list {
			return recv
		}
		return unknown(listT)
	case "items", "values":
		return unknown(listT)
	}
	return unknown(anyT)
}

// join is sep.join(items) and items|join(sep).
func (a *analyzer) join(sep, items val) val {
	seps, ok := sep.texts()
	if !ok || len(seps) == 0 {
		return derivedStr()
	}
	var parts []val
	switch {
	case items.list && !items.open:
		parts = items.items
	case items.onlyStrs() && len(items.strs) == 1:
		for _, r := range items.strs[0] {
			parts = append(parts, strVal(string(r)))
		}
	default:
		return derivedStr()
	}
	out := val{derived: true}
	for _, s := range seps {
		acc := strVal("")
		for i, p := range parts {
			if i > 0 {
				acc = a.f.concat(acc, strVal(s))
			}
			acc = a.f.concat(acc, p)
		}
		out = union(out, acc)
	}
	out.derived = true
	return out
}

func (a *analyzer) filter(e *filterExpr) val {
	var in val
	if e.x == nil {
		in = a.hole
	} else {
		in = a.eval(e.x)
	}
	args := a.evalArgs(&e.callArgs)
	root := rootOf(e.x)
	if attrFilters[e.name] {
		a.checkAttrArgs(e, args, root)
	}
	arg := func(i int) (string, bool) {
		if i < len(args.args) && args.args[i].single() && len(args.args[i].strs) == 1 {
			return args.args[i].strs[0], true
		}
		return "", false
	}
	switch e.name {
	case "string", "safe", "e", "escape", "forceescape":
		if in.isStr() || len(in.ints) > 0 {
			out := val{strs: mergeStrs(in.strs, nil), open: in.open || in.list, typ: strT, derived: in.derived}
			for _, n := range in.ints {
				out.strs = mergeStrs(out.strs, []string{strconv.FormatInt(n, 10)})
			}
			return out
		}
		return unknown(strT) // the repr of an object: characters picked from it build names
	case "lower":
		return a.f.mapStr(in, false, func(s string) (string, bool) { return strings.ToLower(s), true })
	case "upper":
		return a.f.mapStr(in, false, func(s string) (string, bool) { return strings.ToUpper(s), true })
	case "capitalize":
		return a.f.mapStr(in, false, func(s string) (string, bool) { return pyCapitalize(s), true })
	case "title":
		return a.f.mapStr(in, false, func(s string) (string, bool) { return pyTitle(s), true })
	case "trim":
		cut := " \t\n\r\v\f"
		if c, ok := arg(0); ok {
			cut = c
		}
		return a.f.mapStr(in, false, func(s string) (string, bool) { return strings.Trim(s, cut), true })
	case "replace":
		old, ok1 := arg(0)
		nw, ok2 := arg(1)
		if ok1 && ok2 && len(args.args) == 2 {
			return a.f.mapStr(in, true, func(s string) (string, bool) { return strings.ReplaceAll(s, old, nw), true })
		}
		return derivedStr()
	case "reverse":
		if in.list && !in.open {
			out := val{list: true, items: slices.Clone(in.items)}
			slices.Reverse(out.items)
			return out
		}
		return a.f.mapStr(in, true, func(s string) (string, bool) { return reverse(s), true }).withDerived()
	case "first", "last":
		if in.list && !in.open {
			if len(in.items) == 0 {
				return val{}
			}
			if e.name == "first" {
				return in.items[0]
			}
			return in.items[len(in.items)-1]
		}
		if in.isStr() && !in.list {
			i := int64(0)
			if e.name == "last" {
				i = -1
			}
			return a.f.mapStr(in, true, func(s string) (string, bool) { return index(s, i) }).withDerived()
		}
		return unknown(anyT)
	case "list":
		if in.list {
			return in
		}
		if in.onlyStrs() && len(in.strs) == 1 && len(in.strs[0]) <= maxItems {
			out := val{list: true}
			for _, r := range in.strs[0] {
				out.items = append(out.items, strVal(string(r)).withDerived())
			}
			return out
		}
		return unknown(listT)
	case "join":
		sep := strVal("")
		if len(args.args) > 0 {
			sep = args.args[0]
		} else if d, ok := args.named["d"]; ok {
			sep = d
		}
		if _, ok := args.named["attribute"]; ok || len(args.args) > 1 {
			return derivedStr()
		}
		return a.join(sep, in)
	case "format":
		if !in.isStr() {
			return unknown(strT)
		}
		out := val{derived: true}
		for _, s := range in.strs {
			if r, ok := percent(s, args.args, args.named); ok && a.f.keep(r) {
				out.strs = mergeStrs(out.strs, []string{r})
			} else {
				out = widen(out, strT)
			}
		}
		if in.open {
			out = widen(out, strT)
		}
		return out
	case "default", "d":
		if len(args.args) > 0 {
			return union(in, args.args[0])
		}
		return in
	case "int":
		if in.single() && len(in.strs) == 1 {
			if n, err := strconv.ParseInt(strings.TrimSpace(in.strs[0]), 10, 64); err == nil {
				return val{ints: []int64{n}}
			}
		}
		if in.single() && len(in.ints) == 1 {
			return in
		}
		return unknown(numT)
	case "sort", "unique":
		if in.list && !in.open && len(args.args) == 0 && len(args.named) == 0 {
			return val{list: true, items: slices.Clone(in.items)}
		}
		return unknown(listT)
	case "tojson", "indent", "wordwrap", "truncate", "center", "urlencode", "striptags", "wordcount", "filesizeformat", "xmlattr":
		return unknown(strT)
	case "length", "count", "float", "abs", "round", "sum":
		return unknown(numT)
	}
	return unknown(anyT)
}

// checkAttrArgs checks the attribute names given to attr, map, selectattr
// and the other filters that look attributes up.
func (a *analyzer) checkAttrArgs(e *filterExpr, args evaluatedArgs, root string) {
	if e.name == "attr" {
		if len(args.args) > 0 {
			k := args.args[0]
			for _, s := range k.strs {
				a.checkName(&e.base, s, true, root)
			}
			if k.open {
				a.flag(finding.TemplateSuspiciousAccess, &e.base, "the template looks up an attribute with |attr() whose name is not a constant"+root)
			}
		}
		return
	}
	check := func(v val, what string) {
		for _, s := range v.strs {
			if name, ok := escapeInPath(s); ok {
				a.flag(finding.TemplateSandboxEscape, &e.base, fmt.Sprintf("the template looks up %q through the %s filter%s: a way out of the Jinja sandbox to Python internals", name, e.name, root))
				if a.report {
					a.res.escaped[fmt.Sprint(e.line, name)] = true
				}
			}
		}
		if what == "attribute" && v.open && (v.derived || v.typ == strT || v.typ == anyT) {
			a.flag(finding.TemplateSuspiciousAccess, &e.base, fmt.Sprintf("the template gives the %s filter an attribute name that is not a constant%s", e.name, root))
		}
	}
	for _, v := range args.args {
		check(v, "")
	}
	if v, ok := args.named["attribute"]; ok {
		check(v, "attribute")
	}
}

func (a *analyzer) binary(e *binExpr) val {
	l := a.eval(e.l)
	r := a.eval(e.r)
	switch e.op {
	case "and", "or":
		return union(l, r)
	case "+":
		switch {
		case l.isStr() || r.isStr():
			if !l.isStr() && l.known() || !r.isStr() && r.known() {
				return unknown(anyT) // str + int raises
			}
			return a.f.concat(l, r)
		case l.list && r.list && !l.open && !r.open:
			if len(l.items)+len(r.items) > maxItems {
				return unknown(listT)
			}
			return val{list: true, items: append(slices.Clone(l.items), r.items...)}
		case l.single() && r.single() && len(l.ints) == 1 && len(r.ints) == 1:
			return val{ints: []int64{l.ints[0] + r.ints[0]}}
		}
		return unknown(anyT)
	case "*":
		s, n := l, r
		if r.isStr() {
			s, n = r, l
		}
		if s.isStr() {
			if n.single() && len(n.ints) == 1 && n.ints[0] >= 0 && n.ints[0] <= maxStrLen {
				k := int(n.ints[0])
				return a.f.mapStr(s, true, func(x string) (string, bool) {
					if len(x)*k > maxStrLen {
						return "", false
					}
					return strings.Repeat(x, k), true
				}).withDerived()
			}
			return derivedStr()
		}
		if l.single() && r.single() && len(l.ints) == 1 && len(r.ints) == 1 {
			return val{ints: []int64{l.ints[0] * r.ints[0]}}
		}
		return unknown(anyT)
	case "%":
		if !l.isStr() {
			return unknown(numT)
		}
		args := []val{r}
		var named map[string]val
		if r.list && !r.open {
			args = r.items
		}
		out := val{derived: true}
		for _, s := range l.strs {
			if res, ok := percent(s, args, named); ok && a.f.keep(res) {
				out.strs = mergeStrs(out.strs, []string{res})
			} else {
				out = widen(out, strT)
			}
		}
		if l.open {
			out = widen(out, strT)
		}
		return out
	}
	return unknown(numT)
}
