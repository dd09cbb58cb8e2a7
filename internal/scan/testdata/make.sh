#!/bin/sh
# Regenerates the committed 7z and bzip2 fixtures used by the scan engine tests. The
# tests never call 7z or bzip2 themselves; run this (needs p7zip-full, bzip2) only when a
# fixture has to change, and commit the outputs (each well under 10 KB).
#
#   sevenzip_pickle.7z          plain 7z, x.pkl is a protocol-2 pickle calling posix.system('id')
#   sevenzip_encrypted.7z       x.pkl encrypted with AES (password "mlguard"), names visible
#   sevenzip_encrypted_hdr.7z   the same with encrypted headers (-mhe=on): nothing is visible
#   pickle.pkl.bz2              x.pkl compressed with bzip2 (Go has a bzip2 reader but no writer)
#   pickle2.pkl.bz2             two bzip2 streams back to back: a benign pickle, then x.pkl
#                               (bzip2 -d concatenates streams, and so must the scanner)
#   sparse_gnu.tar              one sparse member, big.pkl, of 15 TiB, almost all holes (old GNU sparse
#   sparse_pax.tar              format; PAX GNU.sparse 1.0): a pickle whose BINBYTES8 claims 14 TiB, so a
#                               scanner that does not bound the zeros it reads spends hours on 7 KB.
#                               Needs a file system that allows a 15 TiB sparse file (ext4, xfs, tmpfs).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '\200\002cposix\nsystem\nq\000X\002\000\000\000idq\001\205q\002Rq\003.' >"$tmp/x.pkl"
touch -d 2020-01-01T00:00:00Z "$tmp/x.pkl"
rm -f sevenzip_pickle.7z sevenzip_encrypted.7z sevenzip_encrypted_hdr.7z pickle.pkl.bz2 pickle2.pkl.bz2 \
	sparse_gnu.tar sparse_pax.tar
bzip2 -9 -c "$tmp/x.pkl" >pickle.pkl.bz2
printf '(lp0\nI1\na.' | bzip2 -9 -c >pickle2.pkl.bz2
bzip2 -9 -c "$tmp/x.pkl" >>pickle2.pkl.bz2
(cd "$tmp" && 7z a -bd -bso0 -mtm=off -mtc=off -mta=off sevenzip.7z x.pkl \
	&& 7z a -bd -bso0 -mtm=off -mtc=off -mta=off -pmlguard -mhe=off enc.7z x.pkl \
	&& 7z a -bd -bso0 -mtm=off -mtc=off -mta=off -pmlguard -mhe=on enchdr.7z x.pkl)
cp "$tmp/sevenzip.7z" sevenzip_pickle.7z
cp "$tmp/enc.7z" sevenzip_encrypted.7z
cp "$tmp/enchdr.7z" sevenzip_encrypted_hdr.7z
truncate -s 15T "$tmp/big.pkl"
printf '\200\004\216\000\000\000\000\000\016\000\000' | dd of="$tmp/big.pkl" conv=notrunc status=none
touch -d 2020-01-01T00:00:00Z "$tmp/big.pkl"
(cd "$tmp" && tar --sparse -b 1 --format=gnu --owner=0 --group=0 --numeric-owner -cf sparse_gnu.tar big.pkl \
	&& tar --sparse -b 1 --format=pax --owner=0 --group=0 --numeric-owner \
		--pax-option=delete=atime,delete=ctime -cf sparse_pax.tar big.pkl)
cp "$tmp/sparse_gnu.tar" "$tmp/sparse_pax.tar" .
