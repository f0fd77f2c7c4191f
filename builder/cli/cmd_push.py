"""``pybuild push [-q] NAME[:TAG]``: upload a local image to its registry.

May import: anything (composition root).

Output follows ``docker push``: ``The push refers to repository [REPO]``, one line per
blob (``Layer already exists``, ``Mounted from X``, ``Pushed``), then
``TAG: digest: sha256:… size: N``.
"""

from __future__ import annotations

import argparse
import threading

from builder.cli.store_access import open_stores
from builder.errors import NotFoundError
from builder.exporters.push import PushEvent, PushOptions, PushState, push_image
from builder.oci.reference import ImageRef
from builder.registry.session import client_for

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", metavar="NAME[:TAG]")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only the final digest line")
    parser.add_argument("--jobs", type=int, default=4, help="blobs uploaded at once")


def _show(quiet: bool) -> PushOptions:
    lock = threading.Lock()

    def show(event: PushEvent) -> None:
        if quiet or event.state in (PushState.PREPARING, PushState.PUSHING):
            return
        short = event.digest.removeprefix("sha256:")[:12]
        text = f"{short}: {event.state.value}"
        if event.state is PushState.MOUNTED:
            text += f" {event.source}"
        with lock:
            print(text, flush=True)

    return PushOptions(progress=show)


def run(args: argparse.Namespace) -> int:
    """Push the named image.

    Raises:
        UsageError: a malformed name.
        NotFoundError: no local image has that name.
        RegistryError: the registry refused or failed.
    """
    ref = ImageRef.parse(args.image)
    with open_stores(args) as stores:
        target = stores.images.get(ref)
        if target is None:
            raise NotFoundError(f"an image does not exist locally with the tag: "
                                f"{ref.familiar_name()}",
                                hint="list local images with 'pybuild images'")
        sources = tuple(sorted({r.name.repository for r in stores.images.records()
                                if r.name is not None and r.name.registry == ref.registry
                                and r.name.repository != ref.repository}))
        options = PushOptions(jobs=args.jobs, mount_from=sources,
                              progress=_show(args.quiet).progress)
        if not args.quiet:
            print(f"The push refers to repository [{ref.name}]", flush=True)
        with client_for(ref.registry, push=True) as client:
            result = push_image(client, ref, stores.content, target, options)
    print(f"{ref.tag or 'latest'}: digest: {result.digest} size: {result.size}")
    return 0
