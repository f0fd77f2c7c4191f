"""A build definition: ops by digest, display metadata beside them, the output.

May import: solver.ops, solver.digest, solver.source.

``metadata`` is never part of any digest: renaming a step's progress label, or
moving it to another line of the Dockerfile, leaves every op digest unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from solver.digest import Digest
from solver.ops import Input, Op
from solver.source import Span

__all__ = ["Definition", "DefinitionBuilder", "OpMetadata"]


@dataclass(frozen=True, slots=True)
class OpMetadata:
    """How a vertex is shown: ``name`` like ``[build 3/5] RUN make``, the
    Dockerfile spans it came from, the stage it belongs to."""

    name: str = ""
    spans: tuple[Span, ...] = ()
    stage: str = ""
    ignore_cache: bool = False


@dataclass(frozen=True)
class Definition:
    """Ops keyed by digest (inputs before users, in insertion order)."""

    ops: Mapping[Digest, Op]
    metadata: Mapping[Digest, OpMetadata]
    output: Input | None

    def op(self, digest: Digest) -> Op:
        return self.ops[digest]


@dataclass
class DefinitionBuilder:
    """Collects ops while compiling; the same op added twice is stored once
    (its metadata spans are merged)."""

    ops: dict[Digest, Op] = field(default_factory=dict)
    metadata: dict[Digest, OpMetadata] = field(default_factory=dict)

    def add(self, op: Op, meta: OpMetadata | None = None) -> Input:
        """Add ``op`` (its inputs must have been added before); returns its output 0."""
        digest = op.digest
        for inp in op.inputs:
            if inp.digest not in self.ops:
                raise ValueError(f"input {inp.digest} of {digest} was not added first")
        meta = meta or OpMetadata()
        if digest in self.ops:
            old = self.metadata[digest]
            spans = old.spans + tuple(s for s in meta.spans if s not in old.spans)
            self.metadata[digest] = OpMetadata(old.name, spans, old.stage, old.ignore_cache)
        else:
            self.ops[digest] = op
            self.metadata[digest] = meta
        return Input(digest, 0)

    def build(self, output: Input | None) -> Definition:
        """Freeze, keeping only ops the output needs (all of them if None)."""
        if output is None:
            return Definition(dict(self.ops), dict(self.metadata), None)
        needed: set[Digest] = set()
        stack = [output.digest]
        while stack:
            d = stack.pop()
            if d in needed:
                continue
            needed.add(d)
            stack += [i.digest for i in self.ops[d].inputs]
        ops = {d: op for d, op in self.ops.items() if d in needed}
        meta = {d: m for d, m in self.metadata.items() if d in needed}
        return Definition(ops, meta, output)
