"""Overlayfs mount and unmount: a stack of lowerdirs (bottom to top), an upperdir, a workdir.

May import: stdlib.

Two ways to mount, chosen by ``MountMethod.best()``:

``FSCONFIG``  the new mount API (fsopen/fsconfig/fsmount/move_mount) with one
              ``lowerdir+`` per layer (kernel 6.8 and later). No length limit: 500
              layers mount as easily as one.
``LEGACY``    mount(2) with one option string, which the kernel caps at a page
              (4096 bytes). When absolute paths do not fit, the layers' common parent
              becomes the working directory and the option string uses short relative
              paths (the chdir trick); if even that does not fit, ``OverlayError``.

The chdir trick changes the process-wide working directory for the duration of the
call, so only single-threaded processes (the sandbox init) should use LEGACY.
This module is loaded by the sandbox init by file path, so it must import only stdlib.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
from collections.abc import Iterator, Sequence
from enum import Enum
from pathlib import Path

__all__ = [
    "MountMethod",
    "OverlayError",
    "legacy_options",
    "mount_overlay",
    "overlay_mounted",
    "unmount",
]

PAGE_LIMIT = 4095  # the kernel copies at most one page of mount data, NUL included

_SYS_MOVE_MOUNT, _SYS_FSOPEN, _SYS_FSCONFIG, _SYS_FSMOUNT = 429, 430, 431, 432  # x86_64
_FSCONFIG_SET_STRING, _FSCONFIG_CMD_CREATE = 1, 6
_MOVE_MOUNT_F_EMPTY_PATH = 4
_AT_FDCWD = -100
_CLOEXEC = 1


class OverlayError(OSError):
    """Overlayfs refused the mount or unmount; the message says which and why."""


class MountMethod(Enum):
    FSCONFIG = "fsconfig"
    LEGACY = "legacy"

    @classmethod
    def best(cls) -> MountMethod:
        """FSCONFIG on kernels that accept ``lowerdir+`` (6.8+), else LEGACY."""
        release = platform.release().split("-")[0].split(".")
        try:
            major, minor = int(release[0]), int(release[1])
        except (IndexError, ValueError):
            return cls.LEGACY
        return cls.FSCONFIG if (major, minor) >= (6, 8) else cls.LEGACY


_LIBC: list[ctypes.CDLL] = []


def _libc() -> ctypes.CDLL:
    if not _LIBC:
        _LIBC.append(ctypes.CDLL("libc.so.6", use_errno=True))  # glibc's soname on Linux
    return _LIBC[0]


def _fail(what: str, detail: str = "") -> OverlayError:
    err = ctypes.get_errno()
    msg = f"overlay {what}: {os.strerror(err)}" + (f" ({detail})" if detail else "")
    return OverlayError(err, msg)


def mount_overlay(
    lowerdirs: Sequence[Path | str],
    upperdir: Path | str,
    workdir: Path | str,
    target: Path | str,
    method: MountMethod | None = None,
) -> None:
    """Mount an overlay of ``lowerdirs`` (bottom to top) with a writable upper at ``target``.

    Raises:
        OverlayError: no lowerdir, an option string that cannot be shortened enough, or
            the kernel refused (its own explanation is included when it gave one).
    """
    if not lowerdirs:
        raise OverlayError(22, "overlay mount needs at least one lowerdir")
    top_first = [str(p) for p in reversed(lowerdirs)]
    if (method or MountMethod.best()) is MountMethod.FSCONFIG:
        _mount_fsconfig(top_first, str(upperdir), str(workdir), str(target))
    else:
        _mount_legacy(top_first, str(upperdir), str(workdir), str(target))


def _mount_fsconfig(lowers: list[str], upper: str, work: str, target: str) -> None:
    libc = _libc()
    fd = libc.syscall(ctypes.c_long(_SYS_FSOPEN), b"overlay", ctypes.c_uint(_CLOEXEC))
    if fd < 0:
        raise _fail("fsopen")
    try:
        options = [("lowerdir+", p) for p in lowers] + [("upperdir", upper), ("workdir", work)]
        for key, value in options:
            res = libc.syscall(
                ctypes.c_long(_SYS_FSCONFIG), ctypes.c_int(fd),
                ctypes.c_uint(_FSCONFIG_SET_STRING), key.encode(), value.encode(),
                ctypes.c_int(0),
            )
            if res < 0:
                raise _fail(f"{key}={value}", _kernel_log(fd))
        res = libc.syscall(
            ctypes.c_long(_SYS_FSCONFIG), ctypes.c_int(fd),
            ctypes.c_uint(_FSCONFIG_CMD_CREATE), None, None, ctypes.c_int(0),
        )
        if res < 0:
            raise _fail("create", _kernel_log(fd))
        mfd = libc.syscall(
            ctypes.c_long(_SYS_FSMOUNT), ctypes.c_int(fd), ctypes.c_uint(_CLOEXEC),
            ctypes.c_uint(0),
        )
        if mfd < 0:
            raise _fail("fsmount", _kernel_log(fd))
        try:
            res = libc.syscall(
                ctypes.c_long(_SYS_MOVE_MOUNT), ctypes.c_int(mfd), b"",
                ctypes.c_int(_AT_FDCWD), target.encode(),
                ctypes.c_uint(_MOVE_MOUNT_F_EMPTY_PATH),
            )
            if res < 0:
                raise _fail(f"move_mount to {target}")
        finally:
            os.close(mfd)
    finally:
        os.close(fd)


def _kernel_log(fd: int) -> str:
    """The messages the kernel queued on an fs context fd ("e overlay: …" lines)."""
    lines = []
    with contextlib.suppress(OSError):
        while True:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            lines.append(chunk.decode(errors="replace").strip())
    return "; ".join(lines)


def legacy_options(lowers: list[str], upper: str, work: str) -> tuple[str | None, str]:
    """The working directory (or None) and option string for a legacy mount.

    ``lowers`` is top first. Absolute paths when they fit in a page, else paths relative
    to the lowerdirs' common parent (with 64-hex snapshot names, about 55 layers fit).

    Raises:
        OverlayError: even the relative form exceeds the page limit.
    """
    data = f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={work}"
    if len(data) <= PAGE_LIMIT:
        return None, data
    base = os.path.commonpath(lowers)
    rel = [os.path.relpath(p, base) for p in lowers]
    data = (
        f"lowerdir={':'.join(rel)},upperdir={os.path.relpath(upper, base)},"
        f"workdir={os.path.relpath(work, base)}"
    )
    if len(data) > PAGE_LIMIT:
        raise OverlayError(
            7, f"overlay options for {len(lowers)} layers need {len(data)} bytes, the kernel "
            f"takes {PAGE_LIMIT}; use a kernel >= 6.8 (lowerdir+) or shorter snapshot paths"
        )
    return base, data


def _mount_legacy(lowers: list[str], upper: str, work: str, target: str) -> None:
    target_abs = os.path.abspath(target)
    cwd, data = legacy_options(lowers, upper, work)
    old = os.open(".", os.O_RDONLY | os.O_DIRECTORY) if cwd else None
    try:
        if cwd:
            os.chdir(cwd)
        res = _libc().mount(b"overlay", target_abs.encode(), b"overlay", ctypes.c_ulong(0),
                            data.encode())
        if res < 0:
            raise _fail(f"mount on {target_abs}", f"{len(lowers)} lowerdirs")
    finally:
        if old is not None:
            os.fchdir(old)
            os.close(old)


def unmount(target: Path | str, lazy: bool = False) -> None:
    """Unmount the overlay at ``target`` (``lazy``: detach even if busy).

    Raises:
        OverlayError: the kernel refused (busy, or not a mount point).
    """
    if _libc().umount2(str(target).encode(), ctypes.c_int(2 if lazy else 0)) < 0:
        raise _fail(f"unmount {target}")


@contextlib.contextmanager
def overlay_mounted(
    lowerdirs: Sequence[Path | str],
    upperdir: Path | str,
    workdir: Path | str,
    target: Path | str,
    method: MountMethod | None = None,
) -> Iterator[Path]:
    """Mount for the duration of a ``with`` block; always unmounted afterwards.

    Raises:
        OverlayError: see ``mount_overlay``.
    """
    mount_overlay(lowerdirs, upperdir, workdir, target, method)
    try:
        yield Path(target)
    finally:
        unmount(target, lazy=True)
