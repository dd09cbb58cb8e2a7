package jinja

import "strings"

// gadgetAttrs are attribute names, other than dunders, that lead from an
// ordinary object to code objects, frames, module globals or the template
// runtime. Chat templates format messages: they never need them.
var gadgetAttrs = map[string]bool{
	"mro": true, // type.mro(): the class hierarchy, on the way to object.__subclasses__
	// Python 2 spellings and frame/code/generator internals
	"func_globals": true, "func_code": true, "func_closure": true, "func_defaults": true, "func_dict": true,
	"im_func": true, "im_self": true, "im_class": true,
	"f_globals": true, "f_locals": true, "f_builtins": true, "f_back": true, "f_code": true,
	"gi_frame": true, "gi_code": true, "cr_frame": true, "cr_code": true, "ag_frame": true, "ag_code": true,
	"tb_frame": true, "tb_next": true, "co_code": true, "co_consts": true,
	// warnings.catch_warnings()._module is the warnings module, whose
	// __builtins__ hold __import__ (the CVE-2024-34359 payload)
	"_module": true,
	// Jinja's own runtime: the template context behind {{ self }}
	"_TemplateReference__context": true,
}

// moduleAttrs are module names that a template reaches as an attribute
// (cycler.__init__.__globals__.os): no chat-template object has them.
var moduleAttrs = map[string]bool{
	"os": true, "subprocess": true, "sys": true, "builtins": true, "__builtins__": true,
	"importlib": true, "posix": true, "pty": true, "socket": true,
	"ctypes": true, "pickle": true, "marshal": true, "shutil": true, "runpy": true,
}

// dangerousCalls are functions and methods that run commands or code,
// import modules or open files.
var dangerousCalls = map[string]bool{
	"popen": true, "popen2": true, "popen3": true, "popen4": true, "Popen": true, "system": true,
	"spawnl": true, "spawnle": true, "spawnlp": true, "spawnlpe": true,
	"spawnv": true, "spawnve": true, "spawnvp": true, "spawnvpe": true, "posix_spawn": true, "posix_spawnp": true,
	"execl": true, "execle": true, "execlp": true, "execlpe": true,
	"execv": true, "execve": true, "execvp": true, "execvpe": true,
	"check_output": true, "check_call": true, "getoutput": true, "getstatusoutput": true,
	"eval": true, "exec": true, "execfile": true, "compile": true,
	"__import__": true, "import_module": true, "load_module": true, "exec_module": true,
	"run_path": true, "run_module": true, "startfile": true, "fork": true, "forkpty": true,
	"open": true, "fdopen": true, "unlink": true, "rmtree": true,
}

// dangerousBuiltins are Python built-ins that a template calls by name
// only when the environment leaks them (a non-sandboxed renderer given
// __builtins__ or globals()): never in an ordinary chat template.
var dangerousBuiltins = map[string]bool{
	"eval": true, "exec": true, "compile": true, "__import__": true, "open": true,
	"getattr": true, "setattr": true, "delattr": true, "globals": true, "locals": true, "vars": true,
	"breakpoint": true, "execfile": true,
}

// attrFilters take attribute names (dotted paths) as arguments and look
// them up on their items: map(attribute=...), selectattr('x'), sort(attribute=...).
var attrFilters = map[string]bool{
	"attr": true, "map": true, "selectattr": true, "rejectattr": true, "sort": true, "groupby": true,
	"sum": true, "unique": true, "min": true, "max": true, "join": true,
}

// isDunder reports a __name__.
func isDunder(s string) bool {
	return len(s) > 4 && strings.HasPrefix(s, "__") && strings.HasSuffix(s, "__")
}

// escapeName reports whether an attribute name leads out of the sandbox.
func escapeName(s string) bool {
	return isDunder(s) || gadgetAttrs[s] || strings.HasPrefix(s, "_TemplateReference__")
}

// escapeInPath returns the first component of a dotted attribute path
// ("__init__.__globals__") that leads out of the sandbox.
func escapeInPath(s string) (string, bool) {
	if len(s) > 256 {
		return "", false
	}
	for _, part := range strings.Split(s, ".") {
		if escapeName(strings.TrimSpace(part)) {
			return strings.TrimSpace(part), true
		}
	}
	return "", false
}

// gadgetGlobals are the objects that SSTI payloads start from: Jinja's
// default globals and Flask's template globals. Naming them is harmless;
// they are named in messages when an escape starts from one.
var gadgetGlobals = map[string]bool{
	"cycler": true, "joiner": true, "namespace": true, "lipsum": true, "range": true, "dict": true,
	"url_for": true, "get_flashed_messages": true, "request": true, "config": true, "session": true,
	"g": true, "self": true,
}
