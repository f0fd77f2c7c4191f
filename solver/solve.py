"""One solve of a Definition: keys, cache lookups, executions, refs (see scheduler).

May import: solver.cachekey, solver.cachestore, solver.flight, solver.worker,
solver.progress, solver.errors, solver.definition, solver.ops, solver.digest, stdlib.

``Solve`` is created by ``Scheduler.solve`` for each call and lives as long as
it. Its tasks all belong to its ``asyncio.TaskGroup``; executions shared with
other solves are ``Flight``s held in the scheduler's per-loop ``LoopState``.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from solver.cachekey import (
    CacheKey,
    ExplainRecord,
    KeyInput,
    KeyManifest,
    content_inputs,
    explain,
    is_volatile,
    manifest_for,
    name_keys,
)
from solver.definition import Definition, OpMetadata
from solver.digest import Digest
from solver.errors import CacheCorrupt, SolveError
from solver.flight import Flight, join_flight, release_all, run_blocking
from solver.ops import Input
from solver.progress import (
    CacheMissReason,
    Event,
    MissCause,
    MissKind,
    Outcome,
    ProgressSink,
    VertexCompleted,
    VertexStarted,
)
from solver.worker import ContentHasher, Ref, ResultRecord, RunContext, Worker

if TYPE_CHECKING:
    from solver.cachestore import CacheStore

__all__ = ["LoopState", "Services", "Solve", "SolveOptions", "check_order"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SolveOptions:
    """``no_cache``: look nothing up; ``no_cache_filter``: stages (metadata
    ``stage``) whose vertices look nothing up; ``session``: passed to the worker
    in every ``RunContext`` (which build's contexts and secrets); ``explain``:
    emit a ``CacheMissReason`` for every vertex that runs."""

    no_cache: bool = False
    no_cache_filter: frozenset[str] = frozenset()
    session: str = ""
    explain: bool = False


@dataclass(frozen=True, slots=True)
class _Keyed:
    """A vertex's cache state: ``identity`` is the key dependants use (None: not
    cacheable); ``record`` the hit; ``keys`` where a new result is stored."""

    identity: Digest | None
    record: ResultRecord | None = None
    keys: tuple[CacheKey, ...] = ()
    manifest: KeyManifest | None = None
    forced: bool = False  # ran because of no-cache (its dependants must too)


@dataclass
class LoopState:
    """What solves on one event loop share: the parallelism bound and the flights."""

    semaphore: asyncio.Semaphore
    flights: dict[Hashable, Flight] = field(default_factory=dict)


class Services(Protocol):
    """What a solve uses of its scheduler."""

    worker: Worker[Any]
    cache: CacheStore | None
    sink: ProgressSink
    hasher: ContentHasher[Any] | None

    def loop_state(self) -> LoopState: ...


def check_order(definition: Definition) -> None:
    """Raises:
    ValueError: an op reads an op that is not defined before it."""
    seen: set[Digest] = set()
    for digest, op in definition.ops.items():
        for inp in op.inputs:
            if inp.digest not in seen:
                raise ValueError(f"op {digest.hex[:12]} reads {inp.digest.hex[:12]}, "
                                 "which is not defined before it")
        seen.add(digest)


def _needed(definition: Definition, output: Digest) -> dict[Digest, int]:
    """The vertices ``output`` needs, each with its number of users among them."""
    needed: set[Digest] = set()
    stack = [output]
    while stack:
        d = stack.pop()
        if d not in needed:
            needed.add(d)
            stack += [i.digest for i in definition.ops[d].inputs]
    users = dict.fromkeys(needed, 0)
    for d in needed:
        for inp_digest in {i.digest for i in definition.ops[d].inputs}:
            users[inp_digest] += 1
    return users


class Solve:
    """The state of one ``Scheduler.solve`` call."""

    def __init__(self, sched: Services, definition: Definition, options: SolveOptions) -> None:
        assert definition.output is not None
        self.s = sched
        self.defn = definition
        self.opts = options
        self.output = definition.output
        self.users_left = _needed(definition, self.output.digest)
        self.volatile = frozenset(d for d in self.users_left if is_volatile(definition.ops[d]))
        self._names: dict[Digest, Digest] | None = None
        self.key_tasks: dict[Digest, asyncio.Task[_Keyed]] = {}
        self.result_tasks: dict[Digest, asyncio.Task[tuple[Ref, ...]]] = {}
        self.held: dict[Digest, tuple[Ref, ...]] = {}
        self.tg = asyncio.TaskGroup()

    def name_key(self, digest: Digest) -> Digest:
        if self._names is None:
            self._names = name_keys(self.defn)
        return self._names[digest]

    def meta(self, digest: Digest) -> OpMetadata:
        return self.defn.metadata.get(digest) or OpMetadata()

    def emit(self, event: Event) -> None:
        self.s.sink.emit(event)

    async def run(self) -> tuple[Ref, ...]:
        try:
            async with self.tg:
                refs = await self.result(self.output.digest)
                out = (refs[self.output.index].clone(),)
        except BaseExceptionGroup as group:
            raise _first_error(group) from None
        finally:
            for digest in list(self.held):
                self._release(digest)
        return out

    # --- memoised per-vertex tasks -------------------------------------------------

    def key(self, digest: Digest) -> asyncio.Task[_Keyed]:
        if digest not in self.key_tasks:
            self.key_tasks[digest] = self.tg.create_task(self._key(digest))
        return self.key_tasks[digest]

    def result(self, digest: Digest) -> asyncio.Task[tuple[Ref, ...]]:
        if digest not in self.result_tasks:
            self.result_tasks[digest] = self.tg.create_task(self._result(digest))
        return self.result_tasks[digest]

    async def input_refs(self, inputs: Sequence[Input]) -> list[Ref]:
        results = await asyncio.gather(*(self.result(i.digest) for i in inputs))
        return [refs[i.index] for refs, i in zip(results, inputs, strict=True)]

    # --- keys ------------------------------------------------------------------------

    def _ignores_cache(self, digest: Digest) -> bool:
        meta = self.meta(digest)
        return (self.opts.no_cache or meta.ignore_cache
                or (bool(meta.stage) and meta.stage in self.opts.no_cache_filter))

    async def _key(self, digest: Digest) -> _Keyed:
        op = self.defn.ops[digest]
        if digest in self.volatile:
            return _Keyed(None)
        inputs = list(op.inputs)
        by_content = content_inputs(op, self.volatile) if self.s.hasher is not None else ()
        keys = await asyncio.gather(*(self._input_key(i, inputs, by_content) for i in inputs))
        keyed = dict(zip(inputs, keys, strict=True))
        forced = self._ignores_cache(digest) or any(
            keyed[i].forced for i in inputs if i not in by_content)
        fast: KeyManifest | None = None
        if all(k.identity is not None for k in keyed.values()):
            fast = manifest_for(op, {i: self._key_input(i, k) for i, k in keyed.items()})
            hit = None if forced else self._lookup(fast.key)
            if hit is not None:
                return self._hit(digest, hit, (fast.key,))
        if not by_content:
            return self._miss(digest, fast, None, forced)
        slow = await self._content_manifest(digest, keyed, by_content)
        if slow is None:
            return self._miss(digest, None, None, forced)
        hit = None if forced else self._lookup(slow.key)
        if hit is not None:
            if fast is not None and self.s.cache is not None:
                self.s.cache.put(fast.key, hit)  # link: next time the fast key hits
            return self._hit(digest, hit, (slow.key,))
        return self._miss(digest, slow, fast, forced)

    async def _input_key(
        self, inp: Input, inputs: list[Input], by_content: tuple[Input, ...]
    ) -> _Keyed:
        """``inp``'s key; as soon as it is known to miss, start what will run anyway:
        a content input must run to be hashed; any other input that misses makes
        this vertex miss, so all its inputs will be needed."""
        keyed = await self.key(inp.digest)
        if keyed.record is None:
            for other in [inp] if inp in by_content else inputs:
                self.result(other.digest)
        return keyed

    def _key_input(self, inp: Input, keyed: _Keyed) -> KeyInput:
        assert keyed.identity is not None
        return KeyInput(keyed.identity, name=self.meta(inp.digest).name)

    async def _content_manifest(
        self, digest: Digest, keyed: dict[Input, _Keyed], by_content: tuple[Input, ...]
    ) -> KeyManifest | None:
        if any(keyed[i].identity is None for i in keyed if i not in by_content):
            return None
        hasher = self.s.hasher
        assert hasher is not None
        op = self.defn.ops[digest]
        refs = await self.input_refs(by_content)
        parts: dict[Input, KeyInput] = {
            i: self._key_input(i, k) for i, k in keyed.items() if i not in by_content}
        ctx = self._context(digest)
        for inp, ref in zip(by_content, refs, strict=True):
            call = functools.partial(hasher.checksum, op, inp, ref, ctx)
            try:
                checksum = await self._blocking(ctx, call, bounded=True)
            except Exception as exc:
                raise self._error(digest, exc, ctx) from exc
            parts[inp] = KeyInput.of_content(checksum, self.meta(inp.digest).name)
        return manifest_for(op, parts)

    def _lookup(self, key: CacheKey) -> ResultRecord | None:
        if self.s.cache is None:
            return None
        try:
            return self.s.cache.get(key)
        except CacheCorrupt:
            return None

    def _hit(self, digest: Digest, record: ResultRecord, keys: tuple[CacheKey, ...]) -> _Keyed:
        self.emit(VertexStarted(digest, self.meta(digest).name))
        self.emit(VertexCompleted(digest, Outcome.CACHED))
        return _Keyed(record.identity, record, keys)

    def _miss(
        self, digest: Digest, main: KeyManifest | None, extra: KeyManifest | None, forced: bool
    ) -> _Keyed:
        if main is None:
            return _Keyed(None, forced=forced)
        keys = (main.key,) if extra is None else (main.key, extra.key)
        if self.opts.explain:
            self._explain(digest, main.explain_record(), forced)
        return _Keyed(main.key.digest, None, keys, main, forced)

    def _explain(self, digest: Digest, record: ExplainRecord, forced: bool) -> None:
        if forced:
            causes: tuple[MissCause, ...] = (MissCause(MissKind.NO_CACHE, "", "cache disabled"),)
        else:
            cache = self.s.cache
            old = cache.keys_for_explain(self.name_key(digest)) if cache else None
            causes = explain(old, record)
        self.emit(CacheMissReason(digest, causes))

    # --- results ---------------------------------------------------------------------

    async def _result(self, digest: Digest) -> tuple[Ref, ...]:
        keyed = await self.key(digest)
        refs: tuple[Ref, ...] | None = None
        if keyed.record is not None:
            refs = await self._load(digest, keyed)
        if refs is None:
            op = self.defn.ops[digest]
            inputs = await self.input_refs(list(op.inputs))
            refs = await self._execute(digest, keyed, inputs)
        self.held[digest] = refs
        for inp_digest in {i.digest for i in self.defn.ops[digest].inputs}:
            self._used(inp_digest)
        return refs

    def _used(self, digest: Digest) -> None:
        self.users_left[digest] -= 1
        if self.users_left[digest] == 0 and digest != self.output.digest:
            self._release(digest)

    def _release(self, digest: Digest) -> None:
        for ref in self.held.pop(digest, ()):
            ref.release()

    async def _load(self, digest: Digest, keyed: _Keyed) -> tuple[Ref, ...] | None:
        assert keyed.record is not None
        ctx = self._context(digest)
        call = functools.partial(self.s.worker.load, keyed.record.results, ctx)
        try:
            refs = await self._blocking(ctx, call, bounded=False, discard=release_all)
        except Exception as exc:
            raise self._error(digest, exc, ctx) from exc
        if refs is None and self.s.cache is not None:
            for key in keyed.keys:  # the results are gone: the records are stale
                self.s.cache.delete(key)
        return None if refs is None else tuple(refs)

    async def _execute(self, digest: Digest, keyed: _Keyed, inputs: list[Ref]) -> tuple[Ref, ...]:
        state = self.s.loop_state()
        flight_key: Hashable = (
            keyed.identity if keyed.identity is not None and not keyed.forced
            else ("session", self.opts.session, digest, id(self)))
        flight = state.flights.get(flight_key)
        if flight is None:
            clones = [r.clone() for r in inputs]
            task = asyncio.get_running_loop().create_task(self._fly(digest, keyed, clones))
            flight = state.flights[flight_key] = Flight(task)
            task.add_done_callback(lambda _t: state.flights.pop(flight_key, None))
        return await join_flight(flight)

    async def _fly(self, digest: Digest, keyed: _Keyed, inputs: list[Ref]) -> tuple[Ref, ...]:
        """The shared execution of one vertex (owned by its flight, not a solve)."""
        ctx = self._context(digest)
        op = self.defn.ops[digest]
        try:
            async with self.s.loop_state().semaphore:
                self.emit(VertexStarted(digest, self.meta(digest).name))
                start = time.monotonic()
                call = functools.partial(self.s.worker.run, op, inputs, ctx)
                try:
                    outputs = await self._blocking(ctx, call, False, release_all)
                    refs = tuple(outputs)
                except asyncio.CancelledError:
                    self.emit(VertexCompleted(digest, Outcome.CANCELLED,
                                              time.monotonic() - start, "cancelled"))
                    raise
                except Exception as exc:
                    error = self._error(digest, exc, ctx)
                    self.emit(VertexCompleted(digest, Outcome.FAILED,
                                              time.monotonic() - start, str(exc)))
                    raise error from exc
        finally:
            release_all(inputs)
        self._record(digest, keyed, refs)
        self.emit(VertexCompleted(digest, Outcome.EXECUTED, time.monotonic() - start))
        return refs

    def _record(self, digest: Digest, keyed: _Keyed, refs: tuple[Ref, ...]) -> None:
        cache = self.s.cache
        if cache is None or keyed.identity is None:
            return
        now = time.time()
        record = ResultRecord(keyed.identity, tuple(r.describe() for r in refs), now, now)
        for key in keyed.keys:
            cache.put(key, record)
        if keyed.manifest is not None:
            cache.put_explain(self.name_key(digest), keyed.manifest.explain_record())

    # --- helpers -----------------------------------------------------------------------

    def _context(self, digest: Digest) -> RunContext:
        return RunContext(digest, self.meta(digest).name, self.opts.session, self.emit)

    def _error(self, digest: Digest, exc: BaseException, ctx: RunContext) -> SolveError:
        if isinstance(exc, SolveError):
            return exc
        meta = self.meta(digest)
        return SolveError(digest, meta.name, meta.spans, exc, ctx.log_tail())

    async def _blocking(
        self,
        ctx: RunContext,
        call: Callable[[], T],
        bounded: bool,
        discard: Callable[[T], None] | None = None,
    ) -> T:
        if bounded:
            async with self.s.loop_state().semaphore:
                return await run_blocking(ctx, call, discard)
        return await run_blocking(ctx, call, discard)


def _first_error(group: BaseExceptionGroup) -> BaseException:
    """The solve's error: the first SolveError, else the group itself."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first_error(exc)
        if isinstance(exc, SolveError):
            return exc
    if len(group.exceptions) == 1:
        return group.exceptions[0]
    return group
