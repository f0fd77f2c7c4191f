"""End-to-end builds through ``builder.build.build`` on the busybox base image."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from builder.content.store import ContentStore
from builder.exporters.archive import ArchiveFormat, SaveItem, save_archive
from builder.layers import Compression
from builder.oci.reference import ImageRef
from builder.root import Root
from solver.errors import SolveError
from solver.ops import NetworkMode
from solver.progress import BuildWarning, Outcome, VertexCompleted, VertexStarted

from .buildhelpers import CONTEXTS, copy_context, run_build, stored_image

pytestmark = pytest.mark.privileged

TAG = (ImageRef.parse("test:latest"),)


@pytest.fixture
def root(busybox_image) -> Path:  # type: ignore[no-untyped-def]
    return Path(busybox_image.root)


def test_run_layer_holds_only_the_runs_changes(root: Path) -> None:
    run_build(root, CONTEXTS / "build-basic", tags=TAG)
    image = stored_image(root, "test")
    assert len(image.layers) == 2  # busybox + the RUN
    assert sorted(image.layers[1]) == ["data", "data/one", "greeting"]
    assert image.layer_file(1, "greeting") == b"hi plain\n"


def test_metadata_instructions_set_the_config_and_history(root: Path) -> None:
    run_build(root, CONTEXTS / "build-basic", tags=TAG, build_args=(("FLAVOUR", "mint"),))
    image = stored_image(root, "test")
    cfg = image.config.config
    assert cfg.labels == {"purpose": "test"}
    assert "GREETING=hi" in cfg.env and cfg.cmd == ("cat", "/greeting")
    assert cfg.exposed_ports == ("80/tcp",)
    assert image.layer_file(1, "greeting") == b"hi mint\n"
    history = image.config.history
    assert [h.empty_layer for h in history].count(False) == len(image.layers)
    assert history[-1].created_by == 'CMD ["cat" "/greeting"]'
    run = [h for h in history if h.created_by.startswith("RUN")]
    assert run[0].created_by.startswith("RUN |1 FLAVOUR=mint /bin/sh -c echo")
    base = stored_image(root, "busybox")
    assert image.config.rootfs.diff_ids[0] == base.config.rootfs.diff_ids[0]


def test_copy_honours_dockerignore_and_workdir_creates_its_directory(root: Path) -> None:
    run_build(root, CONTEXTS / "build-multistage", tags=TAG, target="build")
    image = stored_image(root, "test")
    assert image.layers[1] == ["work", "work/dir"]  # WORKDIR
    copied = image.layers[2]
    assert "work/dir/app/main.txt" in copied
    assert not any(name.endswith(".log") for name in copied)
    listing = image.layer_file(4, "work/dir/listing.txt")
    assert listing == b"main.txt\n"


def test_copy_from_other_stages_takes_only_the_named_files(root: Path) -> None:
    run_build(root, CONTEXTS / "build-multistage", tags=TAG)
    image = stored_image(root, "test")
    assert len(image.layers) == 3
    assert image.layers[1] == ["out", "out/deps.txt"]
    assert sorted(image.layers[2]) == ["out", "out/combined.txt", "out/listing.txt"]
    assert image.layer_file(2, "out/combined.txt") == b"main\nnotes\n"


def test_identical_rebuild_is_fully_cached_with_the_same_image_id(root: Path) -> None:
    first = run_build(root, CONTEXTS / "build-multistage", tags=TAG)
    second = run_build(root, CONTEXTS / "build-multistage", tags=TAG)
    assert second.ran() == set()
    cached = [n for n, o in second.outcomes().items() if o is Outcome.CACHED]
    assert len(cached) >= 6
    assert second.result.image.manifest.digest == first.result.image.manifest.digest


def test_changed_file_reruns_only_the_steps_after_the_copy_that_reads_it(
        root: Path, tmp_path: Path) -> None:
    context = copy_context("build-multistage", tmp_path)
    run_build(root, context, tags=TAG)
    (context / "notes.txt").write_text("new notes\n")
    again = run_build(root, context, tags=TAG)
    assert again.ran() == {
        "[build 4/5] COPY notes.txt ./",
        "[build 5/5] RUN cat app/main.txt notes.txt > combined.txt && ls app > listing.txt",
        "[stage-2 3/3] COPY --from=build /work/dir/combined.txt /work/dir/listing.txt /out/",
    }
    image = stored_image(root, "test")
    assert image.layer_file(2, "out/combined.txt") == b"main\nnew notes\n"


def test_change_to_an_ignored_file_reruns_nothing(root: Path, tmp_path: Path) -> None:
    context = copy_context("build-multistage", tmp_path)
    run_build(root, context, tags=TAG)
    (context / "app" / "debug.log").write_text("changed\n")
    (context / "secret.txt").write_text("changed\n")
    assert run_build(root, context, tags=TAG).ran() == set()


def test_no_cache_runs_every_step(root: Path) -> None:
    run_build(root, CONTEXTS / "build-basic", tags=TAG)
    again = run_build(root, CONTEXTS / "build-basic", tags=TAG, no_cache=True)
    assert any(name.startswith("[stage-0 5/7] RUN") for name in again.ran())


def test_hello_example_builds_with_its_config(root: Path) -> None:
    built = run_build(root, CONTEXTS / "hello", tags=(ImageRef.parse("hello"),))
    image = stored_image(root, "hello")
    cfg = image.config.config
    assert cfg.user == "app" and cfg.working_dir == "/app"
    assert cfg.entrypoint == ("cat",) and cfg.cmd == ("/app/out.txt",)
    assert cfg.healthcheck is not None and cfg.healthcheck.interval == 10_000_000_000
    assert image.layer_file(len(image.layers) - 1, "app/out.txt").startswith(b"hello")
    assert not [e for e in built.sink.events if isinstance(e, BuildWarning)
                and e.rule == "UndefinedVar"]


def test_source_date_epoch_gives_the_same_digest_on_two_roots(
        busybox_root: Path, tmp_path: Path) -> None:
    digests = []
    for name in ("a", "b"):
        other = tmp_path / name
        shutil.copytree(busybox_root, other, ignore=shutil.ignore_patterns("tmp", "locks"))
        built = run_build(other, CONTEXTS / "build-multistage", tags=TAG,
                          source_date_epoch=1_700_000_000)
        digests.append(built.result.image.manifest.digest)
    assert digests[0] == digests[1]
    image = stored_image(tmp_path / "a", "test")
    assert image.config.created == "2023-11-14T22:13:20Z"


def test_zstd_compression_writes_zstd_layers(root: Path) -> None:
    run_build(root, CONTEXTS / "build-basic", tags=TAG, compression=Compression.ZSTD)
    image = stored_image(root, "test")
    kinds = {layer.media_type for layer in image.manifest.layers}
    assert kinds == {"application/vnd.oci.image.layer.v1.tar+zstd"}


def test_failing_run_reports_its_span_exit_code_and_last_lines(root: Path) -> None:
    with pytest.raises(SolveError) as caught:
        run_build(root, CONTEXTS / "build-fail", tags=TAG)
    err = caught.value
    assert err.spans[0].line == 3
    assert err.exit_status == 3
    assert "broken step" in "\n".join(err.log_tail)
    assert "exit code: 3" in err.render()


def test_secret_is_readable_in_run_and_never_in_a_layer(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("s3cr3t-value")
    run_build(root, CONTEXTS / "build-secret", tags=TAG, secrets=(("token", secret),))
    image = stored_image(root, "test")
    assert image.layer_file(1, "secret-size").strip() == b"12"
    assert not any("secrets" in name for name in image.layers[1])
    assert b"s3cr3t" not in image.layer_file(1, "env.txt")


def test_proxy_build_arg_reaches_run_but_not_the_image(root: Path) -> None:
    run_build(root, CONTEXTS / "build-secret", tags=TAG,
              build_args=(("HTTP_PROXY", "http://proxy.invalid:3128"),),
              secrets=(("token", CONTEXTS / "build-secret" / "Dockerfile"),))
    image = stored_image(root, "test")
    assert b"HTTP_PROXY=http://proxy.invalid:3128" in image.layer_file(1, "env.txt")
    assert not any("proxy" in h.created_by for h in image.config.history)
    assert not any("PROXY" in e for e in image.config.config.env)


@pytest.mark.interop
def test_built_image_loads_and_runs_in_podman(root: Path, tmp_path: Path) -> None:
    podman = shutil.which("podman")
    if podman is None:
        pytest.skip("needs podman (apt-get install podman)")
    built = run_build(root, CONTEXTS / "hello", tags=(ImageRef.parse("hello"),))
    archive = tmp_path / "hello.tar"
    with Root.open(root) as opened, archive.open("wb") as out:
        save_archive(opened, ContentStore(opened), [SaveItem(
            built.result.image.manifest, (ImageRef.parse("hello"),))], ArchiveFormat.DOCKER, out)
    runroot = tempfile.mkdtemp(prefix="pbrun-", dir="/tmp")  # podman wants a short runroot
    base = [podman, "--root", str(tmp_path / "p-root"), "--runroot", runroot,
            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"]
    try:
        _podman_load_and_run(base, archive, built.result.image.image_id.hex)
    finally:
        shutil.rmtree(runroot, ignore_errors=True)


def _podman_load_and_run(base: list[str], archive: Path, image_id: str) -> None:
    load = subprocess.run([*base, "load", "-i", str(archive)], capture_output=True, text=True,
                          timeout=120)
    assert load.returncode == 0, load.stderr
    inspect = subprocess.run([*base, "image", "inspect", "hello", "--format", "{{.Id}}"],
                             capture_output=True, text=True, timeout=60)
    assert inspect.returncode == 0, inspect.stderr
    assert inspect.stdout.strip() == image_id
    run = subprocess.run([*base, "--runtime", "runc", "run", "--rm", "--network", "none",
                          "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768",
                          "hello"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "hello from pybuild\n"


def test_independent_stages_run_at_the_same_time(root: Path) -> None:
    built = run_build(root, CONTEXTS / "build-parallel", tags=TAG, max_parallelism=2)
    names = {e.vertex: e.name for e in built.sink.events if isinstance(e, VertexStarted)}
    spans: dict[str, list[float]] = {}
    for event in built.sink.events:
        if isinstance(event, VertexStarted | VertexCompleted):
            spans.setdefault(names[event.vertex], []).append(event.timestamp)
    (left,) = [v for k, v in spans.items() if "RUN sleep 1 && echo left" in k]
    (right,) = [v for k, v in spans.items() if "RUN sleep 1 && echo right" in k]
    assert left[0] < right[1] and right[0] < left[1]  # the two runs overlap
    image = stored_image(root, "test")
    assert [sorted(layer) for layer in image.layers[1:]] == [["left"], ["right"]]


def test_cache_mount_persists_between_builds_and_stays_out_of_the_layer(root: Path) -> None:
    run_build(root, CONTEXTS / "build-cachemount", tags=TAG)
    run_build(root, CONTEXTS / "build-cachemount", tags=TAG, no_cache=True)
    image = stored_image(root, "test")
    assert image.layer_file(1, "runs").strip() == b"2"
    assert not any(name.startswith("var/cache/app/") for name in image.layers[1])


@pytest.mark.interop
def test_base_image_only_in_a_registry_is_pulled_and_cached(
        busybox_image: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.builder.registry.registry_support import start_registry, stop_registry

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    (tmp_path / "registry").mkdir()
    registry = start_registry(tmp_path / "registry")
    try:
        name = f"{registry.host}/library/busybox:latest"
        assert busybox_image("tag", "busybox:latest", name).code == 0
        pushed = busybox_image("push", name)
        assert pushed.code == 0, pushed.stderr
        fresh = tmp_path / "fresh-root"
        args = (("BASE", name),)
        first = run_build(fresh, CONTEXTS / "build-registry", tags=TAG, build_args=args)
        assert "[stage-0 2/2] RUN echo pulled > /pulled" in first.ran()
        assert stored_image(fresh, "test").layer_file(1, "pulled") == b"pulled\n"
        again = run_build(fresh, CONTEXTS / "build-registry", tags=TAG, build_args=args,
                          pull=True)
        assert again.ran() == set()
    finally:
        stop_registry(registry)


def test_network_none_leaves_only_loopback(root: Path) -> None:
    run_build(root, CONTEXTS / "build-network", tags=TAG, network=NetworkMode.NONE)
    lines = stored_image(root, "test").layer_file(1, "netdev").decode().splitlines()[2:]
    assert [line.split(":")[0].strip() for line in lines] == ["lo"]


def test_insecure_run_needs_the_entitlement(root: Path) -> None:
    with pytest.raises(SolveError) as caught:
        run_build(root, CONTEXTS / "build-insecure", tags=TAG)
    assert "security.insecure" in str(caught.value)
    run_build(root, CONTEXTS / "build-insecure", tags=TAG, allow_insecure=True)
    caps = stored_image(root, "test").layer_file(1, "caps").decode().split()[1]
    assert int(caps, 16) > 0xA80425FB  # more than docker's default set
