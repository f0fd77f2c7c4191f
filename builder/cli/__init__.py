"""The ``pybuild`` command line.

May import: anything (composition root). Start-up stays fast: ``main`` imports a
command's module only when that command runs.
"""

__all__: list[str] = []
