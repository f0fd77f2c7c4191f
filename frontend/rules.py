"""Build-check rules as typed values (BuildKit's linter ruleset).

May import: frontend.errors.

Each rule has a name (as in ``# check=skip=NAME``), a one-line description, a
documentation URL and the ``message`` template of its findings (BuildKit's
``Format`` functions, as ``str.format`` text with ``{0}``, ``{1}`` …).
``frontend.checks`` and ``frontend.compile`` both report findings through
``Rule.report``, so a rule that both report has the same text either way, and
``run_checks`` can drop the repeat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from frontend.errors import Diagnostic
from solver.source import Span

__all__ = ["RULES", "Rule", "is_secret_name", "rule"]

_DOC = "https://docs.docker.com/go/dockerfile/rule/"


@dataclass(frozen=True, slots=True)
class Rule:
    """One check rule; ``message`` is the finding's text, ``{0}``… filled by ``report``."""

    name: str
    description: str
    message: str

    @property
    def url(self) -> str:
        slug = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", self.name)
        return _DOC + slug.lower() + "/"

    def diagnostic(self, message: str, span: Span | None) -> Diagnostic:
        """A finding of this rule with ``message`` as given."""
        return Diagnostic(self.name, message, span, self.url)

    def report(self, span: Span | None, *values: str) -> Diagnostic:
        """A finding of this rule: ``message`` filled with ``values``.

        Raises:
            IndexError: fewer ``values`` than the template uses.
        """
        return self.diagnostic(self.message.format(*values), span)


_ALL = (
    Rule("StageNameCasing", "Stage names should be lowercase", "Stage name '{0}' should be lowercase"),
    Rule("FromAsCasing", "The 'as' keyword should match the case of the 'from' keyword", "'{0}' and '{1}' keywords' casing do not match"),
    Rule("NoEmptyContinuation", "Empty continuation lines will become errors in a future release", "Empty continuation line"),
    Rule("ConsistentInstructionCasing", "All commands within the Dockerfile should use the same casing", "Command '{0}' should match the case of the command majority ({1})"),
    Rule("DuplicateStageName", "Stage names should be unique", "Duplicate stage name \"{0}\", stage names should be unique"),
    Rule("ReservedStageName", "Reserved words should not be used as stage names", "Stage name should not use the same name as reserved stage \"{0}\""),
    Rule("JSONArgsRecommended", "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals", "JSON arguments recommended for {0} to prevent unintended behavior related to OS signals"),
    Rule("MaintainerDeprecated", "The MAINTAINER instruction is deprecated, use a label instead to define an image author", "Maintainer instruction is deprecated in favor of using label"),
    Rule("UndefinedArgInFrom", "FROM command must use declared ARGs", "FROM argument '{0}' is not declared"),
    Rule("WorkdirRelativePath", "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes", "Relative workdir {0} can have unexpected results if the base image changes"),
    Rule("UndefinedVar", "Variables should be defined before their use", "Usage of undefined variable '${0}'"),
    Rule("MultipleInstructionsDisallowed", "Multiple instructions of the same type should not be used in the same stage", "Multiple {0} instructions should not be used in the same stage because only the last one will be used"),
    Rule("LegacyKeyValueFormat", "Legacy key/value format with whitespace separator should not be used", "\"{0} key=value\" should be used instead of legacy \"{0} key value\" format"),
    Rule("RedundantTargetPlatform", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior", "Setting platform to predefined {0} in FROM is redundant as this is the default behavior"),
    Rule("SecretsUsedInArgOrEnv", "Sensitive data should not be used in the ARG or ENV commands", "Do not use ARG or ENV instructions for sensitive data ({0} \"{1}\")"),
    Rule("InvalidDefaultArgInFrom", "Default value for global ARG results in an empty or invalid base image name", "Default value for ARG {0} results in empty or invalid base image name"),
    Rule("FromPlatformFlagConstDisallowed", "FROM --platform flag should not use a constant value", "FROM --platform flag should not use constant value {0}"),
    Rule("CopyIgnoredFile", "Attempting to Copy file that is excluded by .dockerignore", "Attempting to {0} file \"{1}\" that is excluded by .dockerignore"),
    Rule("ExposeProtoCasing", "Protocol in EXPOSE instruction should be lowercase", "Defined protocol '{0}' in EXPOSE instruction should be lowercase"),
    Rule("ExposeInvalidFormat", "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release", "EXPOSE instruction should not define an IP address or host-port mapping, found '{0}'"),
    Rule("UnusedBuildArg", "A --build-arg was given that no ARG in the Dockerfile declares", "One or more build-args [{0}] were not consumed"),
)

RULES: dict[str, Rule] = {r.name: r for r in _ALL}


def rule(name: str) -> Rule:
    """The rule called ``name`` (exact case); KeyError if none."""
    return RULES[name]


_SECRET = re.compile(
    r"(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)",
    re.IGNORECASE,
)
_SECRET_ALLOWED = re.compile(r"(?:_|^)(?:public|file|version)(?:_|$)", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """BuildKit's SecretsUsedInArgOrEnv heuristic: an ``_``-separated part of
    ``name`` is a secret word (``token``, ``password``, ``key``, …, any case) and
    no part is ``public``, ``file`` or ``version``."""
    return bool(_SECRET.search(name)) and not _SECRET_ALLOWED.search(name)
