"""Solver: frozen ops whose digest is their identity, the build graph, cache keys
and scheduling. Knows nothing of Dockerfiles or Linux.

May import: solver.*, stdlib (networkx and diskcache only through their doors).
``import solver`` stays light: the graph (networkx) is imported from
``solver.graph`` by those who need it.
"""

from solver.definition import Definition, DefinitionBuilder, DefinitionError, OpMetadata
from solver.digest import Digest, canonical_bytes, digest_of
from solver.source import SourceFile, Span

__all__ = [
    "Definition",
    "DefinitionBuilder",
    "DefinitionError",
    "Digest",
    "OpMetadata",
    "SourceFile",
    "Span",
    "canonical_bytes",
    "digest_of",
]
