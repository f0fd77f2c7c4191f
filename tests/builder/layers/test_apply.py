"""Unpacking layers: round trips, whiteouts, and hostile archives refused with nothing written."""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from builder.errors import InvalidInputError, StoreError
from builder.layers import (
    ApplyOptions,
    Compression,
    LayerOptions,
    WhiteoutMode,
    apply_layer,
    changes_from_dir,
    unpack_layer,
    write_layer,
)
from tests.builder.layers.layertrees import describe_tree, make_rich_tree, tar_bytes

HOSTILE = Path(__file__).resolve().parents[3] / "testdata/layers/hostile"


def _layer(src: Path, compression: Compression = Compression.GZIP) -> io.BytesIO:
    buf = io.BytesIO()
    write_layer(changes_from_dir(src), buf, LayerOptions(compression=compression))
    buf.seek(0)
    return buf


@pytest.mark.privileged
@pytest.mark.parametrize("compression", list(Compression), ids=lambda c: c.value)
def test_dir_to_layer_to_dir_is_identity(tmp_path: Path, compression: Compression) -> None:
    make_rich_tree(tmp_path / "src")
    out = tmp_path / "out"
    diff_id = apply_layer(_layer(tmp_path / "src", compression), out)
    assert describe_tree(out) == describe_tree(tmp_path / "src")
    assert diff_id.startswith("sha256:")
    assert stat.S_IMODE(os.stat(out / "bin/tool").st_mode) == 0o4755  # setuid kept after chown


def test_apply_returns_the_diff_id_of_the_uncompressed_tar(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/f").write_text("hello")
    buf = io.BytesIO()
    info = write_layer(changes_from_dir(tmp_path / "src"), buf, LayerOptions())
    buf.seek(0)
    assert apply_layer(buf, tmp_path / "out") == info.diff_id


def test_directory_mtimes_are_set_after_their_contents(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "d/e").mkdir(parents=True)
    (src / "d/e/f").write_text("x")
    for p in (src / "d/e/f", src / "d/e", src / "d"):
        os.utime(p, (1_000_000_000, 1_000_000_000))
    apply_layer(_layer(src), tmp_path / "out")
    assert os.stat(tmp_path / "out/d").st_mtime == 1_000_000_000
    assert os.stat(tmp_path / "out/d/e").st_mtime == 1_000_000_000


def _entry(spec: dict[str, str], sentinel: Path) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(spec["name"].replace("{sentinel}", str(sentinel)))
    kind = spec["type"]
    info.linkname = spec.get("linkname", "").replace("{sentinel}", str(sentinel))
    data = None
    if kind == "file":
        data = spec.get("data", "").encode()
        info.size = len(data)
    else:
        info.type = {
            "dir": tarfile.DIRTYPE,
            "symlink": tarfile.SYMTYPE,
            "hardlink": tarfile.LNKTYPE,
        }[kind]
        info.mode = 0o755
    return info, data


def _assert_nothing_leaked(tmp_path: Path, sentinel: Path) -> None:
    assert sorted(p.name for p in sentinel.iterdir()) == ["secret"]
    assert (sentinel / "secret").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sentinel"]


@pytest.mark.parametrize("case", sorted(HOSTILE.glob("*.json")), ids=lambda p: p.stem)
def test_hostile_layer_is_refused_and_writes_nothing(tmp_path: Path, case: Path) -> None:
    spec = json.loads(case.read_text())
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "secret").write_text("keep")
    blob = tar_bytes([_entry(e, sentinel) for e in spec["entries"]])
    with pytest.raises(InvalidInputError, match=spec["error"]) as err:
        apply_layer(io.BytesIO(gzip.compress(blob)), tmp_path / "target")
    assert "\n" not in err.value.message
    _assert_nothing_leaked(tmp_path, sentinel)


def test_claimed_size_larger_than_data_is_refused(tmp_path: Path) -> None:
    info = tarfile.TarInfo("f")
    info.size = 100_000
    blob = info.tobuf(tarfile.PAX_FORMAT) + b"only a little data" + b"\0" * 494
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "secret").write_text("keep")
    with pytest.raises(InvalidInputError, match="ends early|unexpected end|truncated"):
        apply_layer(io.BytesIO(blob), tmp_path / "target")
    _assert_nothing_leaked(tmp_path, sentinel)


@pytest.mark.parametrize("compression", [Compression.GZIP, Compression.ZSTD], ids=str)
def test_truncated_compressed_layer_is_refused(tmp_path: Path, compression: Compression) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/f").write_bytes(os.urandom(200_000))
    blob = _layer(tmp_path / "src", compression).getvalue()
    (tmp_path / "src/f").unlink()
    (tmp_path / "src").rmdir()
    with pytest.raises(InvalidInputError, match="truncated|ends early"):
        apply_layer(io.BytesIO(blob[: len(blob) // 2]), tmp_path / "target")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("compression", [Compression.GZIP, Compression.ZSTD], ids=str)
def test_corrupt_compressed_layer_is_refused(tmp_path: Path, compression: Compression) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/f").write_bytes(b"compressible " * 10_000)
    blob = bytearray(_layer(tmp_path / "src", compression).getvalue())
    for i in range(20, 60):
        blob[i] ^= 0x5A
    with pytest.raises(InvalidInputError, match="corrupt|malformed|truncated"):
        apply_layer(io.BytesIO(bytes(blob)), tmp_path / "target")
    assert not (tmp_path / "target").exists()


def test_garbage_is_refused_as_malformed_tar(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="malformed layer tar"):
        apply_layer(io.BytesIO(b"this is not a tar archive at all" * 40), tmp_path / "t")
    assert list(tmp_path.iterdir()) == []


def test_empty_blob_is_an_empty_layer(tmp_path: Path) -> None:
    apply_layer(io.BytesIO(b""), tmp_path / "t")
    assert list((tmp_path / "t").iterdir()) == []


def test_target_must_be_new_or_empty(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t/x").write_text("x")
    with pytest.raises(StoreError, match="not an empty directory"):
        apply_layer(io.BytesIO(b""), tmp_path / "t")


def _whiteout_layer() -> bytes:
    entries: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for name, kind in [
        ("etc/", tarfile.DIRTYPE),
        ("etc/.wh.gone", tarfile.REGTYPE),
        ("var/", tarfile.DIRTYPE),
        ("var/.wh..wh..opq", tarfile.REGTYPE),
        ("var/new", tarfile.REGTYPE),
    ]:
        info = tarfile.TarInfo(name)
        info.type, info.mode = kind, 0o755
        entries.append((info, b"" if kind == tarfile.REGTYPE else None))
    return tar_bytes(entries)


def test_whiteouts_and_opaque_dirs_remove_lower_content(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/gone").mkdir(parents=True)
    (root / "etc/gone/deep").write_text("x")
    (root / "etc/kept").write_text("x")
    (root / "var/old").mkdir(parents=True)
    (root / "var/old2").write_text("x")
    unpack_layer(io.BytesIO(_whiteout_layer()), root)
    assert sorted(os.listdir(root / "etc")) == ["kept"]
    assert sorted(os.listdir(root / "var")) == ["new"]


@pytest.mark.privileged
def test_overlay_mode_keeps_whiteouts_as_overlay_markers(tmp_path: Path) -> None:
    out = tmp_path / "snap"
    apply_layer(io.BytesIO(_whiteout_layer()), out, ApplyOptions(whiteouts=WhiteoutMode.OVERLAY))
    st = os.lstat(out / "etc/gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert os.getxattr(out / "var", "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(out / "var")) == ["new"]


def test_later_entry_replaces_earlier_of_another_type(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "x/sub").mkdir(parents=True)
    os.symlink("/etc", root / "y")
    info_x = tarfile.TarInfo("x")
    info_y = tarfile.TarInfo("y/")
    info_y.type = tarfile.DIRTYPE
    unpack_layer(io.BytesIO(tar_bytes([(info_x, b""), (info_y, None)])), root)
    assert (root / "x").is_file()
    assert (root / "y").is_dir() and not (root / "y").is_symlink()


def test_devices_are_skipped_when_not_allowed(tmp_path: Path) -> None:
    info = tarfile.TarInfo("dev/null")
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    opts = ApplyOptions(allow_devices=False)
    apply_layer(io.BytesIO(tar_bytes([(info, None)])), tmp_path / "t", opts)
    assert os.listdir(tmp_path / "t/dev") == []


def test_layer_cannot_forge_overlay_xattrs(tmp_path: Path) -> None:
    info = tarfile.TarInfo("d")
    info.type = tarfile.DIRTYPE
    info.pax_headers = {
        "SCHILY.xattr.trusted.overlay.opaque": "y",
        "SCHILY.xattr.user.overlay.opaque": "y",
    }
    apply_layer(io.BytesIO(tar_bytes([(info, None)])), tmp_path / "t")
    assert os.listxattr(tmp_path / "t/d") == []


def test_opaque_marker_keeps_entries_of_its_own_layer_sorted_before_it(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "var").mkdir(parents=True)
    (root / "var/old").write_text("lower")
    entries: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for name in ("var/!first", "var/-dash", "var/.wh..wh..opq", "var/zlast"):
        entries.append((tarfile.TarInfo(name), b""))
    unpack_layer(io.BytesIO(tar_bytes(entries)), root)
    assert sorted(os.listdir(root / "var")) == ["!first", "-dash", "zlast"]


def test_missing_parent_of_target_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such directory"):
        apply_layer(io.BytesIO(b""), tmp_path / "absent" / "t")


def test_directory_replaced_by_a_later_symlink_is_not_mistaken_for_an_attack(
    tmp_path: Path,
) -> None:
    entries: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for name, kind in (("a/", tarfile.DIRTYPE), ("a/b/", tarfile.DIRTYPE), ("a", tarfile.SYMTYPE)):
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, "elsewhere" if kind == tarfile.SYMTYPE else ""
        entries.append((info, None))
    apply_layer(io.BytesIO(tar_bytes(entries)), tmp_path / "t")
    assert os.readlink(tmp_path / "t/a") == "elsewhere"
