"""``pybuild tag SOURCE TARGET``: give an image another name.

May import: stdlib, builder.* (composition root).
"""

from __future__ import annotations

import argparse

from builder.cli.store_access import open_stores
from builder.errors import UsageError
from builder.oci.reference import ImageRef

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``tag``."""
    parser.add_argument("source", metavar="SOURCE_IMAGE", help="name, ID or digest")
    parser.add_argument("target", metavar="TARGET_IMAGE", help="NAME[:TAG]")


def run(args: argparse.Namespace) -> int:
    """Point TARGET at SOURCE's image.

    Raises:
        NotFoundError: SOURCE does not exist.
        UsageError: TARGET is not a valid name or carries a digest.
    """
    target = ImageRef.parse(args.target)
    if target.digest is not None:
        raise UsageError(f"refusing to create a tag with a digest reference: {args.target}")
    with open_stores(args) as stores:
        record = stores.images.resolve(args.source)
        stores.images.set(target, record.target)
    return 0
