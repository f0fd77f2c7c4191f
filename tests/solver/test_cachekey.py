"""Cache keys: what is keyed and what is not, content inputs, volatility, explain."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from solver.cachekey import (
    ExplainRecord,
    FileStat,
    KeyInput,
    content_inputs,
    explain,
    is_volatile,
    manifest_for,
    name_keys,
)
from solver.definition import DefinitionBuilder, OpMetadata
from solver.digest import Digest, sha256_bytes
from solver.ops import (
    Copy,
    ExecMeta,
    ExecOp,
    FileOp,
    GitSource,
    HTTPSource,
    ImageSource,
    Input,
    LocalSource,
    Mount,
    MountType,
    Op,
    SourceOp,
)
from solver.progress import MissKind
from solver.worker import ContentChecksum, FileDigest

TESTDATA = Path(__file__).resolve().parents[2] / "testdata" / "solver"

A = Input(sha256_bytes(b"op a"))
B = Input(sha256_bytes(b"op b"))
KEY1, KEY2 = sha256_bytes(b"key 1"), sha256_bytes(b"key 2")


def _run(base: Input, *args: str, mounts: tuple[Mount, ...] = ()) -> ExecOp:
    return ExecOp(ExecMeta(args), (Mount("/", source=base, output=True), *mounts))


def _key(op: Op, keys: dict[Input, Digest]) -> Digest:
    return manifest_for(op, {i: KeyInput(keys[i]) for i in op.inputs}).key.digest


def test_key_depends_on_input_keys_not_input_op_digests() -> None:
    # two different upstream ops that produced the same cache key → same key
    assert _key(_run(A, "make"), {A: KEY1}) == _key(_run(B, "make"), {B: KEY1})
    assert _key(_run(A, "make"), {A: KEY1}) != _key(_run(A, "make"), {A: KEY2})


def test_key_covers_the_command() -> None:
    assert _key(_run(A, "make"), {A: KEY1}) != _key(_run(A, "make", "all"), {A: KEY1})


def test_cache_mount_id_is_not_keyed_but_its_target_is() -> None:
    def with_cache(cache_id: str, target: str) -> Digest:
        mount = Mount(target, MountType.CACHE, cache_id=cache_id)
        return _key(_run(A, "make", mounts=(mount,)), {A: KEY1})

    assert with_cache("one", "/root/.cache") == with_cache("two", "/root/.cache")
    assert with_cache("one", "/root/.cache") != with_cache("one", "/var/cache")


def test_input_positions_matter() -> None:
    copy_ab = FileOp(A, (Copy(B, "x", "/"),))
    copy_ba = FileOp(B, (Copy(A, "x", "/"),))
    keys = {A: KEY1, B: KEY2}
    assert _key(copy_ab, keys) != _key(copy_ba, keys)


def test_content_key_changes_with_content_only() -> None:
    op = FileOp(A, (Copy(B, "app.py", "/app/"),))

    def keyed(content: bytes, name: str) -> Digest:
        checksum = ContentChecksum(sha256_bytes(content))
        return manifest_for(op, {A: KeyInput(KEY1), B: KeyInput.of_content(checksum, name)}
                            ).key.digest

    assert keyed(b"v1", "context") == keyed(b"v1", "a different display name")
    assert keyed(b"v1", "context") != keyed(b"v2", "context")


def test_content_and_identity_keys_of_the_same_digest_differ() -> None:
    op = FileOp(A, (Copy(B, "app.py", "/app/"),))
    by_key = manifest_for(op, {A: KeyInput(KEY1), B: KeyInput(KEY2)}).key
    by_content = manifest_for(op, {A: KeyInput(KEY1), B: KeyInput(KEY2, content=True)}).key
    assert by_key != by_content


def test_manifest_needs_every_input() -> None:
    with pytest.raises(KeyError):
        manifest_for(FileOp(A, (Copy(B, "x", "/"),)), {A: KeyInput(KEY1)})


@pytest.mark.parametrize(
    ("op", "volatile"),
    [
        (SourceOp(LocalSource()), True),
        (SourceOp(LocalSource("assets")), True),
        (SourceOp(HTTPSource("https://example.com/x.tgz")), True),
        (SourceOp(HTTPSource("https://example.com/x.tgz", checksum="sha256:" + "a" * 64)), False),
        (SourceOp(GitSource("https://example.com/r.git", ref="main")), True),
        (SourceOp(GitSource("https://example.com/r.git", ref="a" * 40)), False),
        (SourceOp(ImageSource("docker.io/library/alpine@sha256:" + "b" * 64)), False),
        (_run(A, "make"), False),
    ],
    ids=["context", "named-context", "http", "http-checksum", "git-branch", "git-commit",
         "image", "exec"],
)
def test_volatile_sources_are_those_whose_digest_does_not_pin_content(
    op: Op, volatile: bool
) -> None:
    assert is_volatile(op) is volatile


def test_content_inputs_are_copy_sources_and_volatile_producers() -> None:
    copy = FileOp(A, (Copy(B, "x", "/"),))
    assert content_inputs(copy, frozenset()) == (B,)
    bind = _run(A, "make", mounts=(Mount("/src", source=B),))
    assert content_inputs(bind, frozenset()) == ()
    assert content_inputs(bind, frozenset({B.digest})) == (B,)


def test_name_keys_survive_a_changed_command_but_not_a_moved_step() -> None:
    def keys(command: str, extra_first: bool) -> list[Digest]:
        b = DefinitionBuilder()
        head = b.add(SourceOp(ImageSource("x@sha256:" + "c" * 64)), OpMetadata("FROM", stage="s"))
        if extra_first:
            head = b.add(_run(head, "true"), OpMetadata("RUN true", stage="s"))
        head = b.add(_run(head, command), OpMetadata(f"RUN {command}", stage="s"))
        definition = b.build(head)
        return list(name_keys(definition).values())

    assert keys("make", False) == keys("make install", False)
    assert keys("make", False)[1] != keys("make", True)[2]


def _explain_record(spec: dict[str, Any]) -> ExplainRecord:
    meta = ExecMeta(tuple(spec["args"]), tuple(spec.get("env", ())), spec.get("cwd", "/"),
                    spec.get("user", ""))
    op = ExecOp(meta, (Mount("/", source=A, output=True),))
    upstream = sha256_bytes(spec.get("input", "a").encode())
    return manifest_for(op, {A: KeyInput(upstream, name="[build 2/3] RUN apt-get install")}
                        ).explain_record()


def _explain_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((TESTDATA / "explain.json").read_text())["cases"]
    return cases


@pytest.mark.parametrize("case", _explain_cases(), ids=lambda c: c["name"])
def test_explain_names_what_changed(case: dict[str, Any]) -> None:
    causes = explain(_explain_record(case["old"]), _explain_record(case["new"]))
    assert [[c.kind.value, c.subject] for c in causes] == case["expect"]


def test_explain_reports_values_of_a_changed_variable() -> None:
    old = _explain_record({"args": ["make"], "env": ["V=1"]})
    new = _explain_record({"args": ["make"], "env": ["V=2"]})
    (cause,) = explain(old, new)
    assert str(cause) == 'env V: "1" -> "2"'


def test_explain_without_history_says_new_and_same_key_says_evicted() -> None:
    record = _explain_record({"args": ["make"]})
    assert [c.kind for c in explain(None, record)] == [MissKind.NEW]
    assert [c.kind for c in explain(record, record)] == [MissKind.EVICTED]


def test_explain_lists_added_removed_and_changed_files() -> None:
    op = FileOp(A, (Copy(B, ".", "/app/"),))

    def record(files: dict[str, bytes]) -> ExplainRecord:
        entries = tuple(FileDigest(p, sha256_bytes(d)) for p, d in sorted(files.items()))
        checksum = ContentChecksum(sha256_bytes(repr(files).encode()), entries)
        parts = {A: KeyInput(KEY1), B: KeyInput.of_content(checksum, "context")}
        return manifest_for(op, parts).explain_record()

    old = record({"a.py": b"1", "b.py": b"2", "c.py": b"3"})
    new = record({"a.py": b"1", "b.py": b"changed", "d.py": b"4"})
    assert [(c.kind, c.subject, c.detail) for c in explain(old, new)] == [
        (MissKind.FILE, "b.py", "changed"),
        (MissKind.FILE, "c.py", "removed"),
        (MissKind.FILE, "d.py", "added"),
    ]


def test_explain_record_round_trips_through_json() -> None:
    record = _explain_record({"args": ["make"], "env": ["A=1"], "input": "z"})
    doc = json.loads(json.dumps(record.to_json()))
    assert ExplainRecord.from_json(doc) == record


@pytest.mark.parametrize("doc", [{}, {"key": "nope", "fields": [], "inputs": []},
                                 {"key": "sha256:" + "0" * 64, "fields": 3, "inputs": []}])
def test_malformed_explain_record_is_a_value_error(doc: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ExplainRecord.from_json(doc)


def test_file_stat_changes_when_a_file_is_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"one")
    before = FileStat.from_stat(os.stat(path))
    os.utime(path, ns=(1, 1))
    path.write_bytes(b"two")
    after = FileStat.from_stat(os.stat(path))
    assert before != after and before.inode == after.inode
