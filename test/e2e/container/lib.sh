#!/usr/bin/env bash
# What the container tests (container.sh, gitlab-container.sh) share: reading a Dockerfile's stages, checking its
# pins, laying out the build context as .dockerignore leaves it, and building the binary there with the Dockerfile's
# own `go build` line. Sourced; functions fail through `fail`, and run "$podman", which the sourcing script defines.

# check_pins DOCKERFILE: every FROM line other than `FROM scratch` names its image by a sha256 digest, and no
# USER line (both images run as root: GitHub runs container actions as root, GitLab's checkout is the runner's).
check_pins() {
  local file=$1 line ref
  if grep -niE '^[[:space:]]*USER[[:space:]]' "$file"; then
    fail "$file has a USER instruction: the workspace and the reports it writes belong to root"
  fi
  from_lines=$(grep -niE '^[[:space:]]*FROM[[:space:]]' "$file" | cut -d: -f1)
  [ -n "$from_lines" ] || fail "$file has no FROM line"
  while read -r line; do
    ref=$(sed -n "${line}p" "$file" | awk '{print $2}')
    case "$ref" in scratch | *@sha256:????????????????????????????????????????????????????????????????) ;;
      *) fail "$file line $line: base image $ref is not pinned by a sha256 digest" ;; esac
  done <<< "$from_lines"
}

# final_line DOCKERFILE: the line number of the last FROM.
final_line() { grep -niE '^[[:space:]]*FROM[[:space:]]' "$1" | cut -d: -f1 | tail -n 1; }

# build_context DIR: the build context `docker build .` sends, extracted to DIR: podman applies .dockerignore as
# Docker does, so a file the build needs but .dockerignore leaves out is missing here too.
# shellcheck disable=SC2154 # podman comes from the sourcing script
build_context() {
  local dir=$1 tag=localhost/mlguard-build-context:e2e cid
  mkdir -p "$dir"
  printf 'FROM scratch\nCOPY . /context/\n' > "$dir.containerfile"
  "$podman" build --quiet -f "$dir.containerfile" -t "$tag" . >/dev/null || fail "podman could not copy the build context"
  cid=$("$podman" create "$tag" none)
  "$podman" export "$cid" | tar -x -C "$dir" --strip-components=1 context/
  "$podman" rm "$cid" >/dev/null
  "$podman" rmi -f "$tag" >/dev/null
  rm -f "$dir.containerfile"
  echo "$(find "$dir" -type f | wc -l) files in the build context"
}

# build_binary DOCKERFILE CONTEXT OUT: run the Dockerfile's `RUN ... go build ... -o /out/...` line in CONTEXT (from
# build_context) with /out/ as OUT/.
build_binary() {
  local file=$1 context=$2 out=$3 build
  build=$(grep -E '^[[:space:]]*RUN[[:space:]].*go build' "$file" | head -n 1 | sed -E 's/^[[:space:]]*RUN[[:space:]]+//')
  [ -n "$build" ] || fail "no RUN ... go build line in $file"
  case "$build" in *" -o /out/"*) ;; *) fail "$file's go build does not write to /out/: $build" ;; esac
  build=${build//\/out\//$out\/}
  mkdir -p "$out"
  echo "CGO_ENABLED=0 $build"
  (cd "$context" && export CGO_ENABLED=0 GOFLAGS=-mod=readonly && eval "$build") \
    || fail "the build failed in the build context: does .dockerignore leave out a file the build needs?"
}
