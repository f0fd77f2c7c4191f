"""``pybuild image prune [-a] [-f]``: remove dangling (or all unused) images and their blobs.

May import: stdlib, builder.* (composition root).
"""

from __future__ import annotations

import argparse
import sys

from builder.cli.store_access import Stores, human_size, open_stores
from builder.images.gc import GcOptions, PruneResult, PruneScope, prune_images

__all__ = ["add_arguments", "confirm", "confirm_and_prune", "print_prune", "prune", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``image prune``."""
    parser.add_argument("-a", "--all", action="store_true",
                        help="remove all unused images, not just dangling ones")
    parser.add_argument("-f", "--force", action="store_true", help="do not ask")


def confirm(warning: str, force: bool) -> bool:
    """Ask docker's ``Are you sure you want to continue? [y/N]`` unless ``force``."""
    if force:
        return True
    print(f"WARNING! {warning}\nAre you sure you want to continue? [y/N] ", end="", flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def prune(stores: Stores, everything: bool) -> PruneResult:
    """Prune images (dangling, or every unused one), then unreferenced blobs and snapshots."""
    scope = PruneScope.ALL if everything else PruneScope.DANGLING
    return prune_images(stores.images, scope, options=GcOptions(snapshots=stores.snapshots))


def print_prune(result: PruneResult) -> None:
    """Docker's report: the untagged and deleted images, then the space reclaimed."""
    if result.images_removed:
        print("Deleted Images:")
        for rec in result.images_removed:
            if rec.name is not None:
                print(f"untagged: {rec.name.familiar()}")
        for digest in dict.fromkeys(r.target.digest for r in result.images_removed):
            print(f"deleted: {digest}")
        print()
    print(f"Total reclaimed space: {human_size(result.gc.reclaimed)}")


def confirm_and_prune(args: argparse.Namespace, warning: str) -> int:
    """Unless ``args.force``, show ``warning`` and ask; then prune (``args.all``:
    every unused image) and print docker's report. Returns the exit code, 0."""
    if not confirm(warning, args.force):
        return 0
    with open_stores(args) as stores:
        result = prune(stores, args.all)
    print_prune(result)
    return 0


def run(args: argparse.Namespace) -> int:
    """Prune after confirmation."""
    what = ("This will remove all images without at least one container associated to them."
            if args.all else "This will remove all dangling images.")
    return confirm_and_prune(args, what)
