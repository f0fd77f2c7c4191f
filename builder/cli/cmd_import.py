"""``pybuild import FILE|- [NAME[:TAG]]``: make an image from a root filesystem tarball.

May import: stdlib, builder.* (composition root).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from builder.cli.import_changes import parse_changes
from builder.cli.store_access import open_stores
from builder.errors import UsageError
from builder.exporters.importer import ImportOptions, import_rootfs
from builder.oci.descriptor import Platform
from builder.oci.reference import ImageRef

__all__ = ["add_arguments", "run", "source_date_epoch"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``import`` (docker's)."""
    parser.add_argument("file", help="tarball (plain, .gz or .zst), or - for stdin")
    parser.add_argument("reference", nargs="?", help="NAME[:TAG] for the new image")
    parser.add_argument("-c", "--change", action="append", default=[],
                        help="apply a Dockerfile instruction (CMD, ENV, …) to the config")
    parser.add_argument("-m", "--message", default="", help="history comment")
    parser.add_argument("--platform", help="os/arch[/variant] recorded in the config")


def source_date_epoch() -> int | None:
    """``$SOURCE_DATE_EPOCH`` as an int, or None when unset.

    Raises:
        UsageError: it is set but not a non-negative integer.
    """
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise UsageError(f"invalid SOURCE_DATE_EPOCH {text!r}: want seconds since 1970")
    return int(text)


def run(args: argparse.Namespace) -> int:
    """Import the tarball and print the new image ID.

    Raises:
        UsageError: a bad name, --change or platform.
        FrontendError: a --change does not parse (exit code 2).
        InvalidInputError: the tarball is unreadable or hostile.
    """
    names = [ImageRef.parse(args.reference)] if args.reference else []
    opts = ImportOptions(
        changes=parse_changes(args.change),
        message=args.message,
        platform=Platform.parse(args.platform) if args.platform else None,
        source_date_epoch=source_date_epoch(),
    )
    if args.file != "-" and not Path(args.file).is_file():
        raise UsageError(f"import: {args.file}: no such file")
    with open_stores(args) as stores:
        if args.file == "-":
            result = import_rootfs(stores.content, stores.images, sys.stdin.buffer, names, opts)
        else:
            with open(args.file, "rb") as fh:
                result = import_rootfs(stores.content, stores.images, fh, names, opts)
    print(result.image_id)
    return 0
