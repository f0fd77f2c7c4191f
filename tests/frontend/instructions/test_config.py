"""Metadata instructions: pairs and legacy forms, ARG lists, SHELL, HEALTHCHECK, durations."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontend.errors import InstructionError
from frontend.instructions import (
    Arg,
    ArgDecl,
    Env,
    Expose,
    Healthcheck,
    KeyValue,
    Label,
    Shell,
    Volume,
    parse_instruction,
)
from frontend.instructions.config import parse_duration
from frontend.nodes import Instruction

Node = Callable[..., Instruction]
S = 1_000_000_000


def test_env_pairs_keep_quotes_for_expansion(node: Node) -> None:
    env = parse_instruction(node("ENV", 'A=1 B="two words" C=$A'))
    assert isinstance(env, Env) and not env.legacy
    assert env.pairs == (KeyValue("A", "1"), KeyValue("B", '"two words"'), KeyValue("C", "$A"))


def test_legacy_env_takes_whole_rest_as_value(node: Node) -> None:
    env = parse_instruction(node("ENV", "ONE TWO= THREE=world"))
    assert isinstance(env, Env) and env.legacy
    assert env.pairs == (KeyValue("ONE", "TWO= THREE=world"),)


def test_legacy_env_needs_a_value(node: Node) -> None:
    with pytest.raises(InstructionError, match="ENV must have two arguments"):
        parse_instruction(node("ENV", "ONLY"))


def test_pair_form_rejects_word_without_equals(node: Node) -> None:
    with pytest.raises(InstructionError, match="can't find ="):
        parse_instruction(node("LABEL", "a=1 b"))
    with pytest.raises(InstructionError, match="names can not be blank"):
        parse_instruction(node("ENV", "=x"))


def test_label_legacy_form(node: Node) -> None:
    label = parse_instruction(node("LABEL", "maintainer someone@example.com"))
    assert isinstance(label, Label) and label.legacy
    assert label.pairs == (KeyValue("maintainer", "someone@example.com"),)


def test_arg_declares_several_names_with_optional_defaults(node: Node) -> None:
    arg = parse_instruction(node("ARG", "A B=2 C="))
    assert isinstance(arg, Arg)
    assert arg.args == (ArgDecl("A"), ArgDecl("B", "2"), ArgDecl("C", ""))


def test_shell_requires_json(node: Node) -> None:
    with pytest.raises(InstructionError, match="JSON form"):
        parse_instruction(node("SHELL", "/bin/bash -c"))
    shell = parse_instruction(node("SHELL", '["/bin/bash", "-eo", "pipefail", "-c"]'))
    assert isinstance(shell, Shell) and shell.args == ("/bin/bash", "-eo", "pipefail", "-c")


def test_volume_json_and_plain(node: Node) -> None:
    plain = parse_instruction(node("VOLUME", "/a /b"))
    js = parse_instruction(node("VOLUME", '["/c d"]'))
    assert isinstance(plain, Volume) and plain.paths == ("/a", "/b")
    assert isinstance(js, Volume) and js.paths == ("/c d",)


def test_expose_keeps_words(node: Node) -> None:
    expose = parse_instruction(node("EXPOSE", "80 443/tcp 53/udp"))
    assert isinstance(expose, Expose) and expose.ports == ("80", "443/tcp", "53/udp")


@pytest.mark.parametrize(
    ("text", "ns"),
    [("0", 0), ("30s", 30 * S), ("1m30s", 90 * S), ("1.5h", 5400 * S), ("500ms", S // 2),
     ("10us", 10_000), ("2h45m", 9900 * S)],
)
def test_duration_parses_like_go(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["10", "", "s", "1d", "-5s", "1m 2s"])
def test_duration_rejects_what_go_rejects(text: str) -> None:
    with pytest.raises(InstructionError, match="invalid duration"):
        parse_duration(text)


def test_healthcheck_cmd_forms_and_options(node: Node) -> None:
    hc = parse_instruction(node("HEALTHCHECK", "CMD curl -f http://localhost/",
                                "--interval=5m", "--timeout=3s", "--retries=4"))
    assert isinstance(hc, Healthcheck)
    assert hc.test == ("CMD-SHELL", "curl -f http://localhost/")
    assert (hc.interval, hc.timeout, hc.start_period, hc.retries) == (300 * S, 3 * S, None, 4)
    js = parse_instruction(node("HEALTHCHECK", 'CMD ["/bin/check", "--quick"]'))
    assert isinstance(js, Healthcheck) and js.test == ("CMD", "/bin/check", "--quick")


def test_healthcheck_none_and_errors(node: Node) -> None:
    none = parse_instruction(node("HEALTHCHECK", "NONE"))
    assert isinstance(none, Healthcheck) and none.test == ("NONE",)
    with pytest.raises(InstructionError, match="NONE takes no arguments"):
        parse_instruction(node("HEALTHCHECK", "NONE now"))
    with pytest.raises(InstructionError) as info:
        parse_instruction(node("HEALTHCHECK", "RUN true"))
    assert info.value.hint == "try CMD or NONE"
    with pytest.raises(InstructionError, match="less than 1ms"):
        parse_instruction(node("HEALTHCHECK", "CMD true", "--interval=10us"))
    with pytest.raises(InstructionError, match="cannot be negative"):
        parse_instruction(node("HEALTHCHECK", "CMD true", "--retries=-1"))
    with pytest.raises(InstructionError, match="--timeout: invalid duration"):
        parse_instruction(node("HEALTHCHECK", "CMD true", "--timeout=10"))
