"""The worker-side values: cancel tokens and run contexts."""

from __future__ import annotations

import threading

import pytest

from solver.digest import sha256_bytes
from solver.progress import Event, LogStream, RecordingSink, VertexLog, VertexStatus
from solver.worker import Cancelled, CancelToken, ResultId, ResultRecord, RunContext

V = sha256_bytes(b"vertex")


def test_cancel_runs_callbacks_once_and_late_callbacks_at_once() -> None:
    token = CancelToken()
    calls: list[str] = []
    token.on_cancel(lambda: calls.append("early"))
    assert not token.cancelled
    token.raise_if_cancelled()
    token.cancel()
    token.cancel()
    token.on_cancel(lambda: calls.append("late"))
    assert calls == ["early", "late"]
    with pytest.raises(Cancelled):
        token.raise_if_cancelled()


def test_wait_returns_when_another_thread_cancels() -> None:
    token = CancelToken()
    timer = threading.Timer(0.05, token.cancel)
    timer.start()
    assert token.wait(timeout=10) is True
    timer.join()
    assert CancelToken().wait(timeout=0.01) is False


def test_run_context_reports_logs_and_status_and_keeps_a_tail() -> None:
    sink = RecordingSink()
    ctx = RunContext(V, "RUN make", "session-1", sink.emit)
    for i in range(30):
        ctx.log(LogStream.STDOUT, f"line {i}\n".encode())
    ctx.status("layer", 5, 10)
    events: list[Event] = sink.events
    assert sum(isinstance(e, VertexLog) for e in events) == 30
    assert events[-1] == VertexStatus(V, "layer", 5, 10, timestamp=events[-1].timestamp)
    assert ctx.log_tail(3) == ("line 27", "line 28", "line 29")
    assert len(ctx.log_tail()) == 20


def test_run_context_tail_is_bounded() -> None:
    ctx = RunContext(V, "", "", lambda e: None)
    ctx.log(LogStream.STDERR, b"x" * 100_000 + b"\nlast\n")
    assert ctx.log_tail(1) == ("last",)
    assert sum(len(line) for line in ctx.log_tail(1000)) <= RunContext.TAIL_BYTES


def test_result_record_size_sums_its_results() -> None:
    record = ResultRecord(V, (ResultId("a", (), 3), ResultId("b", (), 4)), 0.0, 0.0)
    assert record.size == 7
