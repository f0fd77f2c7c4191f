"""``pybuild logout [SERVER]``: forget a registry's credentials in Docker's ``config.json``.

May import: anything (composition root).
"""

from __future__ import annotations

import argparse

from builder.cli.cmd_login import normalise_server
from builder.registry.credentials import DockerConfig
from builder.registry.hosts import DOCKER_HUB

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", nargs="?", default=DOCKER_HUB, metavar="SERVER")


def run(args: argparse.Namespace) -> int:
    """Remove the stored credentials (a no-op, with a note, if there were none).

    Raises:
        PybuildError: the credential helper or the file write failed.
    """
    server = normalise_server(args.server)
    if DockerConfig.load().erase(server):
        print(f"Removing login credentials for {server}")
    else:
        print(f"Not logged in to {server}")
    return 0
