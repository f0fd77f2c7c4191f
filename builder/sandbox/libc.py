"""The Linux system calls Python 3.11 lacks, through ctypes: unshare, mount, pivot_root, prctl.

May import: stdlib.

Every wrapper raises ``OSError`` with errno and the path or flag involved, as ``os`` does.
"""

from __future__ import annotations

import ctypes
import os
from functools import cache

__all__ = [
    "CLONE_NEWCGROUP",
    "CLONE_NEWIPC",
    "CLONE_NEWNET",
    "CLONE_NEWNS",
    "CLONE_NEWPID",
    "CLONE_NEWUTS",
    "MNT_DETACH",
    "MS_BIND",
    "MS_NODEV",
    "MS_NOEXEC",
    "MS_NOSUID",
    "MS_PRIVATE",
    "MS_RDONLY",
    "MS_REC",
    "MS_REMOUNT",
    "bind_mount",
    "libc",
    "mount",
    "pivot_root",
    "prctl",
    "sethostname",
    "umount",
    "unshare",
]

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

_SYS_PIVOT_ROOT = 155  # x86_64


@cache
def libc() -> ctypes.CDLL:
    """The process's C library, loaded once with errno support."""
    return ctypes.CDLL("libc.so.6", use_errno=True)


def _check(result: int, what: str, path: str | None = None) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}", path)
    return result


def unshare(flags: int) -> None:
    """Move the calling process into new namespaces.

    Raises:
        OSError: the kernel refused.
    """
    _check(libc().unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str, target: str, fstype: str | None, flags: int = 0, data: str = "") -> None:
    """mount(2).

    Raises:
        OSError: the kernel refused (the message names the target).
    """
    res = libc().mount(
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    _check(res, f"mount {fstype or 'bind'} on {target}", target)


def bind_mount(source: str, target: str, read_only: bool = False, recursive: bool = False) -> None:
    """Bind ``source`` onto ``target``, then remount it read-only if asked.

    Raises:
        OSError: either mount call failed.
    """
    flags = MS_BIND | (MS_REC if recursive else 0)
    mount(source, target, None, flags)
    if read_only:
        mount("", target, None, flags | MS_REMOUNT | MS_RDONLY | MS_NOSUID)


def umount(target: str, flags: int = 0) -> None:
    """umount2(2).

    Raises:
        OSError: the kernel refused.
    """
    _check(libc().umount2(target.encode(), ctypes.c_int(flags)), f"umount {target}", target)


def pivot_root(new_root: str, put_old: str) -> None:
    """pivot_root(2) (glibc has no wrapper).

    Raises:
        OSError: the kernel refused.
    """
    res = libc().syscall(
        ctypes.c_long(_SYS_PIVOT_ROOT), new_root.encode(), put_old.encode()
    )
    _check(res, "pivot_root", new_root)


def sethostname(name: str) -> None:
    """Set the UTS namespace's hostname.

    Raises:
        OSError: the kernel refused.
    """
    raw = name.encode()
    _check(libc().sethostname(raw, ctypes.c_size_t(len(raw))), "sethostname")


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> int:
    """prctl(2) with up to two arguments.

    Raises:
        OSError: the kernel refused.
    """
    res = libc().prctl(
        ctypes.c_int(option), ctypes.c_ulong(arg2), ctypes.c_ulong(arg3),
        ctypes.c_ulong(0), ctypes.c_ulong(0),
    )
    return _check(res, f"prctl({option})")
