"""``pybuild inspect`` / ``image inspect``: image details as docker's JSON, or a template.

May import: stdlib, builder.* (composition root).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from builder.cli.store_access import ImageView, Stores, open_stores, view
from builder.cli.template import Template
from builder.errors import NotFoundError

__all__ = ["add_arguments", "inspect_document", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``inspect``."""
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="name, ID or digest")
    parser.add_argument("-f", "--format", help="Go template, e.g. '{{.Id}}'")


def inspect_document(stores: Stores, image: ImageView) -> dict[str, Any]:
    """The ``docker image inspect`` object of ``image`` (docker's field names)."""
    same = [r for r in stores.images.records()
            if stores.images.image_id(r) == image.image_id and r.name is not None]
    tags = [r.name.familiar() for r in same if r.name is not None and r.name.tag]
    digests = sorted({f"{r.name.familiar_name()}@{r.target.digest}"
                      for r in same if r.name is not None})
    config = image.config
    doc: dict[str, Any] = {
        "Id": str(image.image_id),
        "RepoTags": tags,
        "RepoDigests": digests,
        "Parent": "",
        "Comment": "",
        "Created": config.created if config else "",
        "DockerVersion": "",
        "Author": config.author if config else "",
        "Config": config.config.to_json() if config else {},
        "Architecture": config.architecture if config else "",
        "Os": config.os if config else "",
        "Size": image.size,
        "RootFS": {"Type": "layers",
                   "Layers": [str(d) for d in config.rootfs.diff_ids] if config else []},
        "Metadata": {"LastTagTime": image.record.created},
        "Descriptor": image.record.target.to_json(),
    }
    if config is not None and config.variant:
        doc["Variant"] = config.variant
    if config is not None and config.history and config.history[-1].comment:
        doc["Comment"] = config.history[-1].comment
    return doc


def run(args: argparse.Namespace) -> int:
    """Print the documents; a missing image is reported and makes the exit code 1."""
    template = Template.parse(args.format) if args.format else None
    docs: list[dict[str, Any]] = []
    failed = 0
    with open_stores(args) as stores:
        for text in args.images:
            try:
                record = stores.images.resolve(text)
            except NotFoundError:
                print(f"error: no such image: {text}", file=sys.stderr)
                failed = 1
                continue
            docs.append(inspect_document(stores, view(stores, record)))
    if template is not None:
        for doc in docs:
            print(template.render(doc))
    else:
        print(json.dumps(docs, indent=4, ensure_ascii=False))
    return failed
