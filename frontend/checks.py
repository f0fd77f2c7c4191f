"""Build checks: BuildKit's syntactic lint rules on a parsed Dockerfile, the
``# check=`` directive, and the merge with the compiler's semantic findings.

May import: frontend.errors, frontend.nodes, frontend.rules, frontend.shellwords,
solver.source. The ``.dockerignore`` rules come in as an argument (any object with
``excluded(path) -> bool``, such as ``frontend.dockerignore.IgnoreRules``).

``run_checks`` reports the syntactic rules for every stage (as BuildKit's lint
does without a target) and merges the compiler's findings; a rule both report
on one line is kept once. Texts live in ``frontend.rules``, shared with the
compiler. Words holding ``$`` are skipped (their value depends on the build).
docs/frontend.md lists the rules and how to add one.

``# check=skip=A,B;error=true;experimental=all`` (BuildKit 1.8 semantics): rule
names are case-sensitive, ``skip=all`` silences every stable rule, experimental
rules run only when listed (and then even under ``skip=all``), and ``error=true``
marks every finding an error. Anything else in the directive is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from frontend.errors import Diagnostic, FrontendError
from frontend.nodes import Dockerfile, ExecForm, Instruction
from frontend.rules import is_secret_name, rule
from frontend.shellwords import expand, split_words
from solver.source import Span

__all__ = [
    "CheckConfig", "CheckDirectiveError", "CheckResult", "EXPERIMENTAL_RULES", "IgnoreMatcher",
    "run_checks", "syntactic_checks",
]

EXPERIMENTAL_RULES = frozenset({"CopyIgnoredFile", "InvalidDefinitionDescription"})
_RESERVED_STAGE_NAMES = frozenset({"scratch", "context"})
_ONCE_PER_STAGE = frozenset({"CMD", "ENTRYPOINT", "HEALTHCHECK"})
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


class CheckDirectiveError(FrontendError):
    """The ``# check=`` directive (or ``BUILDKIT_DOCKERFILE_CHECK``) is invalid."""


class IgnoreMatcher(Protocol):
    """What ``CopyIgnoredFile`` needs of ``frontend.dockerignore.IgnoreRules``."""

    @property
    def has_exceptions(self) -> bool: ...

    def excluded(self, path: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """Parsed ``# check=`` options."""

    skip: frozenset[str] = frozenset()
    skip_all: bool = False
    error: bool = False
    experimental: frozenset[str] = frozenset()
    experimental_all: bool = False

    @classmethod
    def parse(cls, text: str, span: Span | None = None) -> CheckConfig:
        """Parse ``skip=A,B;error=true;experimental=all`` (BuildKit's ParseLintOptions).

        Raises:
            CheckDirectiveError: a part without ``=``, an unknown key, or an
                ``error`` value that is not a boolean.
        """
        text = text.strip()
        config = cls()
        if not text:
            return config
        for part in text.split(";"):
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep:
                raise _bad(f'invalid check option "{part.strip()}"', span)
            if key == "skip":
                names = frozenset(v.strip() for v in value.split(","))
                config = replace(config, skip_all=value == "all", skip=names - {"all"})
            elif key == "error":
                if value not in _TRUE | _FALSE:
                    raise _bad(f'failed to parse check option "{part.strip()}"', span)
                config = replace(config, error=value in _TRUE)
            elif key == "experimental":
                names = frozenset(v.strip() for v in value.split(","))
                config = replace(config, experimental_all=value == "all", experimental=names)
            else:
                raise _bad(f'invalid check option "{key}"', span)
        return config

    @classmethod
    def from_dockerfile(cls, dockerfile: Dockerfile) -> CheckConfig:
        """The config of the Dockerfile's ``# check=`` directive (defaults if none).

        Raises:
            CheckDirectiveError: see ``parse``.
        """
        directive = dockerfile.directive("check")
        if directive is None:
            return cls()
        return cls.parse(directive.value, directive.span)

    def enabled(self, rule_name: str) -> bool:
        """Whether findings of ``rule_name`` are reported under this config."""
        if rule_name in EXPERIMENTAL_RULES:
            return self.experimental_all or rule_name in self.experimental
        return not self.skip_all and rule_name not in self.skip


def _bad(message: str, span: Span | None) -> CheckDirectiveError:
    hint = "write check=skip=Rule1,Rule2;error=true;experimental=all (or skip=all)"
    return CheckDirectiveError(message, span, hint)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Findings sorted by position; ``has_errors`` under ``check=error=true``."""

    diagnostics: tuple[Diagnostic, ...]
    has_errors: bool

    @property
    def rules(self) -> tuple[str, ...]:
        """The distinct rule names found, sorted."""
        return tuple(sorted({d.rule for d in self.diagnostics}))

    def error_message(self) -> str:
        """BuildKit's failure text under ``check=error=true``."""
        return "lint violation found for rules: " + ", ".join(self.rules)


def run_checks(
    dockerfile: Dockerfile,
    *,
    ignore: IgnoreMatcher | None = None,
    extra: Iterable[Diagnostic] = (),
    config: CheckConfig | None = None,
) -> CheckResult:
    """Run the syntactic checks, merge ``extra`` (the compiler's diagnostics), and
    apply the check config (``config``, else the ``# check=`` directive).

    Raises:
        CheckDirectiveError: the ``# check=`` directive is invalid.
    """
    try:
        cfg = config if config is not None else CheckConfig.from_dockerfile(dockerfile)
    except CheckDirectiveError as exc:
        if dockerfile.source is not None:
            exc.source_text = dockerfile.source.text
        raise
    extra = tuple(extra)
    claimed = {(d.rule, d.span.line if d.span else 0) for d in extra}
    own = [
        d
        for d in syntactic_checks(dockerfile, ignore)
        if (d.rule, d.span.line if d.span else 0) not in claimed
    ]
    seen: set[tuple[str, str, Span | None]] = set()
    kept: list[Diagnostic] = []
    for diag in (*extra, *own):
        key = (diag.rule, diag.message, diag.span)
        if key in seen or not cfg.enabled(diag.rule):
            continue
        seen.add(key)
        kept.append(replace(diag, is_error=cfg.error))
    kept.sort(key=_position)
    return CheckResult(tuple(kept), cfg.error and bool(kept))


def _position(d: Diagnostic) -> tuple[int, int, int, str]:
    if d.span is None:
        return (1, 0, 0, d.rule)
    return (0, d.span.line, d.span.col, d.rule)


def syntactic_checks(
    dockerfile: Dockerfile, ignore: IgnoreMatcher | None = None
) -> list[Diagnostic]:
    """Every syntactic finding, unfiltered by any config, in source order."""
    found: list[Diagnostic] = []
    stages = _split_stages(dockerfile.instructions)
    found += _stage_name_checks(stages)
    found += _casing_checks(stages)
    shells: dict[str, bool] = {}
    for stage in stages:
        found += _stage_checks(stage, shells, dockerfile.escape, ignore)
    found += _empty_continuation_checks(dockerfile.instructions)
    return sorted(found, key=_position)


# --- stages ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Stage:
    from_: Instruction
    base: str  # the image word, lower-cased
    as_word: str | None
    name: str | None  # as written
    body: tuple[Instruction, ...]


def _split_stages(instructions: Sequence[Instruction]) -> list[_Stage]:
    starts = [i for i, instr in enumerate(instructions) if instr.keyword == "FROM"]
    stages: list[_Stage] = []
    for n, at in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(instructions)
        words = _args(instructions[at]).split()
        named = len(words) == 3 and words[1].lower() == "as"
        base = words[0].lower() if words else ""
        as_word, name = (words[1], words[2]) if named else (None, None)
        body = tuple(instructions[at + 1 : end])
        stages.append(_Stage(instructions[at], base, as_word, name, body))
    return stages


def _stage_name_checks(stages: Sequence[_Stage]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    seen: set[str] = set()
    for stage in stages:
        if stage.name is None:
            continue
        where, low = _word_span(stage.from_, 2), stage.name.lower()
        if stage.name != low:
            found.append(_diag("StageNameCasing", where, stage.name))
        if low in _RESERVED_STAGE_NAMES:
            found.append(_diag("ReservedStageName", where, low))
        if low in seen:
            found.append(_diag("DuplicateStageName", where, low))
        seen.add(low)
        from_kw, as_word = _keyword(stage.from_), stage.as_word or ""
        want = as_word.lower() if from_kw == from_kw.lower() else as_word.upper()
        if _self_consistent(from_kw) and as_word != want:
            found.append(_diag("FromAsCasing", _word_span(stage.from_, 1), as_word, from_kw))
    return found


def _casing_checks(stages: Sequence[_Stage]) -> list[Diagnostic]:
    instrs = [i for s in stages for i in (s.from_, *s.body)]
    words = [_keyword(i) for i in instrs]
    lower = sum(1 for w in words if _self_consistent(w) and w == w.lower())
    upper = sum(1 for w in words if _self_consistent(w) and w != w.lower())
    casing = "lowercase" if lower > upper else "uppercase"
    return [
        _diag("ConsistentInstructionCasing", instr.span, word, casing)
        for instr, word in zip(instrs, words, strict=True)
        if word != (word.lower() if lower > upper else word.upper())
    ]


def _stage_checks(
    stage: _Stage, shells: dict[str, bool], escape: str, ignore: IgnoreMatcher | None
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    shell_set = shells.get(stage.base, False)
    last: dict[str, Instruction] = {}
    for instr in stage.body:
        kw = instr.keyword
        shell_set = shell_set or kw == "SHELL"
        if kw in ("CMD", "ENTRYPOINT") and not shell_set and not isinstance(instr.args, ExecForm):
            found.append(_diag("JSONArgsRecommended", instr.span, _keyword(instr)))
        if kw in _ONCE_PER_STAGE:
            if kw in last:  # reported where it is ignored: at the earlier one
                found.append(
                    _diag("MultipleInstructionsDisallowed", last[kw].span, _keyword(instr))
                )
            last[kw] = instr
        found += _instruction_checks(instr, escape, ignore)
    if stage.name is not None:
        shells[stage.name.lower()] = shell_set
    return found


def _instruction_checks(
    instr: Instruction, escape: str, ignore: IgnoreMatcher | None
) -> list[Diagnostic]:
    match instr.keyword:
        case "MAINTAINER":
            return [_diag("MaintainerDeprecated", instr.span)]
        case "ENV" | "LABEL":
            return _key_value_checks(instr, escape)
        case "ARG":
            keys = [w.split("=", 1)[0] for w in split_words(_args(instr), escape)]
            return _secret_checks(instr, "ARG", keys)
        case "EXPOSE":
            return _expose_checks(instr, escape)
        case "COPY" | "ADD" if ignore is not None:
            return _ignored_source_checks(instr, escape, ignore)
    return []


def _key_value_checks(instr: Instruction, escape: str) -> list[Diagnostic]:
    words = split_words(_args(instr), escape)
    if not words:
        return []
    legacy = "=" not in words[0]
    found = [_diag("LegacyKeyValueFormat", instr.span, _keyword(instr))] if legacy else []
    if instr.keyword == "ENV":
        keys = [words[0]] if legacy else [w.split("=", 1)[0] for w in words]
        found += _secret_checks(instr, "ENV", keys)
    return found


def _secret_checks(instr: Instruction, name: str, keys: Iterable[str]) -> list[Diagnostic]:
    return [
        _diag("SecretsUsedInArgOrEnv", instr.span, name, key) for key in keys if is_secret_name(key)
    ]


def _expose_checks(instr: Instruction, escape: str) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    ports = instr.args.args if isinstance(instr.args, ExecForm) else _args(instr).split()
    for i, word in enumerate(ports):
        raw = _literal(word, escape)
        if raw is None:
            continue
        parts = raw.split(":")
        host_ip, host_port = ":".join(parts[:-2]), parts[-2] if len(parts) > 1 else ""
        proto = parts[-1].partition("/")[2]
        if proto != proto.lower():
            found.append(_diag("ExposeProtoCasing", _word_span(instr, i), raw))
        if host_ip or host_port:
            found.append(_diag("ExposeInvalidFormat", _word_span(instr, i), raw))
    return found


def _ignored_source_checks(
    instr: Instruction, escape: str, ignore: IgnoreMatcher
) -> list[Diagnostic]:
    if ignore.has_exceptions or any(f.name == "from" for f in instr.flags):
        return []  # BuildKit: with "!" lines the answer is not static, so it stays quiet
    words = list(instr.args.args) if isinstance(instr.args, ExecForm) else _args(instr).split()
    verb = "Add" if instr.keyword == "ADD" else "Copy"
    sources = [_literal(w, escape) for w in words[:-1] if not w.startswith("<<")]
    return [
        _diag("CopyIgnoredFile", instr.span, verb, src)
        for src in sources
        if src is not None and not _is_remote(src) and ignore.excluded(src)
    ]


def _is_remote(src: str) -> bool:
    return src.startswith(("http://", "https://", "git@", "git://", "ssh://"))


def _empty_continuation_checks(instructions: Iterable[Instruction]) -> list[Diagnostic]:
    return [
        _diag("NoEmptyContinuation", instr.span)
        for instr in instructions
        if instr.empty_continuation_lines
    ]


# --- helpers ---------------------------------------------------------------------


def _diag(name: str, span: Span, *values: str) -> Diagnostic:
    return rule(name).report(span, *values)


def _keyword(instr: Instruction) -> str:
    return instr.keyword_text or instr.keyword


def _args(instr: Instruction) -> str:
    if isinstance(instr.args, ExecForm):
        return " ".join(instr.args.args)
    return instr.args.text


def _literal(word: str, escape: str) -> str | None:
    """``word`` with quotes and escapes removed, or None if its value depends on
    variables (or it is malformed: the compiler reports that)."""
    if "$" in word:
        return None
    try:
        return expand(word, {}, escape).text
    except FrontendError:
        return None


def _self_consistent(word: str) -> bool:
    return word in (word.lower(), word.upper())


def _word_span(instr: Instruction, index: int) -> Span:
    """The span of whitespace-separated word ``index`` of a one-line shell-form
    argument text, else the instruction's span."""
    a = instr.args_span
    if a is None or a.line != a.end_line or isinstance(instr.args, ExecForm):
        return instr.span
    for n, match in enumerate(re.finditer(r"\S+", instr.args.text)):
        if n == index:
            start = a.col + match.start()
            return Span(a.file, a.line, start, a.line, start + len(match.group()))
    return instr.span
