"""``--change`` instructions of ``import`` (CMD ENTRYPOINT ENV EXPOSE LABEL USER VOLUME
WORKDIR ONBUILD STOPSIGNAL) as typed changes, and how they apply to a config.

May import: stdlib, builder.errors, builder.oci.

The text is parsed by the Dockerfile frontend in ``builder.cli.cmd_import``
(exporters may not import the parser); this module only holds the typed
result and Docker's rules for applying it: later values win, ENV replaces a
variable of the same name, ENTRYPOINT clears an inherited CMD, a relative
WORKDIR is joined to the previous one.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, replace

from builder.errors import UsageError
from builder.oci.image import ContainerConfig

__all__ = ["ConfigChange", "KEYWORDS", "apply_changes", "normalize_ports"]

KEYWORDS = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL",
            "USER", "VOLUME", "WORKDIR")


@dataclass(frozen=True)
class ConfigChange:
    """One parsed ``--change``: the keyword and its typed values.

    ``words`` holds the command (CMD/ENTRYPOINT), ports, volumes or the single
    value of USER/WORKDIR/STOPSIGNAL/ONBUILD; ``pairs`` the ENV/LABEL items.
    """

    keyword: str
    words: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()


def normalize_ports(words: Sequence[str]) -> tuple[str, ...]:
    """EXPOSE arguments as config keys: ``80`` → ``80/tcp``, ranges expanded.

    Raises:
        UsageError: a malformed port, protocol or range.
    """
    ports = []
    for word in words:
        port, _, proto = word.partition("/")
        proto = (proto or "tcp").lower()
        low, dash, high = port.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()) or proto not in ("tcp", "udp",
                                                                              "sctp"):
            raise UsageError(f"--change EXPOSE: invalid port {word!r}",
                             hint="ports look like 80, 80/udp or 8000-8010")
        last = int(high) if dash else int(low)
        if not 0 < int(low) <= last <= 65535:
            raise UsageError(f"--change EXPOSE: invalid port range {word!r}")
        ports += [f"{p}/{proto}" for p in range(int(low), last + 1)]
    return tuple(ports)


def _env(env: tuple[str, ...], pairs: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    out = list(env)
    for key, value in pairs:
        out = [e for e in out if e.partition("=")[0] != key]
        out.append(f"{key}={value}")
    return tuple(out)


def _apply(config: ContainerConfig, change: ConfigChange, cmd_set: bool) -> ContainerConfig:
    match change.keyword:
        case "CMD":
            return replace(config, cmd=change.words)
        case "ENTRYPOINT":  # clears an inherited CMD, not one set by these changes
            return replace(config, entrypoint=change.words, cmd=config.cmd if cmd_set else ())
        case "ENV":
            return replace(config, env=_env(config.env, change.pairs))
        case "LABEL":
            return replace(config, labels={**config.labels, **dict(change.pairs)})
        case "EXPOSE":
            return replace(config, exposed_ports=config.exposed_ports + change.words)
        case "VOLUME":
            return replace(config, volumes=config.volumes + change.words)
        case "USER":
            return replace(config, user=change.words[0])
        case "WORKDIR":
            base = config.working_dir or "/"
            return replace(config, working_dir=posixpath.join(base, change.words[0]))
        case "ONBUILD":
            return replace(config, on_build=config.on_build + change.words)
        case _:  # STOPSIGNAL
            return replace(config, stop_signal=change.words[0])


def apply_changes(config: ContainerConfig, changes: Sequence[ConfigChange]) -> ContainerConfig:
    """``config`` with ``changes`` applied in order (later ones win, as in a Dockerfile)."""
    cmd_set = False
    for change in changes:
        config = _apply(config, change, cmd_set)
        cmd_set = cmd_set or change.keyword == "CMD"
    return config
