"""Definition and DefinitionBuilder: dedupe, pruning, metadata outside digests,
and the JSON wire form round trip."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from solver.definition import Definition, DefinitionBuilder, DefinitionError, OpMetadata
from solver.ops import (
    CacheSharing,
    ChownOpt,
    Copy,
    ExecMeta,
    ExecOp,
    FileOp,
    GitSource,
    HTTPSource,
    ImageSource,
    Input,
    LocalSource,
    MergeOp,
    Mkdir,
    Mkfile,
    Mount,
    MountType,
    NetworkMode,
    Rm,
    SecurityMode,
    SourceOp,
    Symlink,
)
from solver.source import Span

SPAN = Span("Dockerfile", 3, 1, 3, 20)


def _rich_definition() -> Definition:
    """Every op kind and most field types, so the round trip exercises them all."""
    b = DefinitionBuilder()
    img = b.add(
        SourceOp(ImageSource("docker.io/library/alpine:3.20", "linux/amd64")),
        OpMetadata("[base 1/4] FROM alpine", (SPAN,), "base"),
    )
    ctx = b.add(SourceOp(LocalSource("context", ("src",), ("*.md",))))
    git = b.add(SourceOp(GitSource("https://example.com/r.git", "main", "sub", True, "abc")))
    http = b.add(SourceOp(HTTPSource("https://example.com/f", "sha256:" + "0" * 64, "f", 0o600)))
    files = b.add(
        FileOp(
            img,
            (
                Copy(
                    ctx,
                    "src",
                    "/app",
                    chown=ChownOpt("app", "staff"),
                    chmod="755",
                    exclude=("*.tmp",),
                    link=True,
                ),
                Copy(git, "/", "/git"),
                Copy(http, "f", "/f"),
                Mkdir("/d", 0o700, chown=ChownOpt("1000")),
                Mkfile("/etc/x", b"\x00\xffdata", 0o600),
                Rm("/tmp/*", allow_wildcard=True),
                Symlink("/app", "/current"),
            ),
        ),
        OpMetadata("[base 2/4] COPY src /app", (SPAN,), "base", ignore_cache=True),
    )
    run = b.add(
        ExecOp(
            ExecMeta(("sh", "-c", "make"), ("A=1",), "/app", "app", "h", ("db:10.0.0.2",)),
            (
                Mount("/", source=files, output=True),
                Mount(
                    "/root/.cache",
                    MountType.CACHE,
                    cache_id="c",
                    sharing=CacheSharing.LOCKED,
                    mode=0o755,
                    uid=0,
                    gid=0,
                ),
                Mount("/run/secrets/s", MountType.SECRET, secret_id="s", required=True),
                Mount("/tmp", MountType.TMPFS, size=1 << 20),
            ),
            NetworkMode.NONE,
            SecurityMode.INSECURE,
        )
    )
    merged = b.add(MergeOp((run, Input(files.digest, 0))))
    return b.build(merged)


def _wire(definition: Definition) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(definition.to_json()))
    return doc


def test_json_round_trip_preserves_ops_digests_and_metadata() -> None:
    d = _rich_definition()
    back = Definition.from_json(_wire(d))
    assert back == d
    assert list(back.ops) == list(d.ops)
    assert all(op.digest == digest for digest, op in back.ops.items())
    assert back.metadata == d.metadata
    assert back.output == d.output


def test_json_is_deterministic() -> None:
    a = json.dumps(_rich_definition().to_json(), sort_keys=True)
    b = json.dumps(_rich_definition().to_json(), sort_keys=True)
    assert a == b


def test_from_json_rejects_an_op_that_does_not_hash_to_its_digest() -> None:
    doc = _wire(_rich_definition())
    doc["ops"][0]["op"]["source"]["ref"] = "docker.io/library/evil:latest"
    with pytest.raises(DefinitionError, match=r"ops\[0\]: op hashes to"):
        Definition.from_json(doc)


def test_from_json_rejects_inputs_defined_after_their_user() -> None:
    doc = _wire(_rich_definition())
    doc["ops"].reverse()
    with pytest.raises(DefinitionError, match="not defined before it"):
        Definition.from_json(doc)


def test_from_json_rejects_unknown_op_types() -> None:
    doc = _wire(_rich_definition())
    doc["ops"][0]["op"]["@type"] = "os.system"
    with pytest.raises(DefinitionError, match="is not one of"):
        Definition.from_json(doc)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("ops", 0, "op", "source", "ref"), 5, "expected str, got int"),
        (("ops", 0, "op", "source", "extra"), "x", "unknown field"),
        (("ops", 0, "digest"), "sha256:zz", "invalid digest"),
        (("ops", 0, "metadata", "spans"), [{"file": "D"}], "expected int"),
        (("output", "index"), True, "expected int, got bool"),
        (("version",), 2, "unsupported version"),
    ],
)
def test_from_json_rejects_malformed_documents(
    path: tuple[Any, ...], value: object, message: str
) -> None:
    doc = _wire(_rich_definition())
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(DefinitionError, match=message):
        Definition.from_json(doc)


def test_from_json_rejects_an_output_that_names_no_op() -> None:
    doc = _wire(_rich_definition())
    doc["output"]["digest"] = "sha256:" + "1" * 64
    with pytest.raises(DefinitionError, match="definition.output: no op"):
        Definition.from_json(doc)


def test_from_json_rejects_bad_enum_values() -> None:
    doc = _wire(_rich_definition())
    exec_entry = next(e for e in doc["ops"] if e["op"]["@type"] == "ExecOp")
    bad = copy.deepcopy(exec_entry)
    bad["op"]["network"] = "bridge"
    doc["ops"][doc["ops"].index(exec_entry)] = bad
    with pytest.raises(DefinitionError, match="'bridge' is not a NetworkMode"):
        Definition.from_json(doc)


def test_from_json_rejects_non_objects() -> None:
    with pytest.raises(DefinitionError, match="expected dict"):
        Definition.from_json([])


def test_metadata_is_not_part_of_any_digest() -> None:
    op = SourceOp(ImageSource("docker.io/library/alpine:3.20"))
    a = DefinitionBuilder()
    b = DefinitionBuilder()
    ia = a.add(op, OpMetadata("FROM alpine", (SPAN,), "one"))
    ib = b.add(op, OpMetadata("renamed", (Span("Other", 9, 1, 9, 2),), "two"))
    assert ia == ib
    assert list(a.build(ia).ops) == list(b.build(ib).ops)


def test_builder_stores_an_op_added_twice_once_and_merges_spans() -> None:
    b = DefinitionBuilder()
    op = SourceOp(LocalSource())
    other = Span("Dockerfile", 7, 1, 7, 5)
    first = b.add(op, OpMetadata("ctx", (SPAN,)))
    second = b.add(op, OpMetadata("ignored", (other, SPAN)))
    assert first == second
    assert len(b.ops) == 1
    assert b.metadata[op.digest].name == "ctx"
    assert b.metadata[op.digest].spans == (SPAN, other)


def test_builder_requires_inputs_first() -> None:
    b = DefinitionBuilder()
    missing = Input(SourceOp(LocalSource()).digest)
    with pytest.raises(ValueError, match="was not added first"):
        b.add(FileOp(missing, ()))


def test_build_prunes_ops_the_output_does_not_need() -> None:
    b = DefinitionBuilder()
    img = b.add(SourceOp(ImageSource("docker.io/library/alpine:3.20")))
    unused = b.add(SourceOp(ImageSource("docker.io/library/busybox:latest")))
    out = b.add(FileOp(img, (Mkdir("/x"),)))
    d = b.build(out)
    assert set(d.ops) == {img.digest, out.digest}
    assert unused.digest not in d.metadata
    assert d.output == out
    assert set(b.build(None).ops) == {img.digest, unused.digest, out.digest}
