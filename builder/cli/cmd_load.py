"""``pybuild load [-i FILE|DIR] [-q]``: load images from a docker-archive or OCI layout.

May import: stdlib, builder.* (composition root).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from builder.cli.store_access import open_stores
from builder.errors import UsageError
from builder.exporters.load import LoadedImage, load_path, load_stream

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``load``."""
    parser.add_argument("-i", "--input", help="archive file or OCI layout directory "
                        "(default: stdin)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")


def _report(loaded: list[LoadedImage]) -> None:
    for image in loaded:
        for name, old in image.replaced:
            print(f"The image {name.familiar()} already exists, renaming the old one with "
                  f"ID {old} to empty string")
        if not image.names:
            print(f"Loaded image ID: {image.image_id}")
        for name in image.names:
            print(f"Loaded image: {name.familiar()}")


def run(args: argparse.Namespace) -> int:
    """Load the archive and print what was loaded, as docker does.

    Raises:
        InvalidInputError: the archive is malformed, hostile or lies about a digest.
        UsageError: the input does not exist, or stdin is a terminal.
    """
    source = args.input
    if source in (None, "-"):
        if sys.stdin.isatty():
            raise UsageError("requested load from stdin, but stdin is a terminal",
                             hint="use -i FILE or redirect an archive into pybuild load")
    elif not Path(source).exists():
        raise UsageError(f"load: {source}: no such file or directory")
    with open_stores(args) as stores:
        if source in (None, "-"):
            loaded = load_stream(stores.content, stores.images, sys.stdin.buffer)
        else:
            loaded = load_path(stores.content, stores.images, Path(source))
    if not args.quiet:
        _report(loaded)
    return 0
