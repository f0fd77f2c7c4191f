"""Exporters: save images as docker-archive / OCI layout tars, load them back, import
a rootfs tarball as an image.

May import: stdlib, solver, frontend.{dockerignore,errors}, builder lower layers.
"""

from builder.exporters.archive import ArchiveFormat, SaveItem, save_archive
from builder.exporters.changes import ConfigChange, apply_changes
from builder.exporters.importer import ImportOptions, ImportResult, import_rootfs
from builder.exporters.load import LoadedImage, load_path, load_stream

__all__ = [
    "ArchiveFormat",
    "ConfigChange",
    "ImportOptions",
    "ImportResult",
    "LoadedImage",
    "SaveItem",
    "apply_changes",
    "import_rootfs",
    "load_path",
    "load_stream",
    "save_archive",
]
