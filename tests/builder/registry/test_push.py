"""Push (builder/exporters/push.py) against a real registry: HEAD first, mounts, indexes,
chunked uploads, and docker's output through ``pybuild push``."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from builder.cli.main import main
from builder.errors import NotFoundError
from builder.exporters.push import PushEvent, PushOptions, PushState, push_image
from builder.oci.image import Manifest
from builder.oci.reference import ImageRef
from builder.registry.client import ClientOptions, RegistryClient
from builder.registry.retry import RetryPolicy
from tests.builder.registry.registry_support import Registry, Stores, make_image, make_index

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def _client(host: str) -> RegistryClient:
    return RegistryClient(host, ClientOptions(retry=FAST, push=True))


def _ref(host: str) -> ImageRef:
    return ImageRef.parse(f"{host}/push/{uuid.uuid4().hex[:10]}:v1")


def _states(events: list[PushEvent]) -> list[PushState]:
    return [e.state for e in events if e.state is not PushState.PREPARING]


def test_push_uploads_blobs_then_manifest_and_second_push_uploads_nothing(
        registry_http: Registry, source: Stores) -> None:
    desc = make_image(source.content, (1000, 2000))
    ref = _ref(registry_http.host)
    first: list[PushEvent] = []
    second: list[PushEvent] = []
    with _client(registry_http.host) as client:
        result = push_image(client, ref, source.content, desc,
                            PushOptions(progress=first.append))
        again = push_image(client, ref, source.content, desc,
                           PushOptions(progress=second.append))
        served = client.get_manifest(ref.repository, "v1")
    assert result.digest == desc.digest == served.digest
    assert result.uploaded_bytes > 3000
    assert _states(first).count(PushState.PUSHED) == 3
    assert again.uploaded_bytes == 0
    assert set(_states(second)) == {PushState.EXISTS}


def test_push_mounts_blobs_from_another_repository(registry_http: Registry,
                                                   source: Stores) -> None:
    desc = make_image(source.content, (500,))
    base, target = _ref(registry_http.host), _ref(registry_http.host)
    events: list[PushEvent] = []
    with _client(registry_http.host) as client:
        push_image(client, base, source.content, desc)
        result = push_image(client, target, source.content, desc,
                            PushOptions(mount_from=(base.repository,), progress=events.append))
    assert result.uploaded_bytes == 0
    mounted = [e for e in events if e.state is PushState.MOUNTED]
    assert len(mounted) == 2 and mounted[0].source == base.repository


def test_chunked_push_round_trips(registry_http: Registry, source: Stores) -> None:
    desc = make_image(source.content, (70_000,))
    ref = _ref(registry_http.host)
    with _client(registry_http.host) as client:
        push_image(client, ref, source.content, desc,
                   PushOptions(chunk_size=16_384))
        layer = Manifest.from_json(source.content.read_bytes(desc.digest)).layers[0]
        with client.open_blob(ref.repository, layer.digest) as response:
            assert b"".join(response.iter_raw()) == source.content.read_bytes(layer.digest)


def test_push_of_an_index_pushes_platform_manifests_first(registry_http: Registry,
                                                          source: Stores) -> None:
    amd = make_image(source.content, (10,), arch="amd64")
    arm = make_image(source.content, (20,), arch="arm64")
    index = make_index(source.content, [amd, arm])
    ref = _ref(registry_http.host)
    with _client(registry_http.host) as client:
        push_image(client, ref, source.content, index)
        assert client.get_manifest(ref.repository, "v1").digest == index.digest
        assert client.head_manifest(ref.repository, arm.digest) is not None


def test_push_of_an_incomplete_image_fails_before_any_manifest(registry_http: Registry,
                                                               source: Stores) -> None:
    desc = make_image(source.content, (10,))
    layer = Manifest.from_json(source.content.read_bytes(desc.digest)).layers[0]
    source.content.delete(layer.digest)
    ref = _ref(registry_http.host)
    with _client(registry_http.host) as client:
        with pytest.raises(NotFoundError) as info:
            push_image(client, ref, source.content, desc)
        assert client.head_manifest(ref.repository, "v1") is None
    assert layer.digest in info.value.message


def test_cli_push_prints_the_docker_digest_line(registry_http: Registry, source: Stores,
                                                docker_config: object, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    desc = make_image(source.content, (100,))
    ref = _ref(registry_http.host)
    source.images.set(ref, desc)
    root = str(source.root.path)
    assert main(["--root", root, "push", str(ref)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"The push refers to repository [{ref.name}]"
    assert out[-1] == f"v1: digest: {desc.digest} size: {desc.size}"
    assert sum(line.endswith(": Pushed") for line in out) == 2


def test_cli_push_of_unknown_image_is_a_clear_error(registry_http: Registry, tmp_path: Path,
                                                    docker_config: object,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--root", str(tmp_path / "r"), "push", f"{registry_http.host}/no/such:v1"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: an image does not exist locally with the tag:")
    assert "Traceback" not in err
