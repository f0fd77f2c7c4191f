"""``pybuild images`` / ``image ls``: list images as docker's table, IDs or a template.

May import: stdlib, builder.* (composition root).
"""

from __future__ import annotations

import argparse
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from builder.cli.store_access import (
    ImageView,
    human_size,
    open_stores,
    parse_time,
    print_rows,
    short_id,
    since,
    view,
)
from builder.errors import UsageError
from builder.oci.reference import ImageRef

__all__ = ["HEADERS", "ImageFilter", "add_arguments", "image_row", "parse_filters", "run"]

HEADERS = {
    "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Digest": "DIGEST",
    "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
    "VirtualSize": "SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
    "Containers": "CONTAINERS",
}


@dataclass(frozen=True)
class ImageFilter:
    """``-f`` filters: ``dangling`` (None = either) and ``reference`` glob patterns."""

    dangling: bool | None = None
    references: tuple[str, ...] = ()

    def matches(self, image: ImageView) -> bool:
        name = image.record.name
        if self.dangling is not None and (name is None) != self.dangling:
            return False
        if self.references:
            if name is None:
                return False
            texts = (name.familiar_name(), name.familiar(), str(name), name.name)
            return any(fnmatch.fnmatchcase(t, p) for p in self.references for t in texts)
        return True


def parse_filters(items: list[str]) -> ImageFilter:
    """Parse ``-f KEY=VALUE`` items (``dangling=true|false``, ``reference=PATTERN``).

    Raises:
        UsageError: an unknown key or a malformed value.
    """
    dangling: bool | None = None
    refs: list[str] = []
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"bad format of filter (expected name=value): {item!r}")
        if key == "dangling":
            if value.lower() not in ("true", "false", "1", "0"):
                raise UsageError(f"invalid filter 'dangling={value}'", hint="use true or false")
            dangling = value.lower() in ("true", "1")
        elif key == "reference":
            refs.append(value)
        else:
            raise UsageError(f"invalid filter {key!r}", hint="supported: dangling, reference")
    return ImageFilter(dangling, tuple(refs))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``images`` (docker's)."""
    parser.add_argument("repository", nargs="?", help="only REPOSITORY[:TAG]")
    parser.add_argument("-a", "--all", action="store_true", help="accepted for docker parity")
    parser.add_argument("-q", "--quiet", action="store_true", help="only image IDs")
    parser.add_argument("--digests", action="store_true", help="show digests")
    parser.add_argument("--no-trunc", action="store_true", help="do not truncate output")
    parser.add_argument("-f", "--filter", action="append", default=[], help="KEY=VALUE")
    parser.add_argument("--format", help="Go template, e.g. '{{.Repository}}:{{.Tag}}'")


def image_row(image: ImageView, no_trunc: bool) -> dict[str, Any]:
    """The template fields of one image row (docker's names)."""
    name = image.record.name
    created = parse_time(image.created)
    return {
        "Repository": name.familiar_name() if name is not None else "<none>",
        "Tag": (name.tag or "<none>") if name is not None else "<none>",
        "ID": short_id(image.image_id, no_trunc),
        "Digest": str(image.record.target.digest),
        "CreatedSince": since(image.created),
        "CreatedAt": created.strftime("%Y-%m-%d %H:%M:%S +0000 UTC") if created else "",
        "Size": human_size(image.size),
        "VirtualSize": human_size(image.size),
        "SharedSize": "N/A",
        "UniqueSize": "N/A",
        "Containers": "N/A",
    }


def _repository_filter(text: str | None) -> Callable[[ImageView], bool]:
    if not text:
        return lambda image: True
    has_tag = ":" in text.rsplit("/", 1)[-1]
    ref = ImageRef.parse(text, default_tag=None)

    def keep(image: ImageView) -> bool:
        name = image.record.name
        if name is None or name.name != ref.name:
            return False
        return not has_tag or name.tag == ref.tag

    return keep


def run(args: argparse.Namespace) -> int:
    """List the images.

    Raises:
        UsageError: a bad filter, repository or template.
    """
    filters = parse_filters(args.filter)
    by_repo = _repository_filter(args.repository)
    with open_stores(args) as stores:
        images = [view(stores, r) for r in stores.images.records()]
    images = [i for i in images if filters.matches(i) and by_repo(i)]
    images.sort(key=lambda i: (i.created, str(i.record.name or "")), reverse=True)
    if args.quiet:
        seen: list[str] = []
        for image in images:
            shown = short_id(image.image_id, args.no_trunc)
            if shown not in seen:
                seen.append(shown)
                print(shown)
        return 0
    fmt = args.format
    if not fmt:
        digest = "{{.Digest}}\t" if args.digests else ""
        fmt = "table {{.Repository}}\t{{.Tag}}\t" + digest + "{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    print_rows(fmt, [image_row(i, args.no_trunc) for i in images], HEADERS)
    return 0
