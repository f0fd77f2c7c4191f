"""Test helpers: read and write small archives in memory, and fingerprint a root."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

Members = dict[str, bytes]


def read_members(path: Path) -> Members:
    """Every regular member of the tar at ``path`` (small archives only)."""
    out: Members = {}
    with tarfile.open(path) as tar:
        for info in tar:
            if info.isreg():
                fh = tar.extractfile(info)
                assert fh is not None
                out[info.name] = fh.read()
    return out


def write_members(path: Path, members: Members, links: dict[str, str] | None = None) -> Path:
    """A tar at ``path`` holding ``members`` (and symlinks ``links``: name → target)."""
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jdump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def fingerprint(root: Path) -> dict[str, str]:
    """Path → sha256 of every file under ``root``, except tmp/ and locks/ (scratch space)."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] in ("tmp", "locks") or not path.is_file():
            continue
        out[rel] = sha(path.read_bytes())
    return out
