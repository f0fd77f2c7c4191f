"""Image config: canonical bytes (golden file), tolerant parsing, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builder.errors import InvalidInputError
from builder.oci.config import ImageConfig, chain_ids
from solver.digest import sha256_bytes

from .samples import D1, D2, full_config

TESTDATA = Path(__file__).resolve().parents[3] / "testdata" / "oci"


def test_config_bytes_match_the_golden_file() -> None:
    golden = (TESTDATA / "config-full.json").read_bytes()
    assert full_config().to_json() == golden


def test_config_round_trips_through_its_bytes() -> None:
    cfg = full_config()
    assert ImageConfig.from_json(cfg.to_json()) == cfg
    assert cfg.digest == sha256_bytes(cfg.to_json())


def test_config_top_level_keys_are_sorted_as_buildkit_writes_them() -> None:
    keys = list(json.loads(full_config().to_json()))
    assert keys == sorted(keys)


def test_docker_extension_fields_survive_in_oci_config() -> None:
    parsed = json.loads(full_config().to_json())["config"]
    assert parsed["Healthcheck"]["Retries"] == 3
    assert parsed["OnBuild"] == ["RUN echo child"]
    assert parsed["Shell"] == ["/bin/bash", "-c"]


def test_go_html_escaping_is_applied() -> None:
    data = full_config().to_json()
    assert b"<" not in data and b"\\u003c\\u0026\\u003e" in data
    assert "ü".encode() in data


def test_minimal_config_has_the_required_fields_only() -> None:
    data = ImageConfig(architecture="amd64", os="linux").to_json()
    assert data == b'{"architecture":"amd64","config":{},"os":"linux",' \
                   b'"rootfs":{"type":"layers","diff_ids":[]}}'


def test_docker_engine_config_is_read_tolerantly() -> None:
    cfg = ImageConfig.from_json((TESTDATA / "config-docker.json").read_bytes())
    assert cfg.config.cmd == ("sh",) and cfg.config.entrypoint == ()
    assert cfg.config.volumes == () and cfg.config.labels == {}
    assert cfg.history[1].empty_layer and not cfg.history[0].empty_layer
    assert len(cfg.rootfs.diff_ids) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1]", "expected a JSON object"),
        (b'{"config": []}', "'config'"),
        (b'{"config": {"Env": "A=1"}}', "'Env'"),
        (b'{"config": {"Env": [1]}}', "'Env'"),
        (b'{"config": {"ExposedPorts": ["80"]}}', "'ExposedPorts'"),
        (b'{"history": {}}', "'history'"),
        (b'{"history": [1]}', "history entry"),
        (b'{"rootfs": {"diff_ids": ["sha256:xyz"]}}', "not a sha256 digest"),
        (b'{"config": {"Healthcheck": {"Retries": "3"}}}', "'Retries'"),
        (b"[" * 100000, "nested too deeply|not valid JSON"),
    ],
)
def test_malformed_config_gives_one_line_error(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as info:
        ImageConfig.from_json(data)
    assert "\n" not in info.value.message


def test_chain_ids_follow_the_oci_formula() -> None:
    c1 = chain_ids((D1, D2))
    assert c1[0] == D1
    assert c1[1] == sha256_bytes(f"{D1} {D2}".encode())
    assert chain_ids(()) == ()


def test_config_is_hashable() -> None:
    assert hash(full_config()) == hash(full_config())
