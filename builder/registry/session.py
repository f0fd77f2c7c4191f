"""Open a configured client for a registry: hosts and TLS from the environment, credentials
from Docker's config file.

May import: stdlib, builder.registry.{client,credentials,hosts,retry}.
"""

from __future__ import annotations

from builder.registry.client import ClientOptions, RegistryClient
from builder.registry.credentials import Credentials, DockerConfig
from builder.registry.hosts import HostsConfig

__all__ = ["client_for"]


def client_for(registry: str, push: bool = False,
               credentials: Credentials | None = None) -> RegistryClient:
    """A client for ``registry`` configured from ``$PYBUILD_*`` and ``config.json``.

    ``credentials`` overrides what the config file holds (used by ``pybuild login``).

    Raises:
        UsageError: the registry config or docker config file is malformed.
        PybuildError: a credential helper failed.
    """
    hosts = HostsConfig.from_env()
    if credentials is None:
        credentials = DockerConfig.load().get(registry)
    return RegistryClient(registry, ClientOptions(hosts=hosts, credentials=credentials,
                                                  push=push))
