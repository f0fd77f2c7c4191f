"""Solver: frozen ops whose digest is their identity, the build graph, cache keys
and scheduling. Knows nothing of Dockerfiles or Linux.

May import: solver.*, stdlib (networkx and diskcache only through their doors).
"""

__all__: list[str] = []
