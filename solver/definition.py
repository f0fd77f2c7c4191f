"""A build definition: ops by digest, display metadata beside them, the output.

May import: solver.ops, solver.digest, solver.source.

``metadata`` is never part of any digest: renaming a step's progress label, or
moving it to another line of the Dockerfile, leaves every op digest unchanged.

``Definition.to_json()`` / ``Definition.from_json()`` are the wire form the build
server exchanges. Each op is written in the same shape ``canonical_bytes`` hashes
(``{"@type": "ExecOp", ...}``, enums by value, bytes as ``{"@bytes": hex}``), so
``from_json`` re-derives every digest and rejects a document whose ops do not
hash to the digests it claims::

    {"version": 1,
     "ops": [{"digest": "sha256:…", "op": {"@type": "SourceOp", …},
              "metadata": {"name": "…", "spans": […], "stage": "…", "ignore_cache": false}},
             …],                                   # inputs before users
     "output": {"digest": "sha256:…", "index": 0} | null}
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from solver import ops as _ops
from solver.digest import Digest, DigestError
from solver.ops import Input, Op
from solver.source import Span

__all__ = ["Definition", "DefinitionBuilder", "DefinitionError", "OpMetadata"]

JSON_VERSION = 1


class DefinitionError(ValueError):
    """A definition document is malformed, or its ops do not match their digests."""


@dataclass(frozen=True, slots=True)
class OpMetadata:
    """How a vertex is shown: ``name`` like ``[build 3/5] RUN make``, the
    Dockerfile spans it came from, the stage it belongs to."""

    name: str = ""
    spans: tuple[Span, ...] = ()
    stage: str = ""
    ignore_cache: bool = False


@dataclass(frozen=True)
class Definition:
    """Ops keyed by digest (inputs before users, in insertion order)."""

    ops: Mapping[Digest, Op]
    metadata: Mapping[Digest, OpMetadata]
    output: Input | None

    def op(self, digest: Digest) -> Op:
        return self.ops[digest]

    def to_json(self) -> dict[str, Any]:
        """The wire form (see the module docstring); plain JSON types only."""
        return {
            "version": JSON_VERSION,
            "ops": [
                {
                    "digest": str(d),
                    "op": _encode(op),
                    "metadata": _meta_to_json(self.metadata.get(d, OpMetadata())),
                }
                for d, op in self.ops.items()
            ],
            "output": None if self.output is None else _encode_input(self.output),
        }

    @classmethod
    def from_json(cls, doc: object) -> Definition:
        """Parse and verify the wire form made by ``to_json``.

        Raises:
            DefinitionError: wrong shape or types, an unknown op type, an op whose
                digest differs from the one claimed, an input that is not defined
                before its user, or an output that names no op.
        """
        obj = _expect(doc, dict, "definition")
        if obj.get("version") != JSON_VERSION:
            raise DefinitionError(f"definition: unsupported version {obj.get('version')!r}")
        ops: dict[Digest, Op] = {}
        metadata: dict[Digest, OpMetadata] = {}
        for i, entry in enumerate(_expect(obj.get("ops"), list, "definition.ops")):
            where = f"ops[{i}]"
            item = _expect(entry, dict, where)
            op = _decode(item.get("op"), Op, where + ".op")
            claimed = _decode(item.get("digest"), Digest, where + ".digest")
            if op.digest != claimed:
                raise DefinitionError(f"{where}: op hashes to {op.digest}, not {claimed}")
            for inp in op.inputs:
                if inp.digest not in ops:
                    raise DefinitionError(f"{where}: input {inp.digest} is not defined before it")
            ops[claimed] = op
            metadata[claimed] = _meta_from_json(item.get("metadata", {}), where + ".metadata")
        output = None
        if obj.get("output") is not None:
            output = _decode(obj["output"], Input, "definition.output")
            if output.digest not in ops:
                raise DefinitionError(f"definition.output: no op {output.digest}")
        return cls(ops, metadata, output)


@dataclass
class DefinitionBuilder:
    """Collects ops while compiling; the same op added twice is stored once
    (its metadata spans are merged)."""

    ops: dict[Digest, Op] = field(default_factory=dict)
    metadata: dict[Digest, OpMetadata] = field(default_factory=dict)
    # spans already in metadata[digest], so re-adding an op is not O(spans)
    _spans: dict[Digest, set[Span]] = field(default_factory=dict, repr=False, compare=False)

    def add(self, op: Op, meta: OpMetadata | None = None) -> Input:
        """Add ``op`` (its inputs must have been added before); returns its output 0."""
        digest = op.digest
        for inp in op.inputs:
            if inp.digest not in self.ops:
                raise ValueError(f"input {inp.digest} of {digest} was not added first")
        meta = meta or OpMetadata()
        if digest in self.ops:
            old = self.metadata[digest]
            seen = self._spans.get(digest)
            if seen is None:
                seen = self._spans[digest] = set(old.spans)
            new = tuple(dict.fromkeys(s for s in meta.spans if s not in seen))
            if new:
                seen.update(new)
                spans = old.spans + new
                self.metadata[digest] = OpMetadata(old.name, spans, old.stage, old.ignore_cache)
        else:
            self.ops[digest] = op
            self.metadata[digest] = meta
        return Input(digest, 0)

    def build(self, output: Input | None) -> Definition:
        """Freeze, keeping only ops the output needs (all of them if None)."""
        if output is None:
            return Definition(dict(self.ops), dict(self.metadata), None)
        needed: set[Digest] = set()
        stack = [output.digest]
        while stack:
            d = stack.pop()
            if d in needed:
                continue
            needed.add(d)
            stack += [i.digest for i in self.ops[d].inputs]
        ops = {d: op for d, op in self.ops.items() if d in needed}
        meta = {d: m for d, m in self.metadata.items() if d in needed}
        return Definition(ops, meta, output)


# --- JSON codec ------------------------------------------------------------------

_OP_CLASSES: dict[str, type] = {
    name: obj
    for name in _ops.__all__
    if dataclasses.is_dataclass(obj := getattr(_ops, name)) and isinstance(obj, type)
}


def _encode(obj: Any) -> Any:
    if obj is None or isinstance(obj, bool | int | str):
        return str(obj) if isinstance(obj, Digest) else obj
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, bytes):
        return {"@bytes": obj.hex()}
    if isinstance(obj, tuple | list):
        return [_encode(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"@type": type(obj).__name__}
        for f in dataclasses.fields(obj):
            out[f.name] = _encode(getattr(obj, f.name))
        return out
    raise TypeError(f"cannot encode {type(obj).__name__}")


def _encode_input(inp: Input) -> dict[str, Any]:
    return {"digest": str(inp.digest), "index": inp.index}


def _expect(value: object, kind: type, where: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DefinitionError(f"{where}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _decode(value: object, hint: Any, where: str) -> Any:
    """``value`` (parsed JSON) as an instance of the type ``hint``, validated."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return _decode_union(value, typing.get_args(hint), where)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        seq = _expect(value, list, where)
        return tuple(_decode(v, item, f"{where}[{i}]") for i, v in enumerate(seq))
    if hint is Digest:
        try:
            return Digest(_expect(value, str, where))
        except DigestError as exc:
            raise DefinitionError(f"{where}: {exc}") from None
    if hint is bytes:
        raw = _expect(value, dict, where).get("@bytes")
        try:
            return bytes.fromhex(_expect(raw, str, where))
        except ValueError:
            raise DefinitionError(f"{where}: invalid hex bytes") from None
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            raise DefinitionError(f"{where}: {value!r} is not a {hint.__name__}") from None
    if hint in (str, int, bool):
        return _expect(value, hint, where)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode_dataclass(value, hint, where)
    raise DefinitionError(f"{where}: cannot decode type {hint!r}")


def _decode_union(value: object, args: tuple[Any, ...], where: str) -> Any:
    if value is None and type(None) in args:
        return None
    choices = [a for a in args if a is not type(None)]
    if len(choices) == 1:
        return _decode(value, choices[0], where)
    tag = _expect(value, dict, where).get("@type")
    for choice in choices:
        if getattr(choice, "__name__", None) == tag:
            return _decode(value, choice, where)
    names = ", ".join(sorted(c.__name__ for c in choices))
    raise DefinitionError(f"{where}: @type {tag!r} is not one of {names}")


def _decode_dataclass(value: object, cls: type, where: str) -> Any:
    obj = _expect(value, dict, where)
    if obj.get("@type", cls.__name__) != cls.__name__ or cls.__name__ not in _OP_CLASSES:
        raise DefinitionError(f"{where}: expected @type {cls.__name__}, got {obj.get('@type')!r}")
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(obj) - set(hints) - {"@type"})
    if unknown:
        raise DefinitionError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kwargs = {k: _decode(v, hints[k], f"{where}.{k}") for k, v in obj.items() if k != "@type"}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise DefinitionError(f"{where}: {exc}") from None


def _meta_to_json(meta: OpMetadata) -> dict[str, Any]:
    return {
        "name": meta.name,
        "spans": [s.to_json() for s in meta.spans],
        "stage": meta.stage,
        "ignore_cache": meta.ignore_cache,
    }


def _meta_from_json(value: object, where: str) -> OpMetadata:
    obj = _expect(value, dict, where)
    spans = []
    for i, raw in enumerate(_expect(obj.get("spans", []), list, where + ".spans")):
        s = _expect(raw, dict, f"{where}.spans[{i}]")
        fields = {k: _expect(s.get(k), int, f"{where}.spans[{i}].{k}") for k in _SPAN_INTS}
        spans.append(Span(_expect(s.get("file"), str, f"{where}.spans[{i}].file"), **fields))
    return OpMetadata(
        name=_expect(obj.get("name", ""), str, where + ".name"),
        spans=tuple(spans),
        stage=_expect(obj.get("stage", ""), str, where + ".stage"),
        ignore_cache=_expect(obj.get("ignore_cache", False), bool, where + ".ignore_cache"),
    )


_SPAN_INTS = ("line", "col", "end_line", "end_col")
