"""The ``--format`` template subset: rendering, errors and table alignment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builder.cli.template import Template, align_table
from builder.errors import UsageError

DATA = Path(__file__).resolve().parents[3] / "testdata" / "template"


def _cases(name: str) -> list[list[str]]:
    lines = (DATA / name).read_text().splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


def _unescape(text: str) -> str:
    return text.replace("\\t", "\t").replace("\\n", "\n")


@pytest.mark.parametrize("template,data,expected", _cases("render.txt"),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_renders_like_go_templates(template: str, data: str, expected: str) -> None:
    assert Template.parse(template).render(json.loads(data)) == _unescape(expected)


def test_tab_in_expected_is_real_tab() -> None:
    out = Template.parse("{{.A}}\\t{{.B}}").render({"A": "1", "B": "2"})
    assert out == "1\t2"


@pytest.mark.parametrize("template,fragment", _cases("errors.txt"))
def test_malformed_template_is_a_usage_error(template: str, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        Template.parse(template)
    assert fragment in info.value.message
    assert "column" in info.value.message


def test_table_prefix_gives_header_from_field_names() -> None:
    template = Template.parse("table {{.Repository}}\t{{.ID}}")
    assert template.table
    assert template.header({"Repository": "REPOSITORY", "ID": "IMAGE ID"}) == \
        "REPOSITORY\tIMAGE ID"


def test_unknown_header_field_is_upper_cased() -> None:
    assert Template.parse("table {{.Foo}}").header({}) == "FOO"


def test_template_never_evaluates_python() -> None:
    with pytest.raises(UsageError):
        Template.parse("{{__import__('os')}}")


def test_align_table_pads_columns_like_tabwriter() -> None:
    out = align_table(["A\tBB\tC", "longer-cell\tx\ty"])
    first, second = out.splitlines()
    assert first.index("BB") == second.index("x") == len("longer-cell") + 3
    assert first.startswith("A" + " " * 13)


def test_align_table_minimum_width_is_ten() -> None:
    assert align_table(["a\tb"]) == "a" + " " * 9 + "b"
