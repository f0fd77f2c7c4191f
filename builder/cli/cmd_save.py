"""``pybuild save [-o FILE] [--format docker|oci] IMAGE…``: write images to an archive.

May import: stdlib, builder.* (composition root).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from builder.cli.store_access import Stores, named_by, open_stores
from builder.errors import UsageError
from builder.exporters.archive import ArchiveFormat, SaveItem, save_archive
from builder.oci.descriptor import Descriptor
from builder.oci.reference import ImageRef

__all__ = ["add_arguments", "run", "save_items"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``save``."""
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="name, ID or digest")
    parser.add_argument("-o", "--output", help="write to FILE instead of stdout")
    parser.add_argument("--format", choices=[f.value for f in ArchiveFormat],
                        default=ArchiveFormat.DOCKER.value,
                        help="docker (docker-archive, default) or oci (OCI image layout tar)")


def save_items(stores: Stores, texts: list[str]) -> list[SaveItem]:
    """The images named by ``texts``, one item per image, each with the names asked for.

    Raises:
        NotFoundError: an image does not exist.
        UsageError: an ID prefix is ambiguous.
    """
    order: list[Descriptor] = []
    names: dict[str, list[ImageRef]] = {}
    for text in texts:
        record = stores.images.resolve(text)
        key = str(record.target.digest)
        if key not in names:
            order.append(record.target)
            names[key] = []
        if record.name is not None and record.name.tag and named_by(text, record):
            if record.name not in names[key]:
                names[key].append(record.name)
    return [SaveItem(d, tuple(names[str(d.digest)])) for d in order]


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[BinaryIO]:
    if path is None or path == "-":
        if sys.stdout.isatty():
            raise UsageError("cowardly refusing to save to a terminal",
                             hint="use the -o flag or redirect")
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"save: {path} is a directory")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def run(args: argparse.Namespace) -> int:
    """Write the archive.

    Raises:
        NotFoundError: an image does not exist.
        UsageError: stdout is a terminal and no -o was given.
    """
    fmt = ArchiveFormat(args.format)
    with open_stores(args) as stores:
        items = save_items(stores, args.images)
        with _output(args.output) as out:
            save_archive(stores.root, stores.content, items, fmt, out)
    return 0
