"""``pybuild build`` (and bare ``pybuild -t img .``): options, progress, outputs, errors."""

from __future__ import annotations

import json
import re
import secrets
import signal
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from builder.cli.cmd_build import OutputSpec, parse_output
from builder.errors import UsageError
from builder.layers import Compression

from ..buildhelpers import CONTEXTS, copy_context, stored_image

Runner = Any  # tests/conftest.py's Pybuild (test modules cannot import it)


def test_output_spec_parses_type_dest_and_compression() -> None:
    assert parse_output(None) == OutputSpec()
    assert parse_output("type=oci,dest=out.tar,compression=zstd") == OutputSpec(
        "oci", "out.tar", Compression.ZSTD)
    assert parse_output("type=docker,dest=-").dest == "-"


@pytest.mark.parametrize("text", ["type=local,dest=x", "type=oci", "dest", "type=oci,dest=x,y=1",
                                  "type=docker,dest=x,compression=lz4"])
def test_bad_output_spec_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_output(text)


def test_missing_context_exits_2_with_one_line(pybuild: Runner, tmp_path: Path) -> None:
    result = pybuild("build", str(tmp_path / "nope"))
    assert result.code == 2
    assert result.stderr.startswith("error: context") and "Traceback" not in result.stderr


def test_dockerfile_error_exits_2_with_position(pybuild: Runner, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nFROBNICATE /a /b\n")
    result = pybuild("build", str(tmp_path))
    assert result.code == 2
    assert "Dockerfile:2" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.privileged
def test_plain_progress_numbers_steps_and_shows_cached_on_rebuild(busybox_image: Runner) -> None:
    first = busybox_image("-t", "img", "--progress", "plain", str(CONTEXTS / "build-basic"))
    assert first.code == 0, first.stderr
    assert re.search(r"^#\d+ \[stage-0 5/7\] RUN echo", first.stderr, re.M)
    assert re.search(r"^#\d+ DONE \d+\.\ds$", first.stderr, re.M)
    again = busybox_image("build", "-t", "img", "--progress=plain", str(CONTEXTS / "build-basic"))
    assert again.code == 0
    run_no = re.search(r"^#(\d+) \[stage-0 5/7\] RUN", again.stderr, re.M)
    assert run_no is not None
    assert f"#{run_no.group(1)} CACHED" in again.stderr
    assert "naming to docker.io/library/img:latest done" in again.stderr


@pytest.mark.privileged
def test_run_failure_exits_1_with_position_and_log_lines(busybox_image: Runner) -> None:
    result = busybox_image("build", "--progress", "plain", str(CONTEXTS / "build-fail"))
    assert result.code == 1
    err = result.stderr
    assert "Dockerfile:3:1" in err and "exit code: 3" in err
    assert "broken step" in err.split("last log lines:")[1]
    assert ">>> 3 | RUN echo starting" in err
    assert "Traceback" not in err


@pytest.mark.privileged
def test_quiet_prints_the_image_id_and_iidfile_and_metadata_agree(
        busybox_image: Runner, tmp_path: Path) -> None:
    iid, meta = tmp_path / "iid", tmp_path / "meta.json"
    result = busybox_image("build", "-q", "-t", "one", "-t", "two:v2", "--iidfile", str(iid),
                           "--metadata-file", str(meta), str(CONTEXTS / "build-basic"))
    assert result.code == 0, result.stderr
    assert result.out.strip() == iid.read_text()
    doc = json.loads(meta.read_text())
    assert doc["containerimage.config.digest"] == iid.read_text()
    assert doc["image.name"] == "docker.io/library/one:latest,docker.io/library/two:v2"
    assert doc["containerimage.digest"] == stored_image(busybox_image.root, "two:v2").digest


@pytest.mark.privileged
@pytest.mark.parametrize("kind", ["oci", "docker"])
def test_output_writes_an_archive(busybox_image: Runner, tmp_path: Path, kind: str) -> None:
    dest = tmp_path / "out.tar"
    result = busybox_image("build", "-q", "-t", "arch", "--output", f"type={kind},dest={dest}",
                           str(CONTEXTS / "build-basic"))
    assert result.code == 0, result.stderr
    with tarfile.open(dest) as tar:
        names = tar.getnames()
    assert "index.json" in names
    assert ("manifest.json" in names) == (kind == "docker")


@pytest.mark.privileged
def test_build_arg_without_value_comes_from_the_environment(busybox_image: Runner) -> None:
    result = busybox_image("build", "-q", "-t", "env", "--build-arg", "FLAVOUR",
                           str(CONTEXTS / "build-basic"), env={"FLAVOUR": "lemon"})
    assert result.code == 0, result.stderr
    assert stored_image(busybox_image.root, "env").layer_file(1, "greeting") == b"hi lemon\n"


@pytest.mark.privileged
def test_interrupt_stops_the_step_and_leaves_nothing_mounted_or_running(
        busybox_image: Runner, tmp_path: Path) -> None:
    token = f"sleep 40.{secrets.randbelow(10**6):06d}"  # unique: suites may run side by side
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM busybox\nRUN echo started && {token}\n")
    proc = busybox_image.spawn(["build", "--progress", "plain", str(tmp_path / "ctx")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    seen = b""
    while b"started" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    assert b"started" in seen
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert time.monotonic() - start < 20
    assert str(busybox_image.root) not in Path("/proc/self/mountinfo").read_text()
    leftovers = subprocess.run(["pgrep", "-f", token], capture_output=True, text=True)
    assert leftovers.stdout == ""
    assert not list((Path(busybox_image.root) / "tmp").glob("*/exec-*"))


@pytest.mark.privileged
def test_explain_names_the_changed_file_for_the_copy_that_reads_it(
        busybox_image: Runner, tmp_path: Path) -> None:
    context = copy_context("build-multistage", tmp_path)
    assert busybox_image("build", "-q", "-t", "ms", str(context)).code == 0
    (context / "notes.txt").write_text("edited\n")
    result = busybox_image("build", "--explain", "--progress", "plain", "-t", "ms", str(context))
    assert result.code == 0, result.stderr
    copy = re.search(r"^#(\d+) \[build 4/5\] COPY notes.txt ./$", result.stderr, re.M)
    assert copy is not None
    assert f"#{copy.group(1)} cache miss: file notes.txt: changed" in result.stderr
    assert "cache miss: file app/main.txt" not in result.stderr


@pytest.mark.privileged
def test_no_cache_filter_reruns_only_that_stage(busybox_image: Runner) -> None:
    ctx = str(CONTEXTS / "build-multistage")
    assert busybox_image("build", "-q", "-t", "ms", ctx).code == 0
    result = busybox_image("build", "--progress", "plain", "--no-cache-filter", "build", ctx)
    assert result.code == 0, result.stderr
    deps = re.search(r"^#(\d+) \[deps 2/2\] RUN echo deps", result.stderr, re.M)
    build = re.search(r"^#(\d+) \[build 5/5\] RUN", result.stderr, re.M)
    assert deps is not None and build is not None
    assert f"#{deps.group(1)} CACHED" in result.stderr
    assert f"#{build.group(1)} DONE" in result.stderr
