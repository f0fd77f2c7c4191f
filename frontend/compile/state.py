"""Compile-time state: the frozen ``StageState`` and the per-build ``Context``.

May import: frontend.errors, frontend.imageconfig, frontend.shellwords,
frontend.rules, frontend.stages, frontend.resolver, solver.{ops,definition,source}.

``StageState`` is what BuildKit keeps in its 31-field mutable ``dispatchState``,
as one frozen value evolved with ``dataclasses.replace``. ``Context`` holds what
a whole compilation shares: the definition being built, diagnostics, options,
the finished stages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from frontend.errors import Diagnostic, FrontendError
from frontend.imageconfig import ImageConfig
from frontend.resolver import ImageConfigResolver
from frontend.rules import is_secret_name, rule
from frontend.shellwords import expand as expand_word
from frontend.stages import StageList
from solver.definition import DefinitionBuilder, OpMetadata
from solver.ops import Input, Op
from solver.source import Span

__all__ = [
    "BuildOptions",
    "Context",
    "ContextKind",
    "HistoryEntry",
    "PROXY_ARGS",
    "StageState",
]

PROXY_ARGS = frozenset({
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
    "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
})


class ContextKind(Enum):
    """Kinds of named build contexts (``--build-context name=…``). The frontend
    compiles every kind to ``LocalSource(name)``; the builder supplies its files."""

    LOCAL = "local"
    IMAGE = "image"
    GIT = "git"
    URL = "url"


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """Everything a build request sets that changes the plan.

    ``contexts`` pairs named contexts with their kind;
    platforms are ``os/arch[/variant]``.
    """

    build_args: tuple[tuple[str, str], ...] = ()
    target: str | None = None
    target_platform: str = "linux/amd64"
    build_platform: str = "linux/amd64"
    labels: tuple[tuple[str, str], ...] = ()
    contexts: tuple[tuple[str, ContextKind], ...] = ()
    source_date_epoch: int | None = None

    def build_arg(self, name: str) -> str | None:
        for key, value in self.build_args:
            if key == name:
                return value
        return None

    def context_names(self) -> frozenset[str]:
        return frozenset(name.lower() for name, _ in self.contexts)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One image history entry as BuildKit writes it."""

    created_by: str
    empty_layer: bool
    comment: str = "buildkit.dockerfile.v0"


@dataclass(frozen=True, slots=True)
class StageState:
    """A stage being compiled. ``head`` is the root filesystem (None: scratch);
    ``args`` are the ARGs in scope (value None: declared, no value)."""

    name: str
    head: Input | None
    config: ImageConfig
    platform: str
    args: tuple[tuple[str, str | None], ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    cmd_set: bool = False
    workdir_set: bool = False
    base_ref: str | None = None
    author: str = ""
    step: int = 1
    steps: int = 1

    def arg_values(self) -> dict[str, str]:
        return {k: v for k, v in self.args if v is not None}

    def vars(self) -> dict[str, str]:
        """Variables for expansion: ARGs in scope, overridden by ENV."""
        return {**self.arg_values(), **self.config.env_map()}

    def known(self) -> frozenset[str]:
        """Names declared in scope (even without a value)."""
        return frozenset(k for k, _ in self.args) | frozenset(self.config.env_map())

    def unshadowed_args(self) -> tuple[tuple[str, str], ...]:
        env = self.config.env_map()
        return tuple((k, v) for k, v in self.arg_values().items() if k not in env)

    def run_env(self) -> tuple[str, ...]:
        """``K=V`` for a RUN: the image env, then ARGs ENV does not shadow."""
        pairs = (*self.config.env, *self.unshadowed_args())
        return tuple(f"{k}={v}" for k, v in pairs)

    def history_args(self) -> tuple[tuple[str, str], ...]:
        """The ``K=V`` pairs BuildKit's ``runCommandString`` puts before a RUN in
        history: every ARG in scope (even without a value: ``K=``), valued by
        the ENV of the same name when one shadows it."""
        env = self.config.env_map()
        return tuple((k, env.get(k, v or "")) for k, v in self.args)

    def with_history(self, created_by: str, empty_layer: bool) -> tuple[HistoryEntry, ...]:
        return (*self.history, HistoryEntry(created_by, empty_layer))

    def label(self, text: str) -> str:
        """A progress name like ``[build 2/5] RUN make``."""
        return f"[{self.name} {self.step}/{self.steps}] {text}"


@dataclass
class Context:
    """Shared, append-only state of one compilation."""

    options: BuildOptions
    resolver: ImageConfigResolver
    stages: StageList
    escape: str = "\\"
    builder: DefinitionBuilder = field(default_factory=DefinitionBuilder)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    finished: dict[int, StageState] = field(default_factory=dict)
    global_args: dict[str, str] = field(default_factory=dict)
    global_defaults: dict[str, str] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    in_progress: set[int] = field(default_factory=set)
    # compiles a stage on demand (one only an ONBUILD trigger refers to); set by compile
    compile_stage: Callable[[int], StageState] | None = None

    def add(self, op: Op, state: StageState, text: str, span: Span) -> Input:
        return self.builder.add(op, OpMetadata(state.label(text), (span,), state.name))

    def warn(self, name: str, span: Span | None, *values: str) -> None:
        """Report a finding of rule ``name``, its message filled with ``values``
        (``frontend.rules``), once."""
        diag = rule(name).report(span, *values)
        if diag not in self.diagnostics:
            self.diagnostics.append(diag)

    def is_literal(self, word: str) -> bool:
        """True when expanding ``word`` cannot change it (no ``$``, quote or escape)."""
        return not any(c in word for c in ("$", "'", '"', self.escape))

    def expand_in(self, state: StageState, word: str, span: Span) -> str:
        """Expand ``word`` with ``state``'s ARGs and ENV.

        Raises:
            FrontendError: a malformed expression (with ``span``).
        """
        if self.is_literal(word):  # the common case; skips building the scope
            return word
        return self.expand(word, state.vars(), span, state.known())

    def expand(
        self, word: str, env: Mapping[str, str], span: Span, known: frozenset[str] = frozenset()
    ) -> str:
        """Expand ``word``; unset names not in ``known`` give an UndefinedVar warning.

        Raises:
            FrontendError: a malformed expression (with ``span``).
        """
        try:
            result = expand_word(word, env, self.escape)
        except FrontendError as exc:
            raise exc.with_span(span) from None
        for name in sorted(result.unset):
            if name not in known and name not in PROXY_ARGS:
                self.warn("UndefinedVar", span, name)
        return result.text

    def check_secret_name(self, keyword: str, name: str, span: Span) -> None:
        if is_secret_name(name):
            self.warn("SecretsUsedInArgOrEnv", span, keyword, name)
