"""COPY and ADD: sources, destination, flags, heredoc sources.

May import: frontend.errors, frontend.nodes, frontend.instructions.{base,flags}.

Sources and destination stay raw (expanded at compile time, when the stage's
ARG/ENV scope is known). ``--from`` is never expanded: a ``$`` in it is an error,
as in BuildKit. A source word ``<<NAME`` refers to the heredoc ``NAME``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from frontend.errors import InstructionError
from frontend.instructions.base import arg_list
from frontend.instructions.flags import ParsedFlags, parse_flags
from frontend.nodes import Heredoc, Instruction

__all__ = ["Add", "Copy", "valid_chmod"]

_OCTAL = re.compile(r"^[0-7]{3,4}$")
_SYMBOLIC = re.compile(r"^[ugoa]*[-+=][rwxXst]*([-+=][rwxXst]*)*$")


def valid_chmod(text: str) -> bool:
    """True for an octal mode (``755``) or a symbolic one (``u=rwX,go=rX``)."""
    return bool(_OCTAL.match(text)) or all(_SYMBOLIC.match(p) for p in text.split(","))


@dataclass(frozen=True, slots=True)
class Copy:
    """``COPY [flags] src… dest``; ``heredocs`` are sources given as ``<<NAME``."""

    node: Instruction = field(compare=False, repr=False)
    sources: tuple[str, ...]
    dest: str
    from_: str | None = None
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    parents: bool = False
    exclude: tuple[str, ...] = ()
    heredocs: tuple[Heredoc, ...] = ()

    @classmethod
    def parse(cls, node: Instruction) -> Copy:
        """Parse a COPY node.

        Raises:
            InstructionError: too few arguments or a bad flag value.
        """
        flags = parse_flags("COPY", node.flags)
        sources, dest, docs = _split(node)
        return cls(node, sources, dest, *_common(flags), heredocs=docs)


@dataclass(frozen=True, slots=True)
class Add(Copy):
    """``ADD``: COPY plus URLs, git repositories, archive unpacking and checksums."""

    checksum: str | None = None
    keep_git_dir: bool = False
    unpack: bool | None = None

    @classmethod
    def parse(cls, node: Instruction) -> Add:
        """Parse an ADD node.

        Raises:
            InstructionError: too few arguments or a bad flag value.
        """
        flags = parse_flags("ADD", node.flags)
        sources, dest, docs = _split(node)
        checksum = flags.string("checksum")
        if checksum is not None and not checksum:
            raise InstructionError("ADD: --checksum needs a value", flags.span("checksum"))
        return cls(
            node, sources, dest, *_common(flags), heredocs=docs, checksum=checksum,
            keep_git_dir=bool(flags.boolean("keep-git-dir")), unpack=flags.boolean("unpack"),
        )


def _common(
    flags: ParsedFlags,
) -> tuple[str | None, str | None, str | None, bool, bool, tuple[str, ...]]:
    from_ = flags.string("from")
    if from_ is not None and "$" in from_:
        raise InstructionError(
            f"--from={from_}: variables are not expanded in --from",
            flags.span("from"),
            "declare a global ARG and use it in 'FROM ${VAR} AS src', then --from=src",
        )
    if from_ == "":
        raise InstructionError("--from needs a stage, image or context name", flags.span("from"))
    chmod = flags.string("chmod")
    if chmod is not None and "$" not in chmod and not valid_chmod(chmod):
        raise InstructionError(
            f"invalid --chmod={chmod}",
            flags.span("chmod"),
            "use octal (0755) or symbolic (u=rwX,go=rX)",
        )
    return (
        from_, flags.string("chown"), chmod, bool(flags.boolean("link")),
        bool(flags.boolean("parents")), flags.strings("exclude"),
    )


def _heredoc_name(word: str) -> str | None:
    if not word.startswith("<<"):
        return None
    name = word[2:].removeprefix("-")
    return name.strip("'\"") or None


def _split(node: Instruction) -> tuple[tuple[str, ...], str, tuple[Heredoc, ...]]:
    words = arg_list(node)
    if len(words) < 2:
        raise InstructionError(
            f"{node.keyword} requires at least two arguments, but only {len(words)} given",
            node.args_span,
            f"write {node.keyword} SOURCE… DEST",
        )
    by_name = {h.name: h for h in node.heredocs}
    sources: list[str] = []
    docs: list[Heredoc] = []
    for word in words[:-1]:
        name = _heredoc_name(word)
        if name is not None and name in by_name:
            docs.append(by_name[name])
        else:
            sources.append(word)
    return tuple(sources), words[-1], tuple(docs)
