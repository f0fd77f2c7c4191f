"""Push an image from the content store to a registry, as ``docker push`` does.

May import: stdlib, solver.digest, builder.{errors,oci,content,registry}.

For each manifest: every blob is checked with HEAD first; a missing one is mounted from
another repository of the same registry when one is known to hold it, otherwise uploaded
(blobs in parallel on a thread pool, each re-read from the verified store on retry); the
manifest goes last, so the registry never serves a manifest with missing blobs. An index
pushes its platform manifests (by digest) before itself.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterator

from builder.content.store import ContentStore
from builder.errors import NotFoundError
from builder.oci.descriptor import Descriptor
from builder.oci.image import Index, Manifest, parse_manifest_or_index
from builder.oci.reference import ImageRef
from builder.registry.client import BlobInfo, RegistryClient
from builder.registry.client import Manifest as RawManifest
from builder.registry.parallel import sum_in_parallel

__all__ = ["PushEvent", "PushOptions", "PushResult", "PushState", "push_image"]

_READ_CHUNK = 1 << 20


class PushState(enum.Enum):
    """What happened to one blob, in docker's words."""

    PREPARING = "Preparing"
    EXISTS = "Layer already exists"
    MOUNTED = "Mounted from"
    PUSHING = "Pushing"
    PUSHED = "Pushed"


@dataclasses.dataclass(frozen=True)
class PushEvent:
    """Progress of one blob; ``source`` names the repository a mount came from."""

    digest: str
    state: PushState
    size: int
    source: str = ""


@dataclasses.dataclass(frozen=True)
class PushOptions:
    """Parallelism, chunking, mount candidates and where progress goes."""

    jobs: int = 4
    chunk_size: int = 0
    mount_from: tuple[str, ...] = ()
    progress: Callable[[PushEvent], None] | None = None


@dataclasses.dataclass(frozen=True)
class PushResult:
    """The pushed target (what the tag now names) and the bytes actually uploaded."""

    ref: ImageRef
    digest: str
    size: int
    uploaded_bytes: int


def push_image(client: RegistryClient, ref: ImageRef, content: ContentStore,
               target: Descriptor, options: PushOptions | None = None) -> PushResult:
    """Push ``target`` (a manifest or index in ``content``) as ``ref``.

    Raises:
        NotFoundError: a blob of the image is missing from the local store.
        AuthError: push access denied.
        RegistryError: the registry refused a blob or the manifest.
        TransportError: the registry stayed unreachable.
    """
    options = options or PushOptions()
    body = content.read_bytes(target.digest, target.size)
    doc = parse_manifest_or_index(body, target.media_type)
    uploaded = 0
    if isinstance(doc, Index):
        for child in doc.manifests:
            uploaded += _push_manifest(client, ref.repository, content, child, options)
    else:
        uploaded += _push_blobs(client, ref.repository, content, doc, options)
    reference = ref.tag or target.digest
    raw = RawManifest(target.media_type or doc.media_type, target.digest, body)
    client.put_manifest(ref.repository, reference, raw)
    return PushResult(ref, target.digest, len(body), uploaded)


def _push_manifest(client: RegistryClient, repository: str, content: ContentStore,
                   desc: Descriptor, options: PushOptions) -> int:
    if not content.has(desc.digest):
        raise NotFoundError(f"manifest {desc.digest} of the index is not in the local store",
                            hint="pull or build that platform first")
    body = content.read_bytes(desc.digest, desc.size)
    doc = parse_manifest_or_index(body, desc.media_type)
    uploaded = 0
    if isinstance(doc, Index):
        for child in doc.manifests:
            uploaded += _push_manifest(client, repository, content, child, options)
    else:
        uploaded += _push_blobs(client, repository, content, doc, options)
    client.put_manifest(repository, desc.digest, RawManifest(desc.media_type, desc.digest, body))
    return uploaded


def _push_blobs(client: RegistryClient, repository: str, content: ContentStore,
                manifest: Manifest, options: PushOptions) -> int:
    unique = list({d.digest: d for d in (*manifest.layers, manifest.config)}.values())
    for blob in unique:
        if not content.has(blob.digest):
            raise NotFoundError(f"blob {blob.digest} is not in the local store",
                                hint="the image is incomplete; pull or build it again")
    notify = options.progress or (lambda event: None)
    for blob in unique:
        notify(PushEvent(blob.digest, PushState.PREPARING, blob.size))
    return sum_in_parallel(lambda blob: _push_blob(client, repository, content, blob, options),
                           unique, options.jobs)


def _push_blob(client: RegistryClient, repository: str, content: ContentStore,
               blob: Descriptor, options: PushOptions) -> int:
    notify = options.progress or (lambda event: None)
    if client.head_blob(repository, blob.digest, push=True) is not None:
        notify(PushEvent(blob.digest, PushState.EXISTS, blob.size))
        return 0
    for source in options.mount_from:
        if source != repository and client.mount_blob(repository, blob.digest, source):
            notify(PushEvent(blob.digest, PushState.MOUNTED, blob.size, source))
            return 0
    notify(PushEvent(blob.digest, PushState.PUSHING, blob.size))

    def body() -> Iterator[bytes]:
        with content.open_blob(blob.digest, blob.size) as stream:
            while chunk := stream.read(_READ_CHUNK):
                yield chunk

    client.upload_blob(repository, BlobInfo(blob.digest, blob.size), body, options.chunk_size)
    notify(PushEvent(blob.digest, PushState.PUSHED, blob.size))
    return blob.size
