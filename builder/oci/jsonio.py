"""Go-compatible JSON encoding and typed, tolerant field readers for OCI documents.

May import: stdlib, solver.digest, builder.errors.

``encode`` writes what Go's ``encoding/json.Marshal`` writes for the same value:
compact separators, keys in the order given (struct order; callers sort map
keys), non-ASCII kept as UTF-8, and ``<``, ``>``, ``&``, U+2028, U+2029 escaped
as ``\\u003c`` etc. The readers turn a decoded JSON value into typed Python
values and raise ``InvalidInputError`` naming the offending field otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from builder.errors import InvalidInputError
from solver.digest import Digest, DigestError

__all__ = [
    "decode_object",
    "encode",
    "get_bool",
    "get_digest",
    "get_int",
    "get_object",
    "get_str",
    "get_str_list",
    "get_str_map",
]

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
               "\u2029": "\\u2029"}


def encode(value: Any) -> bytes:
    """Compact JSON bytes, as Go's ``json.Marshal`` would write them.

    Raises:
        TypeError: ``value`` holds something JSON cannot encode (e.g. a float NaN).
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for raw, escaped in _GO_ESCAPES.items():
        if raw in text:
            text = text.replace(raw, escaped)
    return text.encode("utf-8")


def decode_object(data: bytes | str, what: str) -> dict[str, Any]:
    """Parse ``data`` as one JSON object.

    Raises:
        InvalidInputError: not UTF-8, not JSON, or not an object.
    """
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError(f"invalid {what}: not valid JSON ({exc})") from None
    except RecursionError:
        raise InvalidInputError(f"invalid {what}: JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"invalid {what}: expected a JSON object")
    return value


def _wrong(what: str, key: str, want: str) -> InvalidInputError:
    return InvalidInputError(f"invalid {what}: field {key!r} must be {want}")


def get_object(obj: Mapping[str, Any], key: str, what: str) -> dict[str, Any] | None:
    """``obj[key]`` as an object; ``None`` if missing or null.

    Raises:
        InvalidInputError: present but not an object.
    """
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _wrong(what, key, "an object")
    return value


def get_str(obj: Mapping[str, Any], key: str, what: str, default: str = "") -> str:
    """``obj[key]`` as a string; ``default`` if missing or null.

    Raises:
        InvalidInputError: present but not a string.
    """
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _wrong(what, key, "a string")
    return value


def get_int(obj: Mapping[str, Any], key: str, what: str, default: int = 0) -> int:
    """``obj[key]`` as an integer; ``default`` if missing or null.

    Raises:
        InvalidInputError: present but not an integer.
    """
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(what, key, "an integer")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _wrong(what, key, "a 64-bit integer")
    return value


def get_bool(obj: Mapping[str, Any], key: str, what: str) -> bool:
    """``obj[key]`` as a boolean; ``False`` if missing or null.

    Raises:
        InvalidInputError: present but not a boolean.
    """
    value = obj.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _wrong(what, key, "true or false")
    return value


def get_str_list(obj: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    """``obj[key]`` as a list of strings; ``()`` if missing or null.

    Raises:
        InvalidInputError: present but not a list of strings.
    """
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _wrong(what, key, "a list of strings")
    return tuple(value)


def get_str_map(obj: Mapping[str, Any], key: str, what: str) -> dict[str, str]:
    """``obj[key]`` as a string → string map, keys sorted; ``{}`` if missing or null.

    Raises:
        InvalidInputError: present but not such a map.
    """
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _wrong(what, key, "an object of strings")
    return dict(sorted(value.items()))


def get_digest(obj: Mapping[str, Any], key: str, what: str) -> Digest:
    """``obj[key]`` as a sha256 ``Digest``.

    Raises:
        InvalidInputError: missing or not a ``sha256:<64 hex>`` digest.
    """
    value = obj.get(key)
    if not isinstance(value, str):
        raise _wrong(what, key, "a digest string")
    try:
        return Digest(value)
    except DigestError:
        raise InvalidInputError(
            f"invalid {what}: field {key!r} is not a sha256 digest: {value[:80]!r}"
        ) from None
