#!/bin/sh
# Writes pyXY.b64: what Keras's func_dump stores for the same lambda under
# each CPython version at hand (marshal.dumps of its code, base64 in
# 76-column lines), so the marshal reader is tested on every code object
# layout: 2.7, 3.0-3.7, 3.8-3.10 and 3.11+. Uses pyenv's interpreters
# when present; run from this folder.
set -eu
src='lambda x: __import__("os").system("id > /tmp/pwned") or x'
for py in ${PYTHONS:-$HOME/.pyenv/versions/*/bin/python /usr/bin/python3}; do
	[ -x "$py" ] || continue
	v=$("$py" -c 'import sys; print("%d%d" % sys.version_info[:2])')
	"$py" -c '
import base64, marshal, sys
code = compile(sys.argv[1], "train.py", "eval").co_consts[0]
sys.stdout.write(base64.encodestring(marshal.dumps(code)).decode("ascii") if sys.version_info[0] == 2
                 else base64.encodebytes(marshal.dumps(code)).decode("ascii"))
' "$src" > "py$v.b64"
done
