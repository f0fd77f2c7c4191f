"""The build graph as a networkx DiGraph: cycle check, generations, output subgraph, DOT.

May import: networkx (this is its only door), solver.definition, solver.ops, solver.digest.

A node is an op digest with attributes ``kind`` (an ``OpKind``) and ``name`` (the
metadata name, "" if none); an edge runs from an input to the op that uses it,
with ``indices`` (the input's output indices the user reads). Everything here is
deterministic: nodes within a generation are ordered by digest, so the same
definition always gives the same DOT text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import networkx as nx

from solver.definition import Definition
from solver.digest import Digest
from solver.ops import ExecOp, FileOp, Input, MergeOp, Op, SourceOp

__all__ = [
    "GraphCycleError",
    "OpKind",
    "definition_to_dot",
    "definition_to_json",
    "op_kind",
    "subgraph_for",
    "to_networkx",
    "topological_generations",
]


class OpKind(Enum):
    """What an op does, for display (the DOT shape) and for schedulers."""

    SOURCE = "source"
    EXEC = "exec"
    FILE = "file"
    MERGE = "merge"


_SHAPES = {
    OpKind.SOURCE: "cylinder",
    OpKind.EXEC: "box",
    OpKind.FILE: "note",
    OpKind.MERGE: "invtrapezium",
}


class GraphCycleError(ValueError):
    """The definition's ops depend on each other in a cycle (or on a missing op)."""


@dataclass(frozen=True, slots=True)
class _Node:
    digest: Digest
    kind: OpKind
    name: str


def op_kind(op: Op) -> OpKind:
    """The ``OpKind`` of ``op``."""
    match op:
        case SourceOp():
            return OpKind.SOURCE
        case ExecOp():
            return OpKind.EXEC
        case FileOp():
            return OpKind.FILE
        case MergeOp():
            return OpKind.MERGE
    raise TypeError(f"not an op: {type(op).__name__}")


def to_networkx(definition: Definition) -> nx.DiGraph[Digest]:
    """The definition as a DiGraph (input → user), checked to be acyclic.

    Raises:
        GraphCycleError: an op reads an op that is not in the definition, or
            the ops form a cycle (the message names the ops on it).
    """
    graph: nx.DiGraph[Digest] = nx.DiGraph()
    for digest, op in definition.ops.items():
        meta = definition.metadata.get(digest)
        graph.add_node(digest, kind=op_kind(op), name=meta.name if meta else "")
    for digest, op in definition.ops.items():
        for inp in op.inputs:
            if inp.digest not in definition.ops:
                raise GraphCycleError(f"op {_short(digest)} reads missing op {_short(inp.digest)}")
            if graph.has_edge(inp.digest, digest):
                indices = graph.edges[inp.digest, digest]["indices"]
                graph.edges[inp.digest, digest]["indices"] = tuple(sorted({*indices, inp.index}))
            else:
                graph.add_edge(inp.digest, digest, indices=(inp.index,))
    _check_acyclic(graph)
    return graph


def _check_acyclic(graph: nx.DiGraph[Digest]) -> None:
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join(_label(graph, u) for u, _v in cycle)
    raise GraphCycleError(f"build graph has a cycle: {path} -> {_label(graph, cycle[0][0])}")


def topological_generations(definition: Definition) -> list[tuple[Digest, ...]]:
    """Ops in dependency layers: generation 0 has no inputs, and every op's inputs
    are in earlier generations. Ops within a generation are sorted by digest.

    Raises:
        GraphCycleError: see ``to_networkx``.
    """
    graph = to_networkx(definition)
    return [tuple(sorted(gen)) for gen in nx.topological_generations(graph)]


def subgraph_for(definition: Definition, output: Input | Digest) -> Definition:
    """The definition pruned to the ops ``output`` needs, with ``output`` as its output.

    Raises:
        KeyError: ``output`` names no op of the definition.
        GraphCycleError: see ``to_networkx``.
    """
    out = output if isinstance(output, Input) else Input(output, 0)
    if out.digest not in definition.ops:
        raise KeyError(f"no op {out.digest} in the definition")
    graph = to_networkx(definition)
    needed = nx.ancestors(graph, out.digest) | {out.digest}
    ops = {d: op for d, op in definition.ops.items() if d in needed}
    meta = {d: m for d, m in definition.metadata.items() if d in needed}
    return Definition(ops, meta, out)


def _ordered_nodes(graph: nx.DiGraph[Digest]) -> list[_Node]:
    return [
        _Node(d, graph.nodes[d]["kind"], graph.nodes[d]["name"])
        for gen in nx.topological_generations(graph)
        for d in sorted(gen)
    ]


def definition_to_dot(definition: Definition) -> str:
    """Graphviz DOT text: one node per op labelled with its metadata name and short
    digest, shaped by kind (source: cylinder, exec: box, file: note, merge:
    invtrapezium); the output op is drawn bold. Byte-identical for equal inputs.

    Raises:
        GraphCycleError: see ``to_networkx``.
    """
    graph = to_networkx(definition)
    output = definition.output.digest if definition.output else None
    lines = ["digraph build {", "  rankdir=TB;", '  node [fontname="monospace"];']
    for node in _ordered_nodes(graph):
        label = _dot_lines(node.name or node.kind.value, _short(node.digest))
        style = ', style="bold"' if node.digest == output else ""
        lines.append(f'  "{node.digest.hex}" [label={label}, shape={_SHAPES[node.kind]}{style}];')
    for u, v in sorted(graph.edges):
        lines.append(f'  "{u.hex}" -> "{v.hex}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def definition_to_json(definition: Definition) -> dict[str, Any]:
    """A display view of the graph (for ``pybuild debug graph --format json``): nodes
    in generation order with kind, name, generation and inputs; the output. The
    wire form with every op field is ``Definition.to_json()``.

    Raises:
        GraphCycleError: see ``to_networkx``.
    """
    graph = to_networkx(definition)
    gen_of = {d: i for i, gen in enumerate(nx.topological_generations(graph)) for d in gen}
    nodes = [
        {
            "digest": str(node.digest),
            "kind": node.kind.value,
            "name": node.name,
            "generation": gen_of[node.digest],
            "inputs": [
                {"digest": str(i.digest), "index": i.index}
                for i in definition.ops[node.digest].inputs
            ],
        }
        for node in _ordered_nodes(graph)
    ]
    out = definition.output
    return {
        "nodes": nodes,
        "output": None if out is None else {"digest": str(out.digest), "index": out.index},
    }


def _short(digest: Digest) -> str:
    return digest.hex[:12]


def _label(graph: nx.DiGraph[Digest], digest: Digest) -> str:
    name = graph.nodes[digest].get("name", "")
    return f"{name} ({_short(digest)})" if name else _short(digest)


def _dot_lines(*parts: str) -> str:
    """A DOT double-quoted string showing ``parts`` on separate lines."""
    escaped = (p.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for p in parts)
    return '"' + "\\n".join(escaped) + '"'
