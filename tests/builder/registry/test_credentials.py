"""Docker config.json: auths, credsStore/credHelpers through the helper protocol, writes."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from builder.errors import PybuildError, UsageError
from builder.registry.credentials import Credentials, DockerConfig, config_path, server_key

HELPER = """#!/bin/sh
# a docker-credential helper backed by one JSON file per server in $FAKE_STORE
action=$1
read -r input || true
case $action in
get) f="$FAKE_STORE/$(printf %s "$input" | tr '/:' '__')"
     if [ -f "$f" ]; then cat "$f"
     else echo "credentials not found in native keychain"; exit 1; fi;;
store) printf %s "$input" > "$FAKE_STORE/last-store";
       server=$(printf %s "$input" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/')
       printf %s "$input" > "$FAKE_STORE/$(printf %s "$server" | tr '/:' '__')";;
erase) rm -f "$FAKE_STORE/$(printf %s "$input" | tr '/:' '__')";;
esac
"""


@pytest.fixture
def helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir, store = tmp_path / "bin", tmp_path / "store"
    bindir.mkdir()
    store.mkdir()
    script = bindir / "docker-credential-fake"
    script.write_text(HELPER)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_STORE", str(store))
    return store


def _write(path: Path, data: object) -> DockerConfig:
    path.write_text(json.dumps(data))
    return DockerConfig.load(path)


def test_config_path_honours_docker_config() -> None:
    assert config_path({"DOCKER_CONFIG": "/x/y", "HOME": "/h"}) == Path("/x/y/config.json")
    assert config_path({"HOME": "/h"}) == Path("/h/.docker/config.json")


def test_auths_entry_is_decoded_and_matched_ignoring_scheme(tmp_path: Path) -> None:
    token = base64.b64encode(b"bob:pa:ss").decode()
    config = _write(tmp_path / "c.json", {"auths": {"https://reg.example:5000/v2/":
                                                    {"auth": token}}})
    assert config.get("reg.example:5000") == Credentials("bob", "pa:ss")
    assert config.get("other.example") is None


def test_docker_hub_is_keyed_as_index_docker_io_v1(tmp_path: Path) -> None:
    token = base64.b64encode(b"u:p").decode()
    config = _write(tmp_path / "c.json", {"auths": {"https://index.docker.io/v1/":
                                                    {"auth": token}}})
    assert config.get("docker.io") == Credentials("u", "p")
    assert server_key("docker.io") == "https://index.docker.io/v1/"


def test_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    assert DockerConfig.load(tmp_path / "none.json").get("reg") is None


def test_malformed_file_and_entry_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(UsageError, match=r"bad.json:1:2: invalid JSON"):
        DockerConfig.load(tmp_path / "bad.json")
    config = _write(tmp_path / "c.json", {"auths": {"reg": {"auth": "!!!"}}})
    with pytest.raises(UsageError, match="not valid base64|must encode"):
        config.get("reg")


def test_store_keeps_other_keys_and_erase_removes_only_that_registry(tmp_path: Path) -> None:
    config = _write(tmp_path / "c.json", {"auths": {"keep": {"auth": "eDp5"}},
                                          "detachKeys": "ctrl-x"})
    config = config.store("reg:5000", Credentials("u", "p"))
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["detachKeys"] == "ctrl-x"
    assert set(data["auths"]) == {"keep", "reg:5000"}
    assert DockerConfig.load(tmp_path / "c.json").get("reg:5000") == Credentials("u", "p")
    assert config.erase("reg:5000") is True
    assert set(json.loads((tmp_path / "c.json").read_text())["auths"]) == {"keep"}


def test_creds_store_helper_get_store_and_erase(tmp_path: Path, helper: Path) -> None:
    config = _write(tmp_path / "c.json", {"credsStore": "fake"})
    assert config.get("reg.example") is None
    config = config.store("reg.example", Credentials("alice", "pw"))
    assert json.loads((helper / "last-store").read_text()) == {
        "ServerURL": "reg.example", "Username": "alice", "Secret": "pw"}
    saved = json.loads((tmp_path / "c.json").read_text())
    assert saved["auths"] == {"reg.example": {}}  # docker keeps an empty marker entry
    assert config.get("reg.example") == Credentials("alice", "pw")
    assert config.erase("reg.example") is True
    assert config.get("reg.example") is None


def test_cred_helpers_entry_wins_over_auths(tmp_path: Path, helper: Path) -> None:
    (helper / "reg.example").write_text('{"ServerURL":"reg.example","Username":"h","Secret":"s"}')
    token = base64.b64encode(b"file:user").decode()
    config = _write(tmp_path / "c.json", {"credHelpers": {"reg.example": "fake"},
                                          "auths": {"reg.example": {"auth": token}}})
    assert config.get("reg.example") == Credentials("h", "s")


def test_missing_helper_program_is_a_clear_error(tmp_path: Path) -> None:
    config = _write(tmp_path / "c.json", {"credsStore": "does-not-exist-anywhere"})
    with pytest.raises(PybuildError, match="docker-credential-does-not-exist-anywhere not found"):
        config.get("reg")
