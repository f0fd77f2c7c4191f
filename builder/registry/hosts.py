"""Where and how to reach a registry: endpoints, TLS trust, insecure registries, mirrors.

May import: stdlib.

Rules, as Docker applies them:
- ``docker.io`` is served by ``registry-1.docker.io``; mirrors (if configured) are tried
  first for pulls of Docker Hub images.
- A registry is *insecure* when listed in ``PYBUILD_INSECURE_REGISTRIES`` (comma-separated
  ``host[:port]`` or CIDR) or under ``insecure-registries`` in the config file, and by
  default when it is ``localhost`` or in 127.0.0.0/8 (or ::1). For an insecure registry
  HTTPS is tried without certificate verification, then plain HTTP.
- A secure registry is verified with the system CAs plus every ``*.crt`` in
  ``/etc/docker/certs.d/HOST[:PORT]/`` (``PYBUILD_CERTS_DIR`` overrides the directory);
  ``client.cert``/``client.key`` there are offered as a client certificate.

The config file is ``$PYBUILD_REGISTRY_CONFIG`` or ``/etc/pybuild/registries.json`` and
uses the keys of Docker's ``daemon.json``: ``insecure-registries``, ``registry-mirrors``.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import json
import os
import ssl
from collections.abc import Mapping
from pathlib import Path

from builder.errors import UsageError

__all__ = ["DOCKER_HUB", "Endpoint", "HostsConfig", "Scheme", "api_host"]

DOCKER_HUB = "docker.io"
_HUB_API = "registry-1.docker.io"
_DEFAULT_CONFIG = Path("/etc/pybuild/registries.json")
_DEFAULT_CERTS = Path("/etc/docker/certs.d")


class Scheme(enum.Enum):
    HTTPS = "https"
    HTTP = "http"


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One way to reach a registry's ``/v2/`` API."""

    scheme: Scheme
    host: str
    verify: ssl.SSLContext | bool
    mirror: bool = False
    path_prefix: str = ""

    @property
    def base_url(self) -> str:
        return f"{self.scheme.value}://{self.host}{self.path_prefix}"


def api_host(registry: str) -> str:
    """The host that serves ``registry``'s API (``docker.io`` → ``registry-1.docker.io``)."""
    return _HUB_API if registry in (DOCKER_HUB, "index.docker.io") else registry


@dataclasses.dataclass(frozen=True)
class HostsConfig:
    """How to reach registries; build it with :meth:`from_env` at the edge."""

    insecure: tuple[str, ...] = ()
    mirrors: tuple[str, ...] = ()
    certs_dir: Path = _DEFAULT_CERTS
    loopback_insecure: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HostsConfig:
        """Read ``PYBUILD_INSECURE_REGISTRIES``, the config file and ``PYBUILD_CERTS_DIR``.

        Raises:
            UsageError: the config file is not valid JSON of the expected shape.
        """
        env = os.environ if env is None else env
        insecure = [h.strip() for h in env.get("PYBUILD_INSECURE_REGISTRIES", "").split(",")]
        path = Path(env.get("PYBUILD_REGISTRY_CONFIG") or _DEFAULT_CONFIG)
        file_insecure, mirrors = _read_config(path)
        certs = Path(env.get("PYBUILD_CERTS_DIR") or _DEFAULT_CERTS)
        hosts = tuple(h for h in insecure + file_insecure if h)
        return cls(insecure=hosts, mirrors=tuple(mirrors), certs_dir=certs)

    def is_insecure(self, host: str) -> bool:
        """Whether ``host[:port]`` may be reached without TLS verification."""
        name = _strip_port(host)
        if self.loopback_insecure and _is_loopback(name):
            return True
        for entry in self.insecure:
            if entry in (host, name):
                return True
            if "/" in entry and _in_cidr(name, entry):
                return True
        return False

    def endpoints(self, registry: str, *, for_push: bool = False) -> list[Endpoint]:
        """The endpoints to try for ``registry``, best first.

        Raises:
            UsageError: a certificate file in the certs directory cannot be loaded.
        """
        out: list[Endpoint] = []
        if registry == DOCKER_HUB and not for_push:
            out += [self._mirror(url) for url in self.mirrors]
        host = api_host(registry)
        if self.is_insecure(host):
            out.append(Endpoint(Scheme.HTTPS, host, False))
            out.append(Endpoint(Scheme.HTTP, host, False))
        else:
            out.append(Endpoint(Scheme.HTTPS, host, self.ssl_context(host)))
        return out

    def ssl_context(self, host: str) -> ssl.SSLContext:
        """System CAs plus the registry's own CAs and client certificate from certs.d.

        Raises:
            UsageError: a certificate or key in the certs directory cannot be loaded.
        """
        ctx = ssl.create_default_context()
        folder = self.certs_dir / host
        if not folder.is_dir():
            return ctx
        try:
            for crt in sorted(folder.glob("*.crt")):
                ctx.load_verify_locations(cafile=str(crt))
            for cert in sorted(folder.glob("*.cert")):
                key = cert.with_suffix(".key")
                ctx.load_cert_chain(str(cert), str(key) if key.exists() else None)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(
                f"cannot load certificates for {host} from {folder}: {exc}",
                hint="each *.crt must be a PEM CA certificate; each *.cert needs a *.key",
            ) from exc
        return ctx

    def _mirror(self, url: str) -> Endpoint:
        scheme, _, rest = url.partition("://")
        if not rest:
            scheme, rest = "https", url
        host, _, path = rest.partition("/")
        path = ("/" + path).rstrip("/") if path else ""
        if scheme == "http" or self.is_insecure(host):
            verify: ssl.SSLContext | bool = False
        else:
            verify = self.ssl_context(host)
        return Endpoint(Scheme(scheme), host, verify, mirror=True, path_prefix=path)


def _read_config(path: Path) -> tuple[list[str], list[str]]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        raise UsageError(f"cannot read registry config {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object")
    lists = []
    for key in ("insecure-registries", "registry-mirrors"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"{path}: {key!r} must be a list of strings")
        lists.append(value)
    return lists[0], lists[1]


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.index("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.rsplit(":", 1)[0]
    return host


def _is_loopback(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _in_cidr(name: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(name) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
