"""Benchmark: per-step overhead of pybuild's sandbox vs ``runc run`` on the same rootfs.

Usage: python bench/sandbox.py [--runs 50] [--network none|host|default] [--keep DIR]

Builds a busybox rootfs from /bin/busybox, then runs ``true`` N times, interleaved, in
(a) pybuild's sandbox (fresh upperdir per run, network none by default) and (b)
``runc run`` on an OCI bundle made by ``runc spec`` whose rootfs is an overlay of the
same busybox directory with a fresh upperdir per run (so both pay for the overlay
mount), ``process.rlimits`` removed (this machine refuses RLIMIT_NOFILE changes) and
``terminal`` off. Prints median and mean wall time per run and the ratio. Needs root.
With ``--network default`` pybuild attaches each step to a bridge (veth + address, a
throw-away bridge removed at the end) while runc keeps its empty network namespace, so
that ratio includes pybuild's networking cost and runc's has none.
Nothing here is imported by pybuild.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.runtime.network import BridgeNetwork  # noqa: E402
from builder.sandbox import (  # noqa: E402
    Executor,
    ExecutorOptions,
    NamespaceSpec,
    ProcessSpec,
    RootfsLayout,
    SandboxSpec,
)
from builder.sandbox.spec import NetworkMode  # noqa: E402
from builder.snapshots.overlay import overlay_mounted  # noqa: E402


def make_rootfs(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    shutil.copy2("/bin/busybox", root / "bin" / "busybox")
    out = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True, check=True)
    for applet in out.stdout.split():
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    for d in ("proc", "dev", "sys", "tmp"):
        (root / d).mkdir()
    return root


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def run_pybuild(rootfs: Path, tmp: Path, network: NetworkMode, executor: Executor) -> float:
    spec = SandboxSpec(ProcessSpec(args=("true",)), NamespaceSpec(network=network))
    layout = RootfsLayout((rootfs,), fresh(tmp / "p-upper"), fresh(tmp / "p-work"))
    start = time.perf_counter()
    status = executor.run(spec, layout, lambda stream, line: None)
    elapsed = time.perf_counter() - start
    if not status.ok:
        raise SystemExit(f"pybuild sandbox failed: {status}")
    return elapsed


def make_bundle(bundle: Path, network: NetworkMode) -> None:
    fresh(bundle)
    subprocess.run(["runc", "spec"], cwd=bundle, check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["true"]
    config["process"].pop("rlimits", None)
    config["root"] = {"path": "rootfs", "readonly": False}
    if network is NetworkMode.HOST:
        config["linux"]["namespaces"] = [
            ns for ns in config["linux"]["namespaces"] if ns["type"] != "network"
        ]
    (bundle / "config.json").write_text(json.dumps(config))
    (bundle / "rootfs").mkdir()


def run_runc(rootfs: Path, tmp: Path, bundle: Path, index: int) -> float:
    upper, work = fresh(tmp / "r-upper"), fresh(tmp / "r-work")
    start = time.perf_counter()
    with overlay_mounted([rootfs], upper, work, bundle / "rootfs"):
        proc = subprocess.run(
            ["runc", "--root", str(tmp / "runc-state"), "run", f"bench-{os.getpid()}-{index}"],
            cwd=bundle, stdin=subprocess.DEVNULL, capture_output=True,
        )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"runc run failed: {proc.stderr.decode().strip()}")
    return elapsed


def report(name: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(f"{name:<22} median {median * 1000:7.1f} ms   mean {statistics.mean(times) * 1000:7.1f}"
          f" ms   min {min(times) * 1000:7.1f} ms   (n={len(times)})")
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--network", choices=["none", "host", "default"], default="none")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it")
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("runc") is None:
        raise SystemExit("needs root and runc (apt-get install runc)")
    network = NetworkMode(args.network)
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="pybuild-bench-sandbox-"))
    tmp.mkdir(parents=True, exist_ok=True)
    bridge = BridgeNetwork(f"pbb{os.getpid() % 100000}", tmp / "leases")
    executor = Executor(ExecutorOptions(network=bridge))
    try:
        rootfs = make_rootfs(fresh(tmp / "busybox"))
        make_bundle(tmp / "bundle", network)
        run_pybuild(rootfs, tmp, network, executor)  # warm caches once each
        run_runc(rootfs, tmp, tmp / "bundle", -1)
        ours, theirs = [], []
        for i in range(args.runs):
            ours.append(run_pybuild(rootfs, tmp, network, executor))
            theirs.append(run_runc(rootfs, tmp, tmp / "bundle", i))
        print(f"`true` x{args.runs}, network {args.network}, load {os.getloadavg()[0]:.1f}")
        a = report("pybuild sandbox", ours)
        b = report("runc run (+overlay)", theirs)
        print(f"ratio pybuild/runc (median): {a / b:.2f}")
    finally:
        if network is NetworkMode.DEFAULT:
            bridge.remove()
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
