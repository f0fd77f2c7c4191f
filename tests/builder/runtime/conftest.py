"""Runtime tests reuse the sandbox tests' busybox rootfs fixture."""

from __future__ import annotations

from ..sandbox.conftest import busybox_dir

__all__ = ["busybox_dir"]
