"""Shared fixtures: a deterministic busybox rootfs tarball, an in-process ``pybuild``
runner with a private ``--root``, and an image store holding ``busybox:latest``."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

REPO = Path(__file__).resolve().parent.parent
TESTDATA = REPO / "testdata"
BUSYBOX = "/bin/busybox"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``privileged`` need root (namespaces, overlayfs, mknod): skip them,
    with the reason, when the suite runs as another user."""
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (namespaces, overlayfs, mknod, netlink)")
    for item in items:
        if "privileged" in item.keywords:
            item.add_marker(skip)


def _rootfs_module() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_busybox_rootfs", TESTDATA / "make_busybox_rootfs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def busybox_rootfs_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deterministic busybox rootfs tar (mtimes 0) made from /bin/busybox."""
    if not os.access(BUSYBOX, os.X_OK):
        pytest.skip("needs /bin/busybox (apt-get install busybox-static)")
    out = tmp_path_factory.mktemp("rootfs") / "busybox-rootfs.tar"
    _rootfs_module().write_rootfs(str(out), BUSYBOX, 0)
    return out


@dataclass(frozen=True)
class Result:
    """What one ``pybuild`` run gave."""

    code: int
    stdout: bytes
    stderr: str

    @property
    def out(self) -> str:
        return self.stdout.decode()


@dataclass(frozen=True)
class Pybuild:
    """Runs ``pybuild --root ROOT …`` in-process (or as a subprocess with ``spawn``)."""

    root: Path

    def __call__(self, *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
                 ) -> Result:
        from builder.cli.main import main

        out, err = io.BytesIO(), io.BytesIO()
        fake_out = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        fake_err = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
        fake_in = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
        saved = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            # fsync is for crashes; the in-process runs test behaviour, and the crash tests
            # (real subprocesses) keep it. Without this, fsync latency dominates the suite.
            with contextlib.redirect_stdout(fake_out), contextlib.redirect_stderr(fake_err), \
                    mock.patch("os.fsync"):
                old_in, sys.stdin = sys.stdin, fake_in
                try:
                    code = main(["--root", str(self.root), *args])
                finally:
                    sys.stdin = old_in
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return Result(code, out.getvalue(), err.getvalue().decode())

    def at(self, root: Path) -> Pybuild:
        """A runner for another root (test modules cannot import this class)."""
        return Pybuild(root)

    def ok(self, *args: str, stdin: bytes = b"") -> Result:
        result = self(*args, stdin=stdin)
        assert result.code == 0, result.stderr
        return result

    def spawn(self, args: Sequence[str], **kwargs: object) -> subprocess.Popen[bytes]:
        """Start ``pybuild`` as a real process (for kill and concurrency tests)."""
        env = dict(os.environ, PYTHONPATH=str(REPO))
        return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
            [sys.executable, "-m", "builder.cli.main", "--root", str(self.root), *args],
            env=env, **kwargs)


@pytest.fixture
def pybuild(tmp_path: Path) -> Pybuild:
    """A ``pybuild`` runner with a fresh, private root directory."""
    return Pybuild(tmp_path / "root")


@pytest.fixture(scope="session")
def busybox_root(tmp_path_factory: pytest.TempPathFactory, busybox_rootfs_tar: Path) -> Path:
    """A root holding ``busybox:latest`` (made once per worker; copy it, do not change it)."""
    runner = Pybuild(tmp_path_factory.mktemp("busybox-root") / "root")
    result = runner("import", str(busybox_rootfs_tar), "busybox:latest",
                    "--change", 'CMD ["sh"]', "--change", "ENV PATH=/bin:/usr/bin",
                    env={"SOURCE_DATE_EPOCH": "0"})
    assert result.code == 0, result.stderr
    return runner.root


@pytest.fixture
def busybox_image(pybuild: Pybuild, busybox_root: Path) -> Pybuild:
    """``pybuild`` whose private root holds ``busybox:latest`` imported from the rootfs tar."""
    shutil.copytree(busybox_root, pybuild.root, symlinks=True,
                    ignore=shutil.ignore_patterns("tmp", "locks"))
    return pybuild
