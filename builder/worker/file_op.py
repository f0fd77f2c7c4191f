"""Apply a FileOp's actions (Copy, Mkdir, Mkfile, Rm, Symlink) to a directory tree.

May import: stdlib, solver.{digest,ops}, builder.worker.*.

    apply_file_actions(root, actions, sources, FileOpOptions()) -> None

``root`` is a full root filesystem directory (later: a snapshot's upper dir over
a merged view). Every destination path is resolved inside ``root`` (symlinks
followed chroot-like, never out of it), every source path inside its own source
root. ``COPY --link`` copies onto an empty scratch tree first and merges that onto
``root``, as BuildKit's merge-op does: directories on the way take the scratch
metadata (0755) and symlinks on the destination path are replaced, not followed.
On error the tree may be half-changed: the caller discards the mutable snapshot.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from builder.worker.chmod import parse_chmod
from builder.worker.chown import Owner, resolve_chown
from builder.worker.copier import Copier, CopyRules, ensure_file_target, mkdir_all, write_bytes
from builder.worker.copy_paths import CopyFilter, SourceMatch, SourceTree, resolve_sources
from builder.worker.errors import FileOpError
from builder.worker.globmatch import has_wildcards
from builder.worker.link import merge_tree
from builder.worker.rootpath import resolve_in_root, split_path
from solver.digest import Digest
from solver.ops import Copy, FileAction, Input, Mkdir, Mkfile, Rm, Symlink

__all__ = ["FileOpOptions", "apply_file_actions"]


_ZERO = Digest.from_hex("0" * 64)


def _is_root() -> bool:
    return os.geteuid() == 0


@dataclass(frozen=True, slots=True)
class FileOpOptions:
    """How file actions run.

    Attributes:
        same_owner: chown entries and create device nodes (default: when root).
        scratch_dir: where ``--link`` stages its copy (default: beside ``root``);
            must be on the same filesystem as ``root``.
    """

    same_owner: bool = field(default_factory=_is_root)
    scratch_dir: Path | None = None


def apply_file_actions(
    root: Path,
    actions: tuple[FileAction, ...] | list[FileAction],
    sources: Mapping[Input, Path | SourceTree],
    opts: FileOpOptions | None = None,
) -> None:
    """Apply ``actions`` in order to the directory ``root``.

    Args:
        root: the destination root filesystem (an existing directory).
        actions: the FileOp's actions.
        sources: the directory each Copy's ``source`` input is read from; a
            ``SourceTree`` adds ignore rules and 0:0 ownership (build contexts).
        opts: privilege and staging options.

    Raises:
        FileOpError: a source is missing, a target has the wrong type, a
            ``--chown`` name is unknown, an archive is hostile, or the
            filesystem refused a change (the message names the path).
    """
    options = opts or FileOpOptions()
    root = Path(root)
    for action in actions:
        try:
            _apply(root, action, sources, options)
        except FileOpError:
            raise
        except OSError as exc:
            where = _show(root, exc.filename) if exc.filename else ""
            raise FileOpError(f"{_describe(action)}: {exc.strerror or exc}{where}") from None


def _show(root: Path, filename: object) -> str:
    text = os.fsdecode(filename) if isinstance(filename, str | bytes | os.PathLike) else ""
    prefix = str(root)
    if text.startswith(prefix):
        text = "/" + text[len(prefix):].lstrip("/")
    return f": {text}" if text else ""


def _describe(action: FileAction) -> str:
    match action:
        case Copy():
            return f"copy {action.src} to {action.dest}"
        case Mkdir():
            return f"mkdir {action.path}"
        case Mkfile():
            return f"mkfile {action.path}"
        case Rm():
            return f"rm {action.path}"
        case Symlink():
            return f"symlink {action.path} -> {action.target}"


def _apply(
    root: Path, action: FileAction, sources: Mapping[Input, Path | SourceTree],
    opts: FileOpOptions,
) -> None:
    match action:
        case Copy():
            tree = sources.get(action.source)
            if tree is None:
                raise FileOpError(f"copy {action.src}: no source given for its input")
            _copy(root, action, tree if isinstance(tree, SourceTree) else SourceTree(tree), opts)
        case Mkdir():
            _mkdir(root, action)
        case Mkfile():
            _mkfile(root, action)
        case Rm():
            _rm(root, action)
        case Symlink():
            _symlink(root, action)


def _owner(root: Path, action: Copy | Mkdir | Mkfile) -> Owner | None:
    return resolve_chown(root, action.chown) if action.chown is not None else None


def _copy(root: Path, action: Copy, tree: SourceTree, opts: FileOpOptions) -> None:
    rules = CopyRules(
        owner=_owner(root, action), root_owned=tree.root_owned,
        mode=parse_chmod(action.chmod) if action.chmod else None, same_owner=opts.same_owner,
    )
    matches = resolve_sources(tree, action)
    if not matches:
        return
    if not action.link:
        _copy_into(root, action, tree, matches, rules)
        return
    scratch = Path(tempfile.mkdtemp(prefix=".link-", dir=opts.scratch_dir or root.parent))
    try:
        _copy_into(scratch, action, tree, matches, rules)
        merge_tree(scratch, root)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _copy_into(
    root: Path, action: Copy, tree: SourceTree, matches: list[SourceMatch], rules: CopyRules
) -> None:
    dest = action.dest
    head, tail = posixpath.split(dest)
    if not action.create_dest_path and not resolve_in_root(root, head).is_dir():
        raise FileOpError(f"copy {action.src}: destination directory {head} does not exist")
    ensure = head if tail not in ("", ".") else dest
    mkdir_all(root, resolve_in_root(root, ensure), 0o755, rules.owner)
    dest_path = resolve_in_root(root, posixpath.normpath("/" + dest))
    copier = Copier(root, rules, CopyFilter.of(action, tree))
    if action.unpack:  # imported here: it pulls in the compression codecs
        from builder.worker.unpack import is_archive, unpack_archive
    for found in matches:
        if action.unpack and is_archive(found.host):
            mkdir_all(root, dest_path, 0o755, rules.owner)
            unpack_archive(found.host, dest_path, rules.same_owner)
            continue
        if action.parents:
            target = _parents_target(root, dest_path, found, tree, rules)
        else:
            target = _prepare_target(root, found, dest_path, action.contents_only, rules)
        copier.copy(found.host, found.rel, "", target, False)


def _prepare_target(
    root: Path, found: SourceMatch, dest: Path, contents_only: bool, rules: CopyRules
) -> Path:
    """fsutil's ``prepareTargetDir``: where ``found`` lands, parents created."""
    src_dir = stat.S_ISDIR(os.lstat(found.host).st_mode)
    try:
        dest_dir: bool | None = stat.S_ISDIR(os.stat(dest).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        dest_dir = None
    if dest_dir is not None and ((not contents_only and src_dir) or (not src_dir and dest_dir)):
        dest = dest / (found.name or found.host.name)
    holder = dest if (contents_only and src_dir and dest_dir is None) else dest.parent
    mkdir_all(root, holder, 0o755, rules.owner)
    return dest


def _parents_target(
    root: Path, dest: Path, found: SourceMatch, tree: SourceTree, rules: CopyRules
) -> Path:
    """``--parents``: recreate the kept path's directories (with their source
    metadata) under ``dest``; every step is resolved inside ``root``."""
    mkdir_all(root, dest, 0o755, rules.owner)
    parts = split_path(found.keep)
    anchor = found.rel[: len(found.rel) - len(found.keep)].rstrip("/")
    here, rel = dest, anchor
    meta = Copier(root, rules, CopyFilter(None, None))
    for part in parts[:-1]:
        rel = f"{rel}/{part}" if rel else part
        here = resolve_in_root(root, str((here / part).relative_to(root)))
        if not os.path.lexists(here):
            src = resolve_in_root(tree.path, rel)
            mkdir_all(root, here.parent, 0o755, rules.owner)
            os.mkdir(here, 0o700)
            meta.copy_metadata(src, os.lstat(src), here)
        elif not here.is_dir():
            raise FileOpError(f"/{here.relative_to(root)}: not a directory")
    if not parts:
        return dest
    return resolve_in_root(root, str((here / parts[-1]).relative_to(root)))


def _mkdir(root: Path, action: Mkdir) -> None:
    path = resolve_in_root(root, action.path)
    owner = _owner(root, action)
    if action.make_parents:
        mkdir_all(root, path, action.mode & 0o7777, owner)
        return
    if not path.parent.is_dir():
        raise FileOpError(f"mkdir {action.path}: parent directory does not exist")
    if os.path.lexists(path):
        return
    os.mkdir(path, 0o700)
    os.chmod(path, action.mode & 0o7777)
    if owner is not None:
        os.lchown(path, owner.uid, owner.gid)


def _mkfile(root: Path, action: Mkfile) -> None:
    path = resolve_in_root(root, action.path)
    owner = _owner(root, action)
    mkdir_all(root, path.parent, 0o755, owner)
    ensure_file_target(path, root)
    write_bytes(path, action.data, action.mode & 0o7777)
    if owner is not None:
        os.lchown(path, owner.uid, owner.gid)


def _rm(root: Path, action: Rm) -> None:
    parts = split_path(action.path)
    if not parts:
        raise FileOpError(f"rm {action.path}: cannot remove the root directory")
    if action.allow_wildcard and has_wildcards(action.path):
        matches = resolve_sources(
            SourceTree(root), Copy(Input(_ZERO), action.path, "/", follow_symlinks=False)
        )
        paths = [resolve_in_root(root, m.rel, follow_last=False) for m in matches]
    else:
        paths = [resolve_in_root(root, action.path, follow_last=False)]
    for path in paths:
        if path == root:
            raise FileOpError(f"rm {action.path}: cannot remove the root directory")
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            if action.allow_not_found:
                continue
            raise FileOpError(f"rm {action.path}: no such file or directory") from None
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def _symlink(root: Path, action: Symlink) -> None:
    path = resolve_in_root(root, action.path, follow_last=False)
    if os.path.lexists(path):
        raise FileOpError(f"symlink {action.path}: file exists")
    if not path.parent.is_dir():
        raise FileOpError(f"symlink {action.path}: parent directory does not exist")
    os.symlink(action.target, path)

