"""Helpers shared by the layer tests: sample trees, tree descriptions, hand-built tars."""

from __future__ import annotations

import hashlib
import io
import os
import random
import stat
import tarfile
from pathlib import Path

Tree = dict[str, tuple[object, ...]]


def describe_tree(root: Path) -> Tree:
    """Everything a layer round trip must keep, per relative path (hard links by group)."""
    out: Tree = {}
    inodes: dict[int, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            st = os.lstat(path)
            xattrs = {
                k: os.getxattr(path, k, follow_symlinks=False)
                for k in sorted(os.listxattr(path, follow_symlinks=False))
            }
            detail: object = None
            if stat.S_ISREG(st.st_mode):
                detail = hashlib.sha256(path.read_bytes()).hexdigest()
                if st.st_nlink > 1:
                    detail = (detail, inodes.setdefault(st.st_ino, rel))
            elif stat.S_ISLNK(st.st_mode):
                detail = os.readlink(path)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                detail = st.st_rdev
            out[rel] = (st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, detail, xattrs)
    return out


def whole_second_mtimes(root: Path) -> None:
    """Truncate every mtime below ``root`` to whole seconds (tar keeps seconds)."""
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in dirnames + filenames + [""]:
            path = os.path.join(dirpath, name) if name else dirpath
            if path == str(root):
                continue
            st = os.lstat(path)
            ns = (st.st_mtime_ns // 1_000_000_000) * 1_000_000_000
            os.utime(path, ns=(ns, ns), follow_symlinks=False)


def make_rich_tree(root: Path) -> None:
    """A tree with every kind of entry a layer carries (needs root for chown/mknod)."""
    root.mkdir()
    (root / "bin").mkdir()
    (root / "bin/tool").write_bytes(b"#!/bin/sh\necho tool\n")
    os.chmod(root / "bin/tool", 0o4755)
    os.setxattr(
        root / "bin/tool",
        "security.capability",
        bytes.fromhex("0100000200200000000000000000000000000000"),
    )
    os.link(root / "bin/tool", root / "bin/tool-link")
    os.symlink("tool", root / "bin/alias")
    os.symlink("/nonexistent/abs", root / "dangling")
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)
    (root / "srv/empty").mkdir(parents=True)
    (root / "srv/data").mkdir()
    os.chmod(root / "srv/data", 0o2750)
    os.chown(root / "srv/data", 1000, 1001)
    (root / "srv/data/owned").write_text("mine")
    os.chown(root / "srv/data/owned", 65534, 65534)
    os.setxattr(root / "srv/data/owned", "user.note", b"\xff\x00binary")
    os.mkfifo(root / "srv/fifo")
    os.mknod(root / "srv/null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.mknod(root / "srv/loop", stat.S_IFBLK | 0o660, os.makedev(7, 0))
    deep = root / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    (deep / ("f" * 120)).write_text("long name")
    (root / "ünïcødé ☃.txt").write_text("snow")
    (root / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    whole_second_mtimes(root)


def tar_bytes(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A tar archive of ``entries`` written by Python's tarfile (for hostile inputs)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def make_golden_tree(root: Path) -> None:
    """A fixed tree whose layer bytes ``testdata/layers/golden.json`` pins (needs root).

    Sizes straddle the small-file read limit and the writer's 1 MiB chunks, so
    where chunks end (which gzip-via-isal output depends on) is exercised.
    """
    rng = random.Random(20261123)
    sizes = (0, 1, 100, 511, 512, 513, 4096, 9000, 65535, 65536, 65537, 200_000)
    root.mkdir()
    for d in range(5):
        sub = root / f"d{d}"
        sub.mkdir()
        for i in range(40):
            size = rng.choice(sizes)
            half = size // 2
            data = rng.randbytes(half) + b"the same words again " * ((size - half) // 21 + 1)
            (sub / f"f{i:02d}").write_bytes(data[:size])
    (root / "big.bin").write_bytes(rng.randbytes((5 << 19) + 7))  # 2.5 MiB + 7
    (root / "exact.bin").write_bytes(rng.randbytes(1 << 20))
    os.link(root / "d0/f00", root / "d0/hard-small")
    os.link(root / "big.bin", root / "hard-big")
    os.symlink("d1/f01", root / "link")
    os.symlink("x" * 150, root / "long-link")
    (root / ("n" * 120)).write_text("long name")
    (root / "ünï ☃").write_text("unicode")
    os.setxattr(root / "d2/f02", "user.golden", b"\x00\xffvalue")
    os.mkfifo(root / "fifo")
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in sorted(dirnames + filenames) + [""]:
            path = os.path.join(dirpath, name) if name else dirpath
            os.chown(path, 1000, 1000, follow_symlinks=False)
            if not os.path.islink(path):
                os.chmod(path, 0o750 if os.path.isdir(path) else 0o644)
            os.utime(path, ns=(1_600_000_000 * 10**9,) * 2, follow_symlinks=False)
    os.chown(root / "d3/f03", 3_000_000, 5)
    os.utime(root / "d4/f04", ns=(-5 * 10**9,) * 2)
    os.utime(root / "d4/f05", ns=(1_700_000_000_999_999_999,) * 2)
