"""``pybuild pull``, ``login`` and ``logout`` end to end (builder/cli/cmd_pull.py,
cmd_login.py, cmd_logout.py), with DOCKER_CONFIG in a tmp dir."""

from __future__ import annotations

import base64
import io
import json
import uuid
from pathlib import Path

import pytest

from builder.cli.main import main
from builder.exporters.push import push_image
from builder.oci.reference import ImageRef
from builder.registry.client import ClientOptions, RegistryClient
from builder.registry.credentials import Credentials
from tests.builder.registry.registry_support import (
    PASSWORD,
    USER,
    Fault,
    FaultProxy,
    Registry,
    Stores,
    make_image,
)


def _publish(registry: Registry, source: Stores, creds: Credentials | None = None,
             repo: str = "") -> ImageRef:
    desc = make_image(source.content, (300, 600))
    ref = ImageRef.parse(f"{registry.host}/{repo or 'cli/' + uuid.uuid4().hex[:8]}:v1")
    with RegistryClient(registry.host, ClientOptions(credentials=creds, push=True)) as client:
        push_image(client, ref, source.content, desc)
    return ref


def _login(registry: Registry, password: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["login", "-u", USER, "--password-stdin", registry.host])


def test_cli_pull_prints_docker_lines_and_names_the_image(
        registry_http: Registry, source: Stores, stores: Stores, docker_config: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    ref = _publish(registry_http, source)
    root = str(stores.root.path)
    assert main(["--root", root, "pull", str(ref)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"v1: Pulling from {ref.repository}"
    assert sum("Pull complete" in line for line in out) == 2
    assert out[-2] == f"Status: Downloaded newer image for {ref.familiar()}"
    assert out[-1] == str(ref)
    assert stores.images.get(ref) is not None
    assert main(["--root", root, "pull", str(ref)]) == 0
    again = capsys.readouterr().out.splitlines()
    assert sum("Already exists" in line for line in again) == 2
    assert again[-2] == f"Status: Image is up to date for {ref.familiar()}"


def test_cli_pull_of_private_repo_without_login_is_denied_with_exit_1(
        registry_token: Registry, tmp_path: Path, docker_config: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--root", str(tmp_path / "r"), "pull", f"{registry_token.host}/secret/app"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: pull access denied for secret/app:latest: repository does "
                          "not exist or may require 'pybuild login'")
    assert "Traceback" not in err
    assert not (tmp_path / "r" / "refs" / "index.json").exists()


def test_cli_login_then_pull_from_token_registry(
        registry_token: Registry, source: Stores, stores: Stores, docker_config: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    ref = _publish(registry_token, source, Credentials(USER, PASSWORD))
    assert _login(registry_token, PASSWORD, monkeypatch) == 0
    assert capsys.readouterr().out.startswith("Login Succeeded")
    saved = json.loads((docker_config / "config.json").read_text())
    token = saved["auths"][registry_token.host]["auth"]
    assert base64.b64decode(token).decode() == f"{USER}:{PASSWORD}"
    assert main(["--root", str(stores.root.path), "pull", "-q", str(ref)]) == 0
    assert capsys.readouterr().out.strip() == str(ref)


def test_cli_login_with_wrong_password_fails_and_writes_nothing(
        registry_tls: Registry, docker_config: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _login(registry_tls, "wrong", monkeypatch) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unauthorized: incorrect username or password")
    assert not (docker_config / "config.json").exists()


def test_cli_login_over_tls_basic_then_logout(
        registry_tls: Registry, docker_config: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (docker_config / "config.json").write_text('{"auths": {}, "psFormat": "table"}')
    assert _login(registry_tls, PASSWORD, monkeypatch) == 0
    saved = json.loads((docker_config / "config.json").read_text())
    assert saved["psFormat"] == "table" and registry_tls.host in saved["auths"]
    assert (docker_config / "config.json").stat().st_mode & 0o777 == 0o600
    assert main(["logout", registry_tls.host]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == \
        f"Removing login credentials for {registry_tls.host}"
    assert json.loads((docker_config / "config.json").read_text())["auths"] == {}
    assert main(["logout", registry_tls.host]) == 0
    assert capsys.readouterr().out.strip() == f"Not logged in to {registry_tls.host}"


def test_cli_pull_with_wrong_stored_credentials_is_a_clear_401(
        registry_token: Registry, tmp_path: Path, docker_config: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    auth = base64.b64encode(f"{USER}:bad".encode()).decode()
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {registry_token.host: {"auth": auth}}}))
    code = main(["--root", str(tmp_path / "r"), "pull", f"{registry_token.host}/any/thing"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[0] == ("error: unauthorized: incorrect username or password for "
                                   f"{registry_token.host}")
    assert err.splitlines()[1] == f"hint: run 'pybuild login {registry_token.host}'"


def test_cli_pull_through_a_proxy_answering_401_exits_1(
        fault_proxy: FaultProxy, tmp_path: Path, docker_config: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    fault_proxy.faults.append(Fault("status", "/manifests/", status=401, times=-1))
    code = main(["--root", str(tmp_path / "r"), "pull", f"{fault_proxy.host}/x/y:z"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: pull access denied for x/y:z")


def test_cli_pull_rejects_a_malformed_name_with_exit_2(
        tmp_path: Path, docker_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(tmp_path / "r"), "pull", "Bad/Name"]) == 2
    assert capsys.readouterr().err.startswith("error: invalid reference format")


def test_cli_pull_of_a_docker_hub_name_uses_the_configured_mirror(
        registry_http: Registry, source: Stores, stores: Stores, docker_config: Path,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    name = f"mirrored{uuid.uuid4().hex[:8]}"
    _publish(registry_http, source, repo=f"library/{name}")
    config = tmp_path / "registries.json"
    config.write_text(json.dumps({"registry-mirrors": [f"http://{registry_http.host}"]}))
    monkeypatch.setenv("PYBUILD_REGISTRY_CONFIG", str(config))
    assert main(["--root", str(stores.root.path), "pull", f"{name}:v1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"v1: Pulling from library/{name}"
    assert out[-1] == f"docker.io/library/{name}:v1"
    assert stores.images.get(ImageRef.parse(f"{name}:v1")) is not None
