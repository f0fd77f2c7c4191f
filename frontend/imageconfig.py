"""Image-config values the frontend reads from base images and produces for the result.

May import: stdlib only.

These mirror the OCI/Docker image config fields a Dockerfile can change
(``Env``, ``Cmd``, ``Entrypoint``, ``User``, ``WorkingDir``, ``Labels``,
``ExposedPorts``, ``Volumes``, ``StopSignal``, ``Healthcheck``, ``Shell``,
``OnBuild``) plus the platform. The builder converts them to and from its OCI
model; the frontend never sees JSON dicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

__all__ = ["HEALTH_DEFAULTS", "HealthConfig", "ImageConfig", "set_pair", "set_pairs"]

_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """A health check; durations in nanoseconds, None = not set (runtime default).

    ``test`` is ``("NONE",)``, ``("CMD", arg…)`` or ``("CMD-SHELL", command)``.
    """

    test: tuple[str, ...]
    interval: int | None = None
    timeout: int | None = None
    start_period: int | None = None
    start_interval: int | None = None
    retries: int | None = None

    @property
    def disabled(self) -> bool:
        return self.test == ("NONE",)

    def effective(self) -> HealthConfig:
        """The check with the runtime defaults filled in (30s, 30s, 0s, 5s, 3)."""
        d = HEALTH_DEFAULTS
        return HealthConfig(
            self.test,
            d.interval if self.interval is None else self.interval,
            d.timeout if self.timeout is None else self.timeout,
            d.start_period if self.start_period is None else self.start_period,
            d.start_interval if self.start_interval is None else self.start_interval,
            d.retries if self.retries is None else self.retries,
        )


HEALTH_DEFAULTS = HealthConfig(("NONE",), 30 * _SECOND, 30 * _SECOND, 0, 5 * _SECOND, 3)


def set_pair(
    pairs: tuple[tuple[str, str], ...], key: str, value: str
) -> tuple[tuple[str, str], ...]:
    """``pairs`` with ``key`` set to ``value``: replaced in place, else appended."""
    if any(k == key for k, _ in pairs):
        return tuple((k, value if k == key else v) for k, v in pairs)
    return (*pairs, (key, value))


def set_pairs(
    pairs: tuple[tuple[str, str], ...], updates: Iterable[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """``set_pair`` for every update in order, in linear time."""
    merged = dict(pairs)
    merged.update(updates)
    return tuple(merged.items())


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The runnable configuration of an image (no rootfs, no history)."""

    env: tuple[tuple[str, str], ...] = ()
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    user: str = ""
    workdir: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    stop_signal: str = ""
    healthcheck: HealthConfig | None = None
    shell: tuple[str, ...] | None = None
    onbuild: tuple[str, ...] = ()
    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""

    def env_map(self) -> dict[str, str]:
        return dict(self.env)

    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def with_env(self, key: str, value: str) -> ImageConfig:
        return replace(self, env=set_pair(self.env, key, value))

    def with_label(self, key: str, value: str) -> ImageConfig:
        return replace(self, labels=set_pair(self.labels, key, value))

    def with_envs(self, pairs: Iterable[tuple[str, str]]) -> ImageConfig:
        """``with_env`` for each pair in order, in one pass."""
        return replace(self, env=set_pairs(self.env, pairs))

    def with_labels(self, pairs: Iterable[tuple[str, str]]) -> ImageConfig:
        """``with_label`` for each pair in order, in one pass."""
        return replace(self, labels=set_pairs(self.labels, pairs))

    @property
    def platform(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base
