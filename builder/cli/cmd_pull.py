"""``pybuild pull [--platform P] [-q] NAME[:TAG|@DIGEST]``: fetch an image from a registry.

May import: anything (composition root).

Output follows ``docker pull``: ``TAG: Pulling from REPO``, one line per layer as it
finishes (``Already exists`` / ``Pull complete``), ``Digest:``, ``Status:`` and the full
name. ``-q`` prints only the full name.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable

from builder.cli.store_access import human_size, open_stores
from builder.oci.descriptor import Platform
from builder.oci.reference import ImageRef
from builder.registry.pull import BlobEvent, BlobState, PullOptions, pull_image
from builder.registry.session import client_for

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", metavar="NAME[:TAG|@DIGEST]")
    parser.add_argument("--platform", default="",
                        help="pull this platform of a multi-platform image (os/arch[/variant])")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the image name")
    parser.add_argument("--jobs", type=int, default=4, help="blobs downloaded at once")


def _printer(quiet: bool) -> Callable[[BlobEvent], None]:
    lock = threading.Lock()

    def show(event: BlobEvent) -> None:
        if quiet or event.is_config:
            return
        short = event.digest.removeprefix("sha256:")[:12]
        text = ""
        if event.state is BlobState.EXISTS:
            text = f"{short}: Already exists"
        elif event.state is BlobState.WAITING:
            text = f"{short}: Pulling fs layer"
        elif event.state is BlobState.RETRYING:
            text = f"{short}: Retrying"
        elif event.state is BlobState.COMPLETE:
            text = f"{short}: Pull complete ({human_size(event.size)} in {event.seconds:.1f}s)"
        if text:
            with lock:
                print(text, flush=True)

    return show


def run(args: argparse.Namespace) -> int:
    """Pull the image and name it in the local image store.

    Raises:
        UsageError: a malformed name or platform.
        RegistryError: the registry refused, failed, or sent corrupt content.
    """
    ref = ImageRef.parse(args.image)
    platform = Platform.parse(args.platform) if args.platform else None
    show = _printer(args.quiet)
    if not args.quiet:
        if ref.tag == "latest" and ":latest" not in args.image and "@" not in args.image:
            print("Using default tag: latest")
        print(f"{ref.tag or ref.digest}: Pulling from {ref.repository}", flush=True)
    with open_stores(args) as stores, client_for(ref.registry) as client:
        before = stores.images.get(ref)
        options = PullOptions(platform=platform, jobs=args.jobs, progress=show)
        with stores.content.lease():  # no garbage collection before the name is set
            result = pull_image(client, ref, stores.content, options)
            stores.images.set(ref, result.manifest)
    if args.quiet:
        print(str(ref))
        return 0
    print(f"Digest: {result.repo_digest}")
    fresh = before is None or before.digest != result.manifest.digest
    status = "Downloaded newer image for" if fresh else "Image is up to date for"
    print(f"Status: {status} {ref.familiar()}")
    print(str(ref))
    sys.stdout.flush()
    return 0
