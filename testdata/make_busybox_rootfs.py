"""Write a deterministic busybox root filesystem tarball (helper of make-busybox-image.sh).

May import: stdlib only.

Usage: ``python3 make_busybox_rootfs.py OUT.tar [--busybox /bin/busybox]``. The tar holds
/bin/busybox, one symlink per applet (``busybox --list-full``), /etc/passwd and
/etc/group with root, nobody and ``app`` (uid/gid 1000), /tmp (1777), /root and
/home/app. Entries are sorted, owned by root unless said otherwise, and every
mtime is ``$SOURCE_DATE_EPOCH`` (default 0), so the same busybox gives the same bytes.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass

__all__ = ["Entry", "main", "rootfs_entries", "write_rootfs"]

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n"
DIRS = {
    "bin": 0o755, "etc": 0o755, "home": 0o755, "root": 0o700, "sbin": 0o755,
    "tmp": 0o1777, "usr": 0o755, "usr/bin": 0o755, "usr/sbin": 0o755, "var": 0o755,
}


@dataclass(frozen=True)
class Entry:
    """One tar entry: a directory, a file with ``data``, or a symlink to ``target``."""

    path: str
    mode: int
    data: bytes | None = None
    target: str | None = None
    owner: int = 0


def rootfs_entries(busybox: str) -> list[Entry]:
    """The entries of the rootfs for the busybox binary at ``busybox``, sorted by path.

    Raises:
        subprocess.CalledProcessError: ``busybox --list-full`` failed.
    """
    listing = subprocess.run(
        [busybox, "--list-full"], capture_output=True, text=True, check=True
    ).stdout.split()
    entries = [Entry(d, m) for d, m in DIRS.items()]
    entries.append(Entry("home/app", 0o755, owner=1000))
    with open(busybox, "rb") as fh:
        entries.append(Entry("bin/busybox", 0o755, data=fh.read()))
    entries.append(Entry("etc/passwd", 0o644, data=PASSWD.encode()))
    entries.append(Entry("etc/group", 0o644, data=GROUP.encode()))
    seen = {e.path for e in entries}
    for applet in listing:
        if "/" not in applet or applet in seen or os.path.dirname(applet) not in DIRS:
            continue
        seen.add(applet)
        entries.append(Entry(applet, 0o777, target="/bin/busybox"))
    return sorted(entries, key=lambda e: e.path)


def write_rootfs(out: str, busybox: str, mtime: int) -> None:
    """Write the rootfs tar to ``out`` (see the module docstring).

    Raises:
        OSError: ``out`` cannot be written or ``busybox`` read.
    """
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for entry in rootfs_entries(busybox):
            info = tarfile.TarInfo(entry.path)
            info.mode, info.mtime = entry.mode, mtime
            info.uid = info.gid = entry.owner
            if entry.target is not None:
                info.type, info.linkname = tarfile.SYMTYPE, entry.target
                tar.addfile(info)
            elif entry.data is not None:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
            else:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Write a deterministic busybox rootfs tarball.")
    parser.add_argument("out")
    parser.add_argument("--busybox", default="/bin/busybox")
    args = parser.parse_args(argv)
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH") or 0)
    write_rootfs(args.out, args.busybox, mtime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
