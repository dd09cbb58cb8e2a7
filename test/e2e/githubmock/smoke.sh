#!/usr/bin/env bash
# Check that a running mock (start.sh) behaves: valid requests get 2xx, requests that break GitHub's description
# get 422, the scenario answers come back, and the proxy logs each request. Exit 0 when all hold.
#   ./smoke.sh [BASE_URL]        default: the URL start.sh wrote to run/url
set -uo pipefail
cd "$(dirname "$0")" || exit 2
RUN_DIR="${RUN_DIR:-$PWD/run}"
BASE="${1:-$(cat "$RUN_DIR/url" 2>/dev/null || echo http://127.0.0.1:4010)}"
LOG="$RUN_DIR/requests.jsonl"
out=$(mktemp); trap 'rm -f "$out"' EXIT
fail=0
sent=0
SHA=0123456789abcdef0123456789abcdef01234567

check() { # name want-status method path [json-body] [accept]
  local name=$1 want=$2 method=$3 path=$4 body=${5:-} accept=${6:-application/vnd.github.v3+json}
  local args=(-s -o "$out" -w '%{http_code}' -X "$method" "$BASE$path" -H "Accept: $accept"
    -H 'Authorization: Bearer dummy' -H 'X-GitHub-Api-Version: 2022-11-28' -H 'User-Agent: mlguard-smoke')
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  local got; got=$(curl "${args[@]}"); sent=$((sent + 1))
  if [ "$got" = "$want" ]; then
    echo "ok   $got $method $path ($name)"
  else
    echo "FAIL $method $path ($name): got $got, want $want"; head -c 800 "$out"; echo; fail=1
  fi
}
expect() { # name jq-filter-that-must-be-true (on the last response body)
  if jq -e "$2" "$out" >/dev/null 2>&1; then echo "ok   $1"; else echo "FAIL $1: $2 on"; head -c 800 "$out"; echo; fail=1; fi
}

ann() { # count level
  node -e 'const [n,l]=process.argv.slice(1);const a=[];for(let i=1;i<=+n;i++)a.push({path:"models/evil.pkl",start_line:1,end_line:1,annotation_level:l,message:"pickle calls posix.system",title:"pickle/dangerous-global"});process.stdout.write(JSON.stringify(a))' "$1" "$2"
}
run() { # conclusion annotations [summary]
  printf '{"name":"mlguard","head_sha":"%s","status":"completed","conclusion":"%s","output":{"title":"mlguard","summary":"%s","annotations":%s}}' \
    "$SHA" "$1" "${3:-1 critical finding}" "$2"
}

lines_before=$(wc -l < "$LOG" 2>/dev/null || echo 0)
check check-run-valid          201 POST  /repos/o/r/check-runs "$(run failure "$(ann 1 failure)")"
check check-run-50             201 POST  /repos/o/r/check-runs "$(run failure "$(ann 50 warning)")"
check check-run-51             422 POST  /repos/o/r/check-runs "$(run failure "$(ann 51 warning)")"
check check-run-bad-conclusion 422 POST  /repos/o/r/check-runs "$(run bogus '[]')"
check check-run-bad-level      422 POST  /repos/o/r/check-runs "$(run failure "$(ann 1 error)")"
check check-run-no-head-sha    422 POST  /repos/o/r/check-runs '{"name":"mlguard"}'
check check-run-summary-65535  201 POST  /repos/o/r/check-runs "$(run failure '[]' "$(head -c 65535 /dev/zero | tr '\0' x)")"
check check-run-summary-65536  422 POST  /repos/o/r/check-runs "$(run failure '[]' "$(head -c 65536 /dev/zero | tr '\0' x)")"
check check-run-update         200 PATCH /repos/o/r/check-runs/4 "{\"output\":{\"title\":\"mlguard\",\"summary\":\"s\",\"annotations\":$(ann 2 notice)}}"
check comment-create           201 POST  /repos/o/r/issues/1/comments '{"body":"<!-- mlguard:pr-comment -->\nhello"}'
check comment-create-no-body   422 POST  /repos/o/r/issues/1/comments '{}'
check comment-update           200 PATCH /repos/o/r/issues/comments/101 '{"body":"<!-- mlguard:pr-comment -->\nupdated"}'
check comment-delete           204 DELETE /repos/o/r/issues/comments/101
check comments-pr1             200 GET   '/repos/o/r/issues/1/comments?per_page=100'
expect comments-pr1-marker     'map(select(.body | contains("<!-- mlguard:pr-comment -->"))) | map(.id) == [101]'
check comments-other           200 GET   '/repos/o/r/issues/77/comments?per_page=100'
expect comments-other-empty    '. == []'
check files-pr1                200 GET   '/repos/o/r/pulls/1/files?per_page=100'
expect files-pr1-names         'map(.filename) == ["models/evil.pkl","models/classifier.pkl"]'
check files-pr3                200 GET   '/repos/o/r/pulls/3/files?per_page=100&page=1'
expect files-pr3-ten           'length == 10'
check sarif-upload             202 POST  /repos/o/r/code-scanning/sarifs "{\"commit_sha\":\"$SHA\",\"ref\":\"refs/pull/1/merge\",\"sarif\":\"H4sIAAAAAAAA\"}"
check accept-preview           200 GET   /repos/o/r/pulls/1 '' 'application/vnd.github.squirrel-girl-preview'
check no-such-path             404 GET   /repos/o/r/no/such/path

lines_after=$(wc -l < "$LOG")
logged=$((lines_after - lines_before))
if [ "$logged" -eq "$sent" ] && tail -n "$sent" "$LOG" | jq -e -s 'all(.authorization == true and .api_version == "2022-11-28")' >/dev/null \
   && tail -n "$sent" "$LOG" | jq -e -s '.[0].body.conclusion == "failure" and .[0].body.output.annotations[0].path == "models/evil.pkl"' >/dev/null \
   && tail -n "$sent" "$LOG" | jq -e -s '[.[] | select(.status == 422)][0].response.validation[0].message' >/dev/null; then
  echo "ok   request log: $logged JSON lines with headers, parsed bodies and Prism's error for 422s"
else
  echo "FAIL request log: $logged new lines (want $sent) in $LOG:"; tail -n 5 "$LOG"; fail=1
fi
exit $fail
