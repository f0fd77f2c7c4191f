"""ADD's archive auto-extraction: detect a tar by content, unpack it safely.

May import: stdlib, builder.errors, builder.layers, builder.worker.errors.

Detection follows BuildKit's ``isArchivePath``: a regular file (not a symlink)
whose content, after gzip/bzip2/xz/zstd decompression when the magic bytes say
so, starts with a valid tar header. The name does not matter. Extraction goes
through ``builder.layers.unpack_layer``, which confines every entry to the
destination (absolute names, ``..``, writes through symlinks and hard links out
of it are refused) and keeps the archive's owners, modes and mtimes.
"""

from __future__ import annotations

import bz2
import contextlib
import lzma
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from builder.errors import InvalidInputError
from builder.layers import ApplyOptions, WhiteoutMode, open_decompressed, unpack_layer
from builder.worker.errors import FileOpError

__all__ = ["is_archive", "unpack_archive"]

_BZIP2 = b"BZh"
_XZ = b"\xfd7zXZ\x00"


@contextlib.contextmanager
def _decompressed(path: Path) -> Iterator[BinaryIO]:
    with open(path, "rb") as raw:
        head = raw.read(6)
        raw.seek(0)
        if head.startswith(_BZIP2):
            with bz2.BZ2File(raw) as f:
                yield f  # type: ignore[misc]
        elif head.startswith(_XZ):
            with lzma.LZMAFile(raw) as f:
                yield f  # type: ignore[misc]
        else:
            yield open_decompressed(raw)


def is_archive(path: Path) -> bool:
    """Whether ``path`` is a regular file holding a (possibly compressed) tar."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        with _decompressed(path) as stream:
            head = stream.read(tarfile.BLOCKSIZE)
    except (OSError, InvalidInputError, EOFError, lzma.LZMAError):
        return False
    if len(head) < tarfile.BLOCKSIZE:
        return False
    try:
        tarfile.TarInfo.frombuf(head, "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


def unpack_archive(path: Path, dest: Path, same_owner: bool) -> None:
    """Extract the archive ``path`` into the existing directory ``dest``.

    Raises:
        FileOpError: the archive is corrupt, truncated or hostile.
    """
    opts = ApplyOptions(whiteouts=WhiteoutMode.APPLY, allow_devices=same_owner,
                        same_owner=same_owner)
    try:
        with _decompressed(path) as stream:
            unpack_layer(stream, dest, opts)
    except InvalidInputError as exc:
        raise FileOpError(f"cannot extract {path.name}: {exc.message}", exc.hint) from None
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise FileOpError(f"cannot extract {path.name}: {exc}") from None

