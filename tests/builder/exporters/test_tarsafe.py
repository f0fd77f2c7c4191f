"""Member-name checks for untrusted archives."""

from __future__ import annotations

import pytest

from builder.errors import InvalidInputError
from builder.exporters.tarsafe import link_target, member_path


@pytest.mark.parametrize("name,expected", [
    ("a/b", "a/b"), ("./a//b/", "a/b"), (".", ""), ("blobs/sha256/x", "blobs/sha256/x"),
])
def test_member_path_normalises_relative_names(name: str, expected: str) -> None:
    assert member_path(name) == expected


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../../x", "a/..", "a\x00b"])
def test_member_path_refuses_escaping_names(name: str) -> None:
    with pytest.raises(InvalidInputError):
        member_path(name)


def test_link_target_resolves_relative_to_the_member() -> None:
    assert link_target("abc/layer.tar", "../def/layer.tar") == "def/layer.tar"


@pytest.mark.parametrize("target", ["/etc/shadow", "../../x"])
def test_link_target_refuses_links_out_of_the_archive(target: str) -> None:
    with pytest.raises(InvalidInputError):
        link_target("abc/layer.tar", target)
