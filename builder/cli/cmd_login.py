"""``pybuild login [-u USER] [-p PASS | --password-stdin] [SERVER]``: verify and save
credentials in Docker's ``config.json`` (``$DOCKER_CONFIG`` honoured).

May import: anything (composition root).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from builder.errors import UsageError
from builder.registry.credentials import Credentials, DockerConfig
from builder.registry.hosts import DOCKER_HUB
from builder.registry.session import client_for

__all__ = ["add_arguments", "normalise_server", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", nargs="?", default=DOCKER_HUB, metavar="SERVER")
    parser.add_argument("-u", "--username", default="")
    parser.add_argument("-p", "--password", default=None,
                        help="the password (prefer --password-stdin)")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input")


def normalise_server(text: str) -> str:
    """``https://host:5000/`` → ``host:5000``; Docker Hub aliases → ``docker.io``.

    Raises:
        UsageError: an empty server name.
    """
    host = text.strip().removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    if not host:
        raise UsageError(f"invalid registry {text!r}", hint="give HOST[:PORT]")
    return DOCKER_HUB if host in ("index.docker.io", "registry-1.docker.io") else host


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        if args.password is not None:
            raise UsageError("--password and --password-stdin are mutually exclusive")
        return sys.stdin.read().rstrip("\r\n")
    if args.password is not None:
        print("WARNING! Using --password via the CLI is insecure. Use --password-stdin.",
              file=sys.stderr)
        return str(args.password)
    if not sys.stdin.isatty():
        raise UsageError("cannot prompt for a password: standard input is not a terminal",
                         hint="use --password-stdin")
    return getpass.getpass("Password: ")


def run(args: argparse.Namespace) -> int:
    """Verify the credentials against the registry, then store them.

    Raises:
        UsageError: missing user name or password.
        AuthError: the registry refused the credentials (nothing is written).
    """
    server = normalise_server(args.server)
    user = args.username
    if not user:
        if args.password_stdin or not sys.stdin.isatty():
            raise UsageError("a user name is needed: pass -u USER")
        user = input("Username: ").strip()
    password = _password(args)
    if not user or not password:
        raise UsageError("both a user name and a password are needed")
    creds = Credentials(user, password)
    with client_for(server, credentials=creds) as client:
        client.verify_credentials()
    config = DockerConfig.load()
    config.store(server, creds)
    print(f"Login Succeeded (credentials saved in {config.path})")
    return 0
