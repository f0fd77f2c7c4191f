"""Benchmark: push and pull of a ~500 MB image with pybuild vs ``skopeo copy``.

Usage: python bench/registry.py [--mib 400,60,40] [--jobs 4] [--keep DIR]

Starts two Debian ``docker-registry`` instances on free loopback ports (fresh storage
each, so neither tool finds blobs already there), writes an image of three uncompressed
tar layers of random data (400, 60 and 40 MiB by default) into a pybuild content store,
and times:

    pybuild push   content store        → registry A   (builder.exporters.push)
    pybuild pull   registry A           → fresh store  (builder.registry.pull)
    skopeo push    oci: layout (same blobs, hard links) → registry B
    skopeo pull    registry B           → oci: layout

Times are wall-clock with a warm page cache; ratios are pybuild / skopeo (below 1 is
faster). Nothing here is imported by pybuild.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.content.store import ContentStore  # noqa: E402
from builder.exporters.push import PushOptions, push_image  # noqa: E402
from builder.oci.descriptor import Descriptor, MediaType, Platform  # noqa: E402
from builder.oci.image import ImageConfig, Manifest, RootFS  # noqa: E402
from builder.oci.reference import ImageRef  # noqa: E402
from builder.registry.client import ClientOptions, RegistryClient  # noqa: E402
from builder.registry.pull import PullOptions, pull_image  # noqa: E402
from builder.root import Root  # noqa: E402

MIB = 1 << 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_registry(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    folder.mkdir(parents=True)
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: bench\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host = f"127.0.0.1:{port}"
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection(host, timeout=1)
            conn.request("GET", "/v2/")
            conn.getresponse().read()
            conn.close()
            return proc, host
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("docker-registry did not start")


def write_layer(content: ContentStore, name: str, size: int) -> tuple[Descriptor, str]:
    """A tar with one file of ``size`` random bytes, streamed into the store."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, 0
    with content.writer() as w:
        w.write(info.tobuf(tarfile.PAX_FORMAT))
        left = size
        while left:
            chunk = os.urandom(min(left, 4 * MIB))
            w.write(chunk)
            left -= len(chunk)
        w.write(b"\0" * ((512 - size % 512) % 512) + b"\0" * 1024)
        blob = w.commit()
    return Descriptor(MediaType.OCI_LAYER, blob.digest, blob.size), blob.digest


def make_image(content: ContentStore, sizes: list[int]) -> Descriptor:
    layers, diff_ids = [], []
    for i, size in enumerate(sizes):
        desc, diff_id = write_layer(content, f"layer{i}.bin", size)
        layers.append(desc)
        diff_ids.append(diff_id)
    config = ImageConfig(architecture="amd64", os="linux", created="2026-01-01T00:00:00Z",
                         rootfs=RootFS("layers", tuple(diff_ids)))  # type: ignore[arg-type]
    cbody = config.to_json()
    cdesc = Descriptor(MediaType.OCI_CONFIG, content.put_bytes(cbody), len(cbody))
    mbody = Manifest(cdesc, tuple(layers)).to_json()
    return Descriptor(MediaType.OCI_MANIFEST, content.put_bytes(mbody), len(mbody))


def oci_layout(content: ContentStore, desc: Descriptor, folder: Path) -> None:
    blobs = folder / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    manifest = Manifest.from_json(content.read_bytes(desc.digest))
    for d in [desc.digest, manifest.config.digest, *(x.digest for x in manifest.layers)]:
        os.link(content.path(d), blobs / d.hex)
    (folder / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    entry = desc.to_json() | {"annotations": {"org.opencontainers.image.ref.name": "v1"}}
    (folder / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))


def timed(label: str, fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    took = time.perf_counter() - start
    print(f"  {label:<14} {took:7.2f} s", flush=True)
    return took


def skopeo(*args: str) -> None:
    subprocess.run(["skopeo", "copy", "-q", *args], check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", default="400,60,40", help="layer sizes in MiB")
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--keep", default="", help="work directory to keep (default: temp)")
    args = parser.parse_args()
    sizes = [int(x) * MIB for x in args.mib.split(",")]
    work = Path(args.keep or tempfile.mkdtemp(prefix="pybuild-bench-registry-"))
    work.mkdir(parents=True, exist_ok=True)
    procs = []
    try:
        reg_a, host_a = start_registry(work / "registry-a")
        reg_b, host_b = start_registry(work / "registry-b")
        procs = [reg_a, reg_b]
        src_root = Root.open(work / "src-root")
        src = ContentStore(src_root)
        desc = make_image(src, sizes)
        total = sum(sizes)
        print(f"image: {len(sizes)} layers, {total / MIB:.0f} MiB, manifest {desc.digest}")
        oci_layout(src, desc, work / "layout")
        ref_a = ImageRef.parse(f"{host_a}/bench/app:v1")
        dst_root = Root.open(work / "dst-root")
        dst = ContentStore(dst_root)
        with RegistryClient(host_a, ClientOptions(push=True)) as client:
            t_push = timed("pybuild push", lambda: push_image(
                client, ref_a, src, desc, PushOptions(jobs=args.jobs)))
        with RegistryClient(host_a) as client:
            t_pull = timed("pybuild pull", lambda: pull_image(
                client, ref_a, dst, PullOptions(platform=Platform("linux", "amd64"),
                                                jobs=args.jobs)))
        s_push = timed("skopeo push", lambda: skopeo(
            "--dest-tls-verify=false", f"oci:{work / 'layout'}:v1",
            f"docker://{host_b}/bench/app:v1"))
        s_pull = timed("skopeo pull", lambda: skopeo(
            "--src-tls-verify=false", f"docker://{host_b}/bench/app:v1",
            f"oci:{work / 'skopeo-out'}:v1"))
        assert dst.has(desc.digest)
        mb = total / 1e6
        print(f"push: pybuild {t_push:.2f} s ({mb / t_push:.0f} MB/s), skopeo {s_push:.2f} s "
              f"({mb / s_push:.0f} MB/s), ratio {t_push / s_push:.2f}")
        print(f"pull: pybuild {t_pull:.2f} s ({mb / t_pull:.0f} MB/s), skopeo {s_pull:.2f} s "
              f"({mb / s_pull:.0f} MB/s), ratio {t_pull / s_pull:.2f}")
        src_root.close()
        dst_root.close()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
