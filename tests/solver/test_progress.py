"""Progress events and the fan-out bus (threads and asyncio subscribers)."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from solver.digest import sha256_bytes
from solver.progress import (
    BuildWarning,
    CacheMissReason,
    Event,
    LogStream,
    MissCause,
    MissKind,
    Outcome,
    ProgressBus,
    RecordingSink,
    VertexCompleted,
    VertexLog,
    VertexStarted,
    VertexStatus,
    event_to_json,
)
from solver.source import Span

V = sha256_bytes(b"vertex")


def test_every_subscriber_gets_every_event_in_order() -> None:
    bus = ProgressBus()
    first, second = bus.subscribe(), bus.subscribe()
    events: list[Event] = [VertexStarted(V, "step"), VertexLog(V, LogStream.STDOUT, b"hi\n"),
              VertexCompleted(V, Outcome.EXECUTED, 0.5)]
    for event in events:
        bus.emit(event)
    bus.close()
    assert list(first) == events and list(second) == events


def test_events_from_many_threads_all_arrive() -> None:
    bus = ProgressBus()
    sub = bus.subscribe()

    def produce(n: int) -> None:
        for i in range(200):
            bus.emit(VertexStatus(V, f"t{n}", i, 200))

    threads = [threading.Thread(target=produce, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bus.close()
    received = list(sub)
    assert len(received) == 800
    for n in range(4):  # per producer, order is kept
        mine = [e.current for e in received if isinstance(e, VertexStatus) and e.id == f"t{n}"]
        assert mine == list(range(200))


def test_async_subscriber_receives_events_emitted_from_a_thread() -> None:
    async def main() -> list[Event]:
        bus = ProgressBus()
        sub = bus.subscribe_async()

        def worker() -> None:
            for i in range(3):
                bus.emit(VertexStatus(V, "download", i, 3))
            bus.close()

        thread = threading.Thread(target=worker)
        thread.start()
        got = [event async for event in sub]
        thread.join()
        return got

    got = asyncio.run(main())
    assert [e.current for e in got if isinstance(e, VertexStatus)] == [0, 1, 2]
    assert len(got) == 3


def test_subscribing_after_close_ends_at_once_and_late_events_are_dropped() -> None:
    bus = ProgressBus()
    bus.close()
    bus.emit(VertexStarted(V))
    assert list(bus.subscribe()) == []
    bus.close()  # idempotent


def test_get_with_timeout_returns_none_when_nothing_arrives() -> None:
    sub = ProgressBus().subscribe()
    assert sub.get(timeout=0.01) is None


def test_subscribe_async_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError):
        ProgressBus().subscribe_async()


def test_recording_sink_keeps_events_in_order() -> None:
    sink = RecordingSink()
    sink.emit(VertexStarted(V))
    sink.emit(VertexCompleted(V, Outcome.CACHED))
    assert [type(e).__name__ for e in sink.events] == ["VertexStarted", "VertexCompleted"]
    assert sink.events[1].cached  # type: ignore[union-attr]


def test_events_serialise_to_plain_json() -> None:
    span = Span("Dockerfile", 3, 1, 3, 9)
    docs = [
        event_to_json(VertexLog(V, LogStream.STDERR, b"\xffoops", timestamp=1.0)),
        event_to_json(CacheMissReason(V, (MissCause(MissKind.FILE, "a.txt", "changed"),), 2.0)),
        event_to_json(BuildWarning("JSONArgsRecommended", "use JSON", span, None, 3.0)),
    ]
    json.dumps(docs)  # plain types only
    assert docs[0] == {"type": "VertexLog", "vertex": str(V), "stream": "stderr",
                       "data": "\ufffdoops", "timestamp": 1.0}
    assert docs[1]["causes"] == [{"kind": "file", "subject": "a.txt", "detail": "changed"}]
    assert docs[2]["span"] == span.to_json() and docs[2]["vertex"] is None


def test_miss_cause_reads_as_a_sentence() -> None:
    assert str(MissCause(MissKind.ENV, "VERSION", '"1" -> "2"')) == 'env VERSION: "1" -> "2"'
    assert str(MissCause(MissKind.NEW)) == "new"
