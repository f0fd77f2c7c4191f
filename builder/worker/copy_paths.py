"""Which paths one Copy action reads: wildcard matches, ``--parents`` pivots, filters.

May import: stdlib, solver.ops, frontend.dockerignore, builder.worker.{errors,globmatch,rootpath}.

Shared by the copier (``file_op``) and the content hasher (``contenthash``) so both
see exactly the same files. Wildcards follow fsutil's ``ResolveWildcards``: the
components before the first wildcard are resolved (following symlinks inside the
source root), the rest is matched component by component with Go's
``filepath.Match``; a matched directory is not descended into. ``--exclude``
patterns (dockerignore syntax) are matched against paths relative to the copied
source (for a wildcard match, its path below the wildcard's literal prefix, so
``--exclude=*.txt hom*`` skips ``home.txt``); the context's ``.dockerignore``
against paths relative to the source root.
"""

from __future__ import annotations

import os
import posixpath
import stat
from dataclasses import dataclass
from pathlib import Path

from builder.worker.errors import FileOpError
from builder.worker.globmatch import has_wildcards, match
from builder.worker.rootpath import resolve_in_root, split_path
from frontend.dockerignore import IgnorePatternError, IgnoreRules, parse
from solver.ops import Copy

__all__ = ["CopyFilter", "SourceMatch", "SourceTree", "resolve_sources"]


@dataclass(frozen=True, slots=True)
class SourceTree:
    """A directory a Copy reads from.

    Attributes:
        path: the directory playing ``/`` of the source.
        ignore: the build context's ignore rules (None: nothing ignored).
        root_owned: files read from here are owned 0:0 unless ``--chown`` (a
            client-side build context, whose host owners must not leak).
    """

    path: Path
    ignore: IgnoreRules | None = None
    root_owned: bool = False


@dataclass(frozen=True, slots=True)
class SourceMatch:
    """One source path of a Copy.

    Attributes:
        rel: the path inside the source root (``"a/b.txt"``; ``""`` is the root).
        host: where it is on the host, symlinks followed inside the source root.
        keep: for ``--parents``, the path kept under the destination
            (the part after the ``/./`` pivot); ``""`` otherwise.
    """

    rel: str
    host: Path
    keep: str = ""

    @property
    def name(self) -> str:
        return posixpath.basename(self.rel)


@dataclass(frozen=True)
class CopyFilter:
    """``--exclude`` patterns and the context ignore rules, for one Copy."""

    exclude: IgnoreRules | None
    ignore: IgnoreRules | None

    @classmethod
    def of(cls, copy: Copy, tree: SourceTree) -> CopyFilter:
        """Raises: FileOpError: an ``--exclude`` pattern is malformed."""
        rules = None
        if copy.exclude:
            text = "\n".join("./" + p if p.startswith("#") else p for p in copy.exclude)
            try:
                rules = parse(text, "--exclude")
            except IgnorePatternError as exc:
                raise FileOpError(f"invalid --exclude: {exc}") from None
        return cls(rules, tree.ignore)

    def skips(self, comp: str, rel: str, is_dir: bool) -> bool:
        """Whether the entry at ``comp`` (relative to the copied source) and
        ``rel`` (relative to the source root) is left out entirely."""
        for rules, path in ((self.exclude, comp), (self.ignore, rel)):
            if rules is not None and path and rules.excluded(path):
                if not (is_dir and rules.has_exceptions and rules.dir_may_contain_included(path)):
                    return True
        return False

    def hides(self, comp: str, rel: str) -> bool:
        """Whether an entry is excluded itself (a directory may still have kept children)."""
        return any(
            rules is not None and path != "" and rules.excluded(path)
            for rules, path in ((self.exclude, comp), (self.ignore, rel))
        )


def _pivot(src: str) -> tuple[str, str]:
    """Split ``x/./y/*.txt`` at the ``--parents`` pivot: (``x``, ``y/*.txt``)."""
    comps = src.split("/")
    start = 0
    while start < len(comps) and comps[start] in ("", "."):
        start += 1
    rest = comps[start:]
    if "." not in rest:
        return "", "/".join(split_path(src))
    pivot = rest.index(".")
    before, after = "/".join(rest[:pivot]), "/".join(rest[pivot:])
    if not split_path(after):
        return "", "/".join(split_path(src))
    return "/".join(split_path(before)), "/".join(split_path(after))


def _resolve_rel(root: Path, rel: str, follow: bool) -> Path:
    if not rel:
        return root
    if follow:
        return resolve_in_root(root, rel)
    parent, _, base = rel.rpartition("/")
    return resolve_in_root(root, parent) / base


def _wildcards(base: Path, parts: list[str]) -> list[str]:
    """Relative paths below ``base`` whose components match ``parts`` one by one."""
    found = [""]
    for depth, pattern in enumerate(parts):
        nxt = []
        for rel in found:
            here = base / rel if rel else base
            if depth and not (here.is_dir() and not here.is_symlink()):
                continue
            try:
                names = sorted(os.listdir(here))
            except (NotADirectoryError, FileNotFoundError):
                continue
            literal = not has_wildcards(pattern)
            for name in names:
                if (name == _unescape(pattern)) if literal else match(pattern, name):
                    nxt.append(f"{rel}/{name}" if rel else name)
        found = nxt
    return found


def _unescape(text: str) -> str:
    return text.replace("\\", "") if "\\" in text else text


def resolve_sources(tree: SourceTree, copy: Copy) -> list[SourceMatch]:
    """The paths ``copy`` reads from ``tree``, in copy order.

    Raises:
        FileOpError: a literal path does not exist (or is ignored), a pattern is
            malformed, or a wildcard matches nothing while ``allow_empty_wildcard``
            is unset.
    """
    anchor, path = _pivot(copy.src) if copy.parents else ("", "/".join(split_path(copy.src)))
    full = "/".join(p for p in (anchor, path) if p)
    parts = split_path(full)
    if ".." in parts:
        full = posixpath.normpath("/" + full).lstrip("/")
        parts = split_path(full)
    first = next((i for i, p in enumerate(parts) if has_wildcards(p)), None)
    if first is None or not copy.allow_wildcard:
        rels = [full] if _exists(tree, full, copy.follow_symlinks) else []
        if not rels:
            raise FileOpError(
                f"{copy.src}: not found",
                hint="check the path exists in the build context (or source stage) "
                "and is not excluded by .dockerignore",
            )
    else:
        prefix = "/".join(parts[:first])
        base = _resolve_rel(tree.path, prefix, True)
        exclude = CopyFilter.of(copy, tree).exclude
        rels = [
            f"{prefix}/{m}" if prefix else m for m in _wildcards(base, parts[first:])
            if exclude is None or not exclude.excluded(m)
        ]
        rels = [r for r in rels if not _ignored(tree, r)]
        if not rels and not copy.allow_empty_wildcard:
            raise FileOpError(f"{copy.src}: no source files were specified")
    out = []
    for rel in rels:
        host = _resolve_rel(tree.path, rel, copy.follow_symlinks)
        keep = rel[len(anchor):].lstrip("/") if copy.parents else ""
        out.append(SourceMatch(rel, host, keep))
    return out


def _ignored(tree: SourceTree, rel: str) -> bool:
    return tree.ignore is not None and rel != "" and tree.ignore.excluded(rel) and not (
        _is_dir(tree.path / rel) and tree.ignore.has_exceptions
        and tree.ignore.dir_may_contain_included(rel)
    )


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _exists(tree: SourceTree, rel: str, follow: bool) -> bool:
    if _ignored(tree, rel):
        return False
    try:
        os.lstat(_resolve_rel(tree.path, rel, follow))
    except (FileNotFoundError, NotADirectoryError):
        return False
    return True
