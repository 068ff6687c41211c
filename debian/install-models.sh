#!/bin/sh
# Installs the two MediaPipe models from SRC into DEST after checking each
# against the sha256 pinned in scripts/fetch-models.sh (one source of
# truth). Never downloads: run scripts/fetch-models.sh first, or build
# from a source package whose orig-models component holds them.
#   install-models.sh SRC DEST
set -eu
src=$1
dest=$2
pins=scripts/fetch-models.sh
die () { echo "install-models: $*" >&2; exit 1; }

square=$(sed -n "s/^SQUARE_SHA256='\([0-9a-f]*\)'$/\1/p" "$pins")
landscape=$(sed -n "s/^LANDSCAPE_SHA256='\([0-9a-f]*\)'$/\1/p" "$pins")
[ ${#square} -eq 64 ] && [ ${#landscape} -eq 64 ] || die "no sha256 pins in $pins"

mkdir -p "$dest"
for pair in "selfie_segmentation.tflite $square" \
    "selfie_segmentation_landscape.tflite $landscape"; do
  set -- $pair
  [ -f "$src/$1" ] || die "$src/$1 missing: run scripts/fetch-models.sh (see debian/README.source)"
  got=$(sha256sum "$src/$1" | cut -d ' ' -f 1)
  [ "$got" = "$2" ] || die "$src/$1: sha256 $got, expected $2"
  install -m 644 "$src/$1" "$dest/$1"
done
echo "install-models: both models match their pinned sha256"
