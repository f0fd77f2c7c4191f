"""Sample documents shared by the builder/oci tests."""

from __future__ import annotations

from builder.oci.config import ContainerConfig, Healthcheck, History, ImageConfig, RootFS
from solver.digest import Digest

D1 = Digest("sha256:" + "11" * 32)
D2 = Digest("sha256:" + "22" * 32)


def full_config() -> ImageConfig:
    """A config using every field (its bytes are testdata/oci/config-full.json)."""
    return ImageConfig(
        architecture="arm", os="linux", variant="v7", author="Jane <j@example.com>",
        created="2024-01-02T03:04:05.123456789Z",
        config=ContainerConfig(
            user="app:app", exposed_ports=("80/tcp", "443/tcp"),
            env=("PATH=/usr/bin:/bin", "A=<&>"), entrypoint=("/bin/sh", "-c"),
            cmd=("echo hi",), volumes=("/data",), working_dir="/srv",
            labels={"z": "ü", "a": "1"}, stop_signal="SIGTERM", args_escaped=True,
            healthcheck=Healthcheck(("CMD-SHELL", "true"), 30_000_000_000, 5_000_000_000,
                                    1_000_000_000, 5_000_000_000, 3),
            on_build=("RUN echo child",), shell=("/bin/bash", "-c"),
        ),
        rootfs=RootFS(diff_ids=(D1,)),
        history=(
            History("2024-01-02T03:04:05Z", "ADD rootfs.tar / # buildkit",
                    comment="buildkit.dockerfile.v0"),
            History("2024-01-02T03:04:05Z", "ENV A=<&>", comment="buildkit.dockerfile.v0",
                    empty_layer=True),
        ),
    )
