"""The networkx view of a definition: edges, cycles, generations, subgraphs, DOT."""

from __future__ import annotations

import pytest

from solver.definition import Definition, DefinitionBuilder, OpMetadata
from solver.digest import Digest
from solver.graph import (
    GraphCycleError,
    OpKind,
    definition_to_dot,
    definition_to_json,
    subgraph_for,
    to_networkx,
    topological_generations,
)
from solver.ops import (
    Copy,
    ExecMeta,
    ExecOp,
    FileOp,
    ImageSource,
    Input,
    LocalSource,
    MergeOp,
    Mkdir,
    Mount,
    SourceOp,
)


def _diamond() -> tuple[Definition, dict[str, Input]]:
    """base → (build, assets) → final, plus the context feeding build."""
    b = DefinitionBuilder()
    base = b.add(SourceOp(ImageSource("docker.io/library/alpine:3.20")), OpMetadata("FROM alpine"))
    ctx = b.add(SourceOp(LocalSource()), OpMetadata('load "context"'))
    build = b.add(
        ExecOp(
            ExecMeta(("make",)), (Mount("/", source=base, output=True), Mount("/src", source=ctx))
        ),
        OpMetadata("RUN make"),
    )
    assets = b.add(FileOp(base, (Mkdir("/assets"),)), OpMetadata("WORKDIR /assets"))
    final = b.add(FileOp(assets, (Copy(build, "/out", "/out"),)))
    merged = b.add(MergeOp((final, assets)), OpMetadata("LINK"))
    return b.build(merged), {
        "base": base,
        "ctx": ctx,
        "build": build,
        "assets": assets,
        "final": final,
        "merged": merged,
    }


def test_nodes_carry_kind_and_name_and_edges_run_input_to_user() -> None:
    d, n = _diamond()
    g = to_networkx(d)
    assert set(g.nodes) == set(d.ops)
    assert g.nodes[n["build"].digest]["kind"] is OpKind.EXEC
    assert g.nodes[n["ctx"].digest]["kind"] is OpKind.SOURCE
    assert g.nodes[n["assets"].digest]["kind"] is OpKind.FILE
    assert g.nodes[n["merged"].digest]["kind"] is OpKind.MERGE
    assert g.nodes[n["build"].digest]["name"] == "RUN make"
    assert g.nodes[n["final"].digest]["name"] == ""
    assert g.has_edge(n["base"].digest, n["build"].digest)
    assert not g.has_edge(n["build"].digest, n["base"].digest)
    assert g.edges[n["ctx"].digest, n["build"].digest]["indices"] == (0,)


def test_generations_put_every_op_after_its_inputs() -> None:
    d, n = _diamond()
    gens = topological_generations(d)
    assert gens[0] == tuple(sorted((n["base"].digest, n["ctx"].digest)))
    assert gens[1] == tuple(sorted((n["build"].digest, n["assets"].digest)))
    assert gens[2:] == [(n["final"].digest,), (n["merged"].digest,)]


def test_subgraph_for_keeps_only_what_the_output_needs() -> None:
    d, n = _diamond()
    sub = subgraph_for(d, n["assets"])
    assert set(sub.ops) == {n["base"].digest, n["assets"].digest}
    assert sub.output == n["assets"]
    assert set(sub.metadata) == set(sub.ops)
    assert subgraph_for(d, n["build"].digest).output == Input(n["build"].digest, 0)


def test_subgraph_for_unknown_output_raises_key_error() -> None:
    d, _ = _diamond()
    with pytest.raises(KeyError, match="no op"):
        subgraph_for(d, Digest("sha256:" + "9" * 64))


def _fake(n: int) -> Digest:
    return Digest("sha256:" + f"{n:x}" * 64)


def test_cycle_is_reported_with_the_ops_on_it() -> None:
    a, b = _fake(1), _fake(2)
    d = Definition(
        {a: FileOp(Input(b), ()), b: FileOp(Input(a), ())},
        {a: OpMetadata("step a"), b: OpMetadata("step b")},
        Input(a),
    )
    with pytest.raises(GraphCycleError, match=r"cycle: .*step a.*->.*step b"):
        to_networkx(d)
    with pytest.raises(GraphCycleError):
        topological_generations(d)


def test_reading_a_missing_op_is_reported() -> None:
    a = _fake(3)
    d = Definition({a: FileOp(Input(_fake(4)), ())}, {}, Input(a))
    with pytest.raises(GraphCycleError, match="reads missing op 444444444444"):
        to_networkx(d)


def test_dot_output_is_pinned_for_a_small_graph() -> None:
    b = DefinitionBuilder()
    base = b.add(
        SourceOp(ImageSource("docker.io/library/alpine:3.20")), OpMetadata('FROM "alpine"')
    )
    out = b.add(FileOp(base, (Mkdir("/x"),)))
    dot = definition_to_dot(b.build(out))
    bh, oh = base.digest.hex, out.digest.hex
    assert dot == (
        "digraph build {\n"
        "  rankdir=TB;\n"
        '  node [fontname="monospace"];\n'
        f'  "{bh}" [label="FROM \\"alpine\\"\\n{bh[:12]}", shape=cylinder];\n'
        f'  "{oh}" [label="file\\n{oh[:12]}", shape=note, style="bold"];\n'
        f'  "{bh}" -> "{oh}";\n'
        "}\n"
    )


def test_dot_output_does_not_depend_on_insertion_order() -> None:
    d, _ = _diamond()
    reordered = Definition(dict(reversed(list(d.ops.items()))), d.metadata, d.output)
    assert definition_to_dot(reordered) == definition_to_dot(d)


def test_dot_escapes_newlines_and_backslashes_in_names() -> None:
    b = DefinitionBuilder()
    out = b.add(SourceOp(LocalSource()), OpMetadata("RUN a \\\nb"))
    assert '"RUN a \\\\\\nb\\n' in definition_to_dot(b.build(out))


def test_json_view_lists_nodes_by_generation_with_inputs() -> None:
    d, n = _diamond()
    view = definition_to_json(d)
    assert [node["generation"] for node in view["nodes"]] == [0, 0, 1, 1, 2, 3]
    by_digest = {node["digest"]: node for node in view["nodes"]}
    build = by_digest[n["build"].digest]
    assert build["kind"] == "exec"
    assert build["inputs"] == [
        {"digest": n["base"].digest, "index": 0},
        {"digest": n["ctx"].digest, "index": 0},
    ]
    assert view["output"] == {"digest": n["merged"].digest, "index": 0}
