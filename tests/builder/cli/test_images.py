"""``images``, ``tag``, ``rmi``, ``inspect``, ``history``, ``image prune`` and ``system df``
behave like docker's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.conftest import Pybuild


def _id(pybuild: Pybuild, name: str = "busybox") -> str:
    return str(json.loads(pybuild.ok("inspect", name).out)[0]["Id"])


def test_images_prints_docker_table(busybox_image: Pybuild) -> None:
    lines = busybox_image.ok("images").out.splitlines()
    assert re.match(r"^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$", lines[0])
    assert re.match(r"^busybox +latest +[0-9a-f]{12} +\d+ years ago +\d+(\.\d+)?[kM]B$",
                    lines[1]), lines[1]
    assert lines[0].index("TAG") == lines[1].index("latest")


def test_images_quiet_digests_and_no_trunc(busybox_image: Pybuild) -> None:
    image_id = _id(busybox_image)
    busybox_image.ok("tag", "busybox", "other:1")
    assert busybox_image.ok("images", "-q").out == image_id[7:19] + "\n"  # one ID, deduped
    assert busybox_image.ok("images", "-q", "--no-trunc").out == image_id + "\n"
    header = busybox_image.ok("images", "--digests").out.splitlines()[0]
    assert "DIGEST" in header


def test_images_format_template_and_table(busybox_image: Pybuild) -> None:
    out = busybox_image.ok("images", "--format", "{{.Repository}}:{{.Tag}}").out
    assert out == "busybox:latest\n"
    row = json.loads(busybox_image.ok("images", "--format", "{{json .}}").out)
    assert row["Repository"] == "busybox" and row["Tag"] == "latest"
    table = busybox_image.ok("images", "--format", "table {{.ID}}\\t{{.Tag}}").out
    assert table.splitlines()[0].split() == ["IMAGE", "ID", "TAG"]


def test_images_bad_template_or_filter_is_usage_error(busybox_image: Pybuild) -> None:
    assert busybox_image("images", "--format", "{{.X").code == 2
    assert busybox_image("images", "-f", "colour=red").code == 2
    assert busybox_image("images", "-f", "dangling=maybe").code == 2


def test_filters_dangling_and_reference(busybox_image: Pybuild, busybox_rootfs_tar: Path) -> None:
    busybox_image.ok("import", str(busybox_rootfs_tar), "busybox:latest", "-m", "newer")
    busybox_image.ok("tag", "busybox", "example.com/team/app:v1")
    fmt = ["--format", "{{.Repository}}:{{.Tag}}"]
    dangling = busybox_image.ok("images", "-f", "dangling=true", *fmt).out
    assert dangling == "<none>:<none>\n"  # the first busybox:latest lost its only name
    named = busybox_image.ok("images", "-f", "dangling=false", *fmt).out.splitlines()
    assert sorted(named) == ["busybox:latest", "example.com/team/app:v1"]
    ref = busybox_image.ok("images", "-f", "reference=example.com/*/*", *fmt).out
    assert ref == "example.com/team/app:v1\n"
    assert busybox_image.ok("images", "busybox", *fmt).out == "busybox:latest\n"


def test_tag_then_rmi_by_name_untags_and_keeps_image(busybox_image: Pybuild) -> None:
    busybox_image.ok("tag", "busybox", "mine:2")
    out = busybox_image.ok("rmi", "mine:2").out
    assert out == "Untagged: mine:2\n"
    assert _id(busybox_image) == _id(busybox_image, "busybox:latest")


def test_rmi_last_name_deletes_image_and_blobs(busybox_image: Pybuild) -> None:
    image_id = _id(busybox_image)
    out = busybox_image.ok("rmi", "busybox").out
    assert out == f"Untagged: busybox:latest\nDeleted: {image_id}\n"
    assert list((busybox_image.root / "blobs" / "sha256").iterdir()) == []


def test_rmi_by_id_prefix_needs_force_with_several_repositories(busybox_image: Pybuild) -> None:
    image_id = _id(busybox_image)
    busybox_image.ok("tag", "busybox", "other")
    refused = busybox_image("rmi", image_id[7:12])
    assert refused.code == 1 and "must be forced" in refused.stderr
    out = busybox_image.ok("rmi", "-f", image_id[7:12]).out.splitlines()
    assert sorted(out[:-1]) == ["Untagged: busybox:latest", "Untagged: other:latest"]
    assert out[-1] == f"Deleted: {image_id}"


def test_rmi_unknown_and_short_prefix_fail(busybox_image: Pybuild) -> None:
    missing = busybox_image("rmi", "nosuch")
    assert missing.code == 1 and "no such image" in missing.stderr
    assert busybox_image("rmi", "ab").code != 0


def test_inspect_is_docker_shaped(busybox_image: Pybuild) -> None:
    doc = json.loads(busybox_image.ok("inspect", "busybox").out)
    assert isinstance(doc, list) and len(doc) == 1
    image = doc[0]
    for key in ("Id", "RepoTags", "RepoDigests", "Created", "Config", "Architecture", "Os",
                "Size", "RootFS", "Metadata"):
        assert key in image
    assert image["RepoTags"] == ["busybox:latest"]
    assert image["RepoDigests"][0].startswith("busybox@sha256:")
    assert image["Config"]["Cmd"] == ["sh"]
    assert image["Created"] == "1970-01-01T00:00:00Z"
    assert image["RootFS"]["Type"] == "layers" and len(image["RootFS"]["Layers"]) == 1


def test_inspect_format_and_missing_image(busybox_image: Pybuild) -> None:
    out = busybox_image.ok("image", "inspect", "--format", "{{.Os}}/{{json .Config.Cmd}}",
                           "busybox").out
    assert out == 'linux/["sh"]\n'
    mixed = busybox_image("inspect", "busybox", "nosuch")
    assert mixed.code == 1 and "no such image: nosuch" in mixed.stderr
    assert len(json.loads(mixed.out)) == 1


def test_history_table_quiet_and_no_trunc(busybox_image: Pybuild) -> None:
    lines = busybox_image.ok("history", "busybox").out.splitlines()
    assert lines[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert "Imported from -" in lines[1] and "years ago" in lines[1]
    image_id = _id(busybox_image)
    assert busybox_image.ok("history", "-q", "busybox").out == image_id[7:19] + "\n"
    assert busybox_image.ok("history", "-q", "--no-trunc", "busybox").out == image_id + "\n"


def test_image_prune_removes_dangling_only_unless_all(
    busybox_image: Pybuild, busybox_rootfs_tar: Path
) -> None:
    old = _id(busybox_image)
    busybox_image.ok("import", str(busybox_rootfs_tar), "busybox", "-m", "newer")
    assert "<none>" in busybox_image.ok("images").out
    refused = busybox_image.ok("image", "prune", stdin=b"n\n")
    assert "Are you sure" in refused.out and "<none>" in busybox_image.ok("images").out
    out = busybox_image.ok("image", "prune", "-f").out
    assert "deleted: " in out and "Total reclaimed space:" in out
    assert "<none>" not in busybox_image.ok("images").out
    assert _id(busybox_image) != old
    busybox_image.ok("image", "prune", "-a", "-f")
    assert busybox_image.ok("images", "-q").out == ""
    assert list((busybox_image.root / "blobs" / "sha256").iterdir()) == []


def test_system_df_and_prune(busybox_image: Pybuild) -> None:
    lines = busybox_image.ok("system", "df").out.splitlines()
    assert lines[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert re.match(r"^Images +1 +0 +\S+B +\S+B \(100%\)$", lines[1]), lines[1]
    assert busybox_image.ok("system", "prune", "-a", "-f").code == 0
    assert busybox_image.ok("system", "df").out.splitlines()[1].split()[1] == "0"


@pytest.mark.parametrize("argv", [["image", "ls"], ["image", "list"], ["images"]])
def test_image_ls_aliases(busybox_image: Pybuild, argv: list[str]) -> None:
    assert "busybox" in busybox_image.ok(*argv).out


def test_rmi_by_manifest_digest_and_by_name_at_digest(busybox_image: Pybuild) -> None:
    digest = json.loads(busybox_image.ok("inspect", "busybox").out)[0]["RepoDigests"][0]
    busybox_image.ok("tag", "busybox", "again:1")
    assert busybox_image.ok("rmi", digest).out == "Untagged: busybox:latest\n"
    manifest = digest.split("@")[1]
    out = busybox_image.ok("rmi", manifest).out.splitlines()
    assert out[0] == "Untagged: again:1" and out[1].startswith("Deleted: sha256:")
    assert busybox_image.ok("images", "-q").out == ""
