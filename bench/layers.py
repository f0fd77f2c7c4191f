"""Benchmark: making layers with pybuild vs ``tar | gzip -1`` and ``tar | zstd -1``.

Usage: python bench/layers.py [--files 20000] [--big-mib 1024] [--repeat 5]
       [--big-repeat 3] [--keep DIR] [--baseline ROOT] [--targets-only]

``--files 0`` or ``--big-mib 0`` skips that tree.

Two trees are generated in a temporary directory: (a) many small files (~5 KiB
each, half random hex, so they compress about 2:1) and (b) one incompressible
file. For each tree, with a warm page cache, the script runs every case below
``--repeat`` times, interleaved (round 1 of every case, then round 2, ...) so that
load from other processes on a shared machine falls on all of them alike, and
reports the median wall and CPU (user + system, all threads and child processes)
seconds:

    the shell pipelines ``tar -cf - . | gzip -1`` and ``tar -cf - . | zstd -1``;
    pybuild gzip/zstd at level 1 (like-for-like with ``gzip -1``/``zstd -1``) and
    at pybuild's defaults (gzip 6, as docker; zstd 3, as BuildKit), gzip both with
    the isal backend and the stdlib zlib fallback, each in a child process whose
    peak RSS is read with wait4 (the maximum over its runs is shown).

pybuild's times cover ``write_layer`` inside the child (not interpreter start-up);
the pipelines' times cover the whole ``bash -c`` command. ``--baseline ROOT`` adds
the same pybuild cases run from another checkout (e.g. a copy of the previous
commit), interleaved too, for before/after figures from one run. Finally it
compares raw gzip backends (stdlib zlib, python-isal, zlib-ng, when installed) on
the small-file tar stream. Nothing here is imported by pybuild.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, os, sys, time
sys.path.insert(0, sys.argv[5])
from builder.layers import Compression, LayerOptions, changes_from_dir, write_layer
src, comp, level, backend = sys.argv[1:5]
if backend == "zlib":  # measure the stdlib fallback too
    import zlib
    import builder.layers.compress as compress
    compress._deflate, compress.GZIP_BACKEND = zlib, "zlib"
opts = LayerOptions(Compression(comp), None if level == "default" else int(level))
start, cpu = time.perf_counter(), time.process_time()
with open(os.devnull, "wb") as out:
    info = write_layer(changes_from_dir(src), out, opts)
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "size": info.size}))
"""

TARGET_CASES = (("gzip", "1", "isal"), ("zstd", "1", "-"))
PYBUILD_CASES = (
    ("gzip", "1", "isal"),
    ("gzip", "default", "isal"),
    ("gzip", "1", "zlib"),
    ("gzip", "default", "zlib"),
    ("zstd", "1", "-"),
    ("zstd", "default", "-"),
)


@dataclass(frozen=True)
class Case:
    """One thing to time: a label, the tool it is compared with, and how to run it."""

    label: str
    compare: str  # "gzip" or "zstd": which shell pipeline it is measured against
    run: Callable[[], dict[str, float]]


def make_small_files(root: Path, count: int) -> None:
    for i in range(count):
        d = root / f"dir{i // 200:03d}"
        if i % 200 == 0:
            d.mkdir(parents=True)
        size = 2048 + (i * 7919) % 6144
        (d / f"file{i:05d}.txt").write_bytes(os.urandom(size // 4).hex().encode())
        if i % 2:
            with open(d / f"file{i:05d}.txt", "ab") as f:
                f.write(b"common text that repeats " * (size // 50))


def make_big_file(root: Path, mib: int) -> None:
    root.mkdir(parents=True)
    with open(root / "random.bin", "wb") as f:
        for _ in range(mib // 16):
            f.write(os.urandom(16 << 20))


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def run_pybuild(src: Path, case: tuple[str, str, str], root: Path) -> dict[str, float]:
    comp, level, backend = case
    argv = [sys.executable, "-c", CHILD, str(src), comp, level, backend, str(root)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"pybuild child failed with {proc.returncode}")
    result: dict[str, float] = json.loads(out)
    result["rss_mib"] = usage.ru_maxrss / 1024
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_shell(src: Path, compressor: str) -> dict[str, float]:
    cmd = f"tar -C {src} -cf - . | {compressor} | wc -c"
    cpu, start = _children_cpu(), time.perf_counter()
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, check=True, text=True)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "cpu": _children_cpu() - cpu, "size": float(out.stdout)}


def interleaved(cases: list[Case], repeat: int) -> dict[str, list[dict[str, float]]]:
    """Every case ``repeat`` times, round by round, the order rotating each round."""
    runs: dict[str, list[dict[str, float]]] = {case.label: [] for case in cases}
    for round_ in range(repeat):
        shift = round_ % len(cases)
        for case in cases[shift:] + cases[:shift]:
            runs[case.label].append(case.run())
    return runs


def summary(runs: list[dict[str, float]]) -> dict[str, float]:
    """Medians of wall and CPU seconds; the largest peak RSS."""
    out = {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "size": runs[0]["size"],
    }
    if "rss_mib" in runs[0]:
        out["rss_mib"] = max(r["rss_mib"] for r in runs)
    return out


def tree_cases(src: Path, baseline: Path | None, targets_only: bool) -> list[Case]:
    cases = [
        Case("tar | gzip -1", "gzip", lambda: run_shell(src, "gzip -1")),
        Case("tar | zstd -1", "zstd", lambda: run_shell(src, "zstd -1 -q")),
    ]
    roots = [("pybuild", ROOT)] + ([("baseline", baseline)] if baseline else [])
    for who, root in roots:
        for case in TARGET_CASES if targets_only else PYBUILD_CASES:
            comp, level, backend = case
            label = f"{who} {comp} level {level}" + (f" ({backend})" if backend != "-" else "")
            cases.append(Case(label, comp, _bind(src, case, root)))
    return cases


def _bind(src: Path, case: tuple[str, str, str], root: Path) -> Callable[[], dict[str, float]]:
    return lambda: run_pybuild(src, case, root)


def bench_tree(name: str, src: Path, repeat: int, args: argparse.Namespace) -> list[str]:
    subprocess.run(["bash", "-c", f"tar -C {src} -cf - . > /dev/null"], check=True)  # warm
    raw = tree_bytes(src) / 2**20
    cases = tree_cases(src, args.baseline, args.targets_only)
    results = {label: summary(runs) for label, runs in interleaved(cases, repeat).items()}
    base = {"gzip": results["tar | gzip -1"], "zstd": results["tar | zstd -1"]}
    rows = [
        f"\n## {name}: {raw:.0f} MiB in files, median of {repeat} interleaved runs\n",
        f"{'what':34} {'wall s':>7} {'cpu s':>7} {'MiB/s':>7} {'ratio':>6} "
        f"{'wall vs':>8} {'cpu vs':>7} {'RSS MiB':>8}",
    ]
    for case in cases:
        r, ref = results[case.label], base[case.compare]
        rss = f"{r['rss_mib']:8.0f}" if "rss_mib" in r else f"{'-':>8}"
        rows.append(
            f"{case.label:34} {r['seconds']:7.2f} {r['cpu']:7.2f} {raw / r['seconds']:7.0f} "
            f"{raw * 2**20 / r['size']:6.2f} {r['seconds'] / ref['seconds']:8.2f} "
            f"{r['cpu'] / ref['cpu']:7.2f} {rss}"
        )
    rows.append("(wall vs / cpu vs: relative to the tar | gzip -1 or tar | zstd -1 row)")
    return rows


def bench_gzip_backends(src: Path) -> list[str]:
    data = subprocess.run(
        ["bash", "-c", f"tar -C {src} -cf - ."], stdout=subprocess.PIPE, check=True
    ).stdout
    backends: list[tuple[str, object, list[int]]] = [("zlib (stdlib)", zlib, [1, 6])]
    try:
        from isal import isal_zlib

        backends.append(("isal", isal_zlib, [0, 1, 2, 3]))
    except ImportError:
        pass
    try:
        from zlib_ng import zlib_ng

        backends.append(("zlib-ng", zlib_ng, [1, 6]))
    except ImportError:
        pass
    rows = [
        f"\n## gzip backends on the small-file tar ({len(data) / 2**20:.0f} MiB, 1 MiB chunks)\n",
        f"{'backend':20} {'level':>5} {'seconds':>8} {'MiB/s':>8} {'ratio':>6}",
    ]
    for name, mod, levels in backends:
        for level in levels:
            start = time.perf_counter()
            c = mod.compressobj(level, zlib.DEFLATED, 31)  # type: ignore[attr-defined]
            size = 0
            for i in range(0, len(data), 1 << 20):
                size += len(c.compress(data[i : i + (1 << 20)]))
            size += len(c.flush())
            secs = time.perf_counter() - start
            rows.append(
                f"{name:20} {level:5} {secs:8.2f} {len(data) / 2**20 / secs:8.0f} "
                f"{len(data) / size:6.2f}"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--keep", type=Path, help="generate trees here and keep them")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case, small files")
    parser.add_argument("--big-repeat", type=int, default=3, help="runs per case, big file")
    parser.add_argument("--baseline", type=Path, help="also time pybuild from this checkout")
    parser.add_argument(
        "--targets-only",
        action="store_true",
        help="pybuild only at the target cases (gzip level 1 with isal, zstd level 1)",
    )
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="pybuild-bench-"))
    try:
        small, big = work / "small", work / "big"
        if not small.exists() and args.files:
            make_small_files(small, args.files)
        if not big.exists() and args.big_mib:
            make_big_file(big, args.big_mib)
        load = os.getloadavg()[0]
        rows = [
            f"# layer benchmark, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
            f"load average {load:.1f} at start"
        ]
        if args.files:
            rows += bench_tree(f"(a) {args.files} small files", small, args.repeat, args)
        if args.big_mib:
            name = f"(b) one {args.big_mib} MiB incompressible file"
            rows += bench_tree(name, big, args.big_repeat, args)
        if args.files:
            rows += bench_gzip_backends(small)
        sys.path.insert(0, str(ROOT))
        from builder.layers.compress import GZIP_BACKEND

        rows.append(f"\npybuild gzip backend: {GZIP_BACKEND}")
        print("\n".join(rows))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
