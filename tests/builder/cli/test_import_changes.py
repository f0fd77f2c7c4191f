"""``import --change`` parsing through the Dockerfile frontend, against
testdata/import-changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builder.cli.import_changes import parse_changes
from builder.errors import UsageError
from builder.exporters.changes import apply_changes
from builder.oci.image import ContainerConfig
from frontend.errors import FrontendError

DATA = Path(__file__).resolve().parents[3] / "testdata" / "import-changes"


def _cases(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (DATA / name).read_text().splitlines():
        if line and not line.startswith("#"):
            left, right = line.split("\t")
            rows.append((left, right))
    return rows


@pytest.mark.parametrize("lines,expected", _cases("cases.txt"))
def test_change_sets_config_like_docker_import(lines: str, expected: str) -> None:
    config = apply_changes(ContainerConfig(), parse_changes(lines.split(" ;; ")))
    assert config.to_json() == json.loads(expected)


@pytest.mark.parametrize("line,fragment", _cases("errors.txt"))
def test_bad_change_is_refused_with_a_clear_message(line: str, fragment: str) -> None:
    with pytest.raises((UsageError, FrontendError)) as info:
        parse_changes([line])
    assert fragment in str(info.value)


def test_env_from_an_earlier_change_expands_in_later_ones() -> None:
    changes = parse_changes(["ENV BASE=/srv", "WORKDIR $BASE/app", "LABEL home=${BASE}"])
    config = apply_changes(ContainerConfig(), changes)
    assert config.working_dir == "/srv/app" and dict(config.labels) == {"home": "/srv"}
