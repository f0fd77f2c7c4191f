"""Progress events keyed by vertex digest, the sink protocol, and a fan-out bus.

May import: solver.digest, solver.source, stdlib.

Events are frozen values; ``timestamp`` is wall-clock seconds (``time.time()``)
so that renderers, rawjson output and tests can order them::

    VertexStarted      a vertex began executing (or was found in the cache)
    VertexCompleted    it finished: outcome EXECUTED | CACHED | FAILED | CANCELLED
    VertexLog          bytes the step wrote to stdout or stderr
    VertexStatus       a sub-task's progress (a download, a layer), current/total
    CacheMissReason    why a vertex missed the cache (for ``--explain``)
    BuildWarning       a build check or runtime warning, with its Dockerfile span

``ProgressBus`` is the fan-out queue: ``emit`` is safe from any thread (worker
threads log through it); ``subscribe()`` gives a blocking iterator for a thread,
``subscribe_async()`` an async iterator for a coroutine. ``close()`` ends every
subscription after the events already emitted.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from solver.digest import Digest
from solver.source import Span

__all__ = [
    "AsyncSubscription",
    "BuildWarning",
    "CacheMissReason",
    "Event",
    "LogStream",
    "MissCause",
    "MissKind",
    "Outcome",
    "ProgressBus",
    "ProgressSink",
    "RecordingSink",
    "Subscription",
    "VertexCompleted",
    "VertexLog",
    "VertexStarted",
    "VertexStatus",
    "event_to_json",
]


class Outcome(Enum):
    """How a vertex ended."""

    EXECUTED = "executed"
    CACHED = "cached"
    FAILED = "failed"
    CANCELLED = "cancelled"


class LogStream(Enum):
    STDOUT = "stdout"
    STDERR = "stderr"


class MissKind(Enum):
    """The kind of input whose change made a vertex miss the cache."""

    NEW = "new"  # no earlier build of this step is known
    NO_CACHE = "no-cache"  # --no-cache, --no-cache-filter or ignore_cache
    COMMAND = "command"  # the RUN argv
    ENV = "env"  # an ENV or ARG value the step sees
    BASE_IMAGE = "base-image"  # the source image (its digest)
    SOURCE = "source"  # another source's definition (git ref, URL, context name)
    FILE = "file"  # a file the step reads (added, removed or changed)
    INPUT = "input"  # an upstream step it depends on changed
    OPTION = "option"  # anything else of the op: workdir, user, mounts, chown, …
    EVICTED = "evicted"  # same key, but the cached result was pruned


@dataclass(frozen=True, slots=True)
class MissCause:
    """One reason for a miss: ``subject`` names the file, variable or step."""

    kind: MissKind
    subject: str = ""
    detail: str = ""

    def __str__(self) -> str:
        text = self.kind.value
        if self.subject:
            text += f" {self.subject}"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(frozen=True, slots=True)
class VertexStarted:
    vertex: Digest
    name: str = ""
    timestamp: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class VertexCompleted:
    vertex: Digest
    outcome: Outcome
    duration: float = 0.0
    error: str = ""
    timestamp: float = field(default_factory=time.time)

    @property
    def cached(self) -> bool:
        return self.outcome is Outcome.CACHED


@dataclass(frozen=True, slots=True)
class VertexLog:
    vertex: Digest
    stream: LogStream
    data: bytes
    timestamp: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class VertexStatus:
    """Progress of sub-task ``id`` of a vertex; ``total`` None when unknown."""

    vertex: Digest
    id: str
    current: int
    total: int | None = None
    timestamp: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class CacheMissReason:
    vertex: Digest
    causes: tuple[MissCause, ...]
    timestamp: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class BuildWarning:
    """A warning (build check ``rule``, or a runtime one with rule "")."""

    rule: str
    message: str
    span: Span | None = None
    vertex: Digest | None = None
    timestamp: float = field(default_factory=time.time)


Event = (
    VertexStarted | VertexCompleted | VertexLog | VertexStatus | CacheMissReason | BuildWarning
)


class ProgressSink(Protocol):
    """Receives events; ``emit`` must be safe to call from any thread."""

    def emit(self, event: Event) -> None: ...


class RecordingSink:
    """Keeps every event in order (for tests and for ``--metadata-file``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []

    def emit(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)


class _Closed:
    pass


_CLOSED = _Closed()


class Subscription:
    """A blocking iterator over the bus's events (for a renderer thread)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._items: collections.deque[Event | _Closed] = collections.deque()

    def _push(self, item: Event | _Closed) -> None:
        with self._cond:
            self._items.append(item)
            self._cond.notify()

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None when the bus closed (or ``timeout`` ran out)."""
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._items), timeout):
                return None
            item = self._items[0]
            if isinstance(item, _Closed):
                return None
            return self._items.popleft()  # type: ignore[return-value]

    def __iter__(self) -> Iterator[Event]:
        while (event := self.get()) is not None:
            yield event


class AsyncSubscription:
    """An async iterator over the bus's events, bound to one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Event | _Closed] = asyncio.Queue()

    def _push(self, item: Event | _Closed) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            pass

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if isinstance(item, _Closed):
                self._queue.put_nowait(item)
                return
            yield item


class ProgressBus:
    """Fan-out: every event emitted reaches every subscriber, in emit order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: list[Subscription | AsyncSubscription] = []
        self._closed = False

    def subscribe(self) -> Subscription:
        """A blocking subscription; events emitted from now on reach it."""
        sub = Subscription()
        self._add(sub)
        return sub

    def subscribe_async(self) -> AsyncSubscription:
        """An async subscription bound to the running loop.

        Raises:
            RuntimeError: no event loop is running.
        """
        sub = AsyncSubscription(asyncio.get_running_loop())
        self._add(sub)
        return sub

    def _add(self, sub: Subscription | AsyncSubscription) -> None:
        with self._lock:
            if self._closed:
                sub._push(_CLOSED)
            self._subs.append(sub)

    def emit(self, event: Event) -> None:
        with self._lock:
            if self._closed:
                return
            for sub in self._subs:
                sub._push(event)

    def close(self) -> None:
        """End every subscription (idempotent); later events are dropped."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for sub in self._subs:
                sub._push(_CLOSED)


def event_to_json(event: Event) -> dict[str, Any]:
    """A plain-JSON form of ``event`` (rawjson progress, the server's stream)."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for name in event.__dataclass_fields__:
        value = getattr(event, name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, Span):
            value = value.to_json()
        elif isinstance(value, tuple):
            value = [
                {"kind": c.kind.value, "subject": c.subject, "detail": c.detail} for c in value
            ]
        out[name] = value
    return out
