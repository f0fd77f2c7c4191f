"""Runtime: what runs beside builds — networks for steps (and later containers, volumes).

May import: stdlib, pyroute2 (in network.py only), solver.digest, builder.{sandbox,
snapshots,images} and lower layers.
"""

__all__: list[str] = []
