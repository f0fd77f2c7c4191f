"""Benchmark: pybuild's Dockerfile parser against dockerfile-parse, and ``--version`` start-up.

May import: stdlib, frontend.parser, frontend.nodes, solver.source, dockerfile_parse
(the comparison baseline).

Run ``python bench/parse.py [--files N] [--seed S]``. It generates a corpus of
realistic Dockerfiles (multi-stage, continuations, heredocs, JSON forms,
comments; 20–200 lines each), parses every file with
``frontend.parser.parse_dockerfile`` and with ``dockerfile_parse.DockerfileParser``
(reading ``.structure``, its equivalent of a full parse), in interleaved
rounds, and prints the best CPU and wall times of each and their ratios;
then what building the nodes alone costs, and ``pybuild --version`` in a
subprocess against a bare interpreter start (medians of 10). ``--kinds``
instead times each kind of line alone (one-line shell form, flags, JSON
arrays, continuation blocks, heredocs), to show which path is slow.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from frontend.parser import parse_dockerfile  # noqa: E402

IMAGES = ["alpine:3.20", "debian:bookworm-slim", "ubuntu:24.04", "python:3.12-slim",
          "golang:1.22", "node:20-alpine", "rust:1.79", "busybox:1.36", "nginx:1.27"]
PACKAGES = ["curl", "ca-certificates", "git", "make", "gcc", "libc6-dev", "openssl",
            "tzdata", "unzip", "xz-utils", "jq", "bash", "procps", "less", "vim-tiny",
            "python3", "python3-pip", "build-essential", "pkg-config", "libssl-dev"]
WORDS = ["app", "server", "worker", "api", "web", "cli", "tools", "data", "cache", "build"]


def _run_block(rng: random.Random) -> list[str]:
    pkgs = rng.sample(PACKAGES, rng.randint(2, 8))
    lines = ["RUN apt-get update \\", "    && apt-get install -y --no-install-recommends \\"]
    lines += [f"        {p} \\" for p in pkgs]
    if rng.random() < 0.3:
        lines.append("    # clean up to keep the layer small")
    lines.append("    && rm -rf /var/lib/apt/lists/*")
    return lines


def _heredoc_block(rng: random.Random) -> list[str]:
    word = rng.choice(WORDS)
    if rng.random() < 0.5:
        return ["RUN <<EOF", "#!/bin/sh", "set -eu", f"mkdir -p /opt/{word}",
                f"echo built {word} > /opt/{word}/stamp", "EOF"]
    return [f"COPY <<-'CONF' /etc/{word}.conf", f"\tname = {word}",
            f"\tport = {rng.randint(1000, 9999)}", "\tCONF"]


def _simple(rng: random.Random, stage: str) -> list[str]:
    word = rng.choice(WORDS)
    choice = rng.randrange(12)
    return [
        [f"WORKDIR /src/{word}"],
        [f"COPY --chown=1000:1000 {word}/ /src/{word}/"],
        [f"ENV {word.upper()}_HOME=/opt/{word} PATH=/opt/{word}/bin:$PATH"],
        [f"ARG {word.upper()}_VERSION={rng.randint(1, 9)}.{rng.randint(0, 20)}"],
        [f'LABEL org.opencontainers.image.title="{word}" stage="{stage}"'],
        [f"RUN --mount=type=cache,target=/root/.cache/{word} make -C /src/{word} all"],
        [f"EXPOSE {rng.randint(1000, 9999)}/tcp"],
        ["USER 1000:1000"],
        [f"# build the {word} component", f"RUN ./configure --prefix=/opt/{word} && make"],
        [""],
        [f"COPY --from=build /out/{word} /usr/local/bin/{word}"],
        [f'RUN ["/bin/sh", "-c", "echo {word}"]'],
    ][choice]


# One line shape per kind, for ``--kinds``: where the time of each path goes.
KINDS = ("plain", "flags", "json", "block", "heredoc")


def _kind_lines(kind: str, rng: random.Random) -> list[str]:
    word = rng.choice(WORDS)
    if kind == "block":
        return _run_block(rng)
    if kind == "heredoc":
        return _heredoc_block(rng)
    return {
        "plain": [f"WORKDIR /src/{word}", f"ENV A=/opt/{word} PATH=/opt/{word}/bin:$PATH",
                  "USER 1000:1000", f"EXPOSE {rng.randint(1000, 9999)}/tcp"],
        "flags": [f"COPY --chown=1000:1000 {word}/ /src/{word}/",
                  f"RUN --mount=type=cache,target=/root/.cache/{word} make -C /src/{word} all",
                  f"COPY --from=build --chmod=755 /out/{word} /usr/local/bin/{word}"],
        "json": [f'RUN ["/bin/sh", "-c", "echo {word}"]', f'ENTRYPOINT ["/usr/local/bin/{word}"]',
                 'CMD ["--help"]'],
    }[kind]


def kind_corpus(kind: str, count: int, seed: int) -> list[bytes]:
    """``count`` Dockerfiles of one FROM and 30 groups of one ``kind`` of lines."""
    rng = random.Random(seed)
    files = []
    for _ in range(count):
        lines = ["FROM alpine AS build"]
        for _ in range(30):
            lines += _kind_lines(kind, rng)
        files.append(("\n".join(lines) + "\n").encode())
    return files


def make_dockerfile(rng: random.Random) -> str:
    """One realistic Dockerfile of 20–200 lines."""
    target = rng.randint(20, 200)
    lines = ["# syntax=docker/dockerfile:1", ""]
    stage = 0
    while len(lines) < target - 4:
        if stage == 0 or rng.random() < 0.04:
            name = "build" if stage == 0 else f"stage{stage}"
            lines += ["", f"FROM {rng.choice(IMAGES)} AS {name}"]
            stage += 1
        roll = rng.random()
        if roll < 0.15:
            lines += _run_block(rng)
        elif roll < 0.22:
            lines += _heredoc_block(rng)
        else:
            lines += _simple(rng, f"stage{stage}")
    lines += ["", f"FROM {rng.choice(IMAGES)}", "COPY --from=build /out/ /usr/local/bin/",
              'ENTRYPOINT ["/usr/local/bin/app"]', 'CMD ["--help"]']
    return "\n".join(lines) + "\n"


def corpus(count: int, seed: int) -> list[bytes]:
    """``count`` Dockerfiles as bytes, the same for the same seed."""
    rng = random.Random(seed)
    return [make_dockerfile(rng).encode() for _ in range(count)]


# Each timing is (CPU time of this process, wall time), best of the rounds: on
# a shared machine both mostly measure the neighbours, and the minimum is the
# least disturbed run of the same work. Both parsers get the same clocks.
Timing = tuple[float, float]


def _timed(work: object) -> Timing:
    cpu, wall = time.process_time(), time.perf_counter()
    work()  # type: ignore[operator]
    return time.process_time() - cpu, time.perf_counter() - wall


def time_pybuild(files: list[bytes]) -> Timing:
    def work() -> None:
        for data in files:
            parse_dockerfile(data)

    return _timed(work)


def time_dockerfile_parse(files: list[bytes]) -> Timing:
    from dockerfile_parse import DockerfileParser

    def work() -> None:
        for data in files:
            DockerfileParser(fileobj=io.BytesIO(data)).structure  # noqa: B018

    return _timed(work)


def time_node_floor(count: int, fast: bool) -> Timing:
    """Time to merely build ``count`` minimal nodes (Instruction, its two
    Spans, a ShellForm) with no parsing at all: with the dataclass
    constructors, or with the ``new_*`` constructors the parser uses."""
    from frontend.nodes import Instruction, ShellForm, new_instruction, new_shell_form
    from solver.source import Span, new_span

    def public() -> None:
        for n in range(count):
            args = ShellForm("x")
            Instruction("RUN", args, Span("D", n, 1, n, 9), (), (), "RUN", "RUN x", (), (),
                        Span("D", n, 5, n, 9), ())

    def parser() -> None:
        for n in range(count):
            args = new_shell_form("x")
            new_instruction("RUN", args, new_span("D", n, 1, n, 9), (), (), "RUN", "RUN x", (),
                            (), new_span("D", n, 5, n, 9), ())

    return _timed(parser if fast else public)


def _best(timings: list[Timing]) -> Timing:
    return min(t[0] for t in timings), min(t[1] for t in timings)


def time_version(runs: int = 10) -> float:
    """Median wall time of ``pybuild --version`` in a fresh interpreter."""
    cmd = [sys.executable, "-c", "import sys; from builder.cli.main import main; sys.exit(main())",
           "--version"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_python(runs: int = 10) -> float:
    """Median wall time of a bare interpreter start, the floor under ``--version``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_kinds(count: int, seed: int, rounds: int) -> None:
    """The CPU ratio pybuild/dockerfile-parse for each kind of line."""
    for kind in KINDS:
        files = kind_corpus(kind, count, seed)
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(time_pybuild(files))
            theirs.append(time_dockerfile_parse(files))
        cpu, their_cpu = _best(ours)[0], _best(theirs)[0]
        print(f"{kind:8} pybuild {cpu:.3f} s, dockerfile-parse {their_cpu:.3f} s CPU:"
              f" ratio {cpu / their_cpu:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kinds", action="store_true",
                        help="time each kind of line alone (plain, flags, json, block, heredoc)")
    opts = parser.parse_args()
    if opts.kinds:
        print_kinds(max(1, opts.files // 5), opts.seed, opts.rounds)
        return 0
    files = corpus(opts.files, opts.seed)
    lines = sum(f.count(b"\n") for f in files)
    parse_dockerfile(files[0])  # build the (cached) LALR parser outside the timing
    # Interleaved rounds, best of each: the machine may be shared, and the
    # minimum is the least disturbed measurement of the same work.
    ours_all, theirs_all = [], []
    for _ in range(opts.rounds):
        ours_all.append(time_pybuild(files))
        theirs_all.append(time_dockerfile_parse(files))
    ours, theirs = _best(ours_all), _best(theirs_all)
    count = sum(len(parse_dockerfile(f).instructions) for f in files)
    public = _best([time_node_floor(count, False) for _ in range(opts.rounds)])
    fast = _best([time_node_floor(count, True) for _ in range(opts.rounds)])
    print(f"corpus: {len(files)} files, {lines} lines, {count} instructions;"
          f" best of {opts.rounds} rounds, CPU / wall")
    for label, (cpu, wall) in (("pybuild parse_dockerfile", ours),
                               ("dockerfile-parse .structure", theirs)):
        print(f"{label}: {cpu:.3f} s / {wall:.3f} s ({cpu / lines * 1e6:.2f} us/line CPU)")
    print(f"ratio pybuild/dockerfile-parse: {ours[0] / theirs[0]:.2f} CPU,"
          f" {ours[1] / theirs[1]:.2f} wall")
    for label, (cpu, _wall) in (("dataclass constructors", public), ("new_* constructors", fast)):
        print(f"node construction alone, {label}: {cpu:.3f} s CPU"
              f" ({cpu / theirs[0]:.2f} of dockerfile-parse)")
    print(f"pybuild --version (median of 10): {time_version() * 1000:.1f} ms")
    print(f"python -c pass (median of 10, interpreter start-up): {time_python() * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
