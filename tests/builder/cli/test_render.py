"""Progress renderers: BuildKit-style plain lines, rawjson, quiet."""

from __future__ import annotations

import io
import json

from builder.cli.render import PlainRenderer, ProgressMode, QuietRenderer, make_renderer
from solver.digest import Digest
from solver.progress import (
    BuildWarning,
    CacheMissReason,
    LogStream,
    MissCause,
    MissKind,
    Outcome,
    VertexCompleted,
    VertexLog,
    VertexStarted,
)

A, B = Digest.from_hex("a" * 64), Digest.from_hex("b" * 64)


def test_plain_numbers_vertices_and_prefixes_log_lines() -> None:
    out = io.StringIO()
    r = PlainRenderer(out)
    r.emit(VertexStarted(A, "[build 2/3] RUN make", timestamp=10.0))
    r.emit(VertexStarted(B, "[build 1/3] FROM busybox", timestamp=10.0))
    r.emit(VertexCompleted(B, Outcome.CACHED))
    r.emit(VertexLog(A, LogStream.STDOUT, b"line one\nline ", timestamp=10.5))
    r.emit(VertexLog(A, LogStream.STDERR, b"two\n", timestamp=10.75))
    r.emit(VertexCompleted(A, Outcome.EXECUTED, duration=1.25))
    assert out.getvalue().split("\n") == [
        "", "#1 [build 2/3] RUN make", "", "#2 [build 1/3] FROM busybox", "#2 CACHED",
        "#1 0.500 line one", "#1 0.750 line two", "#1 DONE 1.2s", "",
    ]


def test_plain_shows_errors_and_an_unterminated_last_line() -> None:
    out = io.StringIO()
    r = PlainRenderer(out)
    r.emit(VertexStarted(A, "RUN false"))
    r.emit(VertexLog(A, LogStream.STDERR, b"no newline"))
    r.emit(VertexCompleted(A, Outcome.FAILED, error="exit code: 1"))
    assert out.getvalue().endswith("#1 no newline\n#1 ERROR: exit code: 1\n")


def test_quiet_prints_only_warnings_and_rawjson_one_object_per_event() -> None:
    err = io.StringIO()
    q = QuietRenderer(err)
    q.emit(VertexStarted(A, "RUN x"))
    q.emit(BuildWarning("JSONArgsRecommended", "use JSON"))
    assert err.getvalue() == "WARNING: JSONArgsRecommended: use JSON\n"
    out = io.StringIO()
    raw = make_renderer(ProgressMode.RAWJSON, out, io.StringIO())
    raw.emit(VertexCompleted(A, Outcome.CACHED, timestamp=1.0))
    doc = json.loads(out.getvalue())
    assert doc["type"] == "VertexCompleted" and doc["outcome"] == "cached"


def test_plain_prints_cache_miss_causes_under_their_step() -> None:
    out = io.StringIO()
    r = PlainRenderer(out)
    r.emit(CacheMissReason(A, (MissCause(MissKind.FILE, "notes.txt", "changed"),)))
    r.emit(VertexStarted(A, "[build 4/5] COPY notes.txt ./"))
    assert out.getvalue().splitlines() == [
        "", "#1 [build 4/5] COPY notes.txt ./", "#1 cache miss: file notes.txt: changed"]
