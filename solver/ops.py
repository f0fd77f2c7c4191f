"""Build-graph operations: frozen values whose digest is their cache identity.

May import: solver.digest.

An op refers to the ops it consumes through ``Input(digest, index)``; its own
digest covers its fields including those input digests, so equal definitions
have equal digests on every run and machine. Display data (names, spans,
progress groups) is never here: it lives in ``Definition.metadata``.

The op kinds (a tagged union, matched with ``match``)::

    SourceOp(source)       ImageSource | LocalSource | GitSource | HTTPSource
    ExecOp(meta, mounts)   run a process; mounts[0] is the root filesystem
    FileOp(base, actions)  Copy / Mkdir / Mkfile / Rm / Symlink applied in order on base
    MergeOp(inputs)        (later) stack snapshots without copying
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from solver.digest import Digest, digest_of

__all__ = [
    "CacheSharing",
    "ChownOpt",
    "Copy",
    "ExecMeta",
    "ExecOp",
    "FileAction",
    "FileOp",
    "GitSource",
    "HTTPSource",
    "ImageSource",
    "Input",
    "LocalSource",
    "MergeOp",
    "Mkdir",
    "Mkfile",
    "Mount",
    "MountType",
    "NetworkMode",
    "Op",
    "Rm",
    "SecurityMode",
    "Source",
    "SourceOp",
    "Symlink",
]


class NetworkMode(Enum):
    DEFAULT = "default"
    NONE = "none"
    HOST = "host"


class SecurityMode(Enum):
    SANDBOX = "sandbox"
    INSECURE = "insecure"


class MountType(Enum):
    BIND = "bind"
    CACHE = "cache"
    TMPFS = "tmpfs"
    SECRET = "secret"
    SSH = "ssh"


class CacheSharing(Enum):
    SHARED = "shared"
    PRIVATE = "private"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Input:
    """Output ``index`` of the op whose digest is ``digest``."""

    digest: Digest
    index: int = 0


# --- sources -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageSource:
    """A registry or local image. ``ref`` is fully normalised
    (``docker.io/library/alpine:latest``, or with ``@sha256:…`` once resolved)."""

    ref: str
    platform: str | None = None


@dataclass(frozen=True, slots=True)
class LocalSource:
    """Files from a client-side directory: ``name`` is ``context`` or a named
    ``--build-context``. ``include``/``exclude`` are dockerignore-style patterns
    narrowing what is transferred (and hashed)."""

    name: str = "context"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GitSource:
    remote: str
    ref: str = ""
    subdir: str = ""
    keep_git_dir: bool = False
    checksum: str = ""


@dataclass(frozen=True, slots=True)
class HTTPSource:
    url: str
    checksum: str = ""
    filename: str = ""
    mode: int = 0o600


Source = ImageSource | LocalSource | GitSource | HTTPSource


@dataclass(frozen=True, slots=True)
class SourceOp:
    source: Source

    @property
    def inputs(self) -> tuple[Input, ...]:
        return ()

    @property
    def digest(self) -> Digest:
        return digest_of(self)


# --- exec --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExecMeta:
    """The process: argv, environment (``K=V``, in order), cwd, user spec
    (``name``, ``uid``, ``name:group`` … as written in USER)."""

    args: tuple[str, ...]
    env: tuple[str, ...] = ()
    cwd: str = "/"
    user: str = ""
    hostname: str = ""
    extra_hosts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Mount:
    """One mount of an ExecOp. ``source`` is None for scratch (an empty dir),
    ``selector`` a path inside the source. ``output`` is True when the mount's
    changes are a result of the op (the root mount; writable binds are not).

    ``cache_id``/``sharing`` apply to CACHE, ``secret_id``/``env_name``/``required``
    to SECRET and SSH, ``size`` to TMPFS; ``mode``/``uid``/``gid`` to CACHE,
    SECRET and SSH. Secret *values* never appear here.
    """

    target: str
    type: MountType = MountType.BIND
    source: Input | None = None
    selector: str = ""
    readonly: bool = False
    output: bool = False
    cache_id: str = ""
    sharing: CacheSharing = CacheSharing.SHARED
    secret_id: str = ""
    env_name: str = ""
    required: bool = False
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class ExecOp:
    """Run ``meta`` with ``mounts`` (``mounts[0]`` is ``/``)."""

    meta: ExecMeta
    mounts: tuple[Mount, ...]
    network: NetworkMode = NetworkMode.DEFAULT
    security: SecurityMode = SecurityMode.SANDBOX

    @property
    def inputs(self) -> tuple[Input, ...]:
        return tuple(m.source for m in self.mounts if m.source is not None)

    @property
    def digest(self) -> Digest:
        return digest_of(self)


# --- file operations -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChownOpt:
    """``--chown`` as written (``user``, ``user:group``, ``1000:1000``); resolved
    against the destination's /etc/passwd and /etc/group by the worker."""

    user: str
    group: str = ""


@dataclass(frozen=True, slots=True)
class Copy:
    """COPY/ADD one source pattern from ``source`` to ``dest`` (absolute)."""

    source: Input
    src: str
    dest: str
    chown: ChownOpt | None = None
    chmod: str = ""
    follow_symlinks: bool = True
    contents_only: bool = True
    create_dest_path: bool = True
    allow_wildcard: bool = True
    allow_empty_wildcard: bool = True
    unpack: bool = False
    exclude: tuple[str, ...] = ()
    parents: bool = False
    link: bool = False


@dataclass(frozen=True, slots=True)
class Mkdir:
    path: str
    mode: int = 0o755
    make_parents: bool = True
    chown: ChownOpt | None = None


@dataclass(frozen=True, slots=True)
class Mkfile:
    path: str
    data: bytes
    mode: int = 0o644
    chown: ChownOpt | None = None


@dataclass(frozen=True, slots=True)
class Rm:
    path: str
    allow_not_found: bool = True
    allow_wildcard: bool = False


@dataclass(frozen=True, slots=True)
class Symlink:
    target: str
    path: str


FileAction = Copy | Mkdir | Mkfile | Rm | Symlink


@dataclass(frozen=True, slots=True)
class FileOp:
    """Apply ``actions`` in order on ``base`` (None: an empty filesystem)."""

    base: Input | None
    actions: tuple[FileAction, ...]

    @property
    def inputs(self) -> tuple[Input, ...]:
        found: list[Input] = [self.base] if self.base is not None else []
        found += [a.source for a in self.actions if isinstance(a, Copy)]
        return tuple(dict.fromkeys(found))

    @property
    def digest(self) -> Digest:
        return digest_of(self)


@dataclass(frozen=True, slots=True)
class MergeOp:
    """Stack ``inputs`` bottom to top (used by ``COPY --link``)."""

    sources: tuple[Input, ...]

    @property
    def inputs(self) -> tuple[Input, ...]:
        return self.sources

    @property
    def digest(self) -> Digest:
        return digest_of(self)


Op = SourceOp | ExecOp | FileOp | MergeOp
