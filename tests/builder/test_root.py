"""The root directory: layout, staging sweep after crashes, file locks."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from builder.errors import StoreError, UsageError
from builder.root import Root, default_root_path, sweep_staging

REPO = Path(__file__).resolve().parents[2]


def test_open_creates_the_layout(tmp_path: Path) -> None:
    with Root.open(tmp_path / "r") as root:
        for sub in ("blobs/sha256", "snapshots", "cache", "refs", "tmp", "locks"):
            assert (tmp_path / "r" / sub).is_dir()
        assert root.blobs == tmp_path / "r" / "blobs" / "sha256"
        assert root.tmp.parent == tmp_path / "r" / "tmp" and root.tmp.is_dir()


def test_open_accepts_a_string_and_reopens(tmp_path: Path) -> None:
    with Root.open(str(tmp_path)) as a, Root.open(tmp_path) as b:
        assert a.path == b.path and a.tmp != b.tmp


def test_default_root_comes_from_environment(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("PYBUILD_ROOT", str(tmp_path / "env"))
    assert default_root_path() == tmp_path / "env"
    with Root.open(None) as root:
        assert root.path == tmp_path / "env"


def test_default_root_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYBUILD_ROOT", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert default_root_path() == Path("/var/lib/pybuild")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("HOME", "/home/u")
    assert default_root_path() == Path("/home/u/.local/share/pybuild")


def test_root_that_is_a_file_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a directory") as info:
        Root.open(tmp_path / "file")
    assert info.value.hint and "--root" in info.value.hint


def test_close_removes_the_staging_directory(tmp_path: Path) -> None:
    root = Root.open(tmp_path)
    (root.tmp / "junk").write_text("x")
    root.close()
    root.close()  # idempotent
    assert os.listdir(tmp_path / "tmp") == []


def test_tempfile_is_removed_unless_renamed(tmp_path: Path) -> None:
    with Root.open(tmp_path) as root:
        with root.tempfile(prefix="a-") as path:
            assert path.parent == root.tmp and path.exists() and path.name.startswith("a-")
        assert not path.exists()
        with root.tempfile() as path:
            path.write_text("kept")
            os.replace(path, root.refs / "kept")
        assert (root.refs / "kept").read_text() == "kept"


def test_tempdir_is_removed_with_its_contents(tmp_path: Path) -> None:
    with Root.open(tmp_path) as root:
        with root.tempdir() as d:
            (d / "sub").mkdir()
            (d / "sub" / "f").write_text("x")
        assert not d.exists()


def test_tempfile_on_a_closed_root_is_refused(tmp_path: Path) -> None:
    root = Root.open(tmp_path)
    root.close()
    with pytest.raises(StoreError, match="closed"), root.tempfile():
        pass


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden"])
def test_lock_names_must_be_plain(tmp_path: Path, name: str) -> None:
    with Root.open(tmp_path) as root, pytest.raises(UsageError), root.lock(name):
        pass


def test_exclusive_lock_excludes_other_threads(tmp_path: Path) -> None:
    with Root.open(tmp_path) as root:
        order: list[str] = []

        def other() -> None:
            with root.lock("x"):
                order.append("other")

        with root.lock("x"):
            t = threading.Thread(target=other)
            t.start()
            time.sleep(0.1)
            order.append("first")
        t.join()
        assert order == ["first", "other"]


def test_shared_locks_coexist(tmp_path: Path) -> None:
    with Root.open(tmp_path) as root, root.lock("s", shared=True):
        got = threading.Event()

        def reader() -> None:
            with root.lock("s", shared=True):
                got.set()

        t = threading.Thread(target=reader)
        t.start()
        assert got.wait(2)
        t.join()


def _hold_lock(path: str, ready: multiprocessing.synchronize.Event,
               release: multiprocessing.synchronize.Event) -> None:
    with Root.open(path) as root, root.lock("cross"):
        ready.set()
        release.wait(10)


def test_lock_works_across_processes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    proc.start()
    try:
        assert ready.wait(20)
        with Root.open(tmp_path) as root:
            got = threading.Event()

            def take() -> None:
                with root.lock("cross"):
                    got.set()

            t = threading.Thread(target=take)
            t.start()
            assert not got.wait(0.3)  # held by the other process
            release.set()
            assert got.wait(10)
            t.join()
    finally:
        release.set()
        proc.join(10)


_HOLDER = """
import sys
from builder.root import Root
root = Root.open(sys.argv[1])
(root.tmp / "work").write_text("in progress")
print(root.tmp, flush=True)
sys.stdin.read()
"""


def test_sweep_removes_only_dead_processes_staging(tmp_path: Path) -> None:
    procs = []
    for _ in range(2):
        proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        assert proc.stdout is not None
        procs.append((proc, Path(proc.stdout.readline().strip())))
    (dead, dead_dir), (alive, alive_dir) = procs
    try:
        dead.send_signal(signal.SIGKILL)
        dead.wait()
        assert dead_dir.exists()
        with Root.open(tmp_path):
            assert not dead_dir.exists()
            assert not Path(f"{dead_dir}.lock").exists()
            assert (alive_dir / "work").read_text() == "in progress"
    finally:
        for proc, _ in procs:
            proc.kill()
            proc.wait()
            proc.stdin.close()  # type: ignore[union-attr]
            proc.stdout.close()  # type: ignore[union-attr]


def test_sweep_removes_debris(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    (tmp / "p1-0123456789abcdef").mkdir()  # directory whose lock file is gone
    (tmp / "stray-file").write_text("x")
    old = tmp / ".new-p1-0000000000000000"
    old.write_text("")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    fresh = tmp / ".new-p2-0000000000000000"
    fresh.write_text("")  # may belong to a process opening the root right now
    removed = sweep_staging(tmp)
    assert sorted(os.listdir(tmp)) == [fresh.name]
    assert len(removed) == 3


def _fork_child_exits(root: Root) -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        root.close()
        os._exit(0)
    os.waitpid(pid, 0)


def test_forked_child_does_not_remove_parent_staging(tmp_path: Path) -> None:
    with Root.open(tmp_path) as root:
        _fork_child_exits(root)
        assert root.tmp.is_dir()
        with Root.open(tmp_path):  # the parent still holds its lock
            assert root.tmp.is_dir()
