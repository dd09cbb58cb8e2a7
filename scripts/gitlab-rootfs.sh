#!/usr/bin/env bash
# Lay out in DIR the root file system of the GitLab CI job image (Dockerfile.gitlab), copied from the Debian
# system this runs on: the image's final stage is FROM scratch plus DIR plus mlguard, so it trusts no base image
# beyond the build stage's, already pinned by digest.
#
# GitLab runs a job's `script:` with the image's shell, and mlguard lists a merge request's changes with git and
# fetches a shallow clone's missing diff base over HTTPS, so DIR gets:
#   - bash, which the runner's shell detection picks first and whose $'...' quoting its job script needs (dash
#     has none: only with FF_POSIXLY_CORRECT_ESCAPES would dash do), dash as /bin/sh, the tools the runner's job
#     scripts call (grep for its pipefail probe, date for collapsible sections, tee, touch and chmod for the
#     Kubernetes executor, hostname, find), a few more coreutils for a person debugging a job, git with its exec
#     path (the HTTPS remote helper included), and every shared library they load (from ldd), with the loader;
#   - the CA bundle, /etc/passwd and /etc/group (root, nobody), /etc/nsswitch.conf, a world-writable /tmp;
#   - /etc/os-release and, in /var/lib/dpkg/status.d, the dpkg record of each Debian package a file came from,
#     so that image scanners (Trivy, Grype) see which packages and versions the image holds, as with distroless.
#
# Run in Dockerfile.gitlab's build stage (golang:1.26-bookworm) and, by test/e2e/gitlab-container.sh, on the
# Debian 12 machine that runs the tests.
#   scripts/gitlab-rootfs.sh DIR
set -euo pipefail
dir=${1:?usage: gitlab-rootfs.sh DIR}
for tool in ldd dpkg-query git bash dash cmp od; do
  command -v "$tool" >/dev/null || { echo "gitlab-rootfs.sh: $tool is missing" >&2; exit 1; }
done
bundle=/etc/ssl/certs/ca-certificates.crt
[ -s "$bundle" ] || { echo "gitlab-rootfs.sh: no CA bundle at $bundle" >&2; exit 1; }

# Debian 12 merges /bin, /lib and /lib64 into /usr: so does the image.
mkdir -p "$dir"/usr/bin "$dir"/usr/lib "$dir"/usr/lib64 "$dir"/usr/local/bin "$dir"/etc/ssl/certs \
  "$dir"/var/lib/dpkg/status.d "$dir"/tmp "$dir"/root
for d in bin lib lib64; do [ -e "$dir/$d" ] || ln -s "usr/$d" "$dir/$d"; done

# copy FILE: FILE at the same path under DIR, through its symbolic links (merged /usr resolved).
declare -A copied=()
copy() {
  local src real
  src=$1
  real=$(readlink -f "$src")
  [ -n "${copied[$real]:-}" ] && return 0
  copied[$real]=1
  mkdir -p "$dir$(dirname "$real")"
  cp -p "$real" "$dir$real"
  # The name asked for, when it differs (a library's SONAME link, /lib64/ld-linux-*.so.2).
  local want
  want=$(readlink -f "$(dirname "$src")")/$(basename "$src")
  if [ "$want" != "$real" ] && [ ! -e "$dir$want" ]; then
    mkdir -p "$dir$(dirname "$want")"
    ln -s "$real" "$dir$want"
  fi
}

# with_libraries FILE...: FILE and every shared library it loads, with the loader.
with_libraries() {
  local f lib
  for f in "$@"; do
    copy "$f"
    file_is_elf "$f" || continue
    while read -r lib; do
      [ -n "$lib" ] && copy "$lib"
    done < <(ldd "$f" 2>/dev/null | awk '/=> \// {print $3} /^[[:space:]]*\/[^ ]+ \(0x/ {print $1}')
  done
}
file_is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' \n')" = '177ELF' ]; }

with_libraries "$(command -v bash)" "$(command -v dash)"
ln -sf dash "$dir/usr/bin/sh"
for tool in basename cat chmod cp date dirname env find grep head hostname id ln ls mkdir mktemp mv readlink rm \
  sed sleep sort stat tail tee touch tr uname wc; do
  path=$(command -v "$tool") || { echo "gitlab-rootfs.sh: $tool is missing" >&2; exit 1; }
  with_libraries "$path"
done
with_libraries "$(command -v git)"

# git's exec path: the HTTPS remote helper and the programs git runs for fetch. Most entries link to git.
exec_path=$(git --exec-path)
mkdir -p "$dir$exec_path"
for f in "$exec_path"/*; do
  name=$(basename "$f")
  case "$name" in
    mergetools | git-gui* | git-citool | git-instaweb | git-web--browse | git-send-email | git-svn | git-cvs* \
      | git-archimport | git-p4 | git-request-pull | git-daemon | git-http-backend | git-shell | git-imap-send \
      | git-http-push | scalar) continue ;;
  esac
  if [ -f "$f" ] && [ ! -L "$f" ] && cmp -s "$f" "$(command -v git)"; then
    ln -sf "$(command -v git)" "$dir$exec_path/$name" # a second copy of git
  elif [ -L "$f" ]; then
    # Keep the link (to git or to another entry), resolved inside the image.
    ln -sf "$(readlink "$f")" "$dir$exec_path/$name"
  elif [ -f "$f" ]; then
    if file_is_elf "$f"; then with_libraries "$f"; else copy "$f"; fi
  fi
done

cp "$bundle" "$dir/etc/ssl/certs/ca-certificates.crt"
cat > "$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
P
cat > "$dir/etc/group" <<'G'
root:x:0:
nogroup:x:65534:
G
echo 'hosts: files dns' > "$dir/etc/nsswitch.conf"
chmod 1777 "$dir/tmp"
chmod 700 "$dir/root"
copy /usr/lib/os-release
ln -sf ../usr/lib/os-release "$dir/etc/os-release"

# The dpkg record of every package a copied file belongs to.
declare -A packages=()
for real in "${!copied[@]}"; do
  # dpkg knows the path it installed, which may be the unmerged one (/lib/x86_64-linux-gnu/...).
  for p in "$real" "${real#/usr}"; do
    if owner=$(dpkg-query -S "$p" 2>/dev/null); then
      # "pkg1:amd64, pkg2: /path": the owners, without their architecture.
      for pkg in $(echo "$owner" | sed -E 's#: /.*$##; s#,# #g'); do packages[${pkg%%:*}]=1; done
      break
    fi
  done
done
for pkg in "${!packages[@]}"; do
  dpkg-query -s "$pkg" > "$dir/var/lib/dpkg/status.d/$pkg"
done
echo "gitlab-rootfs.sh: $(find "$dir" -type f | wc -l) files from ${#packages[@]} Debian packages, $(du -sh "$dir" | cut -f1)"
