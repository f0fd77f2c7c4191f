"""Content-addressed blob store with verified writes and reads.

May import: stdlib, solver.digest, builder.{errors,root,oci}, builder.content.*.
"""

from builder.content.store import BlobInfo, BlobWriter, ContentStore, VerifiedReader

__all__ = ["BlobInfo", "BlobWriter", "ContentStore", "VerifiedReader"]
