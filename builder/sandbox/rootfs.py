"""Build the step's filesystem view inside its mount namespace, then pivot_root into it.

May import: stdlib, builder.sandbox.{libc,spec,errors}.

Runs in the sandbox init (pid 1 of the step's pid namespace) before the step starts:
overlay root, fresh /proc with Docker's masked and read-only paths, a minimal /dev,
read-only /sys, /etc/hosts, /etc/resolv.conf and /etc/hostname bind-mounted from host
files, extra mounts, then pivot_root. Every mount target is resolved inside the rootfs
(symlinks included) so that an image cannot point a mount at a host path.
Mount points that had to be created are recorded (relative to the rootfs) so that the
executor can remove them from the upperdir: they are never part of the step's layer.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable

from builder.sandbox import libc
from builder.sandbox.errors import SandboxError
from builder.sandbox.spec import InitPlan, MountKind, MountSpec

__all__ = ["MASKED_PATHS", "READONLY_PATHS", "secure_join", "setup_rootfs"]

MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

_DEVICES = (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
            ("urandom", 1, 9), ("tty", 5, 0))
_DEV_LINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
              ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
              ("ptmx", "pts/ptmx"), ("core", "/proc/kcore"))
_NOSUID_NODEV_NOEXEC = libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC
_MAX_LINKS = 40


def secure_join(root: str, unsafe: str) -> str:
    """``root`` joined with ``unsafe`` as if ``root`` were ``/``: symlinks and ``..`` stay inside.

    Raises:
        SandboxError: too many levels of symbolic links.
    """
    parts = [p for p in unsafe.split("/") if p not in ("", ".")]
    cur = ""
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            cur = os.path.dirname(cur)
            continue
        cand = f"{cur}/{part}" if cur else part
        full = os.path.join(root, cand)
        if os.path.islink(full):
            links += 1
            if links > _MAX_LINKS:
                raise SandboxError(f"too many levels of symbolic links in {unsafe}")
            target = os.readlink(full)
            if target.startswith("/"):
                cur = ""
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        cur = cand
    return os.path.join(root, cur) if cur else root


class _Root:
    """The rootfs being assembled, and the mount points created in it so far."""

    def __init__(self, path: str, created: list[str]) -> None:
        self.path = path
        self.created = created

    def system_dir(self, inner: str) -> str:
        """``/proc``, ``/dev`` or ``/sys``: a plain directory (created if missing), as runc wants.

        Raises:
            SandboxError: the image has something else there (a symlink, a file).
        """
        full = os.path.join(self.path, inner.lstrip("/"))
        if os.path.islink(full) or (os.path.lexists(full) and not os.path.isdir(full)):
            raise SandboxError(
                f"the image's {inner} is not a plain directory; refusing to mount over it",
                hint=f"remove or replace {inner} in the image",
            )
        return self.ensure(inner)

    def ensure(self, inner: str, directory: bool = True) -> str:
        """Resolve ``inner`` safely, creating it (dir or empty file) and its parents."""
        full = secure_join(self.path, inner)
        if os.path.lexists(full):
            return full
        rel = os.path.relpath(full, self.path)
        missing = []
        parent = os.path.dirname(rel)
        while parent and not os.path.lexists(os.path.join(self.path, parent)):
            missing.append(parent)
            parent = os.path.dirname(parent)
        for d in reversed(missing):
            os.mkdir(os.path.join(self.path, d), 0o755)
            self.created.append(d)
        if directory:
            os.mkdir(full, 0o755)
        else:
            os.close(os.open(full, os.O_CREAT | os.O_WRONLY | os.O_EXCL | os.O_CLOEXEC, 0o644))
        self.created.append(rel)
        return full


def setup_rootfs(plan: InitPlan, created: list[str], mount_root: Callable[[], None]) -> None:
    """Assemble the step's root at ``plan.mountpoint`` and pivot into it.

    ``mount_root`` mounts the overlay at the mountpoint. ``created`` receives each mount
    point that had to be made (relative to the rootfs), even when a later step fails.

    Raises:
        OSError: a mount or pivot_root failed.
        SandboxError: the image's tree cannot hold a mount point (too many symlinks).
    """
    libc.mount("", "/", None, libc.MS_REC | libc.MS_PRIVATE)
    mount_root()
    root = _Root(plan.mountpoint, created)
    _mount_proc(root)
    _mount_dev(root)
    _mount_sys(root)
    for name, source in (("hosts", plan.etc.hosts), ("resolv.conf", plan.etc.resolv_conf),
                         ("hostname", plan.etc.hostname)):
        target = root.ensure(f"/etc/{name}", directory=False)
        if stat.S_ISREG(os.stat(target).st_mode):
            libc.bind_mount(source, target)
    for spec in plan.spec.mounts:
        _extra_mount(root, spec)
    _pivot(plan.mountpoint)


def _mount_proc(root: _Root) -> None:
    proc = root.system_dir("/proc")
    libc.mount("proc", proc, "proc", _NOSUID_NODEV_NOEXEC)
    for path in READONLY_PATHS:
        full = root.path + path
        if os.path.exists(full):
            libc.bind_mount(full, full, read_only=True, recursive=True)
    _mask(root, [p for p in MASKED_PATHS if p.startswith("/proc/")])


def _mask(root: _Root, paths: list[str]) -> None:
    for path in paths:
        full = root.path + path
        if os.path.isdir(full):
            libc.mount("tmpfs", full, "tmpfs", libc.MS_RDONLY | _NOSUID_NODEV_NOEXEC, "size=0")
        elif os.path.exists(full):
            libc.bind_mount("/dev/null", full)


def _mount_dev(root: _Root) -> None:
    dev = root.system_dir("/dev")
    libc.mount("tmpfs", dev, "tmpfs", libc.MS_NOSUID, "mode=755,size=65536k")
    for name, major, minor in _DEVICES:
        node = os.path.join(dev, name)
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.chmod(node, 0o666)
    for name in ("pts", "shm", "mqueue"):
        os.mkdir(os.path.join(dev, name), 0o755)
    libc.mount("devpts", os.path.join(dev, "pts"), "devpts",
               libc.MS_NOSUID | libc.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5")
    libc.mount("shm", os.path.join(dev, "shm"), "tmpfs", _NOSUID_NODEV_NOEXEC,
               "mode=1777,size=65536k")
    with contextlib.suppress(OSError):
        libc.mount("mqueue", os.path.join(dev, "mqueue"), "mqueue", _NOSUID_NODEV_NOEXEC)
    for name, target in _DEV_LINKS:
        os.symlink(target, os.path.join(dev, name))


def _mount_sys(root: _Root) -> None:
    sys_dir = root.system_dir("/sys")
    try:
        libc.mount("sysfs", sys_dir, "sysfs", libc.MS_RDONLY | _NOSUID_NODEV_NOEXEC)
    except OSError:  # host network: sysfs of another netns cannot be mounted fresh
        libc.bind_mount("/sys", sys_dir, read_only=True)  # not recursive: no rw submounts
    _mask(root, [p for p in MASKED_PATHS if p.startswith("/sys/")])


def _extra_mount(root: _Root, spec: MountSpec) -> None:
    if spec.kind is MountKind.TMPFS:
        target = root.ensure(spec.target)
        size = f"size={spec.size_bytes}" if spec.size_bytes else ""
        libc.mount("tmpfs", target, "tmpfs", libc.MS_NOSUID | libc.MS_NODEV, size)
        return
    is_dir = os.path.isdir(spec.source)
    if not os.path.exists(spec.source):
        raise SandboxError(f"bind mount source {spec.source} does not exist")
    target = root.ensure(spec.target, directory=is_dir)
    libc.bind_mount(spec.source, target, read_only=spec.read_only, recursive=True)


def _pivot(new_root: str) -> None:
    os.chdir(new_root)
    libc.pivot_root(".", ".")
    libc.umount(".", libc.MNT_DETACH)
    os.chdir("/")
