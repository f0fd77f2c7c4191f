"""Shared executions and cancellable blocking calls, for the scheduler.

May import: solver.worker, stdlib.

``run_blocking`` runs a blocking worker call in a thread; if the awaiting task is
cancelled, it fires the call's ``CancelToken``, waits until the call returns (so
nothing keeps running behind the caller's back), disposes of what the call
returned anyway, and re-raises the cancellation.

A ``Flight`` is one execution shared by every solve that needs the same key at
the same time (BuildKit's flightcontrol). ``join_flight`` waits for it and hands
each waiter its own clones; the execution is cancelled only when its last
waiter goes away, and its own refs are released once every waiter has cloned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from solver.worker import Ref, RunContext

__all__ = ["Flight", "join_flight", "release_all", "run_blocking"]

T = TypeVar("T")


@dataclass
class Flight:
    """One shared execution and how many solves wait for it."""

    task: asyncio.Task[tuple[Ref, ...]]
    waiters: int = 0
    released: bool = False


async def run_blocking(
    ctx: RunContext, call: Callable[[], T], discard: Callable[[T], None] | None
) -> T:
    """Run ``call`` in a thread; on cancellation fire ``ctx.cancel``, wait for the
    call to return (``discard`` what it returned anyway), then re-raise."""
    future = asyncio.get_running_loop().run_in_executor(None, call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        ctx.cancel.cancel()
        while not future.done():
            try:
                await asyncio.wait([future])
            except asyncio.CancelledError:
                continue
        if not future.cancelled() and future.exception() is None and discard is not None:
            discard(future.result())
        elif not future.cancelled():
            future.exception()  # retrieved: the cancellation is what we report
        raise


async def join_flight(flight: Flight) -> tuple[Ref, ...]:
    """Wait for a shared execution; returns clones owned by the caller."""
    flight.waiters += 1
    try:
        refs = await asyncio.shield(flight.task)
        return tuple(r.clone() for r in refs)
    except asyncio.CancelledError:
        if flight.waiters == 1 and not flight.task.done():
            flight.task.cancel()  # the last waiter left: stop the execution
            while not flight.task.done():
                try:
                    await asyncio.wait([flight.task])
                except asyncio.CancelledError:
                    continue
        raise
    finally:
        flight.waiters -= 1
        task = flight.task
        if flight.waiters == 0 and task.done() and not flight.released:
            flight.released = True
            if not task.cancelled() and task.exception() is None:
                release_all(task.result())


def release_all(refs: Sequence[Ref] | None) -> None:
    for ref in refs or ():
        ref.release()
