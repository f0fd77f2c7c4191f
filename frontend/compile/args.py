"""ARG scoping: global ARGs, automatic platform args, in-stage declarations.

May import: frontend.compile.state, frontend.instructions, frontend.resolver.

Global ARGs (before the first FROM) are visible only in FROM lines. Inside a
stage ``ARG NAME`` re-declares one and takes the ``--build-arg`` value, else
the global value; ``ARG NAME=default`` takes the ``--build-arg`` value, else
its default. An ARG is in effect from its own line on. The automatic platform
args (``TARGETPLATFORM`` …) exist in the global scope only.
"""

from __future__ import annotations

from dataclasses import replace

from frontend.compile.state import Context, StageState
from frontend.instructions import Arg

__all__ = ["AUTOMATIC_ARGS", "compile_arg", "compile_global_args", "platform_args"]

AUTOMATIC_ARGS = (
    "BUILDARCH", "BUILDOS", "BUILDPLATFORM", "BUILDVARIANT",
    "TARGETARCH", "TARGETOS", "TARGETPLATFORM", "TARGETVARIANT",
)


def _split(platform: str) -> tuple[str, str, str]:
    os_, _, rest = platform.partition("/")
    arch, _, variant = rest.partition("/")
    return os_, arch, variant


def platform_args(target: str, build: str) -> dict[str, str]:
    """The automatic args for ``target`` and ``build`` platforms (``os/arch[/variant]``)."""
    out: dict[str, str] = {}
    for prefix, platform in (("TARGET", target), ("BUILD", build)):
        os_, arch, variant = _split(platform)
        out.update({
            f"{prefix}PLATFORM": platform, f"{prefix}OS": os_,
            f"{prefix}ARCH": arch, f"{prefix}VARIANT": variant,
        })
    return out


def compile_global_args(ctx: Context, args: tuple[Arg, ...]) -> None:
    """Fill ``ctx.global_args`` (automatic args, then the declared ones in order)
    and ``ctx.global_defaults`` (the same without ``--build-arg`` values)."""
    opts = ctx.options
    values = platform_args(opts.target_platform, opts.build_platform)
    defaults = dict(values)
    for arg in args:
        span = arg.node.span
        for decl in arg.args:
            given = opts.build_arg(decl.name)
            default = None
            if decl.default is not None:
                default = ctx.expand(decl.default, values, span, frozenset(values))
            value = given if given is not None else default
            if value is not None:
                values[decl.name] = value
            if default is not None:
                defaults[decl.name] = default
            ctx.global_names.add(decl.name)
    ctx.global_args = values
    ctx.global_defaults = defaults


def compile_arg(ctx: Context, state: StageState, arg: Arg) -> StageState:
    """Declare ``arg``'s names in the stage, effective from this line.

    Raises:
        FrontendError: a malformed expansion in a default value.
    """
    span, args, shown = arg.node.span, dict(state.args), []
    for decl in arg.args:
        ctx.check_secret_name("ARG", decl.name, span)
        given = ctx.options.build_arg(decl.name)
        default = ctx.expand_in(state, decl.default, span) if decl.default is not None else None
        if given is not None:
            value: str | None = given
        elif default is not None:
            value = default
        else:
            value = ctx.global_args.get(decl.name)
        args[decl.name] = value
        shown.append(decl.name if default is None else f"{decl.name}={default}")
    history = state.with_history("ARG " + " ".join(shown), True)
    return replace(state, args=tuple(args.items()), history=history)
