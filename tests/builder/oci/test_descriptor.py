"""Media types, descriptors and platforms (normalisation table in
testdata/oci/platforms.txt)."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from builder.errors import InvalidInputError, UsageError
from builder.oci.descriptor import Descriptor, MediaType, Platform
from solver.digest import Digest

CASES_FILE = Path(__file__).resolve().parents[3] / "testdata" / "oci" / "platforms.txt"
DIGEST = Digest("sha256:" + "ab" * 32)


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for line in CASES_FILE.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        marker = "=>" if "=>" in line else "!!"
        text, _, expected = line.partition(marker)
        out.append((text.strip(), marker, expected.strip()))
    return out


@pytest.fixture
def amd64_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(platform, "system", lambda: "Linux")


@pytest.mark.parametrize(("text", "kind", "expected"), _cases())
def test_platform_parse_normalises_like_containerd(
    amd64_host: None, text: str, kind: str, expected: str
) -> None:
    if kind == "=>":
        assert str(Platform.parse(text)) == expected
    else:
        with pytest.raises(UsageError, match=expected):
            Platform.parse(text)


def test_host_platform_is_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    assert Platform.host() == Platform("linux", "arm64")


@pytest.mark.parametrize(
    ("want", "have", "ok"),
    [
        ("linux/arm64", "linux/arm64/v8", True),
        ("linux/arm64/v8", "linux/arm64", True),
        ("linux/arm/v7", "linux/arm/v6", False),
        ("linux/amd64", "linux/arm64", False),
        ("linux/amd64", "windows/amd64", False),
        ("linux/amd64", "linux/x86_64", True),
    ],
)
def test_platform_match_ignores_spelling_not_meaning(want: str, have: str, ok: bool) -> None:
    os_name, arch, *variant = have.split("/")
    candidate = Platform(os_name, arch, "".join(variant))
    assert Platform.parse(want).matches(candidate) is ok


def test_platform_json_round_trip_keeps_os_version() -> None:
    plat = Platform("windows", "amd64", "", "10.0.17763.1879", ("win32k",))
    assert Platform.from_json(plat.to_json()) == plat
    assert list(plat.to_json()) == ["architecture", "os", "os.version", "os.features"]


def test_descriptor_json_is_in_go_field_order() -> None:
    desc = Descriptor(MediaType.OCI_MANIFEST, DIGEST, 7, {"b": "2", "a": "1"},
                      Platform("linux", "arm", "v7"), ("https://x",))
    assert list(desc.to_json()) == ["mediaType", "digest", "size", "urls", "annotations",
                                    "platform"]
    assert list(desc.to_json()["annotations"]) == ["a", "b"]
    assert Descriptor.from_json(desc.to_json()) == desc


def test_descriptor_keeps_unknown_media_type() -> None:
    desc = Descriptor.from_json({"mediaType": "application/x-custom", "digest": DIGEST,
                                 "size": 1})
    assert desc.media_type == "application/x-custom" and desc.kind is None


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "expected a JSON object"),
        ({"mediaType": "x", "size": 1}, "'digest'"),
        ({"mediaType": "x", "digest": "sha256:abc", "size": 1}, "not a sha256 digest"),
        ({"mediaType": "x", "digest": DIGEST}, "'size'"),
        ({"mediaType": "x", "digest": DIGEST, "size": -1}, "'size'"),
        ({"mediaType": "x", "digest": DIGEST, "size": "1"}, "'size'"),
        ({"mediaType": "x", "digest": DIGEST, "size": True}, "'size'"),
        ({"mediaType": "x", "digest": DIGEST, "size": 1 << 63}, "'size' must be a 64-bit"),
        ({"mediaType": "x", "digest": DIGEST, "size": 1.5}, "'size'"),
        ({"mediaType": 1, "digest": DIGEST, "size": 1}, "'mediaType'"),
        ({"mediaType": "x", "digest": DIGEST, "size": 1, "annotations": {"a": 1}},
         "'annotations'"),
        ({"mediaType": "x", "digest": DIGEST, "size": 1, "platform": "linux"}, "'platform'"),
    ],
)
def test_malformed_descriptor_is_refused_with_field_name(obj: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Descriptor.from_json(obj)


def test_media_type_kinds() -> None:
    assert MediaType.DOCKER_MANIFEST_LIST.is_index and not MediaType.OCI_MANIFEST.is_index
    assert MediaType.DOCKER_LAYER_GZIP.is_layer and MediaType.OCI_LAYER_ZSTD.is_layer
    assert MediaType.DOCKER_CONFIG.is_config and not MediaType.OCI_LAYER.is_config
    assert MediaType.OCI_MANIFEST.value == "application/vnd.oci.image.manifest.v1+json"
