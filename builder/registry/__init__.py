"""Registry client: pull, push support, login credentials, TLS and insecure-registry rules,
and base-image resolution for FROM. The only package that imports httpx.

May import: stdlib, httpx, solver.digest, builder.{errors,oci,content,images}.

Modules: ``hosts`` (endpoints, TLS, insecure, mirrors), ``credentials`` (Docker's
config.json and credential helpers), ``auth`` (challenges, Basic, Bearer tokens),
``retry`` (bounded backoff), ``client`` (the distribution API), ``answers`` (HTTP
answers → values and errors), ``blobget`` (fast blob bodies), ``pull`` (into the
content store), ``session`` (a configured client), ``resolve`` (FROM's base image),
``errors``.
"""

from builder.registry.client import BlobInfo, ClientOptions, Manifest, RegistryClient
from builder.registry.credentials import Credentials, DockerConfig
from builder.registry.errors import (
    AuthError,
    NotFoundError,
    RegistryError,
    TransportError,
    VerifyError,
)
from builder.registry.hosts import HostsConfig
from builder.registry.pull import PullOptions, PullResult, pull_image
from builder.registry.resolve import BaseImage, PullPolicy, ResolveOptions, resolve_base_image
from builder.registry.retry import RetryPolicy
from builder.registry.session import client_for

__all__ = [
    "AuthError",
    "BaseImage",
    "BlobInfo",
    "ClientOptions",
    "Credentials",
    "DockerConfig",
    "HostsConfig",
    "Manifest",
    "NotFoundError",
    "PullOptions",
    "PullPolicy",
    "PullResult",
    "RegistryClient",
    "RegistryError",
    "ResolveOptions",
    "RetryPolicy",
    "TransportError",
    "VerifyError",
    "client_for",
    "pull_image",
    "resolve_base_image",
]
