"""Pull an image from a registry into the content store, verified, in parallel.

May import: stdlib, httpx, solver.digest, builder.errors, builder.oci, builder.content,
builder.registry.*.

Order of work: the tag's manifest (an index is resolved to one platform, host by
default, and kept too), then the config and every layer at once on a thread pool (blobs
already in the store are skipped), and the manifest itself last, so a manifest in the store
always has all its blobs. Each blob streams into ``ContentStore.writer()`` while being
counted against its descriptor's size; ``commit`` checks the digest, so a blob that does
not match never enters the store. Connection failures mid-blob restart that blob (with the
client's bounded backoff); a digest or size mismatch is final.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import queue
import threading
import time
from collections.abc import Callable, Iterator

import httpx

from builder.content.store import ContentStore
from builder.errors import InvalidInputError
from builder.oci.descriptor import Descriptor, Platform
from builder.oci.image import ImageConfig, Index, Manifest, parse_manifest_or_index
from builder.oci.reference import ImageRef
from builder.registry.blobget import RetryableError, proxy_configured, skip_bytes, stream_blob
from builder.registry.client import RegistryClient
from builder.registry.errors import (
    AuthError,
    NotFoundError,
    RegistryError,
    TransportError,
    VerifyError,
)
from builder.registry.parallel import sum_in_parallel
from solver.digest import Digest

__all__ = ["BlobEvent", "BlobState", "PullOptions", "PullResult", "pull_image", "select_platform"]

_PIPE_DEPTH = 64  # chunks (of ~64 KiB) buffered between the receiving and writing threads
_SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+prettyjws",
            "application/vnd.docker.distribution.manifest.v1+json")


class BlobState(enum.Enum):
    """What happened to one blob, in docker's words."""

    WAITING = "Waiting"
    EXISTS = "Already exists"
    DOWNLOADING = "Downloading"
    RETRYING = "Retrying"
    COMPLETE = "Pull complete"


@dataclasses.dataclass(frozen=True)
class BlobEvent:
    """A progress event for one blob (``size`` from its descriptor)."""

    digest: str
    state: BlobState
    size: int
    is_config: bool = False
    seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class PullOptions:
    """Which platform to pull, how many blobs at once, and where progress goes."""

    platform: Platform | None = None
    jobs: int = 4
    progress: Callable[[BlobEvent], None] | None = None


@dataclasses.dataclass(frozen=True)
class PullResult:
    """A pulled image: the platform manifest, its config, and what the tag named.

    ``repo_digest`` is the digest the tag points to (the index for a multi-platform image),
    as ``docker pull`` prints it.
    """

    ref: ImageRef
    manifest: Descriptor
    config: ImageConfig
    repo_digest: str
    downloaded_bytes: int


def select_platform(index: Index, platform: Platform) -> Descriptor:
    """The index entry serving ``platform`` (exact variant preferred).

    Raises:
        NotFoundError: no entry matches; the message lists the platforms there are.
    """
    candidates = [d for d in index.manifests
                  if d.platform is not None and platform.matches(d.platform)]
    exact = [d for d in candidates if d.platform is not None
             and d.platform.normalized().variant == platform.normalized().variant]
    if exact or candidates:
        return (exact or candidates)[0]
    there = sorted({str(d.platform) for d in index.manifests
                    if d.platform is not None and d.platform.os != "unknown"})
    raise NotFoundError(f"no matching manifest for {platform} in the manifest list entries",
                        hint=f"available platforms: {', '.join(there) or 'none'}; "
                             "choose one with --platform")


def _resolve_manifest(client: RegistryClient, ref: ImageRef, content: ContentStore,
                      platform: Platform) -> tuple[Manifest, Descriptor, bytes, str]:
    reference = ref.digest or ref.tag or "latest"
    got = client.get_manifest(ref.repository, reference)
    repo_digest = got.digest
    if got.media_type in _SCHEMA1:
        raise RegistryError(f"{ref.familiar()}: Docker schema 1 manifests are not supported",
                            hint="push the image again with a current client")
    parsed = _parse(got.body, got.media_type, ref)
    if isinstance(parsed, Index):
        entry = select_platform(parsed, platform)
        content.put_bytes(got.body, expected=got.digest)
        got = client.get_manifest(ref.repository, entry.digest)
        parsed = _parse(got.body, got.media_type, ref)
        if not isinstance(parsed, Manifest):
            raise RegistryError(f"{ref.familiar()}: index entry {entry.digest} is not a manifest")
        desc = Descriptor(got.media_type or parsed.media_type, got.digest, len(got.body),
                          platform=entry.platform)
    else:
        desc = Descriptor(got.media_type or parsed.media_type, got.digest, len(got.body))
    return parsed, desc, got.body, repo_digest


def _parse(body: bytes, media_type: str, ref: ImageRef) -> Manifest | Index:
    try:
        return parse_manifest_or_index(body, media_type)
    except InvalidInputError as exc:
        raise RegistryError(f"{ref.familiar()}: registry sent an invalid manifest: "
                            f"{exc.message}") from exc


def pull_image(client: RegistryClient, ref: ImageRef, content: ContentStore,
               options: PullOptions | None = None) -> PullResult:
    """Pull ``ref`` into ``content``; the caller records the name (image store).

    Raises:
        NotFoundError: the image or a blob does not exist, or no platform matches.
        AuthError: access denied.
        VerifyError: a blob or manifest did not match its digest (nothing of it stored).
        TransportError: the registry stayed unreachable.
    """
    options = options or PullOptions()
    try:
        return _pull(client, ref, content, options)
    except (NotFoundError, AuthError, TransportError):
        if client.endpoint is None or not client.endpoint.mirror:
            raise
    with client.direct() as direct:  # the mirror failed: ask the registry itself
        return _pull(direct, ref, content, options)


def _pull(client: RegistryClient, ref: ImageRef, content: ContentStore,
          options: PullOptions) -> PullResult:
    platform = options.platform or Platform.host()
    manifest, desc, body, repo_digest = _resolve_manifest(client, ref, content, platform)
    blobs = [manifest.config, *manifest.layers]
    with content.lease():
        fetched = _fetch_all(client, ref.repository, content, blobs, options)
        config = _load_config(content, manifest, ref)
        content.put_bytes(body, expected=desc.digest)
    return PullResult(ref, desc, config, repo_digest, fetched)


def _load_config(content: ContentStore, manifest: Manifest, ref: ImageRef) -> ImageConfig:
    try:
        config = ImageConfig.from_json(content.read_bytes(manifest.config.digest))
    except InvalidInputError as exc:
        raise RegistryError(f"{ref.familiar()}: invalid image config: {exc.message}") from exc
    if len(config.rootfs.diff_ids) != len(manifest.layers):
        raise RegistryError(f"{ref.familiar()}: the config lists {len(config.rootfs.diff_ids)} "
                            f"layers but the manifest has {len(manifest.layers)}")
    return config


def _fetch_all(client: RegistryClient, repository: str, content: ContentStore,
               blobs: list[Descriptor], options: PullOptions) -> int:
    notify = options.progress or (lambda event: None)
    todo: list[Descriptor] = []
    seen: set[str] = set()
    for i, blob in enumerate(blobs):
        if blob.digest in seen:
            continue
        seen.add(blob.digest)
        if content.has(blob.digest):
            notify(BlobEvent(blob.digest, BlobState.EXISTS, blob.size, is_config=i == 0))
        else:
            notify(BlobEvent(blob.digest, BlobState.WAITING, blob.size, is_config=i == 0))
            todo.append(blob)
    if not todo:
        return 0
    config_digest = blobs[0].digest
    return sum_in_parallel(
        lambda blob: _fetch_blob(client, repository, content, blob,
                                 _tagged(notify, blob.digest == config_digest)),
        todo, options.jobs)


def _tagged(notify: Callable[[BlobEvent], None],
            is_config: bool) -> Callable[[BlobEvent], None]:
    return lambda event: notify(dataclasses.replace(event, is_config=is_config))


def _fetch_blob(client: RegistryClient, repository: str, content: ContentStore,
                blob: Descriptor, notify: Callable[[BlobEvent], None]) -> int:
    """Download one blob; after a connection failure, resume where it stopped."""
    policy = client.options.retry
    started = time.monotonic()
    where = f"{client.registry}/{repository}"
    with content.writer() as writer:
        for attempt in range(policy.attempts):
            notify(BlobEvent(blob.digest, BlobState.DOWNLOADING if attempt == 0
                             else BlobState.RETRYING, blob.size))
            try:
                with _open(client, repository, blob.digest, writer.size) as chunks:
                    _pump(chunks, writer.write, blob, where, writer.size)
                break
            except (httpx.TransportError, httpx.StreamError, RetryableError) as exc:
                if attempt + 1 == policy.attempts:
                    raise TransportError(f"blob {blob.digest}: download failed after "
                                         f"{policy.attempts} attempts: {exc}") from exc
                time.sleep(policy.delay(attempt))
        try:
            writer.commit(blob.digest, blob.size)
        except InvalidInputError as exc:
            raise VerifyError(f"blob {blob.digest} from {where}: {exc.message}",
                              hint="the registry or a proxy corrupted it; nothing was stored"
                              ) from exc
    notify(BlobEvent(blob.digest, BlobState.COMPLETE, blob.size,
                     seconds=time.monotonic() - started))
    return blob.size


@contextlib.contextmanager
def _open(client: RegistryClient, repository: str, digest: Digest,
          offset: int) -> Iterator[Iterator[bytes]]:
    if not proxy_configured():
        with stream_blob(client, repository, digest, offset) as chunks:
            yield chunks
        return
    with client.open_blob(repository, digest, offset) as response:
        raw: Iterator[bytes] = response.iter_raw()
        yield skip_bytes(raw, offset) if offset and response.status_code == 200 else raw


def _pump(chunks: Iterator[bytes], write: Callable[[bytes], object], blob: Descriptor,
          where: str, received: int = 0) -> None:
    """Copy ``chunks`` into ``write`` on a second thread, so that hashing and disk writes
    (which release the GIL) overlap with receiving and parsing (which do not)."""
    pipe: queue.Queue[bytes | None] = queue.Queue(maxsize=_PIPE_DEPTH)
    failed: list[BaseException] = []

    def drain() -> None:
        while (chunk := pipe.get()) is not None:
            if not failed:
                try:
                    write(chunk)
                except BaseException as exc:  # handed to the receiving thread
                    failed.append(exc)

    worker = threading.Thread(target=drain, name="pull-writer", daemon=True)
    worker.start()
    try:
        for chunk in chunks:
            received += len(chunk)
            if received > blob.size:
                raise VerifyError(f"blob {blob.digest} from {where}: registry sent more than "
                                  f"the {blob.size} bytes announced")
            pipe.put(chunk)
            if failed:
                break
    finally:
        pipe.put(None)
        worker.join()
    if failed:
        raise failed[0]
