"""COPY/ADD → one ``FileOp`` of ``Copy``/``Mkfile`` actions on the stage root.

May import: frontend.compile.{state,sources}, frontend.instructions, solver.ops.

Context sources come from a ``LocalSource("context")`` whose include patterns are
exactly the paths this instruction reads, so its cache key depends on nothing
else. ``--from`` paths are taken from the source's root, never its WORKDIR. ADD
turns an http(s) URL into an ``HTTPSource`` (downloaded, not unpacked unless
``--unpack``), a git URL into a ``GitSource`` and a local file into a Copy with
``unpack=True`` (the worker decides by content). Heredoc sources become
``Mkfile`` actions (mode 0644 unless ``--chmod`` is octal), expanded unless the
delimiter was quoted.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from urllib.parse import urlparse

from frontend.compile.sources import context_source, from_source
from frontend.compile.state import Context, StageState
from frontend.errors import InstructionError
from frontend.instructions import Add, Copy
from frontend.instructions.copy import valid_chmod
from frontend.nodes import Heredoc
from solver.definition import OpMetadata
from solver.ops import ChownOpt, FileAction, FileOp, GitSource, HTTPSource, Input, Mkfile, SourceOp
from solver.ops import Copy as CopyAction
from solver.source import Span

__all__ = ["compile_copy", "is_git_url", "is_http_url"]

_GIT = re.compile(r"^(git@[^:]+:|git://|ssh://git@)|\.git(#.*)?$|^https?://[^/]+/.+\.git(#.*)?$")


def is_http_url(src: str) -> bool:
    return src.startswith(("http://", "https://"))


def is_git_url(src: str) -> bool:
    return bool(_GIT.search(src))


def clean_source(src: str) -> str:
    """A context path: trailing ``/`` ignored, leading ``/`` and ``../`` clamped to the root."""
    return "/" + posixpath.normpath("/" + src).lstrip("/")


def parents_source(src: str) -> str:
    """A ``COPY --parents`` source: cleaned like ``clean_source`` on each side of
    the first ``/./`` pivot, which is kept (``./x/./y/*.txt`` → ``/x/./y/*.txt``)."""
    text = "/" + src
    while text.startswith(("//", "/./")):
        text = text[1:] if text.startswith("//") else text[2:]
    before, sep, after = text.partition("/./")
    if not sep or clean_source(after) == "/":
        return clean_source(src)
    return clean_source(before).rstrip("/") + "/." + clean_source(after)


def _dest(state: StageState, dest: str, several: bool, span: Span) -> str:
    slash = dest.endswith(("/", "/.")) or dest in (".", "..")
    if several and not slash:
        raise InstructionError(
            "when using COPY with more than one source file, the destination must be a "
            "directory and end with a /",
            span, f"write {dest}/",
        )
    path = dest if dest.startswith("/") else posixpath.join(state.config.workdir or "/", dest)
    path = posixpath.normpath(path)
    path = "/" + path.lstrip("/")
    return path.rstrip("/") + "/" if slash else path


def _chown(text: str | None) -> ChownOpt | None:
    if not text:
        return None
    user, _, group = text.partition(":")
    return ChownOpt(user, group)


def _heredoc(ctx: Context, state: StageState, doc: Heredoc, opts: tuple[str, str]) -> Mkfile:
    dest, chmod = opts
    data = ctx.expand_in(state, doc.body, doc.span) if doc.expand else doc.body
    path = dest + doc.name if dest.endswith("/") else dest
    mode = int(chmod, 8) if chmod and chmod.isdigit() else 0o644
    return Mkfile(path, data.encode(), mode, None)


def _remote(ctx: Context, cmd: Add, src: str, dest: str) -> tuple[Input, str]:
    span = cmd.node.span
    if is_git_url(src):
        remote, _, frag = src.partition("#")
        ref, _, subdir = frag.partition(":")
        git = GitSource(remote, ref, subdir, cmd.keep_git_dir, cmd.checksum or "")
        meta = OpMetadata(f"[internal] git {remote}", (span,))
        return ctx.builder.add(SourceOp(git), meta), "/"
    name = posixpath.basename(urlparse(src).path)
    if not name and dest.endswith("/"):
        raise InstructionError(
            f"cannot determine filename from url: {src}", span, "give a file name in DEST"
        )
    if cmd.checksum and not cmd.checksum.startswith("sha256:"):
        raise InstructionError(f"invalid --checksum {cmd.checksum!r}", span, "use sha256:<hex>")
    name = name or posixpath.basename(dest) or "download"
    http = HTTPSource(src, cmd.checksum or "", name)
    meta = OpMetadata(f"[internal] download {src}", (span,))
    return ctx.builder.add(SourceOp(http), meta), "/" + name


def compile_copy(ctx: Context, state: StageState, cmd: Copy) -> StageState:
    """Add the FileOp for a COPY or ADD.

    Raises:
        FrontendError: bad destination, bad --from, bad expansion.
    """
    span, is_add = cmd.node.span, isinstance(cmd, Add)
    srcs = tuple(ctx.expand_in(state, s, span) for s in cmd.sources)
    several = len(srcs) + len(cmd.heredocs) > 1
    dest_text = ctx.expand_in(state, cmd.dest, span)
    dest = _dest(state, dest_text, several, span)
    chown = _chown(ctx.expand_in(state, cmd.chown, span) if cmd.chown else None)
    chmod = ctx.expand_in(state, cmd.chmod, span) if cmd.chmod else ""
    if chmod and not valid_chmod(chmod):
        raise InstructionError(f"invalid --chmod={chmod}", span, "use octal or u=rwX,go=rX")
    local = tuple(s for s in srcs if not (is_add and (is_http_url(s) or is_git_url(s))))
    include = tuple(clean_source(s).lstrip("/") for s in local)
    include = () if "" in include else include
    base: Input | None = None
    if local:
        base = (from_source(ctx, state, cmd.from_, include, span) if cmd.from_
                else context_source(ctx, "context", include, span))
    actions: list[FileAction] = []
    for src in srcs:
        source, path, unpack = base, clean_source(src), False
        if cmd.parents:
            path = parents_source(src)
        if isinstance(cmd, Add):
            if src not in local:
                source, path = _remote(ctx, cmd, src, dest)
                unpack = bool(cmd.unpack) and not is_git_url(src)
            else:
                unpack = True if cmd.unpack is None else cmd.unpack
        assert source is not None
        actions.append(CopyAction(
            source, path, dest, chown, chmod, unpack=unpack, exclude=cmd.exclude,
            parents=cmd.parents, link=cmd.link,
        ))
    actions += [_heredoc(ctx, state, doc, (dest, chmod)) for doc in cmd.heredocs]
    actions = [replace(a, chown=chown) if isinstance(a, Mkfile) else a for a in actions]
    head = ctx.add(FileOp(state.head, tuple(actions)), state, _label(cmd), span)
    word = "ADD" if is_add else "COPY"
    shown = " ".join([*srcs, *(f"<<{d.name}" for d in cmd.heredocs), dest_text])
    history = state.with_history(f"{word} {shown} # buildkit", False)
    return replace(state, head=head, history=history)


def _label(cmd: Copy) -> str:
    return cmd.node.original or f"{cmd.node.keyword} {' '.join((*cmd.sources, cmd.dest))}"
