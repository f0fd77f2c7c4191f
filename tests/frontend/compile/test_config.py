"""Metadata instructions → image config and history (FEATURES.md §4 items 45, 49-53)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontend.compile import BuildPlan
from frontend.errors import FrontendError
from frontend.imageconfig import HealthConfig, ImageConfig
from frontend.resolver import DictResolver
from solver.ops import ChownOpt, ExecOp, FileOp, Mkdir
from solver.ops import Copy as CopyAction

Build = Callable[..., BuildPlan]
S = 1_000_000_000
BASE = DictResolver({"base": ImageConfig(
    cmd=("nginx", "-g", "daemon off;"), workdir="/usr/share", labels=(("vendor", "acme"),),
    healthcheck=HealthConfig(("CMD-SHELL", "curl localhost")), env=(("PATH", "/bin"),),
)})


def test_entrypoint_clears_inherited_cmd(build: Build) -> None:
    plan = build('FROM base\nENTRYPOINT ["/entry"]\n', BASE)
    assert plan.config.entrypoint == ("/entry",) and plan.config.cmd is None


def test_entrypoint_keeps_cmd_set_in_same_stage(build: Build) -> None:
    plan = build('FROM base\nCMD ["--help"]\nENTRYPOINT ["/entry"]\n', BASE)
    assert plan.config.cmd == ("--help",)


def test_shell_form_entrypoint_and_cmd_use_the_shell(build: Build) -> None:
    plan = build("FROM alpine\nENTRYPOINT exec nginx\n")
    assert plan.config.entrypoint == ("/bin/sh", "-c", "exec nginx")
    assert plan.history[-1].created_by == 'ENTRYPOINT ["/bin/sh" "-c" "exec nginx"]'


def test_last_cmd_wins_and_earlier_ones_are_flagged(build: Build) -> None:
    plan = build('FROM alpine\nCMD ["a"]\nCMD ["b"]\n')
    assert plan.config.cmd == ("b",)
    diags = [(d.rule, d.span.line if d.span else 0) for d in plan.diagnostics]
    assert diags == [("MultipleInstructionsDisallowed", 2)]


def test_healthcheck_none_disables_inherited_check(build: Build) -> None:
    plan = build("FROM base\nHEALTHCHECK NONE\n", BASE)
    assert plan.config.healthcheck is not None and plan.config.healthcheck.disabled


def test_healthcheck_defaults_apply_to_unset_options(build: Build) -> None:
    plan = build("FROM alpine\nHEALTHCHECK --timeout=3s CMD wget -q -O- localhost\n")
    health = plan.config.healthcheck
    assert health is not None and health.interval is None
    assert health.effective() == HealthConfig(
        ("CMD-SHELL", "wget -q -O- localhost"), 30 * S, 3 * S, 0, 5 * S, 3
    )
    assert plan.history[-1].created_by == (
        'HEALTHCHECK &{["CMD-SHELL" "wget -q -O- localhost"] "0s" "3s" "0s" "0s" \'\\x00\'}'
    )


def test_labels_are_inherited_only_through_from(build: Build) -> None:
    text = (
        "FROM base AS helper\nLABEL helper=yes\n"
        "FROM base\nCOPY --from=helper /a /a\nLABEL mine=1\n"
    )
    plan = build(text, BASE)
    assert plan.config.label_map() == {"vendor": "acme", "mine": "1"}


def test_build_option_labels_are_added_to_final_image(build: Build) -> None:
    plan = build("FROM alpine\nLABEL a=1\n", labels={"a": "2", "b": "3"})
    assert plan.config.label_map() == {"a": "2", "b": "3"}


def test_workdir_creates_directory_and_relative_paths_join(build: Build) -> None:
    plan = build("FROM alpine\nUSER app\nWORKDIR /a\nWORKDIR b\nWORKDIR c\n")
    assert plan.config.workdir == "/a/b/c"
    mkdirs = [a for op in plan.definition.ops.values() if isinstance(op, FileOp)
              for a in op.actions if isinstance(a, Mkdir)]
    assert [m.path for m in mkdirs] == ["/a", "/a/b", "/a/b/c"]
    assert mkdirs[0].chown == ChownOpt("app")
    assert [h.created_by for h in plan.history[-3:]] == [
        "WORKDIR /a", "WORKDIR /a/b", "WORKDIR /a/b/c"
    ]
    assert plan.history[-1].empty_layer is False


def test_relative_workdir_joins_base_image_workdir(build: Build) -> None:
    plan = build("FROM base\nWORKDIR html\n", BASE)
    assert plan.config.workdir == "/usr/share/html"
    assert [d.rule for d in plan.diagnostics] == ["WorkdirRelativePath"]


def test_metadata_only_instructions_add_no_ops(build: Build) -> None:
    text = (
        "FROM alpine\nENV A=1\nLABEL b=2\nUSER nobody\nEXPOSE 80\nVOLUME /data\n"
        'CMD ["x"]\nSTOPSIGNAL SIGQUIT\nARG Z=1\nONBUILD RUN y\nMAINTAINER me\n'
    )
    plan = build(text)
    assert len(plan.definition.ops) == 1
    assert all(h.empty_layer for h in plan.history)


def test_history_created_by_matches_buildkit(build: Build) -> None:
    text = (
        "FROM alpine\nENV A=b C=d\nLABEL x=y\nARG Z=1\nUSER nobody:nogroup\n"
        "EXPOSE 80 53/udp\nVOLUME /data /logs\nSTOPSIGNAL SIGQUIT\n"
        'SHELL ["/bin/ash", "-c"]\nCMD ["x", "y z"]\nRUN make\nMAINTAINER me\n'
    )
    assert [h.created_by for h in build(text).history] == [
        "ENV A=b C=d", "LABEL x=y", "ARG Z=1", "USER nobody:nogroup",
        "EXPOSE map[53/udp:{} 80/tcp:{}]", "VOLUME [/data /logs]", "STOPSIGNAL SIGQUIT",
        "SHELL [/bin/ash -c]", 'CMD ["x" "y z"]', "RUN |1 Z=1 /bin/ash -c make # buildkit",
        "MAINTAINER me",
    ]


def test_expose_expands_ranges_and_lowercases_protocol(build: Build) -> None:
    plan = build("FROM alpine\nARG P=8080\nEXPOSE $P 9000-9002/UDP\n")
    assert plan.config.exposed_ports == ("8080/tcp", "9000/udp", "9001/udp", "9002/udp")


def test_user_and_volume_and_stopsignal_are_expanded(build: Build) -> None:
    plan = build("FROM alpine\nARG U=1000 V=/data S=SIGINT\nUSER $U:$U\nVOLUME $V\nSTOPSIGNAL $S\n")
    c = plan.config
    assert (c.user, c.volumes, c.stop_signal) == ("1000:1000", ("/data",), "SIGINT")


def test_maintainer_sets_author_and_is_inherited_through_from(build: Build) -> None:
    plan = build("FROM alpine AS base\nMAINTAINER Jane <jane@example.com>\nFROM base\nRUN x\n")
    assert plan.author == "Jane <jane@example.com>"
    assert plan.config.label_map() == {}


def test_run_history_lists_every_arg_in_scope_valued_by_shadowing_env(build: Build) -> None:
    # BuildKit runCommandString: valueless ARGs as "K=", an ENV of the same name wins
    text = "FROM alpine\nARG A=1 B\nARG C=3\nENV C=env\nRUN make\n"
    history = [h.created_by for h in build(text).history]
    assert history[-1] == "RUN |3 A=1 B= C=env /bin/sh -c make # buildkit"


def test_expansion_happens_in_the_documented_instructions_only(build: Build) -> None:
    text = (
        "ARG IMG=alpine\nFROM $IMG\nARG V=x\n"
        "ENV E=$V\nLABEL l=$V\nUSER u$V\nWORKDIR /w$V\nEXPOSE 8$V\nVOLUME /v$V\n"
        "STOPSIGNAL SIG$V\nCOPY c$V /d$V/\nADD a$V /d$V/\nONBUILD RUN echo $V\n"
        'RUN echo $V\nCMD echo $V\nENTRYPOINT ["echo", "$V"]\n'
    )
    with pytest.raises(FrontendError, match="8x"):
        build(text)  # EXPOSE expanded "8$V" to "8x" before checking the port
    plan = build(text.replace("EXPOSE 8$V", "EXPOSE 8${V:+0}"))
    config = plan.config
    assert config.env_map()["E"] == "x" and config.label_map()["l"] == "x"
    assert (config.user, config.workdir, config.stop_signal) == ("ux", "/wx", "SIGx")
    assert config.exposed_ports == ("80/tcp",) and config.volumes == ("/vx",)
    assert config.onbuild == ("RUN echo $V",)  # expanded only when the trigger runs
    assert config.cmd == ("/bin/sh", "-c", "echo $V")
    assert config.entrypoint == ("echo", "$V")
    runs = [op for op in plan.definition.ops.values() if isinstance(op, ExecOp)]
    assert [r.meta.args for r in runs] == [("/bin/sh", "-c", "echo $V")]
    copies = [a for op in plan.definition.ops.values() if isinstance(op, FileOp)
              for a in op.actions if isinstance(a, CopyAction)]
    assert sorted((a.src, a.dest) for a in copies) == [("/ax", "/dx/"), ("/cx", "/dx/")]
