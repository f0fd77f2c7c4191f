"""The same Dockerfile and args give the same digests; display metadata is not identity."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from frontend.compile import BuildPlan

Build = Callable[..., BuildPlan]
ROOT = Path(__file__).resolve().parents[3]

TEXT = """\
ARG GO=1.22
FROM golang:${GO} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/.cache/go-build go build -o /out/app .
FROM gcr.io/distroless/static
COPY --from=build /out/app /app
USER 65532:65532
ENTRYPOINT ["/app"]
"""


def test_two_compilations_give_identical_definitions(build: Build) -> None:
    one, two = build(TEXT), build(TEXT)
    assert list(one.definition.ops) == list(two.definition.ops)
    assert one.definition.output == two.definition.output


def test_digest_is_stable_across_processes(build: Build) -> None:
    code = (
        "from frontend.parser import parse_dockerfile;"
        "from frontend.compile import compile_dockerfile;"
        f"print(compile_dockerfile(parse_dockerfile({TEXT!r})).definition.output.digest)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={"PYTHONHASHSEED": "123", "PATH": ""})
    output = build(TEXT).definition.output
    assert output is not None and out.stdout.strip() == output.digest


def test_renaming_a_stage_or_moving_lines_changes_only_metadata(build: Build) -> None:
    renamed = TEXT.replace("AS build", "AS compile").replace("--from=build", "--from=compile")
    moved = "\n\n" + renamed
    one, two = build(TEXT), build(moved)
    assert list(one.definition.ops) == list(two.definition.ops)
    names_one = {m.name for m in one.definition.metadata.values()}
    names_two = {m.name for m in two.definition.metadata.values()}
    assert names_one != names_two


def test_changing_a_build_arg_changes_the_output(build: Build) -> None:
    one, two = build(TEXT), build(TEXT, build_args={"GO": "1.21"})
    assert one.definition.output != two.definition.output
