"""Build stages: the stage list, name/index lookup, global ARGs, ``--target`` pruning.

May import: frontend.errors, frontend.nodes, frontend.instructions.

A stage starts at each FROM. Names (``FROM x AS Build``) are lower-cased, so
``--from=build`` finds it; a number refers to a stage by index. ARGs before the
first FROM are the global scope, visible only in FROM lines. A stage depends on
another through ``FROM <stage>``, ``COPY --from=<stage|index>`` and ``RUN
--mount=from=<stage|index>``; only the target and what it depends on are built
(BuildKit), and a dependency cycle is an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from frontend.errors import InstructionError, StageCycleError, UnknownStageError
from frontend.instructions import Add, Arg, Command, Copy, From, Run, parse_instruction
from frontend.nodes import Dockerfile
from solver.source import Span

__all__ = ["Stage", "StageList", "StageRef", "parse_stages", "select_stages"]


@dataclass(frozen=True, slots=True)
class StageRef:
    """A reference from inside a stage to something by name (``--from=…``)."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    from_: From
    commands: tuple[Command, ...]

    @property
    def name(self) -> str | None:
        return self.from_.alias

    @property
    def display(self) -> str:
        """The name shown in progress: ``build``, or ``stage-1`` for unnamed stages."""
        return self.name or f"stage-{self.index}"

    def refs(self) -> tuple[StageRef, ...]:
        """``COPY/ADD --from`` and ``RUN --mount from=`` references, in order."""
        found: list[StageRef] = []
        for cmd in self.commands:
            if isinstance(cmd, Copy | Add) and cmd.from_:
                flag = next((f.span for f in cmd.node.flags if f.name == "from"), cmd.node.span)
                found.append(StageRef(cmd.from_.lower(), flag))
            elif isinstance(cmd, Run):
                found += [StageRef(m.from_.lower(), cmd.node.span) for m in cmd.mounts if m.from_]
        return tuple(found)


@dataclass(frozen=True, slots=True)
class StageList:
    """The global ARGs and the stages; ``by_name`` indexes the named stages
    (the first of a name, filled in when not given)."""

    global_args: tuple[Arg, ...]
    stages: tuple[Stage, ...]
    by_name: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.by_name:
            index: dict[str, int] = {}
            for stage in self.stages:
                if stage.name is not None:
                    index.setdefault(stage.name, stage.index)
            object.__setattr__(self, "by_name", index)

    def find(self, ref: str, before: int | None = None) -> Stage | None:
        """The stage called ``ref`` (case-insensitive) or numbered ``ref``.

        ``before`` limits index references to earlier stages.
        """
        if ref.isdigit():
            idx = int(ref)
            limit = len(self.stages) if before is None else before
            return self.stages[idx] if idx < limit else None
        found = self.by_name.get(ref.lower())
        return None if found is None else self.stages[found]

    def names(self) -> list[str]:
        return [s.name or str(s.index) for s in self.stages]

    def hint(self) -> str:
        return "stages are: " + ", ".join(self.names())


def parse_stages(dockerfile: Dockerfile) -> StageList:
    """Split a Dockerfile into global ARGs and stages of typed instructions.

    Raises:
        InstructionError: a bad instruction, one other than ARG before the first
            FROM, or no FROM at all.
        UnknownStageError: two stages share a name.
    """
    global_args: list[Arg] = []
    stages: list[tuple[From, list[Command]]] = []
    for node in dockerfile.instructions:
        cmd = parse_instruction(node, dockerfile.escape)
        if isinstance(cmd, From):
            stages.append((cmd, []))
        elif stages:
            stages[-1][1].append(cmd)
        elif isinstance(cmd, Arg):
            global_args.append(cmd)
        else:
            raise InstructionError(
                f"{node.keyword} before the first FROM", node.span,
                "only ARG may come before the first FROM",
            )
    if not stages:
        span = dockerfile.instructions[-1].span if dockerfile.instructions else None
        raise InstructionError("the Dockerfile has no FROM instruction", span,
                               "start a stage with FROM image")
    seen: dict[str, From] = {}
    for from_, _ in stages:
        if from_.alias and from_.alias in seen:
            raise UnknownStageError(
                f"duplicate stage name {from_.alias!r}", from_.node.span,
                f"the first is on line {seen[from_.alias].node.span.line}; rename one",
            )
        if from_.alias:
            seen[from_.alias] = from_
    return StageList(
        tuple(global_args),
        tuple(Stage(i, f, tuple(cmds)) for i, (f, cmds) in enumerate(stages)),
    )


def _deps(
    stages: StageList, stage: Stage, base_names: Sequence[str], contexts: frozenset[str]
) -> list[tuple[int, Span]]:
    found: list[tuple[int, Span]] = []
    base = base_names[stage.index].lower()
    if base not in contexts:
        parent = stages.find(base) if not base.isdigit() else None
        if parent is not None and parent.index != stage.index:
            found.append((parent.index, stage.from_.node.span))
    for ref in stage.refs():
        if ref.name in contexts:
            continue
        target = stages.find(ref.name, before=stage.index)
        if target is None and ref.name.isdigit():
            raise UnknownStageError(
                f"--from={ref.name}: no stage with index {ref.name} before this one",
                ref.span, stages.hint(),
            )
        if target is not None:
            found.append((target.index, ref.span))
    return found


def select_stages(
    stages: StageList,
    target: str | None,
    base_names: Sequence[str],
    contexts: frozenset[str] = frozenset(),
) -> tuple[int, ...]:
    """The indices of the stages ``target`` needs (itself included), dependencies
    first (the order to compile them in).

    ``base_names[i]`` is stage i's FROM image after global-ARG expansion;
    ``contexts`` are named build contexts, which win over stage names.

    Raises:
        UnknownStageError: ``target`` or a numeric ``--from`` names no stage.
        StageCycleError: stages depend on each other in a cycle.
    """
    if target is None:
        goal = stages.stages[-1]
    else:
        found = stages.find(target)
        if found is None:
            raise UnknownStageError(f"target stage {target!r} could not be found", None,
                                    stages.hint())
        goal = found
    return _post_order(stages, goal.index, base_names, contexts)


def _post_order(
    stages: StageList, goal: int, base_names: Sequence[str], contexts: frozenset[str]
) -> tuple[int, ...]:
    """Depth-first from ``goal``, dependencies first; iterative, so a chain of
    10,000 stages needs no deep Python stack.

    Raises:
        UnknownStageError: a numeric ``--from`` names no earlier stage.
        StageCycleError: a dependency leads back to a stage on the current path.
    """
    done: dict[int, None] = {}  # insertion-ordered set
    path: list[int] = [goal]
    on_path = {goal}
    pending = [iter(_deps(stages, stages.stages[goal], base_names, contexts))]
    while pending:
        step = next(pending[-1], None)
        if step is None:
            pending.pop()
            finished = path.pop()
            on_path.discard(finished)
            done[finished] = None
            continue
        dep, span = step
        if dep in on_path:
            chain = " -> ".join(stages.stages[i].display for i in [*path, dep])
            raise StageCycleError(f"circular dependency between stages: {chain}", span,
                                  "a stage cannot depend on itself through --from or FROM")
        if dep not in done:
            path.append(dep)
            on_path.add(dep)
            pending.append(iter(_deps(stages, stages.stages[dep], base_names, contexts)))
    return tuple(done)
