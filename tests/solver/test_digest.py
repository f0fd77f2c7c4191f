"""canonical_bytes and Digest: deterministic, typed, float-free encoding."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solver.digest import Digest, DigestError, canonical_bytes, digest_of, sha256_bytes


class Color(enum.Enum):
    RED = "red"


@dataclass(frozen=True)
class Point:
    x: int
    y: int


@dataclass(frozen=True)
class Other:
    x: int
    y: int


@dataclass(frozen=True)
class WithHidden:
    value: str
    label: str = field(default="", metadata={"digest": False})


def test_mapping_key_order_does_not_change_bytes() -> None:
    assert canonical_bytes({"b": 1, "a": 2}) == canonical_bytes({"a": 2, "b": 1})
    assert canonical_bytes({"b": 1, "a": 2}) == b'{"a":2,"b":1}'


def test_tuples_and_lists_encode_alike() -> None:
    assert canonical_bytes(("a", 1)) == canonical_bytes(["a", 1]) == b'["a",1]'


def test_enum_encodes_as_its_value() -> None:
    assert canonical_bytes(Color.RED) == canonical_bytes("red")


def test_bytes_are_tagged_hex_not_strings() -> None:
    assert canonical_bytes(b"\x00hi") == b'{"@bytes":"006869"}'
    assert canonical_bytes(b"hi") != canonical_bytes("hi")


def test_dataclasses_with_same_fields_but_different_types_differ() -> None:
    assert canonical_bytes(Point(1, 2)) == b'{"@type":"Point","x":1,"y":2}'
    assert digest_of(Point(1, 2)) != digest_of(Other(1, 2))


def test_fields_marked_digest_false_are_left_out() -> None:
    assert digest_of(WithHidden("v", "a")) == digest_of(WithHidden("v", "b"))


def test_sets_encode_in_sorted_order() -> None:
    assert canonical_bytes({"b", "a", "c"}) == canonical_bytes(frozenset({"c", "a", "b"}))


def test_non_ascii_text_is_utf8_not_escaped() -> None:
    assert canonical_bytes("é") == '"é"'.encode()


@pytest.mark.parametrize("value", [1.5, {"a": 0.0}, [1, 2.0], Point(1, 2.5)])  # type: ignore[arg-type]
def test_floats_are_rejected_anywhere(value: object) -> None:
    with pytest.raises(TypeError, match="float"):
        canonical_bytes(value)


def test_non_string_mapping_keys_are_rejected() -> None:
    with pytest.raises(TypeError, match="string keys"):
        canonical_bytes({1: "a"})


def test_unsupported_types_are_rejected() -> None:
    with pytest.raises(TypeError, match="cannot encode"):
        canonical_bytes(object())


@given(st.dictionaries(st.text(), st.integers() | st.text() | st.booleans() | st.none()))
def test_canonical_bytes_ignore_insertion_order(data: dict[str, object]) -> None:
    reversed_copy = dict(reversed(list(data.items())))
    assert canonical_bytes(data) == canonical_bytes(reversed_copy)


def test_digest_validates_its_text() -> None:
    good = "sha256:" + "a" * 64
    assert Digest(good).hex == "a" * 64
    assert Digest.from_hex("b" * 64) == "sha256:" + "b" * 64
    for bad in ("sha256:" + "A" * 64, "sha256:abc", "md5:" + "a" * 64, ""):
        with pytest.raises(DigestError):
            Digest(bad)


def test_sha256_of_known_bytes() -> None:
    # sha256("") is a published constant.
    assert sha256_bytes(b"") == (
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
