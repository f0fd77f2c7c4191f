"""ExecOp environment rules (the sandbox runs are in test_local.py and test_build.py)."""

from __future__ import annotations

from builder.sandbox.spec import DEFAULT_PATH
from builder.worker.exec_op import build_env


def test_default_path_is_added_only_when_the_step_has_none() -> None:
    assert build_env(("A=1",), ()) == ("A=1", f"PATH={DEFAULT_PATH}")
    assert build_env(("PATH=/opt/bin",), ()) == ("PATH=/opt/bin",)


def test_proxy_variables_fill_in_but_never_override_the_steps_own() -> None:
    env = build_env(("HTTP_PROXY=mine", "PATH=/bin"),
                    (("HTTP_PROXY", "build"), ("NO_PROXY", "localhost")))
    assert env == ("HTTP_PROXY=mine", "PATH=/bin", "NO_PROXY=localhost")


def test_values_containing_equals_signs_keep_their_name() -> None:
    assert build_env(("PATH=/a=b",), (("PATH", "x"),)) == ("PATH=/a=b",)
