"""Op identity: digests are stable, cover inputs, and ignore display metadata."""

from __future__ import annotations

import dataclasses

import pytest

from solver.digest import canonical_bytes
from solver.ops import (
    Copy,
    ExecMeta,
    ExecOp,
    FileOp,
    ImageSource,
    Input,
    LocalSource,
    MergeOp,
    Mkdir,
    Mount,
    MountType,
    NetworkMode,
    SourceOp,
)

ALPINE = SourceOp(ImageSource("docker.io/library/alpine:3.20"))


def _make_op(base: SourceOp = ALPINE) -> ExecOp:
    return ExecOp(
        ExecMeta(("sh", "-c", "make"), cwd="/src"),
        (Mount("/", source=Input(base.digest), output=True),),
    )


def test_source_op_canonical_bytes_are_pinned() -> None:
    # If this changes, every cache key in every user's store changes with it.
    assert canonical_bytes(ALPINE) == (
        b'{"@type":"SourceOp","source":{"@type":"ImageSource","platform":null,'
        b'"ref":"docker.io/library/alpine:3.20"}}'
    )


def test_exec_op_digest_is_pinned() -> None:
    assert ALPINE.digest == (
        "sha256:ad011c836a5ae9009c2098d72d846f7261b4c88d3d68ec71bc86750bc9470674"
    )
    assert _make_op().digest == (
        "sha256:6d8590ca10b31f251af1f4f879702423b2d3ad386247cfb8bf15c48ca6e5c488"
    )


def test_equal_ops_have_equal_digests() -> None:
    assert _make_op().digest == _make_op().digest


def test_digest_covers_input_digests() -> None:
    other = SourceOp(ImageSource("docker.io/library/alpine:3.21"))
    assert _make_op(other).digest != _make_op().digest


@pytest.mark.parametrize(
    "change",
    [
        {"network": NetworkMode.NONE},
        {"meta": ExecMeta(("sh", "-c", "make"), cwd="/")},
        {"meta": ExecMeta(("sh", "-c", "make"), cwd="/src", env=("A=1",))},
    ],
)
def test_every_field_is_part_of_the_digest(change: dict[str, object]) -> None:
    op = _make_op()
    assert dataclasses.replace(op, **change).digest != op.digest  # type: ignore[arg-type]


def test_op_kinds_with_same_fields_do_not_collide() -> None:
    inp = Input(ALPINE.digest)
    assert MergeOp((inp,)).digest != FileOp(inp, ()).digest


def test_ops_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ALPINE.source = LocalSource()  # type: ignore[misc]


def test_inputs_list_each_consumed_output_once() -> None:
    ctx = SourceOp(LocalSource())
    base = Input(ALPINE.digest)
    file_op = FileOp(base, (Copy(Input(ctx.digest), "a", "/a"), Copy(Input(ctx.digest), "b", "/b")))
    assert file_op.inputs == (base, Input(ctx.digest))
    exec_op = ExecOp(
        ExecMeta(("true",)),
        (Mount("/", source=base), Mount("/tmp", type=MountType.TMPFS)),
    )
    assert exec_op.inputs == (base,)
    assert SourceOp(LocalSource()).inputs == ()
    assert FileOp(None, (Mkdir("/x"),)).inputs == ()
