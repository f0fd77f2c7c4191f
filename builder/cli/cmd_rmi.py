"""``pybuild rmi`` / ``image rm``: untag and delete images, with docker's rules.

May import: stdlib, builder.* (composition root).

By name: the name is removed (``Untagged: …``); when it was the image's last
name the image goes too (``Deleted: sha256:…``). By ID or digest: an image
with names in more than one repository needs ``-f``; then every name is
removed and the image deleted. Blobs nothing else uses are collected after.
"""

from __future__ import annotations

import argparse
import sys

from builder.cli.store_access import Stores, named_by, open_stores, short_id
from builder.errors import PybuildError, StoreError
from builder.images.gc import GcOptions, collect_garbage
from builder.images.store import ImageRecord

__all__ = ["add_arguments", "remove_image", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``rmi``."""
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="name, ID or digest")
    parser.add_argument("-f", "--force", action="store_true",
                        help="remove an image that has several names")
    parser.add_argument("--no-prune", action="store_true", help="accepted for docker parity")


def _siblings(stores: Stores, record: ImageRecord) -> list[ImageRecord]:
    image_id = stores.images.image_id(record)
    return [r for r in stores.images.records() if stores.images.image_id(r) == image_id]


def remove_image(stores: Stores, text: str, force: bool) -> list[str]:
    """Remove what ``text`` names; returns docker's ``Untagged:``/``Deleted:`` lines.

    Raises:
        NotFoundError: no such image.
        StoreError: the image has names in several repositories and ``force`` is off.
    """
    record = stores.images.resolve(text)
    image_id = stores.images.image_id(record)
    lines: list[str] = []
    if named_by(text, record) and record.name is not None:
        stores.images.remove(record.name)
        lines.append(f"Untagged: {record.name.familiar()}")
        if not _siblings(stores, record):
            lines.append(f"Deleted: {image_id}")
        return lines
    siblings = _siblings(stores, record)
    repos = {r.name.name for r in siblings if r.name is not None}
    if len(repos) > 1 and not force:
        raise StoreError(
            f"conflict: unable to delete {short_id(image_id)} (must be forced) - image is "
            "referenced in multiple repositories",
            hint="use -f, or remove the names one by one",
        )
    for digest in dict.fromkeys(s.target.digest for s in siblings):
        stores.images.remove_image(digest)
    lines += [f"Untagged: {r.name.familiar()}" for r in siblings if r.name is not None]
    lines.append(f"Deleted: {image_id}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Remove each image; report errors per image and exit 1 if any failed."""
    failed = 0
    with open_stores(args) as stores:
        for text in args.images:
            try:
                for line in remove_image(stores, text, args.force):
                    print(line)
            except PybuildError as exc:
                print(exc.render(), file=sys.stderr)
                failed = 1
        collect_garbage(stores.images, GcOptions(snapshots=stores.snapshots))
    return failed
