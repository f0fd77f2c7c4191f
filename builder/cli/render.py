"""Progress renderers for ``pybuild build``: plain text like BuildKit's, rawjson, quiet.

May import: stdlib, solver.progress, solver.digest, frontend.errors.

Plain output, one block per vertex, numbered in the order they start::

    #3 [build 2/5] RUN make
    #3 0.105 compiling…
    #3 DONE 0.4s

    #4 [build 3/5] COPY . .
    #4 CACHED

Renderers are ``ProgressSink``s: ``emit`` is called from the event loop and from
worker threads, so each holds a lock and writes whole lines.
"""

from __future__ import annotations

import json
import threading
from enum import Enum
from typing import TextIO

from solver.digest import Digest
from solver.progress import (
    BuildWarning,
    CacheMissReason,
    Event,
    Outcome,
    VertexCompleted,
    VertexLog,
    VertexStarted,
    event_to_json,
)

__all__ = [
    "PlainRenderer",
    "ProgressMode",
    "QuietRenderer",
    "RawJsonRenderer",
    "Renderer",
    "make_renderer",
]


class ProgressMode(Enum):
    AUTO = "auto"
    PLAIN = "plain"
    TTY = "tty"
    RAWJSON = "rawjson"
    QUIET = "quiet"


class PlainRenderer:
    """BuildKit's ``--progress=plain`` format."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()
        self._numbers: dict[Digest, int] = {}
        self._started: dict[Digest, float] = {}
        self._partial: dict[Digest, bytes] = {}
        self._misses: dict[Digest, tuple[str, ...]] = {}

    def emit(self, event: Event) -> None:
        with self._lock:
            match event:
                case VertexStarted():
                    self._start(event)
                case VertexLog():
                    self._log(event)
                case VertexCompleted():
                    self._complete(event)
                case CacheMissReason():
                    self._misses[event.vertex] = tuple(str(c) for c in event.causes)
                    if event.vertex in self._started:
                        self._print_misses(event.vertex)
                case BuildWarning():
                    where = f"{event.span.file}:{event.span.line}: " if event.span else ""
                    self._write(f"WARNING: {where}{event.rule}: {event.message}")
                case _:
                    pass

    def _number(self, vertex: Digest) -> int:
        if vertex not in self._numbers:
            self._numbers[vertex] = len(self._numbers) + 1
        return self._numbers[vertex]

    def _start(self, event: VertexStarted) -> None:
        n = self._number(event.vertex)
        self._started[event.vertex] = event.timestamp
        self._write(f"\n#{n} {event.name or event.vertex.hex[:12]}")
        self._print_misses(event.vertex)

    def _print_misses(self, vertex: Digest) -> None:
        for cause in self._misses.pop(vertex, ()):
            self._write(f"#{self._number(vertex)} cache miss: {cause}")

    def _log(self, event: VertexLog) -> None:
        n = self._number(event.vertex)
        data = self._partial.pop(event.vertex, b"") + event.data
        *lines, rest = data.split(b"\n")
        if rest:
            self._partial[event.vertex] = rest
        elapsed = event.timestamp - self._started.get(event.vertex, event.timestamp)
        for line in lines:
            self._write(f"#{n} {elapsed:.3f} {line.decode('utf-8', 'replace')}")

    def _complete(self, event: VertexCompleted) -> None:
        n = self._number(event.vertex)
        rest = self._partial.pop(event.vertex, b"")
        if rest:
            self._write(f"#{n} {rest.decode('utf-8', 'replace')}")
        match event.outcome:
            case Outcome.CACHED:
                self._write(f"#{n} CACHED")
            case Outcome.EXECUTED:
                self._write(f"#{n} DONE {event.duration:.1f}s")
            case Outcome.FAILED:
                self._write(f"#{n} ERROR: {event.error}")
            case Outcome.CANCELLED:
                self._write(f"#{n} CANCELED")

    def _write(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def summary(self, text: str) -> None:
        """A closing line (``naming to …``, ``writing image …``)."""
        with self._lock:
            self._write(text)


class RawJsonRenderer:
    """One JSON object per event per line."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        line = json.dumps(event_to_json(event), sort_keys=True)
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def summary(self, text: str) -> None:
        """Nothing: rawjson output is events only."""


class QuietRenderer:
    """Prints warnings only; the caller prints the image ID."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        if isinstance(event, BuildWarning):
            with self._lock:
                self.err.write(f"WARNING: {event.rule}: {event.message}\n")

    def summary(self, text: str) -> None:
        """Nothing: quiet."""


Renderer = PlainRenderer | RawJsonRenderer | QuietRenderer


def make_renderer(mode: ProgressMode, out: TextIO, err: TextIO) -> Renderer:
    """The renderer for ``mode`` (``auto`` and ``tty`` are plain for now), writing to
    ``err`` like docker (rawjson goes to ``out``)."""
    match mode:
        case ProgressMode.QUIET:
            return QuietRenderer(err)
        case ProgressMode.RAWJSON:
            return RawJsonRenderer(out)
        case _:
            return PlainRenderer(err)

