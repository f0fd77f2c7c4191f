"""Image references: docker's parsing and normalisation, table-driven from
testdata/oci/references.txt."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.errors import UsageError
from builder.oci.reference import ImageRef
from solver.digest import Digest

CASES_FILE = Path(__file__).resolve().parents[3] / "testdata" / "oci" / "references.txt"


def _cases() -> list[tuple[str, str, tuple[str, ...]]]:
    cases = []
    for lineno, line in enumerate(CASES_FILE.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        for marker in (" => ", " !! "):
            if marker in line:
                text, _, rest = line.partition(marker)
                expected = (rest.strip(),) if marker == " !! " else tuple(rest.split())
                cases.append((text.strip(), marker.strip(), expected))
                break
        else:
            raise AssertionError(f"{CASES_FILE.name}:{lineno}: no => or !! in {line!r}")
    return cases


CASES = _cases()


def test_the_table_has_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize(("text", "kind", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_reference_normalises_like_docker(text: str, kind: str, expected: tuple[str, ...]) -> None:
    if kind == "=>":
        ref = ImageRef.parse(text)
        assert (str(ref), ref.familiar()) == expected
        assert ImageRef.parse(str(ref)) == ref  # the full form parses back to itself
    else:
        with pytest.raises(UsageError) as info:
            ImageRef.parse(text)
        assert expected[0] in info.value.message
        assert "\n" not in info.value.message


def test_empty_reference_is_refused_with_a_hint() -> None:
    with pytest.raises(UsageError) as info:
        ImageRef.parse("")
    assert "at least one component" in info.value.message
    assert info.value.hint


def test_space_in_reference_is_refused() -> None:
    with pytest.raises(UsageError, match="invalid reference format"):
        ImageRef.parse("a b")


def test_parse_splits_registry_repository_tag_and_digest() -> None:
    digest = Digest("sha256:" + "ab" * 32)
    ref = ImageRef.parse(f"host:5000/a/b:v1@{digest}")
    assert ref == ImageRef("host:5000", "a/b", "v1", digest)
    assert ref.name == "host:5000/a/b"


def test_digest_only_reference_gets_no_default_tag() -> None:
    digest = Digest("sha256:" + "cd" * 32)
    assert ImageRef.parse(f"busybox@{digest}").tag == ""


def test_default_tag_can_be_turned_off() -> None:
    ref = ImageRef.parse("busybox", default_tag=None)
    assert ref.tag == "" and str(ref) == "docker.io/library/busybox"


def test_with_tag_replaces_tag_and_drops_digest() -> None:
    digest = Digest("sha256:" + "ef" * 32)
    ref = ImageRef.parse(f"app:old@{digest}").with_tag("new")
    assert str(ref) == "docker.io/library/app:new"


def test_with_tag_rejects_invalid_tag() -> None:
    with pytest.raises(UsageError, match="invalid tag"):
        ImageRef.parse("app").with_tag("-bad")


def test_with_digest_keeps_tag() -> None:
    digest = Digest("sha256:" + "01" * 32)
    assert ImageRef.parse("app:v1").with_digest(digest).familiar() == f"app:v1@{digest}"


def test_familiar_name_keeps_library_for_nested_paths() -> None:
    assert ImageRef.parse("library/a/b").familiar_name() == "library/a/b"
    assert ImageRef.parse("quay.io/library/x").familiar_name() == "quay.io/library/x"


_COMPONENT = st.from_regex(r"[a-z0-9]{1,5}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,5}){0,2}",
                           fullmatch=True)
_TAG = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
_HOST = st.sampled_from(["", "localhost/", "localhost:5000/", "quay.io/", "10.0.0.1:443/",
                         "docker.io/", "Reg.Example.com/"])


@settings(max_examples=60, deadline=None)
@given(_HOST, st.lists(_COMPONENT, min_size=1, max_size=3), st.one_of(st.none(), _TAG))
def test_full_and_familiar_forms_parse_back_to_the_same_reference(
    host: str, path: list[str], tag: str | None
) -> None:
    text = host + "/".join(path) + (f":{tag}" if tag else "")
    ref = ImageRef.parse(text)
    assert ImageRef.parse(str(ref)) == ref
    assert ref.tag == (tag or "latest")
    if not (ref.registry == "docker.io" and "." in path[0] and len(path) > 1):
        # docker's familiar form of docker.io/a.b/c is a.b/c, which reads as host
        # a.b: an ambiguity of docker's own that pybuild keeps
        assert ImageRef.parse(ref.familiar()) == ref
