#!/usr/bin/env bash
# Measures mlguard beside sha256sum on the benchmark files (docs/performance.md):
# wall time and peak RSS of `mlguard scan` on a 130 MB opcode-dense pickle, a
# 1 GiB pickle of in-band tensors and a 1 GiB PyTorch zip.
# Usage: scripts/bench.sh [DIR]   (DIR defaults to a temporary folder; needs ~2.2 GB of disk)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$(mktemp -d)}
go build -o "$dir/mlguard" ./cmd/mlguard
[ -f "$dir/torch.zip" ] || go run ./internal/benchdata/gen "$dir"
printf '%-12s %10s %10s %12s %10s\n' file size mlguard_s mlguard_rss sha256_s
for f in dense.pkl tensors.pkl torch.zip; do
  p="$dir/$f"
  cat "$p" > /dev/null # warm the page cache for both tools alike
  m=$( { /usr/bin/time -f '%e %M' "$dir/mlguard" scan "$p" > /dev/null; } 2>&1 | tail -1)
  s=$( { /usr/bin/time -f '%e' sha256sum "$p" > /dev/null; } 2>&1 | tail -1)
  printf '%-12s %10s %10s %9s KB %10s\n' "$f" "$(stat -c %s "$p")" "${m% *}" "${m#* }" "$s"
done
