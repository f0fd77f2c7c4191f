"""Docker's default privileges for a step: its capability set and its seccomp filter.

May import: stdlib, builder.sandbox.libc.

The seccomp filter is built with Debian's libseccomp (``libseccomp.so.2``) through ctypes:
a deny list of what Docker's default profile refuses to a container without
CAP_SYS_ADMIN (mount, new namespaces, kexec, modules, keyrings, ptrace, bpf, …), each
returning EPERM; ``clone3`` returns ENOSYS so that libc falls back to ``clone``, whose
namespace flags the filter can inspect.
"""

from __future__ import annotations

import ctypes
import errno
from functools import cache
from pathlib import Path

from builder.sandbox import libc

__all__ = [
    "BLOCKED_SYSCALLS",
    "DOCKER_CAPS",
    "drop_bounding_set",
    "install_seccomp",
    "preload",
    "set_capabilities",
]

# CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW
# SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP — CapEff 00000000a80425fb
DOCKER_CAPS = (0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31)

BLOCKED_SYSCALLS = (
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
    "delete_module", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick",
    "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
    "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount",
    "mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl",
    "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root", "process_vm_readv",
    "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot", "request_key",
    "set_mempolicy", "setns", "settimeofday", "swapoff", "swapon", "syslog", "sysfs",
    "_sysctl", "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vhangup",
    "vm86", "vm86old",
)

_CLONE_NS_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                   0x20000000, 0x40000000, 0x00000080)  # NEWNS CGROUP UTS IPC USER PID NET TIME

_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_CMP_MASKED_EQ = 7
_SCMP_FLTATR_CTL_NNP = 3
_LIBSECCOMP = "libseccomp.so.2"


def _errno_action(err: int) -> int:
    return 0x00050000 | (err & 0xFFFF)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _last_cap() -> int:
    return int(Path("/proc/sys/kernel/cap_last_cap").read_text())


def drop_bounding_set(keep: tuple[int, ...] | None) -> None:
    """Drop every capability not in ``keep`` from the bounding set (None keeps all).

    Raises:
        OSError: the kernel refused (pybuild lacks CAP_SETPCAP).
    """
    if keep is None:
        return
    for cap in range(_last_cap() + 1):
        if cap not in keep:
            libc.prctl(_PR_CAPBSET_DROP, cap)


def set_capabilities(caps: tuple[int, ...] | None) -> None:
    """Make ``caps`` the permitted and effective sets (None: leave them as they are).

    The inheritable and ambient sets are cleared, as Docker does since CVE-2022-24769.

    Raises:
        OSError: capset or prctl failed.
    """
    if caps is None:  # keep the full permitted set (--security=insecure)
        libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
        return
    mask = 0
    for cap in caps:
        mask |= 1 << cap
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    for i in range(2):
        word = (mask >> (32 * i)) & 0xFFFFFFFF
        data[i].effective = word
        data[i].permitted = word
        data[i].inheritable = 0
    if libc.libc().capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "capset failed")
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)


@cache
def _seccomp() -> ctypes.CDLL:
    lib = ctypes.CDLL(_LIBSECCOMP, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp)
    ]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def preload() -> None:
    """Load libseccomp now, while the host's libraries are still visible (before pivot_root).

    Raises:
        OSError: libseccomp is not installed.
    """
    _seccomp()


def install_seccomp() -> None:
    """Load the default filter into the calling process (inherited across fork and exec).

    Must run while the process still has CAP_SYS_ADMIN, or after ``no_new_privs``.

    Raises:
        OSError: libseccomp is missing or the kernel refused the filter.
    """
    lib = _seccomp()
    ctx = lib.seccomp_init(_SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError(errno.ENOMEM, "seccomp_init failed")
    try:
        if lib.seccomp_attr_set(ctx, _SCMP_FLTATR_CTL_NNP, 0) < 0:  # keep setuid working
            raise OSError(errno.EINVAL, "seccomp_attr_set(CTL_NNP) failed")
        deny = _errno_action(errno.EPERM)
        for name in BLOCKED_SYSCALLS:
            _rule(lib, ctx, deny, name, ())
        _rule(lib, ctx, _errno_action(errno.ENOSYS), "clone3", ())
        for flag in _CLONE_NS_FLAGS:
            _rule(lib, ctx, deny, "clone", (_ArgCmp(0, _SCMP_CMP_MASKED_EQ, flag, flag),))
        res = lib.seccomp_load(ctx)
        if res < 0:
            raise OSError(-res, f"seccomp_load failed: errno {-res}")
    finally:
        lib.seccomp_release(ctx)


def _rule(lib: ctypes.CDLL, ctx: int, action: int, name: str, cmps: tuple[_ArgCmp, ...]) -> None:
    nr = lib.seccomp_syscall_resolve_name(name.encode())
    if nr < 0:  # not a syscall on this architecture (vm86 on x86_64, …)
        return
    array = (_ArgCmp * max(len(cmps), 1))(*cmps)
    res = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), array)
    if res < 0:
        raise OSError(-res, f"seccomp rule for {name} refused: errno {-res}")
