"""Benchmark: ``pybuild build`` vs ``buildah bud --layers`` on the same Dockerfiles.

Usage: python bench/build.py [--runs 3] [--keep DIR] [--no-buildah]

Workloads (made in a scratch directory): ``tiny`` (ENV, RUN, COPY), ``layers20``
(20 RUN steps), ``files`` (COPY of 2,000 small files, then a RUN). Scenarios per
workload: ``cold`` (base image present, no cached step), ``noop`` (rebuild, nothing
changed) and ``onefile`` (one context file the last COPY reads changed). Each run's
Dockerfile starts with a unique ``RUN echo <uuid>``, so "cold" has no cached step in
either tool. Both tools get the busybox base image made by
testdata/make-busybox-image.sh (buildah pulls pybuild's OCI archive of it) and their own
private storage; buildah runs with ``--isolation oci --runtime runc --network host`` as
../shared/ANCHORS.md says. Prints the median wall time of each cell and the
pybuild/buildah ratio. Needs root. Nothing here is imported by pybuild.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYBUILD = [sys.executable, "-m", "builder.cli.main"]


def pybuild_env(state: Path) -> dict[str, str]:
    """This checkout on PYTHONPATH, with byte-code cached (as an installed pybuild has)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(state / "pyc"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _sh(argv: list[str], **kw: object) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   **kw)  # type: ignore[call-overload]


def make_workloads(base: Path) -> dict[str, Path]:
    tiny = base / "tiny"
    tiny.mkdir(parents=True)
    (tiny / "Dockerfile").write_text(
        'FROM busybox\nENV A=1\nRUN echo hi > /hi\nCOPY last.txt /\nCMD ["cat", "/hi"]\n')
    (tiny / "last.txt").write_text("v1\n")
    out = {"tiny": tiny}
    layers = base / "layers20"
    layers.mkdir()
    steps = "".join(f"RUN echo {i} > /step{i}\n" for i in range(20))
    (layers / "Dockerfile").write_text(f"FROM busybox\n{steps}COPY last.txt /\n")
    (layers / "last.txt").write_text("v1\n")
    out["layers20"] = layers
    files = base / "files"
    (files / "src").mkdir(parents=True)
    for i in range(2000):
        (files / "src" / f"f{i:05d}.txt").write_text(f"file {i}\n" * 8)
    (files / "Dockerfile").write_text(
        "FROM busybox\nCOPY src/ /src/\nRUN ls /src | wc -l > /count\nCOPY last.txt /\n")
    (files / "last.txt").write_text("v1\n")
    out["files"] = files
    return out


class Tool:
    def __init__(self, name: str, build: Callable[[Path, str], None]) -> None:
        self.name = name
        self.build = build


def pybuild_tool(state: Path) -> Tool:
    root = state / "pybuild-root"
    env = pybuild_env(state)
    _sh([str(ROOT / "testdata" / "make-busybox-image.sh"), "--root", str(root)], env=env)

    def build(context: Path, tag: str) -> None:
        _sh([*PYBUILD, "--root", str(root), "build", "-q", "-t", tag, str(context)], env=env)

    return Tool("pybuild", build)


def buildah_tool(state: Path, archive: Path) -> Tool:
    storage = ["--root", str(state / "buildah-root"), "--runroot", str(state / "buildah-run"),
               "--storage-driver", "overlay"]
    _sh(["buildah", *storage, "pull", "-q", f"oci-archive:{archive}"])
    _sh(["buildah", *storage, "tag", "busybox:latest", "docker.io/library/busybox:latest"])

    def build(context: Path, tag: str) -> None:
        _sh(["buildah", *storage, "bud", "--layers", "--pull=false", "--isolation", "oci",
             "--runtime", "runc", "--network", "host", "-q", "-t", tag, str(context)])

    return Tool("buildah", build)


def timed(tool: Tool, ctx: Path, tag: str) -> float:
    start = time.perf_counter()
    tool.build(ctx, tag)
    return time.perf_counter() - start


def measure(tool: Tool, workloads: dict[str, Path], runs: int, scratch: Path
            ) -> dict[tuple[str, str], float]:
    cells: dict[tuple[str, str], list[float]] = {}
    for name, src in workloads.items():
        for run in range(runs):
            ctx = scratch / f"{tool.name}-{name}-{run}"
            shutil.copytree(src, ctx)
            dockerfile = ctx / "Dockerfile"
            first, rest = dockerfile.read_text().split("\n", 1)
            # a unique first step: "cold" really starts without cached steps
            dockerfile.write_text(f"{first}\nRUN echo {uuid.uuid4().hex} > /seed\n{rest}")
            last = ctx / "last.txt"
            tag = f"bench-{name}-{run}"
            cells.setdefault((name, "cold"), []).append(timed(tool, ctx, tag))
            cells.setdefault((name, "noop"), []).append(timed(tool, ctx, tag))
            last.write_text(last.read_text() + "# changed\n")
            cells.setdefault((name, "onefile"), []).append(timed(tool, ctx, tag))
    return {k: statistics.median(v) for k, v in cells.items()}


def _unmount_under(state: Path) -> None:
    prefix = str(state.resolve()) + "/"
    with open("/proc/self/mountinfo") as info:
        points = [line.split()[4] for line in info if line.split()[4].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep state here instead of a temp dir")
    parser.add_argument("--no-buildah", action="store_true")
    args = parser.parse_args()
    state = args.keep or Path(tempfile.mkdtemp(prefix="pybuild-bench-"))
    state.mkdir(parents=True, exist_ok=True)
    try:
        workloads = make_workloads(state / "workloads")
        tools = [pybuild_tool(state)]
        if not args.no_buildah and shutil.which("buildah"):
            archive = state / "busybox-oci.tar"
            _sh([*PYBUILD, "--root", str(state / "pybuild-root"), "save", "--format", "oci",
                 "-o", str(archive), "busybox:latest"], env=pybuild_env(state))
            tools.append(buildah_tool(state, archive))
        results = {t.name: measure(t, workloads, args.runs, state / "ctx") for t in tools}
        print(f"{'workload':<10} {'scenario':<8} " + " ".join(f"{t.name:>9}" for t in tools)
              + ("   ratio" if len(tools) > 1 else ""))
        for key in results["pybuild"]:
            row = [results[t.name][key] for t in tools]
            ratio = f"   {row[0] / row[1]:.2f}x" if len(row) > 1 else ""
            print(f"{key[0]:<10} {key[1]:<8} " + " ".join(f"{v:>8.2f}s" for v in row) + ratio)
    except subprocess.CalledProcessError as exc:
        print(f"error: {exc.cmd[0]} failed: {exc.stderr.decode(errors='replace')}",
              file=sys.stderr)
        return 1
    finally:
        _unmount_under(state)  # buildah leaves its storage mounted
        if args.keep is None:
            shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
