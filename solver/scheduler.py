"""Executes a Definition: cache lookups first, then every ready vertex at once.

May import: solver.solve, solver.cachestore, solver.worker, solver.progress,
solver.definition, stdlib. (Not solver.graph: a Definition lists inputs before
users, which ``check_order`` verifies in linear time, so networkx stays out of
the build's start-up.) The per-call machinery is in solver.solve and
solver.flight.

How one ``solve`` runs (all tasks belong to one ``asyncio.TaskGroup``):

- *keys*: each vertex's cache key is computed from its inputs' keys (see
  solver.cachekey); a definition-key hit needs no execution upstream. A vertex
  with content-keyed inputs materialises those inputs and asks the
  ``ContentHasher`` (in a thread) when the definition key misses.
- *results*: demanded from the output down. A hit loads its recorded results
  (``Worker.load``); a miss runs ``Worker.run`` in a thread once its inputs'
  results exist. Independent branches are awaited together, so they overlap;
  ``max_parallelism`` bounds the blocking calls in flight.
- *single flight*: an execution is shared by every solve of this scheduler on the
  same event loop that needs the same key at the same time (BuildKit's
  flightcontrol); it is cancelled only when its last waiter goes away.
- *failure*: the first error cancels the rest of the solve. A blocking call is
  told through its ``CancelToken`` and awaited until it returns, so nothing the
  solve started is still running when ``solve`` raises. A record is written
  only after ``Worker.run`` returned committed results: a failed, cancelled or
  interrupted vertex never has one.
- *refs*: the solve holds one clone per materialised vertex and releases it once
  every user has run (and at the end); the caller owns the returned refs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from solver.definition import Definition
from solver.progress import ProgressSink
from solver.solve import LoopState, Solve, SolveOptions, check_order
from solver.worker import ContentHasher, Ref, Worker

if TYPE_CHECKING:
    from solver.cachestore import CacheStore

R = TypeVar("R", bound=Ref)
T = TypeVar("T")

__all__ = ["Scheduler", "SolveOptions", "run_interruptible"]


class Scheduler(Generic[R]):
    """Solves definitions with ``worker``, caching results in ``cache``.

    Args:
        worker: executes ops and loads cached results (its own ref type ``R``).
        cache: the cache index; None caches nothing (every vertex runs).
        sink: receives every progress event (from the loop and worker threads).
        max_parallelism: blocking calls (runs, content hashing) at once per event
            loop; default the CPU count.
        hasher: content checksums; None turns content keys off, so nothing that
            reads a volatile source (the local context) is ever cached.
    """

    def __init__(
        self,
        worker: Worker[R],
        cache: CacheStore | None,
        sink: ProgressSink,
        max_parallelism: int | None = None,
        hasher: ContentHasher[R] | None = None,
    ) -> None:
        self.worker: Worker[Any] = worker
        self.cache = cache
        self.sink = sink
        self.hasher: ContentHasher[Any] | None = hasher
        self.max_parallelism = max(1, max_parallelism or os.cpu_count() or 1)
        self._states: dict[asyncio.AbstractEventLoop, LoopState] = {}
        self._states_lock = threading.Lock()  # solves may run on loops in several threads

    def loop_state(self) -> LoopState:
        """The semaphore and flights shared by this scheduler's solves on the running
        loop (solves on different loops share neither: ``max_parallelism`` is per loop)."""
        loop = asyncio.get_running_loop()
        with self._states_lock:
            for old in [lp for lp in self._states if lp.is_closed()]:
                del self._states[old]
            if loop not in self._states:
                self._states[loop] = LoopState(asyncio.Semaphore(self.max_parallelism))
            return self._states[loop]

    async def solve(
        self, definition: Definition, options: SolveOptions | None = None
    ) -> Sequence[R]:
        """Build ``definition.output``; returns its ref (owned by the caller), or
        ``()`` for a definition without output.

        Raises:
            SolveError: a vertex failed (the first failure; the rest were cancelled).
            ValueError: an op reads an op that is not defined before it.
        """
        if definition.output is None:
            return ()
        check_order(definition)
        run = Solve(self, definition, options or SolveOptions())
        return cast(Sequence[R], await run.run())


def run_interruptible(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, where SIGINT and SIGTERM cancel ``main`` reliably.

    ``asyncio.run``'s own SIGINT handling misses a signal that the kernel delivers
    to a worker thread while the loop sleeps in ``select`` (the build then hangs
    until the step ends). Here the loop's signal handlers (with a wakeup fd) are
    used instead: ``main`` is cancelled, cleans up (running steps are told to
    stop and awaited), and then ``KeyboardInterrupt`` is raised. Outside the main
    thread this is plain ``asyncio.run``.

    Raises:
        KeyboardInterrupt: a signal arrived; ``main`` has finished cleaning up.
    """

    async def runner() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        interrupted: list[int] = []
        installed: list[signal.Signals] = []

        def on_signal(signum: signal.Signals) -> None:
            interrupted.append(signum)
            task.cancel()

        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, on_signal, signum)
                installed.append(signum)
        try:
            return await main
        except asyncio.CancelledError:
            if interrupted:
                raise KeyboardInterrupt from None
            raise
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)

    return asyncio.run(runner())
