"""``pybuild history`` / ``image history``: an image's history, newest first, like docker.

May import: stdlib, builder.* (composition root).
"""

from __future__ import annotations

import argparse
from typing import Any

from builder.cli.store_access import (
    ImageView,
    human_size,
    open_stores,
    print_rows,
    short_id,
    since,
    view,
)
from builder.errors import InvalidInputError

__all__ = ["HEADERS", "add_arguments", "history_rows", "run"]

HEADERS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
           "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"}
_DEFAULT = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
_WIDTH = 45


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``history``."""
    parser.add_argument("image", metavar="IMAGE", help="name, ID or digest")
    parser.add_argument("--no-trunc", action="store_true", help="do not truncate output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only image IDs")
    parser.add_argument("--format", help="Go template")


def _ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def history_rows(image: ImageView, no_trunc: bool) -> list[dict[str, Any]]:
    """One row per history entry, newest first; layer sizes from the manifest.

    Raises:
        InvalidInputError: the config's history names more layers than the image has.
    """
    if image.config is None or image.manifest is None:
        raise InvalidInputError(f"image {image.image_id}: its config or manifest is unreadable")
    sizes = [layer.size for layer in image.manifest.layers]
    rows: list[dict[str, Any]] = []
    layer = 0
    for entry in image.config.history:
        size = 0
        if not entry.empty_layer:
            if layer >= len(sizes):
                raise InvalidInputError(f"image {image.image_id}: history has more layers "
                                        "than the manifest")
            size, layer = sizes[layer], layer + 1
        created_by = entry.created_by.replace("\t", " ")
        rows.append({
            "ID": "<missing>", "CreatedSince": since(entry.created), "CreatedAt": entry.created,
            "CreatedBy": created_by if no_trunc else _ellipsis(created_by, _WIDTH),
            "Size": human_size(size), "Comment": entry.comment,
        })
    rows.reverse()
    if rows:
        rows[0]["ID"] = short_id(image.image_id, no_trunc)
    return rows


def run(args: argparse.Namespace) -> int:
    """Print the history table, IDs, or template output.

    Raises:
        NotFoundError: no such image.
    """
    with open_stores(args) as stores:
        image = view(stores, stores.images.resolve(args.image))
    rows = history_rows(image, args.no_trunc)
    if args.quiet:
        for row in rows:
            print(row["ID"])
        return 0
    print_rows(args.format or _DEFAULT, rows, HEADERS)
    return 0
