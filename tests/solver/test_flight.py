"""Cancellable blocking calls and shared executions."""

from __future__ import annotations

import asyncio
import threading

import pytest

from solver.digest import sha256_bytes
from solver.flight import Flight, join_flight, run_blocking
from solver.worker import Ref, ResultId, RunContext

V = sha256_bytes(b"vertex")


class Handle:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    def describe(self) -> ResultId:
        return ResultId(self.name)

    def clone(self) -> Handle:
        self.log.append(f"clone {self.name}")
        return Handle(self.log, self.name + "'")

    def release(self) -> None:
        self.log.append(f"release {self.name}")


def test_cancelled_call_is_told_awaited_and_its_result_discarded() -> None:
    ctx = RunContext(V, "", "", lambda e: None)
    returned = threading.Event()
    discarded: list[str] = []

    def stubborn() -> str:
        ctx.cancel.wait()
        returned.set()
        return "result made anyway"

    async def main() -> None:
        task = asyncio.ensure_future(run_blocking(ctx, stubborn, discarded.append))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert returned.is_set()  # the thread finished before the cancellation surfaced

    asyncio.run(main())
    assert ctx.cancel.cancelled and discarded == ["result made anyway"]


def test_flight_gives_each_waiter_a_clone_and_releases_its_own_at_the_end() -> None:
    log: list[str] = []

    async def main() -> None:
        async def execute() -> tuple[Ref, ...]:
            await asyncio.sleep(0.02)
            return (Handle(log, "r"),)

        flight = Flight(asyncio.ensure_future(execute()))
        got = await asyncio.gather(join_flight(flight), join_flight(flight))
        assert [h[0].name for h in got] == ["r'", "r'"]  # type: ignore[attr-defined]

    asyncio.run(main())
    assert log == ["clone r", "clone r", "release r"]


def test_flight_is_cancelled_only_when_its_last_waiter_leaves() -> None:
    async def main() -> None:
        started = asyncio.Event()

        async def execute() -> tuple[Ref, ...]:
            started.set()
            await asyncio.sleep(10)
            return ()

        flight = Flight(asyncio.ensure_future(execute()))
        first = asyncio.ensure_future(join_flight(flight))
        second = asyncio.ensure_future(join_flight(flight))
        await started.wait()
        first.cancel()
        await asyncio.sleep(0)
        with pytest.raises(asyncio.CancelledError):
            await first
        assert not flight.task.done()
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        assert flight.task.cancelled()

    asyncio.run(main())
