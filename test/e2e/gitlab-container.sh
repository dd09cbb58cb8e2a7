#!/usr/bin/env bash
# The GitLab job's image, tested for real: build Dockerfile.gitlab's final stage with podman and run the templates'
# job script in it the way a GitLab runner's Docker executor does (TestGitLabJob with MLGUARD_E2E_GITLAB_IMAGE:
# entrypoint overridden, the shell found by the runner's detection script, the script on standard input, the
# project at /builds/<path>), against the test's fake of the GitLab API.
#
# The final stage is FROM scratch already. Its two COPY --from=build sources are made here as the build stage makes
# them, from the build context as .dockerignore leaves it: the binary by the Dockerfile's own `go build` line, the
# root file system by its own `RUN bash scripts/gitlab-rootfs.sh /rootfs` line, run on this Debian 12 machine (the
# build stage is Debian 12).
#
#   test/e2e/gitlab-container.sh
# Env: IMAGE (localhost/mlguard-gitlab:e2e), KEEP_IMAGE=1 to keep it afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/test/e2e"
podman="$here/podman.sh"
IMAGE="${IMAGE:-localhost/mlguard-gitlab:e2e}"
file=Dockerfile.gitlab
ctx=$(mktemp -d "${TMPDIR:-/tmp}/mlguard-gitlab-container.XXXXXX")
fail() { echo "gitlab-container.sh: $*" >&2; exit 1; }
cleanup() {
  rm -rf "$ctx"
  [ "${KEEP_IMAGE:-}" = 1 ] || "$podman" rmi -f "$IMAGE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cd "$root"
# shellcheck source=test/e2e/container/lib.sh
. "$here/container/lib.sh"

echo "-- $file's contract"
check_pins "$file"
final=$(final_line "$file")
[ "$(sed -n "${final}p" "$file" | awk '{print $2}')" = scratch ] || fail "$file's final stage is not FROM scratch"
while IFS= read -r line; do
  case "$line" in
    '' | '#'* | 'FROM scratch' | 'COPY --from=build /rootfs/ /' | 'COPY --from=build /out/'* | 'ENV '* | 'CMD '*) ;;
    *) fail "$file's final stage has a line this test cannot reproduce: $line" ;;
  esac
done < <(tail -n "+$final" "$file")
grep -qE '^ENTRYPOINT' <(tail -n "+$final" "$file") && fail "$file sets an ENTRYPOINT: GitLab needs the shell"
rootfs=$(grep -E '^[[:space:]]*RUN[[:space:]]+bash scripts/gitlab-rootfs.sh /rootfs[[:space:]]*$' "$file" || true)
[ -n "$rootfs" ] || fail "$file's build stage does not run: RUN bash scripts/gitlab-rootfs.sh /rootfs"

echo "-- the build context, and the binary built in it with $file's own go build line"
build_context "$ctx/context"
build_binary "$file" "$ctx/context" "$ctx/out"

echo "-- the root file system, by scripts/gitlab-rootfs.sh"
for tool in git dash; do
  command -v "$tool" >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git dash >/dev/null
  }
done
[ -f "$ctx/context/scripts/gitlab-rootfs.sh" ] || fail ".dockerignore keeps scripts/gitlab-rootfs.sh out of the build context"
bash "$ctx/context/scripts/gitlab-rootfs.sh" "$ctx/rootfs"

echo "-- the final stage"
tail -n "+$final" "$file" | sed -E \
  -e 's#^COPY --from=build /rootfs/ /#COPY rootfs/ /#' \
  -e 's#^COPY --from=build /out/#COPY out/#' > "$ctx/Containerfile"
grep -v '^#' "$ctx/Containerfile" | grep -v '^$'
"$podman" build --quiet -f "$ctx/Containerfile" -t "$IMAGE" "$ctx" >/dev/null || fail "podman build failed"
size=$("$podman" image inspect --format '{{.Size}}' "$IMAGE")
echo "image size: $((size / 1000000)) MB"

echo "-- the image's default command, and its shell and git"
version=$("$podman" run --rm "$IMAGE") || fail "the container did not run its default command"
echo "$version"
case "$version" in "mlguard "*) ;; *) fail "unexpected default command output: $version" ;; esac
# shellcheck disable=SC2016 # expanded in the container
"$podman" run --rm --entrypoint '' "$IMAGE" sh -c '
  set -e
  for tool in bash sh git mlguard grep date tee touch chmod hostname find; do command -v "$tool"; done
  git --version
  [ -s /etc/ssl/certs/ca-certificates.crt ]
  [ "$(stat -c %a /tmp)" = 1777 ]
  [ -s /var/lib/dpkg/status.d/git ] && [ -s /var/lib/dpkg/status.d/bash ]
  . /etc/os-release && [ "$ID" = debian ]' \
  || fail "the image lacks a tool the runner or mlguard needs, the CA bundle, a 1777 /tmp or its dpkg records"
# git's HTTPS helper and the libraries it loads (libcurl, GnuTLS): a refused connection, not a missing helper.
https=$("$podman" run --rm --entrypoint '' "$IMAGE" sh -c 'git ls-remote https://127.0.0.1:9/none.git 2>&1; true')
echo "git ls-remote https://127.0.0.1:9/none.git: $https"
case "$https" in
  *"Failed to connect"* | *"Could not connect"* | *"Connection refused"*) ;;
  *) fail "git's HTTPS transport does not work in the image: $https" ;;
esac

echo "-- the GitLab job in the container, as the runner runs it"
MLGUARD_E2E_GITLAB_IMAGE="$IMAGE" MLGUARD_E2E_PODMAN="$podman" \
  go test -count=1 -v -run '^TestGitLabJob$' ./test/e2e
