"""``pybuild system df`` and ``system prune [-a] [-f]``: disk usage and clean-up.

May import: stdlib, builder.* (composition root).
"""

from __future__ import annotations

import argparse

from builder.cli.cmd_prune import confirm_and_prune
from builder.cli.store_access import human_size, open_stores, print_rows
from builder.images.gc import Usage, disk_usage

__all__ = ["add_arguments", "run"]

HEADERS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
           "Reclaimable": "RECLAIMABLE"}
_DF_FORMAT = ("table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``system df`` and ``system prune`` (one parser serves both)."""
    parser.add_argument("-a", "--all", action="store_true", help="prune: all unused images")
    parser.add_argument("-f", "--force", action="store_true", help="prune: do not ask")
    parser.add_argument("--format", help="df: Go template")


def _row(kind: str, usage: Usage) -> dict[str, str]:
    percent = 100 * usage.reclaimable // usage.size if usage.size else 0
    return {"Type": kind, "TotalCount": str(usage.total), "Active": str(usage.active),
            "Size": human_size(usage.size),
            "Reclaimable": f"{human_size(usage.reclaimable)} ({percent}%)"}


def _df(args: argparse.Namespace) -> int:
    with open_stores(args) as stores:
        usage = disk_usage(stores.images, snapshots=stores.snapshots)
    build = Usage(usage.build_cache.total + usage.snapshots.total, 0,
                  usage.build_cache.size + usage.snapshots.size,
                  usage.build_cache.reclaimable + usage.snapshots.reclaimable)
    rows = [_row("Images", usage.images), _row("Containers", Usage()),
            _row("Local Volumes", Usage()), _row("Build Cache", build)]
    print_rows(args.format or _DF_FORMAT, rows, HEADERS)
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch on the sub-command word."""
    if args.command == "system df":
        return _df(args)
    warning = "This will remove:\n  - all dangling images\n  - unused build cache"
    if args.all:
        warning = warning.replace("dangling images", "images without at least one container "
                                  "associated to them")
    return confirm_and_prune(args, warning)
