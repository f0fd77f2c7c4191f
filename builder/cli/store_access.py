"""Shared helpers of the image commands: open the root and its stores from ``args``,
and format sizes, ages, IDs and tables the way docker's CLI does.

May import: stdlib, builder.root, builder.content, builder.images, builder.snapshots,
builder.oci, builder.errors, builder.cli.template.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from builder.cli.template import Template, align_table
from builder.content.store import ContentStore
from builder.errors import InvalidInputError, NotFoundError, UsageError
from builder.images.store import ImageRecord, ImageStore
from builder.oci.image import ImageConfig, Manifest
from builder.oci.reference import ImageRef
from builder.root import Root
from builder.snapshots.store import SnapshotStore
from solver.digest import Digest

__all__ = [
    "ImageView",
    "Stores",
    "human_duration",
    "human_size",
    "named_by",
    "open_stores",
    "parse_time",
    "print_rows",
    "short_id",
    "since",
    "view",
]

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})?$"
)


@dataclass(frozen=True)
class Stores:
    """The opened root with its content, image and snapshot stores."""

    root: Root
    content: ContentStore
    images: ImageStore
    snapshots: SnapshotStore


@contextlib.contextmanager
def open_stores(args: argparse.Namespace) -> Iterator[Stores]:
    """Open the root named by ``args.root`` (None → default) and its stores.

    Raises:
        StoreError: the root cannot be created or opened.
    """
    root = Root.open(args.root)
    try:
        content = ContentStore(root)
        yield Stores(root, content, ImageStore(root, content), SnapshotStore(root, content))
    finally:
        root.close()


@dataclass(frozen=True)
class ImageView:
    """What the listing commands show of one record; ``config`` is None if unreadable."""

    record: ImageRecord
    image_id: Digest
    manifest: Manifest | None
    config: ImageConfig | None
    size: int

    @property
    def created(self) -> str:
        return self.config.created if self.config is not None else ""


def view(stores: Stores, record: ImageRecord) -> ImageView:
    """The manifest, config, image ID and size (sum of layer sizes) of ``record``."""
    try:
        manifest, config = stores.images.load_image(record.target)
    except (NotFoundError, InvalidInputError):
        return ImageView(record, stores.images.image_id(record), None, None, 0)
    size = sum(layer.size for layer in manifest.layers)
    return ImageView(record, stores.images.image_id(record), manifest, config, size)


def named_by(text: str, record: ImageRecord) -> bool:
    """True if ``text`` found ``record`` by its name rather than by an ID or digest."""
    if record.name is None or text.startswith("sha256:"):
        return False
    try:
        ref = ImageRef.parse(text)
    except UsageError:
        return False
    return ref == record.name or (ref.digest is not None and ref.name == record.name.name)


def human_size(size: int | float) -> str:
    """Docker's ``units.HumanSizeWithPrecision(size, 3)``: ``4.19MB``, ``512B``."""
    value, unit = float(size), 0
    while value >= 1000 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    return f"{value:.3g}{_UNITS[unit]}"


def human_duration(seconds: float) -> str:
    """Docker's ``units.HumanDuration`` (``About an hour``, ``3 days``)."""
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = secs // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = math.floor(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds // 3600) // 24 // 365} years"


def parse_time(text: str) -> dt.datetime | None:
    """An RFC 3339 time (nanoseconds allowed) as an aware datetime; None if empty or bad."""
    match = _TIME_RE.match(text.strip())
    if not match:
        return None
    y, mo, d, h, mi, s, frac, zone = match.groups()
    tz = dt.UTC
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        return dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=tz)
    except ValueError:
        return None


def since(created: str, now: dt.datetime | None = None) -> str:
    """``3 days ago`` for an RFC 3339 ``created`` time, ``N/A`` when it is missing."""
    when = parse_time(created)
    if when is None:
        return "N/A"
    now = now or dt.datetime.now(dt.UTC)
    return human_duration(max(0.0, (now - when).total_seconds())) + " ago"


def short_id(digest: str, no_trunc: bool = False) -> str:
    """Docker's image-ID display: 12 hex characters, or the full digest with ``--no-trunc``."""
    if no_trunc:
        return digest
    return digest.split(":", 1)[-1][:12]


def print_rows(
    fmt: str, rows: Sequence[Mapping[str, Any]], headers: Mapping[str, str]
) -> None:
    """Print ``rows`` through a ``--format`` template (a ``table`` one adds a header row).

    Raises:
        UsageError: the template is malformed.
    """
    template = Template.parse(fmt)
    lines = [template.render(row) for row in rows]
    if template.table:
        print(align_table([template.header(headers), *lines]))
    else:
        for line in lines:
            print(line)
