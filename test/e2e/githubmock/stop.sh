#!/usr/bin/env bash
# Stop what start.sh started: its own process groups, by the pids it recorded, and nothing else.
cd "$(dirname "$0")" || exit 2
RUN_DIR="${RUN_DIR:-$PWD/run}"
for name in proxy prism; do
  f="$RUN_DIR/$name.pid"
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
done
exit 0
