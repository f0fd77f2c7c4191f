"""Endpoints, insecure rules (table in testdata/registry/insecure.json), mirrors, certs.d."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builder.errors import UsageError
from builder.registry.hosts import HostsConfig, Scheme, api_host

CASES = json.loads((Path(__file__).parents[3] / "testdata/registry/insecure.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[f"{c['host']}-{c['insecure']}" for c in CASES])
def test_insecure_rules_match_docker(case: dict[str, object]) -> None:
    hosts = HostsConfig(insecure=tuple(str(h) for h in case["insecure"]))  # type: ignore[attr-defined]
    assert hosts.is_insecure(str(case["host"])) is case["want"]


def test_insecure_registry_tries_https_unverified_then_http() -> None:
    eps = HostsConfig(insecure=("reg:5000",)).endpoints("reg:5000")
    assert [(e.scheme, e.verify) for e in eps] == [(Scheme.HTTPS, False), (Scheme.HTTP, False)]


def test_secure_registry_is_https_only_with_verification(tmp_path: Path) -> None:
    eps = HostsConfig(certs_dir=tmp_path).endpoints("reg.example")
    assert len(eps) == 1 and eps[0].scheme is Scheme.HTTPS and eps[0].verify is not False


def test_docker_hub_goes_to_registry_1_and_mirrors_come_first_for_pulls_only() -> None:
    hosts = HostsConfig(mirrors=("https://mirror.example/prefix/", "http://10.0.0.1:5000"))
    pull = hosts.endpoints("docker.io")
    assert [e.base_url for e in pull] == ["https://mirror.example/prefix",
                                         "http://10.0.0.1:5000", "https://registry-1.docker.io"]
    assert [e.base_url for e in hosts.endpoints("docker.io", for_push=True)] == [
        "https://registry-1.docker.io"]
    assert api_host("docker.io") == "registry-1.docker.io"
    assert api_host("quay.io") == "quay.io"


def test_from_env_reads_variable_and_daemon_json_style_file(tmp_path: Path) -> None:
    config = tmp_path / "registries.json"
    config.write_text(json.dumps({"insecure-registries": ["a.example"],
                                  "registry-mirrors": ["https://m.example"]}))
    hosts = HostsConfig.from_env({"PYBUILD_INSECURE_REGISTRIES": "b.example:5000, c.example",
                                  "PYBUILD_REGISTRY_CONFIG": str(config),
                                  "PYBUILD_CERTS_DIR": str(tmp_path)})
    assert hosts.insecure == ("b.example:5000", "c.example", "a.example")
    assert hosts.mirrors == ("https://m.example",)
    assert hosts.certs_dir == tmp_path


def test_malformed_config_file_is_a_usage_error_with_position(tmp_path: Path) -> None:
    config = tmp_path / "registries.json"
    config.write_text('{"insecure-registries": [1,')
    with pytest.raises(UsageError) as info:
        HostsConfig.from_env({"PYBUILD_REGISTRY_CONFIG": str(config)})
    assert info.value.message.startswith(f"{config}:1:")
    config.write_text('{"insecure-registries": "a"}')
    with pytest.raises(UsageError, match="must be a list of strings"):
        HostsConfig.from_env({"PYBUILD_REGISTRY_CONFIG": str(config)})


def test_unreadable_ca_in_certs_dir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "reg.example").mkdir()
    (tmp_path / "reg.example" / "ca.crt").write_text("not a certificate")
    with pytest.raises(UsageError, match="cannot load certificates for reg.example"):
        HostsConfig(certs_dir=tmp_path).endpoints("reg.example")
