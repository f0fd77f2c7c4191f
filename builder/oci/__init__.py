"""OCI and Docker image model: media types, descriptors, platforms, configs,
manifests, indexes and image references. Values only, no I/O.

May import: stdlib, solver.digest, builder.errors, builder.oci.*.
"""

from builder.oci.descriptor import (
    ANNOTATION_CREATED,
    ANNOTATION_REF_NAME,
    Descriptor,
    MediaType,
    Platform,
)
from builder.oci.image import (
    ContainerConfig,
    Healthcheck,
    History,
    ImageConfig,
    Index,
    Manifest,
    RootFS,
    chain_ids,
    parse_manifest_or_index,
)
from builder.oci.reference import DEFAULT_REGISTRY, DEFAULT_TAG, ImageRef

__all__ = [
    "ANNOTATION_CREATED",
    "ANNOTATION_REF_NAME",
    "ContainerConfig",
    "DEFAULT_REGISTRY",
    "DEFAULT_TAG",
    "Descriptor",
    "Healthcheck",
    "History",
    "ImageConfig",
    "ImageRef",
    "Index",
    "Manifest",
    "MediaType",
    "Platform",
    "RootFS",
    "chain_ids",
    "parse_manifest_or_index",
]
