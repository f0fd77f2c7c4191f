"""The pybuild root directory: its layout, per-process staging area and file locks.

May import: stdlib, builder.errors.

Layout (DESIGN.md)::

    blobs/sha256/<hex>   content store
    snapshots/<id>/      unpacked layers and step upperdirs
    cache/               cache index
    refs/                image names → manifest digests
    tmp/                 staging; <token>.lock + <token>/ per live process
    locks/               named flock files (``Root.lock``)

Crash safety: every process that opens the root gets a private staging directory
``tmp/<token>/`` guarded by an exclusive ``flock`` on ``tmp/<token>.lock``. The
kernel drops the lock when the process dies, however it dies (SIGKILL included),
so the next ``Root.open`` sweeps exactly the staging directories whose owner is
gone and never touches a live process's files. Work becomes visible only by a
``rename`` out of tmp/ into its final place.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from builder.errors import StoreError, UsageError

__all__ = ["Root", "default_root_path", "fsync_dir", "sweep_staging"]

_LOCK_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_TOKEN_RE = re.compile(r"^p\d+-[0-9a-f]{16}$")
# a half-created lock file (see _claim_staging) older than this is debris
_DEBRIS_AGE_SECONDS = 60.0


def default_root_path() -> Path:
    """``$PYBUILD_ROOT``, else ``/var/lib/pybuild`` as root, else ``~/.local/share/pybuild``."""
    env = os.environ.get("PYBUILD_ROOT")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/pybuild")
    return Path.home() / ".local" / "share" / "pybuild"


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (after a rename or unlink in it) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _release_staging(fd: int, staging: Path, lock_path: Path, owner: int) -> None:
    """Remove this process's staging area and drop its lock (finalizer; never raises).

    In a forked child (``owner`` is the parent's pid) only the descriptor is closed:
    the parent still owns the staging directory and holds the lock.
    """
    if os.getpid() == owner:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
    with contextlib.suppress(OSError):
        os.close(fd)


@dataclass(eq=False)
class Root:
    """An opened root directory. Create with ``Root.open``; ``close()`` when done
    (or use it as a context manager). Forgetting to close is safe: the staging
    directory is swept by the next ``open`` once this process has exited.

    Attributes:
        path: the root directory itself.
        blobs: ``blobs/sha256``.
        snapshots: ``snapshots``.
        cache: ``cache``.
        refs: ``refs``.
        tmp: this process's private staging directory ``tmp/<token>/`` (same
            filesystem as everything else, so ``os.replace`` out of it is atomic).
        locks: ``locks``.
    """

    path: Path
    blobs: Path
    snapshots: Path
    cache: Path
    refs: Path
    tmp: Path
    locks: Path
    _finalizer: weakref.finalize[..., Root] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, path: str | Path | None = None) -> Root:
        """Open (creating if needed) a root directory and sweep dead processes' staging.

        Args:
            path: the root; ``None`` means ``default_root_path()``.

        Raises:
            StoreError: the directory cannot be created or is not a directory.
        """
        base = Path(path) if path is not None else default_root_path()
        base = base.expanduser().absolute()
        dirs = {
            "blobs": base / "blobs" / "sha256",
            "snapshots": base / "snapshots",
            "cache": base / "cache",
            "refs": base / "refs",
            "tmp_all": base / "tmp",
            "locks": base / "locks",
        }
        try:
            for d in dirs.values():
                d.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise StoreError(
                f"cannot use {base} as pybuild root: {exc.filename} is not a directory",
                hint="pass --root DIR or set PYBUILD_ROOT to a directory",
            ) from exc
        except PermissionError as exc:
            raise StoreError(
                f"cannot create pybuild root {base}: permission denied",
                hint="pass --root DIR or set PYBUILD_ROOT to a writable directory",
            ) from exc
        except OSError as exc:
            raise StoreError(f"cannot create pybuild root {base}: {exc.strerror}") from exc
        sweep_staging(dirs["tmp_all"])
        fd, staging, lock_path = _claim_staging(dirs["tmp_all"])
        root = cls(
            path=base,
            blobs=dirs["blobs"],
            snapshots=dirs["snapshots"],
            cache=dirs["cache"],
            refs=dirs["refs"],
            tmp=staging,
            locks=dirs["locks"],
        )
        root._finalizer = weakref.finalize(
            root, _release_staging, fd, staging, lock_path, os.getpid()
        )
        return root

    def close(self) -> None:
        """Remove this process's staging directory and release its lock. Idempotent."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> Root:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def tempdir(self, prefix: str = "dir-") -> Iterator[Path]:
        """A fresh directory inside ``tmp``, removed on exit unless renamed away.

        Raises:
            StoreError: the staging area is gone (the root was closed).
        """
        try:
            path = Path(_mkdtemp(self.tmp, prefix))
        except FileNotFoundError as exc:
            raise StoreError(f"root {self.path} is closed") from exc
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    @contextlib.contextmanager
    def tempfile(self, prefix: str = "file-", suffix: str = "") -> Iterator[Path]:
        """A fresh empty file inside ``tmp``, removed on exit unless renamed away.

        Raises:
            StoreError: the staging area is gone (the root was closed).
        """
        for _ in range(100):
            path = self.tmp / f"{prefix}{secrets.token_hex(8)}{suffix}"
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                break
            except FileExistsError:
                continue
            except FileNotFoundError as exc:
                raise StoreError(f"root {self.path} is closed") from exc
        else:  # pragma: no cover - 100 collisions of 64 random bits
            raise StoreError("cannot create a temporary file")
        try:
            yield path
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    @contextlib.contextmanager
    def lock(self, name: str, shared: bool = False) -> Iterator[None]:
        """Hold ``flock`` on ``locks/NAME`` (exclusive, or shared) for the block.

        Works across processes and across threads (each call opens its own file
        description). Not re-entrant: taking the same exclusive lock twice in one
        thread deadlocks.

        Raises:
            UsageError: ``name`` is not a plain file name.
        """
        if not _LOCK_NAME_RE.match(name):
            raise UsageError(f"invalid lock name {name!r}")
        fd = os.open(self.locks / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the last descriptor drops the lock


def _mkdtemp(parent: Path, prefix: str) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix=prefix, dir=parent)


def _claim_staging(tmp_all: Path) -> tuple[int, Path, Path]:
    """Create and lock ``tmp/<token>.lock``, then make ``tmp/<token>/``.

    The lock file is created under a private ``.new-`` name, locked, then renamed
    to its final name, so a sweeper never sees an unlocked live lock file.
    """
    while True:
        token = f"p{os.getpid()}-{secrets.token_hex(8)}"
        new = tmp_all / f".new-{token}"
        fd = os.open(new, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            lock_path = tmp_all / f"{token}.lock"
            os.rename(new, lock_path)
            staging = tmp_all / token
            staging.mkdir()
            return fd, staging, lock_path
        except FileExistsError:  # pragma: no cover - token collision
            os.close(fd)
            continue
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(new)
            raise


def sweep_staging(tmp_all: Path) -> list[str]:
    """Remove staging entries whose owner process is gone; returns the names removed.

    An entry ``<token>/`` is live while some process holds the flock on
    ``<token>.lock``. A directory without a lock file is debris of an interrupted
    sweep; ``.new-*`` files older than a minute are debris of an interrupted open.
    """
    removed: list[str] = []
    try:
        names = sorted(os.listdir(tmp_all))
    except FileNotFoundError:
        return removed
    for name in names:
        entry = tmp_all / name
        if name.endswith(".lock") and _TOKEN_RE.match(name[:-5]):
            if _remove_if_unlocked(entry, tmp_all / name[:-5]):
                removed.append(name[:-5])
        elif name.startswith(".new-"):
            with contextlib.suppress(FileNotFoundError):
                if time.time() - entry.stat().st_mtime > _DEBRIS_AGE_SECONDS:
                    os.unlink(entry)
                    removed.append(name)
        elif not (tmp_all / f"{name}.lock").exists():
            _remove_path(entry)
            removed.append(name)
    return removed


def _remove_if_unlocked(lock_path: Path, staging: Path) -> bool:
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # the owner is alive
        # still the same file? (another sweeper may have removed and reused it)
        try:
            if os.stat(lock_path).st_ino != os.fstat(fd).st_ino:
                return False
        except FileNotFoundError:
            return False
        _remove_path(staging)
        os.unlink(lock_path)
        return True
    finally:
        os.close(fd)


def _remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
