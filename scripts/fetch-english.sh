#!/usr/bin/env bash
# The book's default English corpus: Jane Austen's six novels (public domain)
# as packaged by Debian in r-cran-janeaustenr (packaging MIT). Downloads the
# .deb with apt (no root needed for `apt-get download`; `apt-get update` is
# tried once when the download fails), extracts it under
# ${DNALM_CACHE:-~/.cache/dnalm}/english/ and prints the path of the novels'
# R database (Rdata.rdb) on stdout. Idempotent: a second run only prints the
# path. The text never enters the repository.
#
#   RDB=$(scripts/fetch-english.sh) && dnalm book train --english "$RDB" ...
set -euo pipefail
dest="${DNALM_CACHE:-$HOME/.cache/dnalm}/english"
rdb="$dest/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb"
if [[ -s "$rdb" ]]; then
  echo "$rdb"
  exit 0
fi
command -v apt-get >/dev/null || { echo "fetch-english: apt-get not found (a Debian/Ubuntu machine is needed)" >&2; exit 1; }
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cd "$tmp"
if ! apt-get download r-cran-janeaustenr >&2; then
  echo "fetch-english: download failed; running apt-get update once" >&2
  apt-get update >&2
  apt-get download r-cran-janeaustenr >&2
fi
deb=$(ls r-cran-janeaustenr_*.deb)
dpkg-deb -x "$deb" "$tmp/x"
[[ -s "$tmp/x/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb" ]] || { echo "fetch-english: $deb holds no janeaustenr/data/Rdata.rdb" >&2; exit 1; }
rm -rf "$dest/usr"
mv "$tmp/x/usr" "$dest/usr"
cp "$deb" "$dest/"
echo "$rdb"
