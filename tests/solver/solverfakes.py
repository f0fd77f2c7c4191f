"""A deterministic in-memory Worker and ContentHasher for the scheduler tests.

A result is a tiny filesystem (path → bytes). ExecOp argv is a toy language:

    ("write", PATH, TEXT, …)   the root input plus PATH=TEXT (extra args are ignored:
                               two different commands with the same output)
    ("sleep", SECONDS, …)      wait (cancellable), then like write with the rest
    ("fail", MESSAGE)          log two lines, then raise OpFailed(MESSAGE, 2)
    ("hang",)                  wait until cancelled
    anything else              the root input plus /argv=<argv joined>

FileOp Copy copies ``src`` (a file name or ``*``) from its source into ``dest``.
Every call is recorded with its thread-side start/end times, so tests assert on
overlap and concurrency, never on wall-clock totals.
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from solver.definition import Definition, DefinitionBuilder, OpMetadata
from solver.digest import Digest, sha256_bytes
from solver.errors import OpFailed
from solver.ops import (
    Copy,
    ExecMeta,
    ExecOp,
    FileOp,
    ImageSource,
    Input,
    LocalSource,
    Mount,
    Op,
    SourceOp,
)
from solver.progress import LogStream
from solver.worker import Cancelled, ContentChecksum, FileDigest, ResultId, RunContext

Files = tuple[tuple[str, bytes], ...]


@dataclass
class Call:
    digest: Digest
    args: tuple[str, ...]
    start: float
    end: float = 0.0
    outcome: str = "running"


class FakeRef:
    def __init__(self, worker: FakeWorker, rid: str) -> None:
        self.worker = worker
        self.rid = rid
        self.released = False

    @property
    def files(self) -> dict[str, bytes]:
        return dict(self.worker.store[self.rid])

    def describe(self) -> ResultId:
        return ResultId(self.rid, (), sum(len(v) for _, v in self.worker.store[self.rid]))

    def clone(self) -> FakeRef:
        return self.worker._handle(self.rid)

    def release(self) -> None:
        with self.worker.lock:
            if self.released:
                self.worker.double_releases += 1
                return
            self.released = True
            self.worker.live[self.rid] -= 1


@dataclass
class FakeWorker:
    contexts: dict[str, dict[str, bytes]] = field(default_factory=dict)
    store: dict[str, Files] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    loads: int = 0
    live: dict[str, int] = field(default_factory=dict)
    double_releases: int = 0
    running: int = 0
    max_running: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def _handle(self, rid: str) -> FakeRef:
        with self.lock:
            self.live[rid] = self.live.get(rid, 0) + 1
        return FakeRef(self, rid)

    def _new(self, files: Mapping[str, bytes]) -> FakeRef:
        with self.lock:
            rid = f"r{next(self._ids)}"
            self.store[rid] = tuple(sorted(files.items()))
        return self._handle(rid)

    def live_handles(self) -> int:
        with self.lock:
            return sum(self.live.values())

    def executed(self) -> list[tuple[str, ...]]:
        return [c.args for c in self.calls if c.outcome == "done"]

    def run(self, op: Op, inputs: Sequence[FakeRef], ctx: RunContext) -> Sequence[FakeRef]:
        args = op.meta.args if isinstance(op, ExecOp) else (type(op).__name__,)
        call = Call(ctx.vertex, args, time.monotonic())
        with self.lock:
            self.calls.append(call)
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            files = self._files(op, inputs, ctx)
            call.outcome = "done"
            return [self._new(files)]
        except Cancelled:
            call.outcome = "cancelled"
            raise
        except OpFailed:
            call.outcome = "failed"
            raise
        finally:
            call.end = time.monotonic()
            with self.lock:
                self.running -= 1

    def _files(self, op: Op, inputs: Sequence[FakeRef], ctx: RunContext) -> dict[str, bytes]:
        match op:
            case SourceOp(source=ImageSource(ref=ref)):
                return {"/image": ref.encode()}
            case SourceOp(source=LocalSource(name=name)):
                return dict(self.contexts.get(ctx.session, {}) if name == "context" else {})
            case ExecOp():
                return self._exec(op.meta.args, inputs[0].files if inputs else {}, ctx)
            case FileOp():
                return _apply(op, dict(zip(op.inputs, inputs, strict=True)))
        raise AssertionError(f"unexpected op {op}")

    def _exec(self, args: tuple[str, ...], root: dict[str, bytes], ctx: RunContext
              ) -> dict[str, bytes]:
        match args:
            case ("sleep", seconds, *rest):
                if ctx.cancel.wait(float(seconds)):
                    raise Cancelled("cancelled")
                return self._exec(tuple(rest), root, ctx) if rest else root
            case ("write", path, text, *_):
                return {**root, path: text.encode()}
            case ("fail", message):
                ctx.log(LogStream.STDOUT, b"step output 1\nstep output 2\n")
                raise OpFailed(message, 2)
            case ("hang",):
                ctx.cancel.wait()
                raise Cancelled("cancelled")
        return {**root, "/argv": " ".join(args).encode()}

    def load(self, results: Sequence[ResultId], ctx: RunContext) -> Sequence[FakeRef] | None:
        with self.lock:
            self.loads += 1
            if any(r.id not in self.store for r in results):
                return None
        return [self._handle(r.id) for r in results]


def _apply(op: FileOp, refs: Mapping[Input, FakeRef]) -> dict[str, bytes]:
    files = refs[op.base].files if op.base is not None else {}
    for action in op.actions:
        assert isinstance(action, Copy)
        for path, data in _select(refs[action.source].files, action.src).items():
            files[action.dest.rstrip("/") + "/" + path.rsplit("/", 1)[-1]] = data
    return files


def _select(files: Mapping[str, bytes], pattern: str) -> dict[str, bytes]:
    pattern = pattern.lstrip("/")
    return {p: d for p, d in files.items() if fnmatch.fnmatchcase(p.lstrip("/"), pattern)}


@dataclass
class FakeHasher:
    """Checksums exactly the files a Copy selects (or the whole input otherwise)."""

    calls: int = 0

    def checksum(self, op: Op, source: Input, ref: FakeRef, ctx: RunContext) -> ContentChecksum:
        self.calls += 1
        files = ref.files
        if isinstance(op, FileOp):
            chosen: dict[str, bytes] = {}
            for action in op.actions:
                if isinstance(action, Copy) and action.source == source:
                    chosen |= _select(files, action.src)
            files = chosen
        entries = tuple(FileDigest(p, sha256_bytes(d)) for p, d in sorted(files.items()))
        blob = "\n".join(f"{e.path}\0{e.digest}" for e in entries).encode()
        return ContentChecksum(Digest.from_hex(hashlib.sha256(blob).hexdigest()), entries)


# --- definitions ------------------------------------------------------------------------


def run_op(base: Input, *args: str, env: tuple[str, ...] = ()) -> ExecOp:
    return ExecOp(ExecMeta(args, env), (Mount("/", source=base, output=True),))


def copy_op(base: Input, source: Input, src: str, dest: str = "/") -> FileOp:
    return FileOp(base, (Copy(source, src, dest),))


def meta(name: str, stage: str = "", line: int = 1) -> OpMetadata:
    from solver.source import Span

    return OpMetadata(name, (Span("Dockerfile", line, 1, line, 10),), stage)


def chain(*steps: tuple[str, ...], image: str = "busybox@sha256:" + "1" * 64,
          stage: str = "main") -> Definition:
    """FROM image, then one RUN per step (each argv), in stage ``stage``."""
    b = DefinitionBuilder()
    head = b.add(SourceOp(ImageSource(image)), meta(f"[{stage} 1] FROM", stage))
    for n, args in enumerate(steps, start=2):
        head = b.add(run_op(head, *args), meta(f"[{stage} {n}] RUN {' '.join(args)}", stage, n))
    return b.build(head)
