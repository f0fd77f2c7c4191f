"""USER resolution against an image's passwd and group, table in testdata/sandbox/users.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.sandbox.errors import SandboxError
from builder.sandbox.users import ExecUser, resolve_user

TABLE = Path(__file__).resolve().parents[3] / "testdata" / "sandbox" / "users.txt"
PASSWD = """root:x:0:0:root:/root:/bin/sh
# a comment line
alice:x:1000:1000:Alice:/home/alice:/bin/sh
bob:x:1001:1001::/home/bob:/bin/sh
broken:line
"""
GROUP = """root:x:0:
wheel:x:10:alice
audio:x:29:bob,alice
alice:x:1000:
bob:x:1001:
"""


def _cases() -> list[tuple[str, str]]:
    out = []
    for line in TABLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            spec, _, expected = line.partition(" | ")
            out.append(("" if spec == "<empty>" else spec, expected.strip()))
    return out


@pytest.mark.parametrize(("spec", "expected"), _cases(), ids=lambda v: v or "<empty>")
def test_user_spec_resolves_like_runc(spec: str, expected: str) -> None:
    if expected.startswith("error: "):
        with pytest.raises(SandboxError, match=expected.removeprefix("error: ")):
            resolve_user(spec, PASSWD, GROUP)
        return
    uid, gid, groups, home = expected.split()
    want = ExecUser(int(uid), int(gid), tuple(int(g) for g in groups.split(",")), home)
    assert resolve_user(spec, PASSWD, GROUP) == want


def test_extra_groups_are_appended_once() -> None:
    user = resolve_user("alice", PASSWD, GROUP, ("audio", "77"))
    assert user.groups == (1000, 10, 29, 77)


def test_missing_files_still_allow_numeric_ids() -> None:
    assert resolve_user("5:6", "", "") == ExecUser(5, 6, (6,), "/")
