#!/usr/bin/env bash
# Make the busybox base image (busybox:latest → docker.io/library/busybox:latest) that the
# tests and the README example build on, from Debian's busybox-static, with `pybuild import`.
#
#   testdata/make-busybox-image.sh [--root DIR] [--tag NAME] [--busybox PATH]
#
# Deterministic: every mtime and the config's `created` are $SOURCE_DATE_EPOCH (default
# 0), so the same busybox binary always gives the same image ID and manifest digest.
# $PYBUILD overrides the command used to run pybuild (default: this checkout's CLI).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
root_args=()
tag="busybox:latest"
busybox="/bin/busybox"
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root_args=(--root "$2"); shift 2 ;;
    --root=*) root_args=(--root "${1#--root=}"); shift ;;
    --tag) tag="$2"; shift 2 ;;
    --busybox) busybox="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ ! -x "$busybox" ]; then
  echo "error: $busybox not found; hint: apt-get install busybox-static" >&2
  exit 1
fi
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$here/make_busybox_rootfs.py" "$work/rootfs.tar" --busybox "$busybox"
if [ -n "${PYBUILD:-}" ]; then
  read -r -a pybuild <<<"$PYBUILD"
else
  pybuild=(env "PYTHONPATH=$repo${PYTHONPATH:+:$PYTHONPATH}" python3 -m builder.cli.main)
fi
"${pybuild[@]}" "${root_args[@]}" import "$work/rootfs.tar" "$tag" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["sh"]'
