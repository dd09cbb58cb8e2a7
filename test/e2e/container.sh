#!/usr/bin/env bash
# The action's container, tested for real: build the Dockerfile's final stage with podman and run `mlguard ci`
# in it the way the GitHub runner runs a Docker container action, against the GitHub API mock.
#
# No base image can be pulled here, so the final stage is derived mechanically from the Dockerfile: its FROM
# line becomes FROM scratch plus container/rootfs.sh's stand-in for distroless/static (CA bundle, /etc/passwd,
# /tmp), its COPY --from=build sources come from a local build that runs the Dockerfile's own `go build` line,
# and every other line is kept as it is. A USER line in the Dockerfile fails the test (GitHub runs container
# actions as root).
#
#   test/e2e/container.sh            uses the mock at MLGUARD_E2E_GITHUB_API, or starts (and stops) one
# Env: IMAGE (localhost/mlguard-action:e2e), KEEP_IMAGE=1 to keep it afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/test/e2e"
podman="$here/podman.sh"
IMAGE="${IMAGE:-localhost/mlguard-action:e2e}"
ctx=$(mktemp -d "${TMPDIR:-/tmp}/mlguard-container.XXXXXX")
started_mock=
fail() { echo "container.sh: $*" >&2; exit 1; }
cleanup() {
  rm -rf "$ctx"
  [ -n "$started_mock" ] && "$here/githubmock/stop.sh"
  [ "${KEEP_IMAGE:-}" = 1 ] || "$podman" rmi -f "$IMAGE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cd "$root"

# shellcheck source=test/e2e/container/lib.sh
. "$here/container/lib.sh"

echo "-- the Dockerfile's contract"
check_pins Dockerfile
final=$(final_line Dockerfile)
grep -qiE '^[[:space:]]*ENTRYPOINT[[:space:]]+\["/usr/local/bin/mlguard"\]' Dockerfile \
  || fail 'the Dockerfile has no ENTRYPOINT ["/usr/local/bin/mlguard"]'

echo "-- the build context, and the binary built in it with the Dockerfile's own go build line"
build_context "$ctx/context"
build_binary Dockerfile "$ctx/context" "$ctx/out"

echo "-- the final stage, FROM scratch"
bash "$here/container/rootfs.sh" "$ctx/rootfs"
tail -n "+$final" Dockerfile | sed -E \
  -e 's#^[[:space:]]*FROM[[:space:]].*$#FROM scratch\nCOPY rootfs/ /#I' \
  -e 's#^([[:space:]]*COPY[[:space:]]+)--from=build[[:space:]]+/out/#\1out/#I' > "$ctx/Containerfile"
if grep -nE -- '--from=' "$ctx/Containerfile"; then
  fail "the final stage copies from a stage other than build's /out/: container.sh cannot provide that"
fi
cat "$ctx/Containerfile"
"$podman" build --quiet -f "$ctx/Containerfile" -t "$IMAGE" "$ctx" >/dev/null \
  || fail "podman build failed"

echo "-- mlguard version in the container"
version=$("$podman" run --rm "$IMAGE" version) || fail "the container did not run: mlguard version"
echo "$version"
case "$version" in "mlguard "*) ;; *) fail "unexpected version output: $version" ;; esac
user=$("$podman" image inspect --format '{{.Config.User}}' "$IMAGE")
[ -z "$user" ] || [ "$user" = root ] || [ "$user" = 0 ] || fail "the image runs as user $user, not root"

echo "-- mlguard ci in the container, as the runner runs it"
if [ -z "${MLGUARD_E2E_GITHUB_API:-}" ]; then
  PORT="${PORT:-4020}" "$here/githubmock/start.sh"
  started_mock=1
  MLGUARD_E2E_GITHUB_API=$(cat "$here/githubmock/run/url")
  export MLGUARD_E2E_GITHUB_API
fi
MLGUARD_E2E_IMAGE="$IMAGE" MLGUARD_E2E_PODMAN="$podman" \
  go test -count=1 -v -run '^TestCI(MaliciousPullRequest|BenignPullRequest|OverheadTenFiles|ForkReadOnlyToken|OfflineShallowCheckout)$' ./test/e2e
