"""Content digests and the canonical bytes that op identities are computed from.

May import: stdlib only.

``canonical_bytes`` is deterministic across runs and machines: JSON with sorted
keys, no whitespace, UTF-8, and no floats (a float raises ``TypeError``: their
text form is not stable enough to be part of an identity). Dataclasses are
encoded as ``{"@type": ClassName, field: value, ...}`` so that two op types with
the same fields never collide; enums by their value; tuples as lists.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import re
from typing import Any

__all__ = ["Digest", "DigestError", "canonical_bytes", "digest_of", "sha256_bytes"]

_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


class DigestError(ValueError):
    """A string is not a valid ``sha256:<64 hex>`` digest."""


class Digest(str):
    """A validated ``sha256:<hex>`` string."""

    __slots__ = ()

    def __new__(cls, value: str) -> Digest:
        if not _DIGEST_RE.match(value):
            raise DigestError(f"invalid digest {value!r}: want sha256:<64 lowercase hex>")
        return super().__new__(cls, value)

    @property
    def algorithm(self) -> str:
        return "sha256"

    @property
    def hex(self) -> str:
        return self[7:]

    @classmethod
    def from_hex(cls, hexdigest: str) -> Digest:
        return cls("sha256:" + hexdigest)


def sha256_bytes(data: bytes) -> Digest:
    """The digest of ``data``."""
    return Digest("sha256:" + hashlib.sha256(data).hexdigest())


def _plain(obj: Any) -> Any:
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        raise TypeError("floats are not allowed in canonical bytes")
    if isinstance(obj, enum.Enum):
        return _plain(obj.value)
    if isinstance(obj, bytes):
        return {"@bytes": obj.hex()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"@type": type(obj).__name__}
        for f in dataclasses.fields(obj):
            if f.metadata.get("digest", True):
                out[f.name] = _plain(getattr(obj, f.name))
        return out
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError("canonical mappings need string keys")
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, frozenset | set):
        return sorted((_plain(v) for v in obj), key=lambda v: json.dumps(v, sort_keys=True))
    raise TypeError(f"cannot encode {type(obj).__name__} canonically")


def canonical_bytes(obj: Any) -> bytes:
    """Deterministic bytes for ``obj`` (see the module docstring).

    Raises:
        TypeError: ``obj`` holds a float or an unsupported type.
    """
    return json.dumps(
        _plain(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def digest_of(obj: Any) -> Digest:
    """``sha256`` of ``canonical_bytes(obj)``."""
    return sha256_bytes(canonical_bytes(obj))
