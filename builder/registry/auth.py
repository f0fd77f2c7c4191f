"""Registry authentication: ``WWW-Authenticate`` challenges, Basic, and Bearer tokens.

May import: stdlib, httpx, builder.registry.{credentials,errors}.

The Bearer flow is the distribution token spec: ``GET realm?service=…&scope=…`` with Basic
credentials when there are any (or an OAuth2 ``refresh_token`` POST for identity tokens);
the answer's ``token`` or ``access_token`` is cached per set of scopes until shortly before
``expires_in`` runs out (60 s when the server does not say).
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import re
import threading
import time
from collections.abc import Callable

import httpx

from builder.registry.credentials import Credentials
from builder.registry.errors import AuthError, RegistryError

__all__ = ["AuthScheme", "Authenticator", "Challenge", "parse_challenges", "scope_for"]

_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')
_MIN_LIFETIME = 60
_SLACK = 10


class AuthScheme(enum.Enum):
    BASIC = "basic"
    BEARER = "bearer"


@dataclasses.dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge, e.g. ``Bearer realm="…",service="…"``."""

    scheme: AuthScheme
    params: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str:
        return next((v for k, v in self.params if k == name), "")


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value; unknown schemes are skipped."""
    out: list[Challenge] = []
    rest = header.strip()
    while rest:
        match = re.match(r"([A-Za-z]+)\s*", rest)
        if not match:
            break
        name, rest = match.group(1).lower(), rest[match.end():]
        params: list[tuple[str, str]] = []
        while (pm := _PARAM.match(rest)) and pm.group(0):
            value = pm.group(2) if pm.group(2) is not None else pm.group(3) or ""
            params.append((pm.group(1).lower(), re.sub(r"\\(.)", r"\1", value)))
            rest = rest[pm.end():]
        if name in ("basic", "bearer"):
            out.append(Challenge(AuthScheme(name), tuple(params)))
    return out


def scope_for(repository: str, push: bool = False) -> str:
    """The token scope for ``repository`` (``repository:NAME:pull[,push]``)."""
    return f"repository:{repository}:{'pull,push' if push else 'pull'}"


@dataclasses.dataclass(frozen=True)
class _Token:
    value: str
    expires: float


class Authenticator:
    """Turns scopes into ``Authorization`` headers for one registry; thread-safe."""

    def __init__(self, registry: str, credentials: Credentials | None,
                 send: Callable[[httpx.Request], httpx.Response]) -> None:
        self.registry = registry
        self.credentials = credentials
        self._send = send
        self._challenge: Challenge | None = None
        self._tokens: dict[tuple[str, ...], _Token] = {}
        self._lock = threading.Lock()
        self.token_requests = 0

    @property
    def challenge(self) -> Challenge | None:
        return self._challenge

    def learn(self, header: str) -> None:
        """Remember the registry's challenge (from a 401 answer); Bearer is preferred."""
        found = parse_challenges(header)
        if found:
            found.sort(key=lambda c: c.scheme is not AuthScheme.BEARER)
            with self._lock:
                self._challenge = found[0]

    def header(self, scopes: tuple[str, ...], refresh: bool = False) -> str | None:
        """The ``Authorization`` value for ``scopes`` or None (anonymous).

        Raises:
            AuthError: the token server refused the credentials.
            RegistryError: the token server failed or answered garbage.
        """
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme is AuthScheme.BASIC:
            if self.credentials is None:
                return None
            raw = f"{self.credentials.username}:{self.credentials.password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        key = tuple(sorted(scopes))
        with self._lock:
            cached = self._tokens.get(key)
            if cached and not refresh and cached.expires > time.monotonic():
                return f"Bearer {cached.value}"
        token = self._fetch(challenge, key)
        with self._lock:
            self._tokens[key] = token
        return f"Bearer {token.value}"

    def _fetch(self, challenge: Challenge, scopes: tuple[str, ...]) -> _Token:
        realm = challenge.get("realm")
        if not realm:
            raise RegistryError(f"{self.registry}: Bearer challenge without a realm")
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("scope", s) for s in scopes]
        if challenge.get("service"):
            params.insert(0, ("service", challenge.get("service")))
        creds = self.credentials
        if creds is not None and creds.identity_token:
            form = {"grant_type": "refresh_token", "client_id": "pybuild",
                    "refresh_token": creds.identity_token, "scope": " ".join(scopes),
                    "service": challenge.get("service")}
            request = httpx.Request("POST", realm, data=form)
        else:
            request = httpx.Request("GET", realm, params=params)
            if creds is not None:
                raw = f"{creds.username}:{creds.password}".encode()
                request.headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        self.token_requests += 1
        response = self._send(request)
        return self._parse_token(response)

    def _parse_token(self, response: httpx.Response) -> _Token:
        if response.status_code in (401, 403):
            who = "incorrect username or password" if self.credentials else "access denied"
            raise AuthError(f"unauthorized: {who} for {self.registry}",
                            hint=f"run 'pybuild login {self.registry}'",
                            status=response.status_code)
        if response.status_code != 200:
            raise RegistryError(f"{self.registry}: token server answered "
                                f"{response.status_code}", status=response.status_code)
        try:
            data = response.json()
            value = data.get("token") or data.get("access_token")
            lifetime = int(data.get("expires_in") or _MIN_LIFETIME)
        except (ValueError, AttributeError, TypeError) as exc:
            raise RegistryError(f"{self.registry}: token server answered malformed JSON") from exc
        if not isinstance(value, str) or not value:
            raise RegistryError(f"{self.registry}: token server answered no token")
        lifetime = max(lifetime, _MIN_LIFETIME)
        return _Token(value, time.monotonic() + lifetime - _SLACK)
