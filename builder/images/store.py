"""Image store: names → manifest/index descriptors, kept in ``refs/index.json``.

May import: stdlib, solver.digest, builder.{errors,root,oci,content}.

``refs/index.json`` is an OCI image index. Each entry is one image record: the
target descriptor, annotated with ``org.opencontainers.image.ref.name`` (the
full reference, e.g. ``docker.io/library/busybox:latest``) and
``io.pybuild.created``. An entry without a name is a dangling image, listed as
``<none>:<none>`` the way docker lists an image whose tag moved elsewhere.

Every update is read-modify-write under ``Root.lock("refs")`` and written to a
staging file, fsynced and renamed over the old index, so concurrent processes
lose no update and a crash never leaves half-written JSON. Naming an image also
takes the content lease (``ContentStore.lease``), so it waits for a running
garbage collection and never names a blob that collection just removed.

Docker semantics kept here:
- tagging a name that pointed at another image leaves that image dangling
  unless another name still points at it;
- removing the last name of an image removes the image record (its blobs go
  at the next garbage collection);
- the image ID is the config digest (for a single-platform manifest) or the
  index digest (for a multi-platform index, as docker's containerd store shows).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from builder.content.store import ContentStore
from builder.errors import InvalidInputError, NotFoundError, StoreError, UsageError
from builder.oci.descriptor import ANNOTATION_REF_NAME, Descriptor, MediaType, Platform
from builder.oci.image import ImageConfig, Index, Manifest, parse_manifest_or_index
from builder.oci.reference import ImageRef
from builder.root import Root, fsync_dir
from solver.digest import Digest

__all__ = ["ANNOTATION_PYBUILD_CREATED", "ImageRecord", "ImageStore"]

ANNOTATION_PYBUILD_CREATED = "io.pybuild.created"
_INDEX_FILE = "index.json"
_LOCK = "refs"
_HEX_PREFIX_RE = re.compile(r"^(?:sha256:)?([0-9a-f]{3,64})$")
_MIN_PREFIX = 3


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One row of ``pybuild images``: a name (``None`` for dangling) and its target."""

    name: ImageRef | None
    target: Descriptor
    created: str

    def to_descriptor(self) -> Descriptor:
        """The record as stored in ``refs/index.json``."""
        notes = {ANNOTATION_PYBUILD_CREATED: self.created}
        if self.name is not None:
            notes[ANNOTATION_REF_NAME] = str(self.name)
        return Descriptor(self.target.media_type, self.target.digest, self.target.size,
                          notes, self.target.platform)

    @classmethod
    def from_descriptor(cls, desc: Descriptor) -> ImageRecord:
        """Read a record back from an index entry.

        Raises:
            InvalidInputError: the stored name is not a valid reference.
        """
        notes = dict(desc.annotations)
        created = notes.pop(ANNOTATION_PYBUILD_CREATED, "")
        name_text = notes.pop(ANNOTATION_REF_NAME, None)
        try:
            name = ImageRef.parse(name_text, default_tag=None) if name_text else None
        except UsageError as exc:
            raise InvalidInputError(f"refs/index.json holds a bad name: {exc.message}") from None
        target = Descriptor(desc.media_type, desc.digest, desc.size, notes, desc.platform)
        return cls(name, target, created)


def _now() -> str:
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    return now.isoformat().replace("+00:00", "Z")


class ImageStore:
    """Named images over a ``ContentStore``."""

    def __init__(self, root: Root, content: ContentStore) -> None:
        self.root = root
        self.content = content
        self._index_path = root.refs / _INDEX_FILE

    # -- reading -------------------------------------------------------------

    def records(self) -> list[ImageRecord]:
        """All records, named ones sorted by name, then dangling ones by digest.

        Raises:
            InvalidInputError: ``refs/index.json`` is damaged.
        """
        return self._read()

    def get(self, ref: ImageRef) -> Descriptor | None:
        """The target of exactly this name, or ``None``."""
        for rec in self._read():
            if rec.name == ref:
                return rec.target
        return None

    # -- writing -------------------------------------------------------------

    def set(self, ref: ImageRef, target: Descriptor) -> None:
        """Point ``ref`` at ``target`` (tag, or retag). The previous target of ``ref``
        stays as a dangling record if no other name points at it.

        Raises:
            NotFoundError: the target blob is not in the content store.
        """
        target = Descriptor(target.media_type, target.digest, target.size,
                            platform=target.platform)

        def change(records: list[ImageRecord]) -> list[ImageRecord]:
            old = next((r for r in records if r.name == ref), None)
            if old is not None and old.target.digest == target.digest:
                return records
            kept = [r for r in records if r.name != ref
                    and not (r.name is None and r.target.digest == target.digest)]
            kept.append(ImageRecord(ref, target, _now()))
            if old is not None and not any(r.target.digest == old.target.digest for r in kept):
                kept.append(ImageRecord(None, old.target, old.created))
            return kept

        with self.content.lease():  # a running GC finishes first; then the blob must exist
            if not self.content.has(target.digest):
                raise NotFoundError(
                    f"cannot tag {ref.familiar()}: blob {target.digest} not found")
            self._update(change)

    def add_dangling(self, target: Descriptor) -> None:
        """Record an unnamed image (an untagged build or load), unless already present.

        Raises:
            NotFoundError: the target blob is not in the content store.
        """

        def change(records: list[ImageRecord]) -> list[ImageRecord]:
            if any(r.target.digest == target.digest for r in records):
                return records
            plain = Descriptor(target.media_type, target.digest, target.size,
                               platform=target.platform)
            return [*records, ImageRecord(None, plain, _now())]

        with self.content.lease():
            if not self.content.has(target.digest):
                raise NotFoundError(f"blob {target.digest} not found")
            self._update(change)

    def remove(self, ref: ImageRef) -> ImageRecord:
        """Remove the name ``ref``; returns the removed record.

        Raises:
            NotFoundError: no image has that name.
        """
        removed: list[ImageRecord] = []

        def change(records: list[ImageRecord]) -> list[ImageRecord]:
            removed.extend(r for r in records if r.name == ref)
            if not removed:
                raise NotFoundError(f"no such image: {ref.familiar()}")
            return [r for r in records if r.name != ref]

        self._update(change)
        return removed[0]

    def remove_image(self, digest: Digest) -> list[ImageRecord]:
        """Remove every record (named or dangling) whose target is ``digest``.

        Raises:
            NotFoundError: no record has that target.
        """
        removed: list[ImageRecord] = []

        def change(records: list[ImageRecord]) -> list[ImageRecord]:
            removed.extend(r for r in records if r.target.digest == digest)
            if not removed:
                raise NotFoundError(f"no such image: {digest}")
            return [r for r in records if r.target.digest != digest]

        self._update(change)
        return removed

    # -- lookup --------------------------------------------------------------

    def image_id(self, record: ImageRecord) -> Digest:
        """Docker's image ID: the config digest of a manifest, else the target digest."""
        if record.target.media_type in (MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST):
            return record.target.digest
        try:
            doc = parse_manifest_or_index(
                self.content.read_bytes(record.target.digest), record.target.media_type)
        except (NotFoundError, InvalidInputError):
            return record.target.digest
        return doc.config.digest if isinstance(doc, Manifest) else record.target.digest

    def resolve(self, text: str) -> ImageRecord:
        """Find an image as docker does: by name (``busybox`` = ``busybox:latest``),
        by ``name@digest``, by full manifest digest, or by image-ID prefix (≥ 3 hex
        digits, optionally ``sha256:``-prefixed).

        Raises:
            NotFoundError: nothing matches.
            UsageError: an ID prefix matches several images, or is too short.
        """
        records = self._read()
        hex_match = _HEX_PREFIX_RE.match(text)
        if text.startswith("sha256:") and hex_match is None:
            raise UsageError(f"invalid image ID {text!r}", hint="an ID is hex digits")
        ref: ImageRef | None = None
        if not text.startswith("sha256:") and not re.fullmatch(r"[a-f0-9]{64}", text):
            with contextlib.suppress(UsageError):
                ref = ImageRef.parse(text)
            if ref is not None:
                found = self._by_name(records, ref)
                if found is not None:
                    return found
        if hex_match is not None:
            found = self._by_id(records, hex_match.group(1), text)
            if found is not None:
                return found
        if ref is None and hex_match is None:
            ImageRef.parse(text)  # raise the reference parser's own message
        raise NotFoundError(f"no such image: {text}")

    def _by_name(self, records: list[ImageRecord], ref: ImageRef) -> ImageRecord | None:
        for rec in records:
            if rec.name == ref:
                return rec
        if ref.digest is not None:  # name:tag@digest and name@digest match any tag
            for rec in records:
                if (rec.name is not None and rec.name.name == ref.name
                        and rec.target.digest == ref.digest):
                    return rec
        return None

    def _by_id(self, records: list[ImageRecord], prefix: str, text: str) -> ImageRecord | None:
        if len(prefix) == 64:
            for rec in records:
                if rec.target.digest.hex == prefix:
                    return rec
        hits: dict[Digest, ImageRecord] = {}
        for rec in records:
            image_id = self.image_id(rec)
            if image_id.hex.startswith(prefix):
                hits.setdefault(image_id, rec)
        if len(hits) > 1:
            raise UsageError(
                f"ambiguous image ID {text!r}: {len(hits)} images match",
                hint="give more digits of the ID",
            )
        return next(iter(hits.values()), None)

    def load_image(self, desc: Descriptor,
                   platform: Platform | None = None) -> tuple[Manifest, ImageConfig]:
        """The manifest and config of ``desc``; an index is resolved for ``platform``
        (default: the host platform).

        Raises:
            NotFoundError: a blob is missing, or the index has no such platform.
            InvalidInputError: a blob is corrupt or not a manifest/config.
        """
        doc = parse_manifest_or_index(self.content.read_bytes(desc.digest, desc.size),
                                      desc.media_type)
        if isinstance(doc, Index):
            want = platform or Platform.host()
            chosen = next((m for m in doc.manifests
                           if m.platform is not None and want.matches(m.platform)), None)
            if chosen is None:
                raise NotFoundError(f"image {desc.digest} has no manifest for {want}")
            doc = Manifest.from_json(self.content.read_bytes(chosen.digest, chosen.size))
        config = ImageConfig.from_json(
            self.content.read_bytes(doc.config.digest, doc.config.size))
        return doc, config

    def gc_roots(self) -> frozenset[Digest]:
        """Digests every record targets: the starting points of garbage collection."""
        return frozenset(rec.target.digest for rec in self._read())

    # -- persistence ---------------------------------------------------------

    def _read(self) -> list[ImageRecord]:
        try:
            data = self._index_path.read_bytes()
        except FileNotFoundError:
            return []
        try:
            index = Index.from_json(data)
            return [ImageRecord.from_descriptor(d) for d in index.manifests]
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"{self._index_path} is damaged: {exc.message}",
                hint="restore it from a backup, or delete it to forget all image names "
                     "(blobs stay until the next prune)",
            ) from None

    def _update(self, change: Callable[[list[ImageRecord]], list[ImageRecord]]) -> None:
        with self.root.lock(_LOCK):
            records = self._read()
            new = change(list(records))
            if new == records:
                return
            self._write(_sorted(new))

    def _write(self, records: list[ImageRecord]) -> None:
        data = Index(tuple(r.to_descriptor() for r in records)).to_json()
        with self.root.tempfile(prefix="refs-") as tmp:
            try:
                with open(tmp, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self._index_path)
                fsync_dir(self._index_path.parent)
            except OSError as exc:
                raise StoreError(f"cannot update image names: {exc.strerror}") from exc


def _sorted(records: list[ImageRecord]) -> list[ImageRecord]:
    named = sorted((r for r in records if r.name is not None), key=lambda r: str(r.name))
    dangling = sorted((r for r in records if r.name is None), key=lambda r: r.target.digest)
    return named + dangling

