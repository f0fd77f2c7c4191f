"""The layer pipeline: chunks in, hashes and compressed bytes out; worker failures surface."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest

from builder.layers import LayerOptions, changes_from_dir, write_layer
from builder.layers.compress import Compression, new_compressor, open_decompressed
from builder.layers.pipeline import Pipeline
from builder.layers.tar import CHUNK


class _FailingOut:
    """A sink that breaks after ``limit`` bytes, as a full disk would."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def write(self, data: bytes | bytearray, /) -> int:
        self.limit -= len(data)
        if self.limit < 0:
            raise OSError(28, "No space left on device")
        return len(data)


def _pieces(total: int) -> list[bytes]:
    data = (bytes(range(256)) * (total // 256 + 1))[:total]
    cuts = [0, 1, 700, CHUNK - 1, CHUNK + 5, 2 * CHUNK + 3, total]
    return [data[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]


@pytest.mark.parametrize("compression", list(Compression), ids=lambda c: c.value)
def test_hashes_and_size_describe_what_was_written(compression: Compression) -> None:
    out = io.BytesIO()
    pipeline = Pipeline(out, new_compressor(compression))
    pieces = _pieces(3 * CHUNK + 11)
    for piece in pieces:
        pipeline.write(piece)
    diff_id, digest, size = pipeline.close()
    blob = out.getvalue()
    plain = b"".join(pieces)
    assert diff_id == "sha256:" + hashlib.sha256(plain).hexdigest()
    assert digest == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert size == len(blob)
    assert open_decompressed(io.BytesIO(blob)).read() == plain


@pytest.mark.parametrize("compression", list(Compression), ids=lambda c: c.value)
def test_a_failing_output_surfaces_in_the_caller_and_no_thread_is_left(
    tmp_path: Path, compression: Compression
) -> None:
    (tmp_path / "big").write_bytes(os.urandom(6 * CHUNK))
    before = threading.active_count()
    with pytest.raises(OSError, match="No space left"):
        write_layer(changes_from_dir(tmp_path), _FailingOut(10), LayerOptions(compression))
    assert threading.active_count() == before


def test_abort_drops_pending_bytes_and_ends_the_workers() -> None:
    before = threading.active_count()
    out = io.BytesIO()
    pipeline = Pipeline(out, new_compressor(Compression.NONE))
    pipeline.write(b"partial")
    pipeline.close(abort=True)
    assert out.getvalue() == b""
    assert threading.active_count() == before
