package keras

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"unicode"
)

// A Lambda layer's function is saved with func_dump: the function's code
// object, marshalled and base64-encoded. Loading it runs marshal.loads and
// builds a function from the code, so the bytes are Python bytecode the
// model author (or an attacker) chose. mlguard does not decompile it; it
// reads the marshal stream far enough to list the names the code uses
// (co_names: globals, attributes and imports) and its string constants,
// which is what tells `lambda x: x * 2` from `lambda x: os.system(...)`.

// maxBytecode bounds a decoded code object; real lambdas are a few hundred bytes.
const maxBytecode = 16 << 20

// codeInfo is what the marshal stream of a code object says.
type codeInfo struct {
	Names   []string // co_names of the code and of nested code objects, in order, without repeats
	Strings []string // string constants
	Decoded bool     // the stream parsed as a code object; otherwise Names/Strings come from a raw string scan
	Size    int      // decoded bytes
	// Filename and Function are co_filename and co_name of the outer code
	// object: where the author's machine compiled it.
	Filename, Function string
}

// decodeFuncDump decodes a func_dump code string (base64 of marshal data).
func decodeFuncDump(code string) (*codeInfo, error) {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, code)
	if base64.StdEncoding.DecodedLen(len(clean)) > maxBytecode {
		return nil, errors.New("the bytecode is larger than 16 MiB")
	}
	raw, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		// Python's base64 decoder (codecs 'base64' is binascii.a2b_base64)
		// skips characters outside the alphabet and tolerates missing padding.
		raw, err = lenientBase64(clean)
		if err != nil {
			return nil, err
		}
	}
	return analyzeMarshal(raw), nil
}

func lenientBase64(s string) ([]byte, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			b.WriteByte(c)
		}
	}
	out, err := base64.RawStdEncoding.DecodeString(b.String())
	if err != nil || len(out) == 0 {
		return nil, errors.New("the bytecode is not valid base64")
	}
	return out, nil
}

// analyzeMarshal reads raw as a marshalled code object of any CPython
// version from 2.7 to 3.14; when no layout fits, it falls back to the
// printable strings in the bytes.
func analyzeMarshal(raw []byte) *codeInfo {
	for _, l := range layouts {
		m := &marshal{b: raw, layout: l}
		v, err := m.object(0)
		if err != nil || m.i != len(raw) {
			continue
		}
		c, ok := v.(*codeObj)
		if !ok {
			continue
		}
		info := &codeInfo{Decoded: true, Size: len(raw)}
		info.Filename, _ = c.fields[l.filename].(string)
		info.Function, _ = c.fields[l.filename+1].(string)
		m.collect(v, info, 0)
		return info
	}
	info := &codeInfo{Size: len(raw)}
	for _, s := range printable(raw, 2) {
		if isIdentifier(s) {
			info.Names = appendNew(info.Names, s)
		} else {
			info.Strings = appendNew(info.Strings, s)
		}
	}
	return info
}

// layout is how one CPython version writes a code object after TYPE_CODE:
// ints 32-bit fields, then objects, firstlineno, then trailing objects.
type layout struct {
	ints     int
	objects  int // before firstlineno
	trailing int // after firstlineno
	consts   int // index of co_consts among objects
	names    int // index of co_names
	filename int // index of co_filename (co_name follows it)
}

var layouts = []layout{
	// 3.11 to 3.14: argcount, posonlyargcount, kwonlyargcount, stacksize, flags;
	// code, consts, names, localsplusnames, localspluskinds, filename, name,
	// qualname; firstlineno; linetable, exceptiontable.
	{ints: 5, objects: 8, trailing: 2, consts: 1, names: 2, filename: 5},
	// 3.8 to 3.10: argcount, posonlyargcount, kwonlyargcount, nlocals,
	// stacksize, flags; code, consts, names, varnames, freevars, cellvars,
	// filename, name; firstlineno; lnotab.
	{ints: 6, objects: 8, trailing: 1, consts: 1, names: 2, filename: 6},
	// 3.0 to 3.7: no posonlyargcount.
	{ints: 5, objects: 8, trailing: 1, consts: 1, names: 2, filename: 6},
	// 2.7: argcount, nlocals, stacksize, flags.
	{ints: 4, objects: 8, trailing: 1, consts: 1, names: 2, filename: 6},
}

type codeObj struct {
	fields []any
}

type marshal struct {
	b      []byte
	i      int
	layout layout
	refs   []any
	count  int
}

const (
	maxMarshalDepth   = 200
	maxMarshalObjects = 1 << 20
)

var errMarshal = errors.New("malformed marshal data")

func (m *marshal) need(n int) error {
	if n < 0 || m.i+n > len(m.b) {
		return errMarshal
	}
	return nil
}

func (m *marshal) u8() (int, error) {
	if err := m.need(1); err != nil {
		return 0, err
	}
	m.i++
	return int(m.b[m.i-1]), nil
}

func (m *marshal) i32() (int, error) {
	if err := m.need(4); err != nil {
		return 0, err
	}
	v := int32(binary.LittleEndian.Uint32(m.b[m.i:]))
	m.i += 4
	return int(v), nil
}

func (m *marshal) bytes(n int) (string, error) {
	if err := m.need(n); err != nil {
		return "", err
	}
	s := string(m.b[m.i : m.i+n])
	m.i += n
	return s, nil
}

// object reads one marshalled object. Strings come back as string, tuples,
// lists and sets as []any, code objects as *codeObj, the rest as nil.
func (m *marshal) object(depth int) (any, error) {
	if depth > maxMarshalDepth {
		return nil, errMarshal
	}
	if m.count++; m.count > maxMarshalObjects {
		return nil, errMarshal
	}
	t, err := m.u8()
	if err != nil {
		return nil, err
	}
	ref := -1
	if t&0x80 != 0 {
		t &^= 0x80
		ref = len(m.refs)
		m.refs = append(m.refs, nil)
	}
	v, err := m.body(byte(t), depth)
	if err != nil {
		return nil, err
	}
	if ref >= 0 {
		m.refs[ref] = v
	}
	return v, nil
}

func (m *marshal) body(t byte, depth int) (any, error) {
	switch t {
	case '0', 'N', 'F', 'T', 'S', '.':
		return nil, nil
	case 'i':
		_, err := m.i32()
		return nil, err
	case 'I': // int64, Python 2
		return nil, m.skip(8)
	case 'g':
		return nil, m.skip(8)
	case 'y':
		return nil, m.skip(16)
	case 'f':
		n, err := m.u8()
		if err != nil {
			return nil, err
		}
		return nil, m.skip(n)
	case 'x':
		for range 2 {
			n, err := m.u8()
			if err != nil {
				return nil, err
			}
			if err := m.skip(n); err != nil {
				return nil, err
			}
		}
		return nil, nil
	case 'l':
		n, err := m.i32()
		if err != nil {
			return nil, err
		}
		if n < 0 {
			n = -n
		}
		return nil, m.skip(2 * n)
	case 's', 't', 'u', 'a', 'A':
		n, err := m.i32()
		if err != nil {
			return nil, err
		}
		return m.bytes(n)
	case 'z', 'Z':
		n, err := m.u8()
		if err != nil {
			return nil, err
		}
		return m.bytes(n)
	case 'R': // Python 2 reference to an interned string
		_, err := m.i32()
		return nil, err
	case 'r':
		n, err := m.i32()
		if err != nil {
			return nil, err
		}
		if n < 0 || n >= len(m.refs) {
			return nil, errMarshal
		}
		return m.refs[n], nil
	case '(', '[', '<', '>':
		n, err := m.i32()
		if err != nil {
			return nil, err
		}
		return m.seq(n, depth)
	case ')':
		n, err := m.u8()
		if err != nil {
			return nil, err
		}
		return m.seq(n, depth)
	case '{':
		for {
			if err := m.need(1); err != nil {
				return nil, err
			}
			if m.b[m.i] == '0' {
				m.i++
				return nil, nil
			}
			for range 2 {
				if _, err := m.object(depth + 1); err != nil {
					return nil, err
				}
			}
		}
	case ':': // slice, 3.14
		for range 3 {
			if _, err := m.object(depth + 1); err != nil {
				return nil, err
			}
		}
		return nil, nil
	case 'c':
		if err := m.skip(4 * m.layout.ints); err != nil {
			return nil, err
		}
		c := &codeObj{}
		for range m.layout.objects {
			v, err := m.object(depth + 1)
			if err != nil {
				return nil, err
			}
			c.fields = append(c.fields, v)
		}
		if _, err := m.i32(); err != nil {
			return nil, err
		}
		for range m.layout.trailing {
			if _, err := m.object(depth + 1); err != nil {
				return nil, err
			}
		}
		return c, nil
	}
	return nil, errMarshal
}

func (m *marshal) skip(n int) error {
	if err := m.need(n); err != nil {
		return err
	}
	m.i += n
	return nil
}

func (m *marshal) seq(n, depth int) (any, error) {
	if n < 0 || n > len(m.b)-m.i {
		return nil, errMarshal // every element takes at least a byte
	}
	out := make([]any, 0, n)
	for range n {
		v, err := m.object(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// collect gathers co_names and string constants of c and its nested code objects.
func (m *marshal) collect(v any, info *codeInfo, depth int) {
	c, ok := v.(*codeObj)
	if !ok || depth > maxMarshalDepth {
		return
	}
	if names, ok := c.fields[m.layout.names].([]any); ok {
		for _, n := range names {
			if s, ok := n.(string); ok {
				info.Names = appendNew(info.Names, s)
			}
		}
	}
	if consts, ok := c.fields[m.layout.consts].([]any); ok {
		for _, k := range consts {
			switch x := k.(type) {
			case string:
				if x != "" {
					info.Strings = appendNew(info.Strings, x)
				}
			case *codeObj:
				m.collect(x, info, depth+1)
			case []any: // a tuple constant, e.g. the names of a from-import
				for _, y := range x {
					if s, ok := y.(string); ok && s != "" {
						info.Strings = appendNew(info.Strings, s)
					}
				}
			}
		}
	}
}

func appendNew(list []string, s string) []string {
	if len(list) >= 256 || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// printable returns the runs of printable ASCII at least min bytes long.
func printable(b []byte, min int) []string {
	var out []string
	start := -1
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] >= 0x20 && b[i] < 0x7f {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= min {
			out = append(out, string(b[start:i]))
		}
		start = -1
	}
	return out
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r != '_' && !unicode.IsLetter(r) && (i == 0 || !unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// dangerousCodeNames are names whose use in a Lambda's bytecode means the
// function reaches the operating system, the network, or runs more code.
// Ordinary Lambdas use tensor ops (tf, K, ops, expand_dims, reshape...).
var dangerousCodeNames = setOf(
	"os", "posix", "nt", "subprocess", "system", "popen", "Popen", "spawnv", "spawnl", "spawnve", "execv", "execve",
	"execl", "execvp", "fork", "forkpty", "check_output", "check_call", "getoutput", "getstatusoutput",
	"exec", "eval", "compile", "__import__", "importlib", "import_module", "builtins", "__builtins__",
	"getattr", "setattr", "globals", "locals", "vars", "open", "breakpoint", "input",
	"socket", "urllib", "urlopen", "urlretrieve", "requests", "http", "httplib", "ftplib", "pty", "ctypes",
	"shutil", "rmtree", "pickle", "marshal", "loads", "runpy", "run_path", "run_module", "webbrowser", "sys",
	"__subclasses__", "__globals__", "__code__", "__reduce__", "__reduce_ex__", "__class__", "__bases__", "__mro__",
	"get_file", "load_model", "enable_unsafe_deserialization", "set_global_attribute",
)

// suspiciousStrings are fragments of shell commands and code in string constants.
var suspiciousStrings = []string{
	"/bin/sh", "/bin/bash", "bash -", "sh -c", "cmd.exe", "powershell", "curl ", "wget ", "nc -", "ncat ",
	"| sh", "|sh", "| bash", "rm -rf", "chmod ", "/etc/passwd", "/etc/shadow", ".ssh/", "authorized_keys",
	"base64 -d", "import os", "import subprocess", "__import__", "exec(", "eval(", "http://", "https://",
	"/dev/tcp/", "reverse shell",
}

// assess reports which dangerous names and strings the code uses.
func (c *codeInfo) assess() (names, strs []string) {
	for _, n := range c.Names {
		if dangerousCodeNames[n] {
			names = append(names, n)
		}
	}
	for _, s := range c.Strings {
		l := strings.ToLower(s)
		for _, frag := range suspiciousStrings {
			if strings.Contains(l, frag) {
				strs = append(strs, s)
				break
			}
		}
		if dangerousCodeNames[s] && !slices.Contains(names, s) {
			// getattr(__import__("o"+"s"), ...) spells names as strings.
			names = append(names, s)
		}
	}
	return names, strs
}
