"""Registry credentials from Docker's ``config.json`` and ``docker-credential-*`` helpers.

May import: stdlib, builder.errors.

The file is ``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``. Credentials come,
in order, from ``credHelpers[registry]``, then ``credsStore``, then ``auths[registry].auth``
(base64 ``user:password``), exactly as the docker CLI looks them up. Docker Hub is keyed as
``https://index.docker.io/v1/``. Writes keep every other key of the file and replace it
atomically with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from builder.errors import PybuildError, UsageError

__all__ = ["Credentials", "DockerConfig", "config_path", "server_key"]

_HUB_KEY = "https://index.docker.io/v1/"
_HELPER_TIMEOUT = 30.0


@dataclasses.dataclass(frozen=True)
class Credentials:
    """A user name and secret for one registry (``identity_token`` for OAuth2 refresh)."""

    username: str
    password: str
    identity_token: str = ""

    def __repr__(self) -> str:  # never leak a secret into a log line or traceback
        return f"Credentials(username={self.username!r}, password=<hidden>)"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``."""
    env = os.environ if env is None else env
    folder = env.get("DOCKER_CONFIG") or str(Path(env.get("HOME") or Path.home()) / ".docker")
    return Path(folder) / "config.json"


def server_key(registry: str) -> str:
    """The key docker uses for ``registry`` in ``auths`` and helpers."""
    return _HUB_KEY if registry in ("docker.io", "index.docker.io") else registry


def _normalise_key(key: str) -> str:
    key = key.removeprefix("https://").removeprefix("http://")
    host = key.split("/", 1)[0]
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host


@dataclasses.dataclass(frozen=True)
class DockerConfig:
    """The parsed ``config.json``; ``data`` keeps unknown keys so writes lose nothing."""

    path: Path
    data: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> DockerConfig:
        """Read the file (a missing file is an empty config).

        Raises:
            UsageError: the file is not a JSON object.
        """
        path = config_path() if path is None else path
        try:
            text = path.read_text()
        except FileNotFoundError:
            return cls(path, {})
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
        if not isinstance(data, dict):
            raise UsageError(f"{path}: expected a JSON object")
        return cls(path, data)

    def _helper_for(self, registry: str) -> str | None:
        helpers = self.data.get("credHelpers") or {}
        for key, name in helpers.items():
            if _normalise_key(key) == _normalise_key(registry) and isinstance(name, str):
                return name
        store = self.data.get("credsStore")
        return store if isinstance(store, str) and store else None

    def get(self, registry: str) -> Credentials | None:
        """The credentials stored for ``registry``, or None.

        Raises:
            PybuildError: a credential helper failed or returned garbage.
            UsageError: an ``auths`` entry is not valid base64 ``user:password``.
        """
        helper = self._helper_for(registry)
        if helper:
            found = _helper_get(helper, server_key(registry))
            if found is not None:
                return found
        for key, entry in (self.data.get("auths") or {}).items():
            if _normalise_key(key) == _normalise_key(registry) and isinstance(entry, dict):
                return _decode_entry(self.path, key, entry)
        return None

    def store(self, registry: str, creds: Credentials) -> DockerConfig:
        """Save ``creds`` (via the helper if one is configured) and return the new config.

        Raises:
            PybuildError: the helper failed or the file could not be written.
        """
        data = dict(self.data)
        auths = {k: v for k, v in (data.get("auths") or {}).items()
                 if _normalise_key(k) != _normalise_key(registry)}
        helper = self._helper_for(registry)
        if helper:
            _helper_run(helper, "store", json.dumps({
                "ServerURL": server_key(registry), "Username": creds.username,
                "Secret": creds.password}, separators=(",", ":")))
            auths[server_key(registry)] = {}
        else:
            token = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
            auths[server_key(registry)] = {"auth": token}
        data["auths"] = auths
        _write_atomic(self.path, data)
        return DockerConfig(self.path, data)

    def erase(self, registry: str) -> bool:
        """Forget ``registry``'s credentials; False if there were none.

        Raises:
            PybuildError: the helper failed or the file could not be written.
        """
        data = dict(self.data)
        auths = dict(data.get("auths") or {})
        keys = [k for k in auths if _normalise_key(k) == _normalise_key(registry)]
        helper = self._helper_for(registry)
        if helper:
            _helper_run(helper, "erase", server_key(registry), missing_ok=True)
        if not keys:
            return helper is not None
        for key in keys:
            del auths[key]
        data["auths"] = auths
        _write_atomic(self.path, data)
        return True


def _decode_entry(path: Path, key: str, entry: Mapping[str, Any]) -> Credentials | None:
    if entry.get("identitytoken"):
        return Credentials(str(entry.get("username", "")), "", str(entry["identitytoken"]))
    if entry.get("auth"):
        try:
            user, sep, password = base64.b64decode(str(entry["auth"])).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: auths[{key!r}].auth is not valid base64") from exc
        if not sep:
            raise UsageError(f"{path}: auths[{key!r}].auth must encode 'user:password'")
        return Credentials(user, password)
    if entry.get("username") and entry.get("password"):
        return Credentials(str(entry["username"]), str(entry["password"]))
    return None


def _helper_run(name: str, action: str, stdin: str, missing_ok: bool = False) -> str:
    program = f"docker-credential-{name}"
    try:
        proc = subprocess.run([program, action], input=stdin, capture_output=True, text=True,
                              timeout=_HELPER_TIMEOUT, check=False)
    except FileNotFoundError as exc:
        raise PybuildError(f"credential helper {program} not found in PATH",
                           hint="install it or remove it from config.json") from exc
    except subprocess.TimeoutExpired as exc:
        raise PybuildError(f"credential helper {program} {action} timed out") from exc
    if proc.returncode != 0:
        message = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
        text = message[0] if message else f"exit status {proc.returncode}"
        if missing_ok and "not found" in text.lower():
            return ""
        raise PybuildError(f"credential helper {program} {action} failed: {text}")
    return proc.stdout


def _helper_get(name: str, server: str) -> Credentials | None:
    program = f"docker-credential-{name}"
    try:
        out = _helper_run(name, "get", server)
    except PybuildError as exc:
        if "credentials not found" in exc.message.lower():
            return None
        raise
    try:
        data = json.loads(out)
        user, secret = str(data["Username"]), str(data["Secret"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise PybuildError(f"credential helper {program} returned malformed output") from exc
    if user == "<token>":
        return Credentials("", "", secret)
    return Credentials(user, secret)


def _write_atomic(path: Path, data: Mapping[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".config.json.", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(json.dumps(data, indent="\t") + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise PybuildError(f"cannot write {path}: {exc.strerror or exc}") from exc
