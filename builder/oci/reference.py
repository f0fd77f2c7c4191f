"""Image references, parsed and normalised exactly as docker's ``reference`` package.

May import: stdlib, solver.digest, builder.errors.

Grammar (distribution/reference)::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [domain "/"] path-component ["/" path-component]*
    domain     := host [":" port]        host: DNS name, IPv4 or [IPv6]
    path-comp  := [a-z0-9]+ ((?:[._]|__|[-]+)[a-z0-9]+)*
    tag        := [\\w][\\w.-]{0,127}
    digest     := algorithm ":" hex

Normalisation (``ParseNormalizedNamed``): the first component is a domain only if
it contains ``.`` or ``:``, is ``localhost``, or has an upper-case letter;
otherwise the domain is ``docker.io`` and a one-component path gets
``library/``. ``index.docker.io`` becomes ``docker.io``. The repository must be
lower case, the full name at most 255 characters, and a bare 64-hex string is
refused (it is an image ID, not a name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from builder.errors import UsageError
from solver.digest import Digest

__all__ = ["DEFAULT_REGISTRY", "DEFAULT_TAG", "ImageRef"]

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
_LEGACY_REGISTRY = "index.docker.io"
_NAME_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE_RE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
_TAG_RE = re.compile(rf"^{_TAG}$")
_ID_RE = re.compile(r"^[a-f0-9]{64}$")

_HINT = "a reference looks like [HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST], lower-case name"


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A normalised image reference. ``tag`` and ``digest`` may each be empty/None.

    ``str(ref)`` is the full form (``docker.io/library/busybox:latest``);
    ``ref.familiar()`` is docker's short display form (``busybox:latest``).
    """

    registry: str
    repository: str
    tag: str = ""
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str, default_tag: str | None = DEFAULT_TAG) -> ImageRef:
        """Parse and normalise ``text`` as ``docker`` does.

        Args:
            text: a reference such as ``busybox``, ``host:5000/a/b:tag`` or ``x@sha256:…``.
            default_tag: the tag given to a reference with neither tag nor digest
                (``None`` leaves it bare, e.g. for ``docker push NAME`` semantics).

        Raises:
            UsageError: the text is not a valid reference (message says why).
        """
        if _ID_RE.match(text):
            raise UsageError(
                f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings",
                hint="that looks like an image ID; use it where an image is expected",
            )
        registry, remainder = _split_domain(text)
        remote = remainder.split(":", 1)[0].split("@", 1)[0]
        if remote.lower() != remote:
            raise UsageError(
                f"invalid reference format: repository name ({remote}) must be lowercase",
                hint=_HINT,
            )
        ref = _parse_full(f"{registry}/{remainder}", text)
        if default_tag and not ref.tag and ref.digest is None:
            ref = replace(ref, tag=default_tag)
        return ref

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += ":" + self.tag
        if self.digest is not None:
            text += "@" + self.digest
        return text

    def familiar_name(self) -> str:
        """The name as docker shows it: ``busybox``, ``user/app``, ``host:5000/a``."""
        if self.registry != DEFAULT_REGISTRY:
            return self.name
        repo = self.repository
        if repo.startswith("library/") and "/" not in repo[len("library/"):]:
            return repo[len("library/"):]
        return repo

    def familiar(self) -> str:
        """Docker's short display form, e.g. ``busybox:latest``."""
        text = self.familiar_name()
        if self.tag:
            text += ":" + self.tag
        if self.digest is not None:
            text += "@" + self.digest
        return text

    def with_tag(self, tag: str) -> ImageRef:
        """This name with ``tag`` (and no digest).

        Raises:
            UsageError: ``tag`` does not match ``[\\w][\\w.-]{0,127}``.
        """
        if not _TAG_RE.match(tag):
            raise UsageError(f"invalid tag format: {tag!r}",
                             hint="a tag is up to 128 of [A-Za-z0-9_.-], not starting with . or -")
        return replace(self, tag=tag, digest=None)

    def with_digest(self, digest: Digest) -> ImageRef:
        """This reference pinned to ``digest`` (the tag is kept, as docker does)."""
        return replace(self, digest=Digest(digest))

    def without_tag_or_digest(self) -> ImageRef:
        """Just the repository name."""
        return replace(self, tag="", digest=None)


def _split_domain(text: str) -> tuple[str, str]:
    """distribution's ``splitDockerDomain``."""
    i = text.find("/")
    first = text[:i]
    if i == -1 or (
        not any(c in first for c in ".:") and first != "localhost" and first.lower() == first
    ):
        domain, remainder = DEFAULT_REGISTRY, text
    else:
        domain, remainder = first, text[i + 1:]
    if domain == _LEGACY_REGISTRY:
        domain = DEFAULT_REGISTRY
    if domain == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = "library/" + remainder
    return domain, remainder


def _parse_full(full: str, original: str) -> ImageRef:
    match = _REFERENCE_RE.match(full)
    if match is None:
        raise _explain(full, original)
    name, tag, digest = match.group(1), match.group(2) or "", match.group(3)
    if len(name) > _NAME_MAX:
        raise UsageError(
            f"invalid reference format: repository name must not be more than {_NAME_MAX} "
            f"characters: {original[:60]}…",
        )
    registry, _, repository = name.partition("/")
    return ImageRef(registry, repository, tag, _digest(digest, original) if digest else None)


def _digest(text: str, original: str) -> Digest:
    algorithm, _, hexpart = text.partition(":")
    if algorithm != "sha256":
        raise UsageError(f"unsupported digest algorithm {algorithm!r} in {original!r}",
                         hint="pybuild handles sha256 digests only")
    if len(hexpart) != 64 or hexpart.lower() != hexpart:
        raise UsageError(f"invalid checksum digest format in {original!r}",
                         hint="a sha256 digest is 'sha256:' and 64 lower-case hex digits")
    return Digest(text)


def _explain(full: str, original: str) -> UsageError:
    """The most specific of docker's messages for an unparsable reference."""
    if not original:
        return UsageError("invalid reference format: repository name must have at least "
                          "one component", hint=_HINT)
    if _REFERENCE_RE.match(full.lower()):
        return UsageError(
            f"invalid reference format: repository name must be lowercase: {original!r}",
            hint=_HINT,
        )
    name_part = full.split("@", 1)[0]
    if "@" in full and re.match(rf"^{_NAME}(?::{_TAG})?$", name_part):
        return UsageError(f"invalid reference format: bad digest in {original!r}",
                          hint="a digest looks like sha256:<64 hex digits>")
    last = name_part.rsplit("/", 1)[-1]
    if ":" in last and re.match(rf"^{_NAME}$", name_part.rsplit(":", 1)[0]):
        return UsageError(f"invalid reference format: bad tag in {original!r}",
                          hint="a tag is up to 128 of [A-Za-z0-9_.-], not starting with . or -")
    return UsageError(f"invalid reference format: {original!r}", hint=_HINT)
