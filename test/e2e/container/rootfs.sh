#!/usr/bin/env bash
# Lay out in DIR what gcr.io/distroless/static-debian12 gives a static binary, so that a FROM scratch image
# stands in for it: the CA bundle, /etc/passwd and /etc/group with root, nonroot and nobody, /etc/nsswitch.conf,
# and a world-writable /tmp. (tzdata is left out: mlguard does not use local time.)
#   container/rootfs.sh DIR
set -euo pipefail
dir=$1
bundle=/etc/ssl/certs/ca-certificates.crt
if [ ! -s "$bundle" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates >/dev/null
fi
mkdir -p "$dir/etc/ssl/certs" "$dir/tmp" "$dir/root" "$dir/home/nonroot"
cp "$bundle" "$dir/etc/ssl/certs/ca-certificates.crt"
cat > "$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
P
cat > "$dir/etc/group" <<'G'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
G
echo 'hosts: files dns' > "$dir/etc/nsswitch.conf"
chmod 1777 "$dir/tmp"
chmod 700 "$dir/root"
