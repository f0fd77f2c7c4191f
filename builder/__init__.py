"""Builder: everything that touches the OS, the disk and the network, and the
composition root (CLI, server).

May import: frontend, solver, builder sublayers (lower ones only).
"""

__all__: list[str] = []
