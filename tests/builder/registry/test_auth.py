"""WWW-Authenticate parsing (table in testdata/registry/challenges.json) and token caching."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from builder.registry.auth import Authenticator, AuthScheme, parse_challenges, scope_for
from builder.registry.credentials import Credentials
from builder.registry.errors import AuthError, RegistryError

CASES = json.loads((Path(__file__).parents[3] / "testdata/registry/challenges.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["header"][:40] or "empty" for c in CASES])
def test_challenge_parsing_matches_the_table(case: dict[str, object]) -> None:
    got = [[c.scheme.value, dict(c.params)] for c in parse_challenges(str(case["header"]))]
    assert got == case["want"]


def _auth(answer: httpx.Response, creds: Credentials | None = None) -> tuple[Authenticator,
                                                                          list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def send(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    auth = Authenticator("reg.example", creds, send)
    auth.learn('Bearer realm="https://auth.example/token",service="reg"')
    return auth, seen


def test_tokens_are_cached_per_scope_set_and_refreshed_on_demand() -> None:
    auth, seen = _auth(httpx.Response(200, json={"access_token": "abc", "expires_in": 300}))
    scope = (scope_for("a/b"),)
    assert auth.header(scope) == "Bearer abc"
    assert auth.header(scope) == "Bearer abc"
    assert len(seen) == 1
    auth.header((scope_for("a/b", push=True),))
    auth.header(scope, refresh=True)
    assert len(seen) == 3
    assert seen[0].url.params.get_list("scope") == ["repository:a/b:pull"]
    assert seen[0].url.params["service"] == "reg"


def test_token_request_carries_basic_credentials() -> None:
    auth, seen = _auth(httpx.Response(200, json={"token": "t"}), Credentials("u", "p"))
    auth.header(("repository:x:pull",))
    assert seen[0].headers["Authorization"] == "Basic dTpw"


def test_identity_token_uses_the_oauth2_refresh_grant() -> None:
    auth, seen = _auth(httpx.Response(200, json={"access_token": "t"}),
                       Credentials("", "", identity_token="refresh-me"))
    auth.header(("repository:x:pull",))
    assert seen[0].method == "POST"
    assert b"grant_type=refresh_token" in seen[0].content
    assert b"refresh_token=refresh-me" in seen[0].content


def test_token_server_401_with_credentials_says_incorrect_password() -> None:
    auth, _ = _auth(httpx.Response(401), Credentials("u", "bad"))
    with pytest.raises(AuthError) as info:
        auth.header(("repository:x:pull",))
    assert info.value.message == "unauthorized: incorrect username or password for reg.example"


def test_token_answer_without_a_token_is_an_error() -> None:
    auth, _ = _auth(httpx.Response(200, json={"nothing": 1}))
    with pytest.raises(RegistryError, match="no token"):
        auth.header(("repository:x:pull",))


def test_basic_challenge_sends_credentials_without_a_token_server() -> None:
    auth = Authenticator("r", Credentials("u", "p"), lambda r: httpx.Response(500))
    auth.learn('Basic realm="x"')
    assert auth.challenge is not None and auth.challenge.scheme is AuthScheme.BASIC
    assert auth.header(("repository:x:pull",)) == "Basic dTpw"


def test_credentials_repr_hides_the_password() -> None:
    assert "secret" not in repr(Credentials("u", "secret"))
