"""Cache keys: what a vertex's result depends on, digested; and why a key changed.

May import: solver.digest, solver.ops, solver.definition, solver.worker,
solver.progress, stdlib.

A vertex's key is the digest of a ``KeyManifest``: the op with every ``Input``
replaced by a positional placeholder and its non-cache fields cleared (a cache
mount's ``cache_id``), plus one ``KeyInput`` per input holding the input's *cache
key* (not its op digest: equal keys from different definitions hit) or, for an
input whose content matters, the ``ContentChecksum`` of exactly the files the op
reads from it. Which inputs are keyed by content (``content_inputs``):

- every input read by a ``Copy`` action of a ``FileOp`` (BuildKit's slow key:
  ``COPY --from=build /app/bin`` hits when the binary is byte-identical even if
  the build stage changed);
- every input produced by a *volatile* source (``is_volatile``): the local
  context, an HTTP source without ``checksum``, a git source not pinned to a
  commit. Their op digest says nothing about their content.

Two phases (``scheduler`` drives them): the *definition* key uses input keys
only and needs no execution; if it misses (or an input is volatile), the
*content* key needs the inputs' refs and asks the ``ContentHasher``.

For ``--explain``, a ``KeyManifest`` flattens to an ``ExplainRecord`` (field
paths, input keys, file digests) that is stored under the vertex's stable
``name key``; ``explain(old, new)`` lists the differences as ``MissCause``s.

``FileStat``/``StatCache`` are the protocol of the file-metadata cache the
builder's content hasher uses so unchanged files are not re-hashed.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from solver.definition import Definition
from solver.digest import Digest, canonical_bytes, digest_of, sha256_bytes
from solver.ops import (
    Copy,
    FileOp,
    GitSource,
    HTTPSource,
    Input,
    LocalSource,
    Mount,
    Op,
    SourceOp,
)
from solver.progress import MissCause, MissKind
from solver.worker import ContentChecksum

__all__ = [
    "CacheKey",
    "ExplainRecord",
    "FileStat",
    "KeyInput",
    "KeyManifest",
    "StatCache",
    "content_inputs",
    "explain",
    "is_volatile",
    "manifest_for",
    "name_keys",
]

KEY_VERSION = "pybuild-cache-v1"
_MAX_LISTED = 10  # files / variables named per explanation before "and N more"
_MAX_EXPLAIN_FILES = 50_000  # beyond this, only the content digest is remembered

_PLACEHOLDERS = [sha256_bytes(f"input/{i}".encode()) for i in range(64)]


@dataclass(frozen=True, slots=True)
class CacheKey:
    """The key a result is stored under."""

    digest: Digest

    def __str__(self) -> str:
        return str(self.digest)


@dataclass(frozen=True, slots=True)
class KeyInput:
    """One input of a manifest: ``key`` is the input's cache key (``content`` False)
    or the content checksum of what the op reads from it. ``name`` and
    ``files`` are for ``--explain`` only and never keyed."""

    key: Digest
    index: int = 0
    content: bool = False
    name: str = field(default="", metadata={"digest": False})
    files: tuple[tuple[str, str], ...] = field(default=(), metadata={"digest": False})

    @classmethod
    def of_content(cls, checksum: ContentChecksum, name: str = "") -> KeyInput:
        files = tuple((f.path, str(f.digest)) for f in checksum.files[:_MAX_EXPLAIN_FILES])
        return cls(checksum.digest, 0, True, name, files)


@dataclass(frozen=True, slots=True)
class KeyManifest:
    """The pre-image of a cache key: the masked op and its keyed inputs."""

    op: Op
    inputs: tuple[KeyInput, ...]
    key: CacheKey = field(init=False, compare=False)

    def __post_init__(self) -> None:
        key = CacheKey(digest_of({"v": KEY_VERSION, "op": self.op, "inputs": self.inputs}))
        object.__setattr__(self, "key", key)

    def explain_record(self) -> ExplainRecord:
        return ExplainRecord(self.key.digest, tuple(_flatten(self.op)), self.inputs)


def is_volatile(op: Op) -> bool:
    """True for a source whose digest does not pin its content (local context,
    HTTP without checksum, git ref that is not a full commit id)."""
    match op:
        case SourceOp(source=LocalSource()):
            return True
        case SourceOp(source=HTTPSource(checksum=checksum)):
            return not checksum
        case SourceOp(source=GitSource(ref=ref, checksum=checksum)):
            return not checksum and not _is_commit(ref)
    return False


def _is_commit(ref: str) -> bool:
    return len(ref) in (40, 64) and all(c in "0123456789abcdef" for c in ref)


def content_inputs(op: Op, volatile: frozenset[Digest]) -> tuple[Input, ...]:
    """The inputs of ``op`` keyed by content: Copy sources of a FileOp, and any
    input produced by a vertex in ``volatile``."""
    copied: set[Input] = set()
    if isinstance(op, FileOp):
        copied = {a.source for a in op.actions if isinstance(a, Copy)}
    return tuple(i for i in op.inputs if i in copied or i.digest in volatile)


def manifest_for(op: Op, inputs: Mapping[Input, KeyInput]) -> KeyManifest:
    """The manifest of ``op`` given a ``KeyInput`` for each of ``op.inputs``.

    Raises:
        KeyError: an input of ``op`` has no entry in ``inputs``.
        ValueError: the op has more inputs than keys support (64).
    """
    order = list(op.inputs)
    if len(order) > len(_PLACEHOLDERS):
        raise ValueError(f"op has {len(order)} inputs; at most {len(_PLACEHOLDERS)} are supported")
    position = {inp: i for i, inp in enumerate(order)}
    masked = _mask(op, position)
    keyed = tuple(dataclasses.replace(inputs[inp], index=inp.index) for inp in order)
    return KeyManifest(masked, keyed)


def _mask(obj: Any, position: Mapping[Input, int]) -> Any:
    if isinstance(obj, Input):
        return Input(_PLACEHOLDERS[position[obj]], 0)
    if isinstance(obj, tuple):
        return tuple(_mask(v, position) for v in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: _mask(getattr(obj, f.name), position) for f in dataclasses.fields(obj)}
        if isinstance(obj, Mount):
            changes["cache_id"] = ""  # a cache mount's id is not part of the key
        return dataclasses.replace(obj, **changes)
    return obj


def name_keys(definition: Definition) -> dict[Digest, Digest]:
    """A stable "which step is this" key per vertex, equal across builds when the
    step's command changes: (kind, stage, ordinal in stage), or (kind, name)
    for a vertex without a stage."""
    ordinal: dict[str, int] = {}
    out: dict[Digest, Digest] = {}
    for digest, op in definition.ops.items():
        meta = definition.metadata.get(digest)
        kind = type(op).__name__
        if meta is not None and meta.stage:
            n = ordinal.get(meta.stage, 0)
            ordinal[meta.stage] = n + 1
            out[digest] = digest_of(["explain", kind, meta.stage, n])
        else:
            out[digest] = digest_of(["explain", kind, "", meta.name if meta else str(digest)])
    return out


# --- explain ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExplainRecord:
    """A manifest flattened for storage: ``fields`` are (path, JSON value) pairs."""

    key: Digest
    fields: tuple[tuple[str, str], ...]
    inputs: tuple[KeyInput, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "key": str(self.key),
            "fields": [list(f) for f in self.fields],
            "inputs": [
                [str(i.key), i.index, i.content, i.name, [list(f) for f in i.files]]
                for i in self.inputs
            ],
        }

    @classmethod
    def from_json(cls, doc: Any) -> ExplainRecord:
        """Raises:
        ValueError: ``doc`` is not a record ``to_json`` wrote (DigestError included)."""
        try:
            inputs = tuple(
                KeyInput(Digest(k), int(ix), bool(c), str(n),
                         tuple((str(p), str(d)) for p, d in fs))
                for k, ix, c, n, fs in doc["inputs"]
            )
            fields = tuple((str(p), str(v)) for p, v in doc["fields"])
            return cls(Digest(doc["key"]), fields, inputs)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed explain record: {exc}") from None


def _flatten(op: Op) -> list[tuple[str, str]]:
    plain = json.loads(canonical_bytes(op))
    out: list[tuple[str, str]] = []
    _walk(plain, "", out)
    return out


def _walk(value: Any, path: str, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for k in sorted(value):
            _walk(value[k], f"{path}.{k}" if path else k, out)
    elif isinstance(value, list) and path.endswith("meta.env"):
        for entry in value:
            name, _, val = str(entry).partition("=")
            out.append((f"{path}.{name}", json.dumps(val)))
    elif isinstance(value, list) and path.endswith("meta.args"):
        out.append((path, json.dumps(value)))
    elif isinstance(value, list):
        out.append((f"{path}#", str(len(value))))
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", out)
    else:
        out.append((path, json.dumps(value)))


def explain(old: ExplainRecord | None, new: ExplainRecord) -> tuple[MissCause, ...]:
    """Why ``new`` misses where ``old`` (the previous build of the same step) was
    stored: changed command, env/arg values, base image, files, upstream steps."""
    if old is None:
        return (MissCause(MissKind.NEW, "", "no earlier build of this step is recorded"),)
    if old.key == new.key:
        return (MissCause(MissKind.EVICTED, "", "the cached result was pruned"),)
    causes = _field_causes(dict(old.fields), dict(new.fields))
    causes += _input_causes(old.inputs, new.inputs)
    return tuple(causes) or (MissCause(MissKind.OPTION, "", "the step's definition changed"),)


def _field_causes(old: dict[str, str], new: dict[str, str]) -> list[MissCause]:
    if old.get("@type") != new.get("@type"):
        return [MissCause(MissKind.OPTION, "", "the kind of step changed")]
    causes: list[MissCause] = []
    env_changes: list[MissCause] = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after or path.endswith("#"):
            continue
        if ".meta.env." in f".{path}":
            name = path.rsplit(".", 1)[1]
            env_changes.append(MissCause(MissKind.ENV, name, _change(before, after)))
        elif path.endswith("meta.args"):
            causes.append(MissCause(MissKind.COMMAND, "", _change(before, after)))
        elif path == "source.ref" and new.get("source.@type") == '"ImageSource"':
            causes.append(MissCause(MissKind.BASE_IMAGE, "", _change(before, after)))
        elif path.startswith("source."):
            causes.append(MissCause(MissKind.SOURCE, path.removeprefix("source."),
                                    _change(before, after)))
        elif not any(c.kind is MissKind.OPTION and c.subject == _top(path) for c in causes):
            causes.append(MissCause(MissKind.OPTION, _top(path), "changed"))
    return causes + _capped(env_changes, MissKind.ENV, "variables")


def _top(path: str) -> str:
    """The option a field path belongs to: ``meta.cwd`` → ``workdir``, ``mounts[1].target``
    → ``mounts``."""
    head = path.removeprefix("meta.").split("[", 1)[0].split(".", 1)[0]
    return {"cwd": "workdir"}.get(head, head)


def _change(before: str | None, after: str | None) -> str:
    if before is None:
        return f"set to {after}"
    if after is None:
        return f"was {before}, now unset"
    return f"{before} -> {after}"


def _input_causes(old: tuple[KeyInput, ...], new: tuple[KeyInput, ...]) -> list[MissCause]:
    if len(old) != len(new):
        return [MissCause(MissKind.INPUT, "", f"{len(old)} inputs before, {len(new)} now")]
    causes: list[MissCause] = []
    for before, after in zip(old, new, strict=True):
        if before.key == after.key and before.content == after.content:
            continue
        label = after.name or after.key.hex[:12]
        if after.content and before.content:
            causes += _file_causes(before, after, label)
        else:
            causes.append(MissCause(MissKind.INPUT, label, "this upstream step changed"))
    return causes


def _file_causes(before: KeyInput, after: KeyInput, label: str) -> list[MissCause]:
    old, new = dict(before.files), dict(after.files)
    if not old and not new:
        return [MissCause(MissKind.FILE, "", f"the files read from {label} changed")]
    found: list[MissCause] = []
    for path in sorted(set(old) | set(new)):
        if path not in old:
            found.append(MissCause(MissKind.FILE, path, "added"))
        elif path not in new:
            found.append(MissCause(MissKind.FILE, path, "removed"))
        elif old[path] != new[path]:
            found.append(MissCause(MissKind.FILE, path, "changed"))
    if not found:
        return [MissCause(MissKind.FILE, "", f"the files read from {label} changed")]
    return _capped(found, MissKind.FILE, "files")


def _capped(causes: list[MissCause], kind: MissKind, what: str) -> list[MissCause]:
    if len(causes) <= _MAX_LISTED:
        return causes
    more = len(causes) - _MAX_LISTED
    return causes[:_MAX_LISTED] + [MissCause(kind, "", f"and {more} more {what} changed")]


# --- the file-metadata cache protocol ----------------------------------------------


@dataclass(frozen=True, slots=True)
class FileStat:
    """The stat fields that, unchanged, let a file's digest be reused (never
    mtime alone: inode and ctime catch a file replaced or re-chmodded)."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int
    mode: int

    @classmethod
    def from_stat(cls, st: os.stat_result) -> FileStat:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)


class StatCache(Protocol):
    """path + stat → content digest, kept across builds (solver.cachestore has one)."""

    def lookup(self, path: str, stat: FileStat) -> Digest | None: ...

    def store(self, path: str, stat: FileStat, digest: Digest) -> None: ...
