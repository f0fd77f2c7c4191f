"""The scheduler with a fake in-memory worker: concurrency, single flight, caching,
cancellation, explain, and ref ownership."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from solver.cachekey import CacheKey
from solver.cachestore import CacheStore
from solver.definition import Definition, DefinitionBuilder, OpMetadata
from solver.errors import SolveError
from solver.ops import ImageSource, LocalSource, SourceOp
from solver.progress import (
    CacheMissReason,
    MissKind,
    Outcome,
    RecordingSink,
    VertexCompleted,
    VertexStarted,
)
from solver.scheduler import Scheduler, SolveOptions
from solver.worker import Ref

from .solverfakes import FakeHasher, FakeRef, FakeWorker, chain, copy_op, meta, run_op

IMAGE = "busybox@sha256:" + "1" * 64


class Harness:
    """A worker, a hasher, a sink and a cache directory; ``solve`` makes a fresh
    Scheduler and CacheStore each time (like a new pybuild process)."""

    def __init__(self, tmp_path: Path, parallelism: int = 4) -> None:
        self.worker = FakeWorker()
        self.hasher = FakeHasher()
        self.sink = RecordingSink()
        self.cache_dir = tmp_path / "cache"
        self.parallelism = parallelism

    def scheduler(self, cache: CacheStore | None) -> Scheduler[FakeRef]:
        return Scheduler(self.worker, cache, self.sink, self.parallelism, self.hasher)

    def solve(self, definition: Definition, options: SolveOptions | None = None) -> FakeRef:
        with CacheStore(self.cache_dir) as cache:
            refs = asyncio.run(self.scheduler(cache).solve(definition, options))
        assert len(refs) == 1
        ref = refs[0]
        assert isinstance(ref, FakeRef)
        return ref

    def outcomes(self) -> dict[str, Outcome]:
        return {_name(self, e.vertex): e.outcome for e in self.sink.events
                if isinstance(e, VertexCompleted)}

    def reset(self) -> None:
        self.worker.calls.clear()
        self.sink = RecordingSink()


def _name(h: Harness, vertex: object) -> str:
    for e in h.sink.events:
        if isinstance(e, VertexStarted) and e.vertex == vertex:
            return e.name
    return str(vertex)


def _two_branches(a: tuple[str, ...], b: tuple[str, ...]) -> Definition:
    """FROM base; branch A and branch B each RUN on it; final copies from both."""
    d = DefinitionBuilder()
    base = d.add(SourceOp(ImageSource(IMAGE)), meta("FROM", "base"))
    left = d.add(run_op(base, *a), meta("A", "a", 2))
    right = d.add(run_op(base, *b), meta("B", "b", 3))
    final = d.add(copy_op(left, right, "*", "/b/"), meta("final", "final", 4))
    return d.build(final)


def test_independent_branches_run_at_the_same_time(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.solve(_two_branches(("sleep", "0.3", "write", "/a", "1"),
                          ("sleep", "0.3", "write", "/b", "2")))
    calls = {c.args[3]: c for c in h.worker.calls if c.args[0] == "sleep"}
    assert calls["/a"].start < calls["/b"].end and calls["/b"].start < calls["/a"].end
    assert h.worker.max_running >= 2


def test_parallelism_is_bounded(tmp_path: Path) -> None:
    h = Harness(tmp_path, parallelism=2)
    d = DefinitionBuilder()
    base = d.add(SourceOp(ImageSource(IMAGE)))
    head = base
    for i in range(5):
        step = d.add(run_op(base, "sleep", "0.1", "write", f"/{i}", "x"))
        head = d.add(copy_op(head, step, "*", "/"))
    h.solve(d.build(head))
    assert h.worker.max_running == 2
    assert len([c for c in h.worker.calls if c.args[0] == "sleep"]) == 5


def test_same_vertex_runs_once_for_two_concurrent_solves(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    definition = chain(("sleep", "0.2", "write", "/x", "1"), ("write", "/y", "2"))

    async def both() -> list[Sequence[Ref]]:
        with CacheStore(h.cache_dir) as cache:
            sched = h.scheduler(cache)
            return list(await asyncio.gather(sched.solve(definition), sched.solve(definition)))

    results = asyncio.run(both())
    assert [c.args[0] for c in h.worker.calls] == ["SourceOp", "sleep", "write"]
    files = [r[0].files for r in results]  # type: ignore[attr-defined]
    assert files[0] == files[1] == {"/image": IMAGE.encode(), "/x": b"1", "/y": b"2"}
    for refs in results:
        refs[0].release()
    assert h.worker.live_handles() == 0 and h.worker.double_releases == 0


def test_rebuild_hits_the_cache_and_skips_execution(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    definition = chain(("write", "/x", "1"), ("write", "/y", "2"))
    first = h.solve(definition)
    h.reset()
    second = h.solve(definition)
    assert h.worker.calls == []
    assert set(h.outcomes().values()) == {Outcome.CACHED}
    assert second.files == first.files
    assert h.worker.loads == 1  # only the output is loaded


def test_stale_record_is_executed_again(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    definition = chain(("write", "/x", "1"))
    first = h.solve(definition)
    first.release()
    del h.worker.store[first.rid]  # the snapshot was deleted behind the cache's back
    h.reset()
    again = h.solve(definition)
    assert [c.args[0] for c in h.worker.calls] == ["write"]
    assert again.files["/x"] == b"1"


def _context_build() -> Definition:
    """COPY a.txt; RUN; COPY b.txt; RUN (as a Dockerfile copying files one by one)."""
    d = DefinitionBuilder()
    base = d.add(SourceOp(ImageSource(IMAGE)), meta("FROM", "s"))
    ctx = d.add(SourceOp(LocalSource()), OpMetadata('load "context"'))
    c1 = d.add(copy_op(base, ctx, "a.txt", "/app/"), meta("COPY a.txt", "s", 2))
    r1 = d.add(run_op(c1, "install"), meta("RUN install", "s", 3))
    c2 = d.add(copy_op(r1, ctx, "b.txt", "/app/"), meta("COPY b.txt", "s", 4))
    r2 = d.add(run_op(c2, "build"), meta("RUN build", "s", 5))
    return d.build(r2)


def test_changed_file_reruns_only_the_steps_that_read_it(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.worker.contexts[""] = {"a.txt": b"a", "b.txt": b"b", "c.txt": b"c"}
    h.solve(_context_build())
    h.reset()
    h.worker.contexts[""] = {"a.txt": b"a", "b.txt": b"B!", "c.txt": b"c"}
    out = h.solve(_context_build(), SolveOptions(explain=True))
    assert h.outcomes() == {
        "FROM": Outcome.CACHED, 'load "context"': Outcome.EXECUTED,
        "COPY a.txt": Outcome.CACHED, "RUN install": Outcome.CACHED,
        "COPY b.txt": Outcome.EXECUTED, "RUN build": Outcome.EXECUTED,
    }
    assert out.files["/app/b.txt"] == b"B!"
    reasons = {_name(h, e.vertex): e.causes for e in h.sink.events
               if isinstance(e, CacheMissReason)}
    assert [(c.kind, c.subject, c.detail) for c in reasons["COPY b.txt"]] == [
        (MissKind.FILE, "b.txt", "changed")]
    assert [c.kind for c in reasons["RUN build"]] == [MissKind.INPUT]
    assert reasons["RUN build"][0].subject == "COPY b.txt"


def test_unread_file_change_reruns_nothing_but_the_context_load(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.worker.contexts[""] = {"a.txt": b"a", "b.txt": b"b", "c.txt": b"c"}
    h.solve(_context_build())
    h.reset()
    h.worker.contexts[""] = {"a.txt": b"a", "b.txt": b"b", "c.txt": b"changed"}
    h.solve(_context_build())
    assert [c.args for c in h.worker.calls] == [("SourceOp",)]


def test_equal_content_from_a_changed_stage_hits(tmp_path: Path) -> None:
    def definition(comment: str) -> Definition:
        d = DefinitionBuilder()
        base = d.add(SourceOp(ImageSource(IMAGE)), meta("FROM", "final"))
        go = d.add(SourceOp(ImageSource("golang@sha256:" + "2" * 64)), meta("FROM go", "build"))
        binary = d.add(run_op(go, "write", "/bin/app", "ELF", comment), meta("RUN go", "build"))
        copied = d.add(copy_op(base, binary, "bin/app", "/usr/bin/"), meta("COPY app", "final", 2))
        return d.build(d.add(run_op(copied, "app", "--selftest"), meta("RUN test", "final", 3)))

    h = Harness(tmp_path)
    h.solve(definition("# v1"))
    h.reset()
    h.solve(definition("# v2: a comment changed, the binary did not"))
    assert h.outcomes() == {"FROM go": Outcome.CACHED, "FROM": Outcome.CACHED,
                            "RUN go": Outcome.EXECUTED, "COPY app": Outcome.CACHED,
                            "RUN test": Outcome.CACHED}
    h.reset()
    h.solve(definition("# v2: a comment changed, the binary did not"))
    assert h.worker.calls == []  # the content hit was linked to the definition key


def test_explain_names_the_changed_argument_and_command(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.solve(chain(("write", "/x", "1"), ("make",)))
    h.reset()
    d = DefinitionBuilder()
    base = d.add(SourceOp(ImageSource(IMAGE)), meta("FROM", "main"))
    step = d.add(run_op(base, "write", "/x", "1", env=("VERSION=2",)), meta("RUN write", "main"))
    final = d.add(run_op(step, "make", "all"), meta("RUN make", "main"))
    h.solve(d.build(final), SolveOptions(explain=True))
    reasons = {_name(h, e.vertex): e.causes for e in h.sink.events
               if isinstance(e, CacheMissReason)}
    assert [(c.kind, c.subject) for c in reasons["RUN write"]] == [(MissKind.ENV, "VERSION")]
    assert {c.kind for c in reasons["RUN make"]} == {MissKind.COMMAND, MissKind.INPUT}


def test_explain_names_the_base_image(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.solve(chain(("make",)))
    h.reset()
    h.solve(chain(("make",), image="busybox@sha256:" + "9" * 64), SolveOptions(explain=True))
    reasons = {_name(h, e.vertex): e.causes for e in h.sink.events
               if isinstance(e, CacheMissReason)}
    assert [c.kind for c in reasons["[main 1] FROM"]] == [MissKind.BASE_IMAGE]
    assert "9999" in reasons["[main 1] FROM"][0].detail


def test_first_failure_cancels_siblings_and_records_nothing(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    definition = _two_branches(("sleep", "0.05", "fail", "exit code 2"), ("hang",))
    with pytest.raises(SolveError) as info:
        h.solve(definition)
    err = info.value
    assert err.name == "A" and str(err.spans[0]) == "Dockerfile:2:1"
    assert err.exit_status == 2
    assert err.log_tail == ("step output 1", "step output 2")
    assert "Dockerfile:2:1: A: exit code 2" in err.render()
    outcomes = {c.args[0]: c.outcome for c in h.worker.calls}
    assert outcomes == {"SourceOp": "done", "sleep": "failed", "hang": "cancelled"}
    assert h.outcomes()["B"] is Outcome.CANCELLED
    assert all(c.end > 0 for c in h.worker.calls)  # every worker call returned
    with CacheStore(h.cache_dir) as cache:
        identities = {r.identity for _, r in cache.records()}
    assert len(identities) == 1  # only the base image source
    assert h.worker.live_handles() == 0 and h.worker.double_releases == 0


def test_cancelled_solve_waits_for_workers_and_leaves_no_record(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    definition = chain(("write", "/x", "1"), ("hang",))

    async def interrupted() -> None:
        with CacheStore(h.cache_dir) as cache:
            task = asyncio.ensure_future(h.scheduler(cache).solve(definition))
            while not any(c.args == ("hang",) for c in h.worker.calls):
                await asyncio.sleep(0.01)
            task.cancel()  # what asyncio.run does on Ctrl-C
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(interrupted())
    assert [c.outcome for c in h.worker.calls] == ["done", "done", "cancelled"]
    assert h.worker.live_handles() == 0
    h.reset()
    h.solve(chain(("write", "/x", "1")))
    assert h.worker.calls == []  # the finished steps were recorded


def test_single_flight_survives_one_waiter_leaving(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    definition = chain(("sleep", "0.3", "write", "/x", "1"))

    async def two() -> Sequence[Ref]:
        with CacheStore(h.cache_dir) as cache:
            sched = h.scheduler(cache)
            first = asyncio.ensure_future(sched.solve(definition))
            second = asyncio.ensure_future(sched.solve(definition))
            await asyncio.sleep(0.1)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            return await second

    refs = asyncio.run(two())
    assert [c.outcome for c in h.worker.calls] == ["done", "done"]
    refs[0].release()
    assert h.worker.live_handles() == 0


def test_no_cache_filter_reruns_that_stage_and_what_builds_on_it(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    definition = _two_branches(("write", "/a", "1"), ("write", "/b", "2"))
    h.solve(definition)
    h.reset()
    h.solve(definition, SolveOptions(no_cache_filter=frozenset({"a"}), explain=True))
    assert h.outcomes() == {"FROM": Outcome.CACHED, "A": Outcome.EXECUTED,
                            "B": Outcome.CACHED, "final": Outcome.EXECUTED}
    reasons = [e for e in h.sink.events if isinstance(e, CacheMissReason)]
    assert [c.kind for e in reasons for c in e.causes] == [MissKind.NO_CACHE] * 2


def test_no_cache_filter_stage_copied_by_content_keeps_equal_copies_cached(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path)
    definition = _two_branches(("write", "/a", "1"), ("write", "/b", "2"))
    h.solve(definition)
    h.reset()
    h.solve(definition, SolveOptions(no_cache_filter=frozenset({"b"})))
    assert h.outcomes() == {"FROM": Outcome.CACHED, "A": Outcome.CACHED,
                            "B": Outcome.EXECUTED, "final": Outcome.CACHED}


def test_no_cache_runs_everything(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    definition = chain(("write", "/x", "1"), ("write", "/y", "2"))
    h.solve(definition)
    h.reset()
    h.solve(definition, SolveOptions(no_cache=True))
    assert len(h.worker.calls) == 3


def test_ignore_cache_metadata_forces_the_vertex_and_its_dependants(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.solve(chain(("write", "/x", "1"), ("write", "/y", "2")))
    h.reset()
    definition = chain(("write", "/x", "1"), ("write", "/y", "2"))
    first_run = list(definition.ops)[1]
    metadata = dict(definition.metadata)
    metadata[first_run] = OpMetadata("forced", ignore_cache=True)
    h.solve(Definition(definition.ops, metadata, definition.output))
    assert [c.args for c in h.worker.calls] == [("write", "/x", "1"), ("write", "/y", "2")]


def test_cache_persists_across_scheduler_instances(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    definition = chain(("write", "/x", "1"))
    h.solve(definition)
    other = Harness(tmp_path)  # a new process: new worker state but the same store
    other.worker.store = h.worker.store
    other.solve(definition)
    assert other.worker.calls == []


def test_refs_are_released_except_the_returned_output(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    out = h.solve(_two_branches(("write", "/a", "1"), ("write", "/b", "2")))
    assert h.worker.live_handles() == 1
    out.release()
    assert h.worker.live_handles() == 0 and h.worker.double_releases == 0


def test_missing_copied_file_fails_with_the_copy_span(tmp_path: Path) -> None:
    class StrictHasher(FakeHasher):
        def checksum(self, op, source, ref, ctx):  # type: ignore[no-untyped-def]
            from solver.errors import OpFailed

            raise OpFailed('"missing.txt" not found in the build context')

    h = Harness(tmp_path)
    h.hasher = StrictHasher()
    with pytest.raises(SolveError, match=r"Dockerfile:2:1: COPY a.txt: .*missing.txt"):
        h.solve(_context_build())
    assert h.worker.live_handles() == 0


def test_definition_with_input_after_user_is_rejected(tmp_path: Path) -> None:
    definition = chain(("write", "/x", "1"))
    reordered = Definition(dict(reversed(list(definition.ops.items()))), definition.metadata,
                           definition.output)
    with pytest.raises(ValueError, match="not defined before it"):
        asyncio.run(Harness(tmp_path).scheduler(None).solve(reordered))


def test_without_a_cache_store_everything_runs_and_nothing_is_kept(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    sched = h.scheduler(None)
    for _ in range(2):
        refs = asyncio.run(sched.solve(chain(("write", "/x", "1"))))
        refs[0].release()
    assert len(h.worker.calls) == 4
    assert not h.cache_dir.exists()


def test_worker_calls_happen_off_the_event_loop_thread(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    seen: list[str] = []
    original = h.worker.run

    def run(op, inputs, ctx):  # type: ignore[no-untyped-def]
        seen.append(threading.current_thread().name)
        return original(op, inputs, ctx)

    h.worker.run = run  # type: ignore[method-assign]
    h.solve(chain(("write", "/x", "1")))
    assert seen and threading.main_thread().name not in seen


def test_a_cached_key_is_what_gets_recorded(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.solve(chain(("write", "/x", "1")))
    with CacheStore(h.cache_dir) as cache:
        records = dict(cache.records())
    assert len(records) == 2
    for key, record in records.items():
        assert isinstance(key, CacheKey) and record.identity == key.digest
        assert record.created_at <= time.time()


_INTERRUPTED_BUILD = """
import asyncio, faulthandler, signal, sys
faulthandler.dump_traceback_later(30, exit=True)
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
from tests.solver.solverfakes import FakeWorker, FakeHasher, chain
from solver.cachestore import CacheStore
from solver.progress import RecordingSink
from solver.scheduler import Scheduler, run_interruptible

class Worker(FakeWorker):
    def run(self, op, inputs, ctx):
        if getattr(op, "meta", None) is not None and op.meta.args == ("hang",):
            print("hanging", flush=True)
        return super().run(op, inputs, ctx)

worker = Worker()
with CacheStore(sys.argv[1]) as cache:
    scheduler = Scheduler(worker, cache, RecordingSink(), 2, FakeHasher())
    try:
        run_interruptible(scheduler.solve(chain(("write", "/x", "1"), ("hang",))))
    except KeyboardInterrupt:
        print("interrupted", [c.outcome for c in worker.calls], worker.live_handles())
        sys.exit(130)
"""


def test_ctrl_c_stops_the_running_step_and_keeps_the_finished_ones(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED_BUILD, str(tmp_path / "cache")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=repo,
        env=dict(os.environ, PYTHONPATH=str(repo)))
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "hanging"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out.strip() == "interrupted ['done', 'done', 'cancelled'] 0"
    h = Harness(tmp_path)
    h.solve(chain(("write", "/x", "1")))
    assert [c.args for c in h.worker.calls] == [("SourceOp",), ("write", "/x", "1")]  # new store
    with CacheStore(h.cache_dir) as cache:
        assert len(list(cache.records())) == 2  # FROM and write; nothing for the hang


def test_run_interruptible_returns_the_result_and_restores_signal_handlers() -> None:
    import signal

    from solver.scheduler import run_interruptible

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    before = signal.getsignal(signal.SIGINT)
    assert run_interruptible(answer()) == 42
    assert signal.getsignal(signal.SIGINT) is before


def test_definition_without_output_solves_to_nothing(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    empty = Definition({}, {}, None)
    assert asyncio.run(h.scheduler(None).solve(empty)) == ()
    assert h.worker.calls == []


def test_explain_on_a_first_build_says_every_step_is_new(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.solve(chain(("write", "/x", "1")), SolveOptions(explain=True))
    reasons = [e for e in h.sink.events if isinstance(e, CacheMissReason)]
    assert len(reasons) == 2
    assert all([c.kind for c in e.causes] == [MissKind.NEW] for e in reasons)
