"""Benchmark: the solver's own overhead (keys, cache index, scheduling), no real work.

Usage: python bench/solver.py [--steps 20] [--wide 200] [--repeat 5]

With a worker whose ops take no time, this measures what the solver adds on top
of the real work, in the cells the build issue cares about:

    import     ``import solver.scheduler`` in a fresh interpreter (start-up cost)
    cold       a chain of --steps RUN steps, an empty cache
    no-op      the same definition again, a fresh Scheduler and CacheStore (as a
               new ``pybuild`` process would): every step a cache hit
    wide       --wide independent steps joined by one COPY each (fan-in), cold
    wide no-op the same, rebuilt

Times are the best of --repeat runs, in milliseconds. Nothing here is imported
by pybuild.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from solver.cachestore import CacheStore  # noqa: E402
from solver.definition import Definition, DefinitionBuilder, OpMetadata  # noqa: E402
from solver.digest import sha256_bytes  # noqa: E402
from solver.ops import Copy, ExecMeta, ExecOp, FileOp, ImageSource, Mount, Op, SourceOp  # noqa: E402
from solver.progress import RecordingSink  # noqa: E402
from solver.scheduler import Scheduler  # noqa: E402
from solver.worker import ContentChecksum, ResultId, RunContext  # noqa: E402


class NullRef:
    def __init__(self, rid: str) -> None:
        self.rid = rid

    def describe(self) -> ResultId:
        return ResultId(self.rid)

    def clone(self) -> NullRef:
        return self

    def release(self) -> None:
        pass


class NullWorker:
    def __init__(self) -> None:
        self.n = 0

    def run(self, op: Op, inputs: Sequence[NullRef], ctx: RunContext) -> Sequence[NullRef]:
        self.n += 1
        return [NullRef(f"r{self.n}")]

    def load(self, results: Sequence[ResultId], ctx: RunContext) -> Sequence[NullRef]:
        return [NullRef(r.id) for r in results]


class NullHasher:
    def checksum(self, op: Op, source: object, ref: NullRef, ctx: RunContext) -> ContentChecksum:
        return ContentChecksum(sha256_bytes(ref.rid.encode()))


def chain(steps: int) -> Definition:
    b = DefinitionBuilder()
    head = b.add(SourceOp(ImageSource("busybox@sha256:" + "1" * 64)), OpMetadata("FROM", stage="s"))
    for n in range(steps):
        op = ExecOp(ExecMeta(("sh", "-c", f"step {n}")), (Mount("/", source=head, output=True),))
        head = b.add(op, OpMetadata(f"RUN {n}", stage="s"))
    return b.build(head)


def wide(width: int) -> Definition:
    b = DefinitionBuilder()
    base = b.add(SourceOp(ImageSource("busybox@sha256:" + "1" * 64)))
    head = base
    for n in range(width):
        step = b.add(ExecOp(ExecMeta(("work", str(n))), (Mount("/", source=base, output=True),)))
        head = b.add(FileOp(head, (Copy(step, f"/out/{n}", "/out/"),)))
    return b.build(head)


def solve(definition: Definition, cache_dir: Path, worker: NullWorker) -> None:
    with CacheStore(cache_dir) as cache:
        sched = Scheduler(worker, cache, RecordingSink(), 4, NullHasher())
        asyncio.run(sched.solve(definition))


def best(repeat: int, fn: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def import_ms(repeat: int) -> float:
    code = "import time; t=time.perf_counter(); import solver.scheduler; " \
           "print((time.perf_counter()-t)*1000)"
    runs = [float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout) for _ in range(repeat)]
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--wide", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"import solver.scheduler     {import_ms(args.repeat):8.1f} ms")
    for label, definition in ((f"chain of {args.steps}", chain(args.steps)),
                              (f"wide {args.wide}", wide(args.wide))):
        cold, noop = [], []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                worker = NullWorker()
                start = time.perf_counter()
                solve(definition, Path(tmp), worker)
                cold.append(time.perf_counter() - start)
                start = time.perf_counter()
                solve(definition, Path(tmp), worker)
                noop.append(time.perf_counter() - start)
        vertices = len(definition.ops)
        print(f"{label:<16} cold         {min(cold) * 1000:8.1f} ms "
              f"({min(cold) / vertices * 1e6:.0f} us/vertex)")
        print(f"{label:<16} no-op        {min(noop) * 1000:8.1f} ms "
              f"({min(noop) / vertices * 1e6:.0f} us/vertex)")


if __name__ == "__main__":
    main()
