"""LocalWorker: ops on overlay snapshots of the busybox image, results loaded back."""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builder.content.store import ContentStore
from builder.images.store import ImageStore
from builder.layers import open_decompressed
from builder.root import Root
from builder.snapshots.store import SnapshotStore
from builder.worker.copy_paths import SourceTree
from builder.worker.errors import FileOpError
from builder.worker.local import LocalHasher, LocalWorker, WorkerOptions
from builder.worker.refs import DirRef, SnapshotRef, Stores
from solver.digest import Digest
from solver.errors import OpFailed
from solver.ops import (
    Copy,
    ExecMeta,
    ExecOp,
    FileOp,
    ImageSource,
    Input,
    LocalSource,
    Mkfile,
    Mount,
    Rm,
    SourceOp,
)
from solver.progress import LogStream, VertexLog
from solver.worker import RunContext

pytestmark = pytest.mark.privileged

BUSYBOX = ImageSource("docker.io/library/busybox:latest", "linux/amd64")


class Env:
    """A worker over a private root holding busybox, and a log of what steps printed."""

    def __init__(self, root: Root, context: Path) -> None:
        content = ContentStore(root)
        self.stores = Stores(root, content, SnapshotStore(root, content))
        self.worker = LocalWorker(self.stores, ImageStore(root, content),
                                  WorkerOptions({"context": SourceTree(context, None, True)}))
        self.logs: list[bytes] = []

    def ctx(self) -> RunContext:
        def emit(event: object) -> None:
            if isinstance(event, VertexLog) and event.stream is LogStream.STDOUT:
                self.logs.append(event.data)
        return RunContext(Digest.from_hex("0" * 64), "test", "", emit)

    def run(self, op: Any, *inputs: Any) -> Any:
        return self.worker.run(op, inputs, self.ctx())[0]

    def busybox(self) -> SnapshotRef:
        ref = self.run(SourceOp(BUSYBOX))
        assert isinstance(ref, SnapshotRef)
        return ref


@pytest.fixture
def env(busybox_root: Path, tmp_path: Path) -> Iterator[Env]:
    path = tmp_path / "root"
    shutil.copytree(busybox_root, path, ignore=shutil.ignore_patterns("tmp", "locks"))
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "hello.txt").write_text("hello\n")
    with Root.open(path) as root:
        yield Env(root, context)


def _layer_names(env: Env, ref: SnapshotRef) -> list[str]:
    blob = env.stores.content.path(ref.layers[-1].blob)
    with blob.open("rb") as raw, tarfile.open(fileobj=open_decompressed(raw), mode="r|") as tar:
        return sorted(m.name.rstrip("/") for m in tar)


def _input(n: int) -> Input:
    return Input(Digest.from_hex(f"{n:064x}"))


def test_image_source_unpacks_the_chain_and_loads_back_from_its_id(env: Env) -> None:
    ref = env.busybox()
    assert len(ref.layers) == 1 and ref.diff_dirs(env.stores.snapshots)[0].is_dir()
    loaded = env.worker.load([ref.describe()], env.ctx())
    assert loaded is not None and loaded[0] == ref


def test_load_says_none_when_a_snapshot_is_gone(env: Env) -> None:
    ref = env.busybox()
    base = _input(1)
    op = FileOp(base, (Mkfile("/x", b"x"),))
    top = env.run(op, ref)
    env.stores.snapshots.remove(top.layers[-1].chain_id.hex)
    assert env.worker.load([top.describe()], env.ctx()) is None


def test_file_op_layer_holds_new_files_and_whiteouts_only(env: Env) -> None:
    base = env.busybox()
    op = FileOp(_input(1), (Mkfile("/new.txt", b"data"), Rm("/etc/group")))
    ref = env.run(op, base)
    assert len(ref.layers) == 2
    assert _layer_names(env, ref) == ["etc", "etc/.wh.group", "new.txt"]


def test_copy_from_the_context_and_from_a_snapshot(env: Env) -> None:
    base = env.busybox()
    ctx_ref = env.run(SourceOp(LocalSource("context")))
    assert isinstance(ctx_ref, DirRef)
    op = FileOp(_input(1), (Copy(_input(2), "hello.txt", "/app/"),
                            Copy(_input(1), "/etc/passwd", "/app/passwd")))
    ref = env.run(op, base, ctx_ref)
    assert _layer_names(env, ref) == ["app", "app/hello.txt", "app/passwd"]


def test_missing_copy_source_is_a_file_op_error(env: Env) -> None:
    ctx_ref = env.run(SourceOp(LocalSource("context")))
    op = FileOp(None, (Copy(_input(2), "nope.txt", "/"),))
    with pytest.raises(FileOpError):
        env.worker.run(op, [ctx_ref], env.ctx())


def test_exec_commits_its_changes_and_streams_output(env: Env) -> None:
    base = env.busybox()
    op = ExecOp(ExecMeta(("sh", "-c", "echo out; echo $PATH > /path.txt"), ()),
                (Mount("/", source=_input(1), output=True),))
    ref = env.run(op, base)
    assert _layer_names(env, ref) == ["path.txt"]
    assert b"".join(env.logs) == b"out\n"
    merged = env.stores.snapshots.path(ref.layers[-1].chain_id) / "path.txt"
    assert merged.read_text() == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"


def test_exec_failure_raises_op_failed_with_the_exit_code(env: Env) -> None:
    op = ExecOp(ExecMeta(("sh", "-c", "exit 7"), ("PATH=/bin",)),
                (Mount("/", source=_input(1), output=True),))
    with pytest.raises(OpFailed) as caught:
        env.run(op, env.busybox())
    assert caught.value.exit_status == 7 and "exit code: 7" in str(caught.value)


def test_exec_sees_a_bind_mount_of_another_snapshot_read_only(env: Env) -> None:
    base = env.busybox()
    other = env.run(FileOp(None, (Mkfile("/data.txt", b"shared"),)))
    op = ExecOp(ExecMeta(("sh", "-c", "cat /mnt/data.txt > /seen; touch /mnt/x || echo ro"),
                         ("PATH=/bin",)),
                (Mount("/", source=_input(1), output=True),
                 Mount("/mnt", source=_input(2), readonly=True)))
    ref = env.run(op, base, other)
    assert _layer_names(env, ref) == ["mnt", "seen"] or _layer_names(env, ref) == ["seen"]
    assert b"".join(env.logs) == b"ro\n"


def test_hasher_checksums_what_a_copy_reads_from_the_context(env: Env, tmp_path: Path) -> None:
    ctx_ref = env.run(SourceOp(LocalSource("context")))
    op = FileOp(None, (Copy(_input(2), "hello.txt", "/"),))
    hasher = LocalHasher(env.worker)
    first = hasher.checksum(op, _input(2), ctx_ref, env.ctx())
    (tmp_path / "ctx" / "other.txt").write_text("unrelated")
    assert hasher.checksum(op, _input(2), ctx_ref, env.ctx()) == first
    (tmp_path / "ctx" / "hello.txt").write_text("changed")
    assert hasher.checksum(op, _input(2), ctx_ref, env.ctx()) != first
