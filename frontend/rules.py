"""Build-check rules as typed values (BuildKit's linter ruleset).

May import: frontend.errors.

Each rule has a name (as in ``# check=skip=NAME``), a one-line description and
a documentation URL. ``frontend.checks`` and ``frontend.compile`` report
findings as ``Diagnostic`` values made by ``Rule.diagnostic``.
"""

from __future__ import annotations

from dataclasses import dataclass

from frontend.errors import Diagnostic
from solver.source import Span

__all__ = ["RULES", "Rule", "rule"]

_DOC = "https://docs.docker.com/go/dockerfile/rule/"


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    description: str

    @property
    def url(self) -> str:
        slug = "".join("-" + c.lower() if c.isupper() else c for c in self.name).lstrip("-")
        return _DOC + slug + "/"

    def diagnostic(self, message: str, span: Span | None) -> Diagnostic:
        return Diagnostic(self.name, message, span, self.url)


_ALL = (
    Rule("StageNameCasing", "Stage names should be lowercase"),
    Rule("FromAsCasing", "The 'as' keyword should match the case of the 'from' keyword"),
    Rule("NoEmptyContinuation", "Empty continuation lines will become errors in a future release"),
    Rule("ConsistentInstructionCasing", "All commands within the Dockerfile should use the same casing"),
    Rule("DuplicateStageName", "Stage names should be unique"),
    Rule("ReservedStageName", "Reserved words should not be used as stage names"),
    Rule("JSONArgsRecommended", "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals"),
    Rule("MaintainerDeprecated", "The MAINTAINER instruction is deprecated, use a label instead to define an image author"),
    Rule("UndefinedArgInFrom", "FROM command must use declared ARGs"),
    Rule("WorkdirRelativePath", "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes"),
    Rule("UndefinedVar", "Variables should be defined before their use"),
    Rule("MultipleInstructionsDisallowed", "Multiple instructions of the same type should not be used in the same stage"),
    Rule("LegacyKeyValueFormat", "Legacy key/value format with whitespace separator should not be used"),
    Rule("RedundantTargetPlatform", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior"),
    Rule("SecretsUsedInArgOrEnv", "Sensitive data should not be used in the ARG or ENV commands"),
    Rule("InvalidDefaultArgInFrom", "Default value for global ARG results in an empty or invalid base image name"),
    Rule("FromPlatformFlagConstDisallowed", "FROM --platform flag should not use a constant value"),
    Rule("CopyIgnoredFile", "Attempting to Copy file that is excluded by .dockerignore"),
    Rule("ExposeProtoCasing", "Protocol in EXPOSE instruction should be lowercase"),
    Rule("ExposeInvalidFormat", "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release"),
    Rule("UnusedBuildArg", "A --build-arg was given that no ARG in the Dockerfile declares"),
)

RULES: dict[str, Rule] = {r.name: r for r in _ALL}


def rule(name: str) -> Rule:
    """The rule called ``name`` (exact case); KeyError if none."""
    return RULES[name]
