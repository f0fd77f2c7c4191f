"""COPY/ADD: sources and destination, JSON form, flags, heredoc sources, --from rules."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontend.errors import InstructionError
from frontend.instructions import Add, Copy, parse_instruction
from frontend.instructions.copy import valid_chmod
from frontend.nodes import Heredoc, Instruction

Node = Callable[..., Instruction]


def test_copy_splits_sources_and_destination(node: Node) -> None:
    cmd = parse_instruction(node("COPY", "a.txt b/ /dst/", "--chown=app:app", "--link"))
    assert isinstance(cmd, Copy) and not isinstance(cmd, Add)
    assert cmd.sources == ("a.txt", "b/") and cmd.dest == "/dst/"
    assert cmd.chown == "app:app" and cmd.link is True


def test_copy_json_form_keeps_spaces(node: Node) -> None:
    cmd = parse_instruction(node("COPY", '["my file", "/dst dir/"]'))
    assert isinstance(cmd, Copy)
    assert cmd.sources == ("my file",) and cmd.dest == "/dst dir/"


def test_copy_needs_two_arguments(node: Node) -> None:
    with pytest.raises(InstructionError, match="at least two arguments"):
        parse_instruction(node("COPY", "only"))


def test_copy_from_with_variable_is_rejected_with_workaround_hint(node: Node) -> None:
    with pytest.raises(InstructionError) as info:
        parse_instruction(node("COPY", "/a /b", "--from=$STAGE"))
    assert "variables are not expanded in --from" in info.value.message
    assert info.value.hint is not None and "FROM ${VAR} AS src" in info.value.hint


@pytest.mark.parametrize("mode", ["755", "0644", "u=rwX,go=rX", "a+x", "u+s,g-w"])
def test_chmod_accepts_octal_and_symbolic(mode: str) -> None:
    assert valid_chmod(mode)


@pytest.mark.parametrize("mode", ["rwx", "899", "12", "u=q"])
def test_chmod_rejects_garbage(node: Node, mode: str) -> None:
    assert not valid_chmod(mode)
    with pytest.raises(InstructionError, match="invalid --chmod"):
        parse_instruction(node("COPY", "a /b", f"--chmod={mode}"))


def test_heredoc_sources_are_separated(node: Node) -> None:
    doc = Heredoc("EOF", "hello\n", True, False, node("COPY", "x y").span)
    cmd = parse_instruction(node("COPY", "<<EOF a.txt /dst/", heredocs=(doc,)))
    assert isinstance(cmd, Copy)
    assert cmd.heredocs == (doc,) and cmd.sources == ("a.txt",)


def test_add_specific_flags(node: Node) -> None:
    cmd = parse_instruction(node(
        "ADD", "https://example.com/x.tgz /x/", "--checksum=sha256:abc", "--unpack=true",
        "--keep-git-dir",
    ))
    assert isinstance(cmd, Add)
    assert (cmd.checksum, cmd.unpack, cmd.keep_git_dir) == ("sha256:abc", True, True)


def test_copy_refuses_add_only_flags(node: Node) -> None:
    with pytest.raises(InstructionError) as info:
        parse_instruction(node("COPY", "a /b", "--checksum=sha256:x"))
    assert "unknown flag --checksum" in info.value.message


def test_add_unpack_unset_is_none(node: Node) -> None:
    cmd = parse_instruction(node("ADD", "a.tar /b/"))
    assert isinstance(cmd, Add) and cmd.unpack is None
