#!/usr/bin/env bash
# Start the GitHub API mock: Prism serving GitHub's own REST description (trimmed, with the scenario of
# ../testdata/prs.json planted in it) behind proxy.mjs, which fixes up Accept headers, picks scenario answers
# and logs every request as a JSON line.
#
#   ./start.sh          then point a client at http://127.0.0.1:$PORT (printed; also in run/url)
#   ./stop.sh
#
# Env: PORT (4010; Prism listens on PORT+1), RUN_DIR (./run: pids, logs, generated spec),
#      SCENARIO (a scenario JSON for trim-spec.mjs; default: generated from ../testdata/prs.json),
#      PRISM_FLAGS (e.g. --errors: also check the answers against the description), WAIT (seconds, 120).
# Writes RUN_DIR/{prism,proxy}.pid, prism.log, proxy.log, requests.jsonl (one JSON line per request), url.
set -euo pipefail
cd "$(dirname "$0")"
PORT="${PORT:-4010}"
UPSTREAM=$((PORT + 1))
RUN_DIR="${RUN_DIR:-$PWD/run}"
WAIT="${WAIT:-120}"
mkdir -p "$RUN_DIR"

if [ ! -x node_modules/.bin/prism ]; then
  # --ignore-scripts: nothing here needs an install script (and one of Prism's dependencies phones home).
  npm ci --ignore-scripts --no-audit --no-fund >&2
fi
for f in prism.pid proxy.pid; do
  if [ -f "$RUN_DIR/$f" ] && kill -0 "$(cat "$RUN_DIR/$f")" 2>/dev/null; then
    echo "start.sh: already running ($RUN_DIR/$f = $(cat "$RUN_DIR/$f")); run ./stop.sh first" >&2
    exit 1
  fi
done

SRC=node_modules/@octokit/openapi/generated/api.github.com.json
scenario="${SCENARIO:-}"
if [ -z "$scenario" ]; then
  scenario="$RUN_DIR/scenario.json"
  node scenario.mjs > "$scenario"
fi
node trim-spec.mjs "$SRC" "$RUN_DIR/spec.json" --scenario "$scenario"

: > "$RUN_DIR/requests.jsonl"
start=$(date +%s%N)
# setsid: each in its own process group, so that stop.sh can end it with its children and nothing else.
# shellcheck disable=SC2086 # PRISM_FLAGS is a list of flags
setsid node_modules/.bin/prism mock -h 127.0.0.1 -p "$UPSTREAM" ${PRISM_FLAGS:-} "$RUN_DIR/spec.json" \
  > "$RUN_DIR/prism.log" 2>&1 < /dev/null &
echo $! > "$RUN_DIR/prism.pid"
setsid node proxy.mjs --listen "$PORT" --upstream "$UPSTREAM" --log "$RUN_DIR/requests.jsonl" \
  --routes "$RUN_DIR/spec.routes.json" > "$RUN_DIR/proxy.log" 2>&1 < /dev/null &
echo $! > "$RUN_DIR/proxy.pid"

deadline=$(( $(date +%s) + WAIT ))
while :; do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/__mock/health")" = 200 ]; then
    echo "http://127.0.0.1:$PORT" > "$RUN_DIR/url"
    printf 'GitHub mock up on http://127.0.0.1:%s in %d ms (Prism pid %s on :%s, log %s)\n' \
      "$PORT" $(( ($(date +%s%N) - start) / 1000000 )) "$(cat "$RUN_DIR/prism.pid")" "$UPSTREAM" "$RUN_DIR/requests.jsonl"
    exit 0
  fi
  for name in prism proxy; do
    if ! kill -0 "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null; then
      echo "start.sh: $name exited; the end of $name.log:" >&2
      tail -n 30 "$RUN_DIR/$name.log" >&2
      ./stop.sh
      exit 1
    fi
  done
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "start.sh: the mock did not answer within ${WAIT}s; the end of prism.log:" >&2
    tail -n 30 "$RUN_DIR/prism.log" >&2
    ./stop.sh
    exit 1
  fi
  sleep 0.3
done
