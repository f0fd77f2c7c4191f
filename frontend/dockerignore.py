""".dockerignore parsing and matching with Docker's semantics (moby/patternmatcher, fsutil).

May import: stdlib, frontend.gomatch. Pure: callers hand in the file's text and relative paths.

Reading (``ignorefile.ReadAll``): a line starting with ``#`` in column 1 is a
comment (`` # x`` is a pattern); blank lines are skipped; each line is trimmed;
a leading ``!`` makes an exception (``! foo`` is ``!foo``); the pattern is
``filepath.Clean``ed (``./a`` → ``a``, ``a/`` → ``a``, ``a/../b`` → ``b``) and a
leading ``/`` dropped. A UTF-8 BOM is ignored.

Matching (``patternmatcher``): ``*`` and ``?`` never cross ``/``; ``**`` spans
any number of directories (``**/x`` also matches ``x``); ``[...]``/``[^...]``
classes and ``\\`` escapes follow Go's ``filepath.Match`` (``[!a]`` is *not* a
negation in Go: it is the class ``!``/``a``); a pattern is anchored at the
context root (``foo`` matches ``foo`` and ``foo/…``, never ``bar/foo``); a
pattern that matches a directory matches everything under it; the last
matching line wins. Per-directory results are carried down the tree as
BuildKit's walker does (``MatchesUsingParentResults``).

Pruning (fsutil): an excluded directory is skipped unless some exception could
match inside it; with an exception containing a glob character (after a
trailing ``/**`` or ``/*`` is removed) nothing is ever pruned.

Differences from Docker, on purpose (Docker translates patterns to a Go regexp
and only partly validates them first): ``\\`` before a letter is that letter
(Go's regexp reads ``\\d`` as a digit class, ``\\b`` as a word boundary);
``*``, ``?`` and ``\\`` inside ``[...]`` mean what ``filepath.Match`` says;
and a pattern ``filepath.Match`` calls malformed (``[z-a]``, ``[a-]``, a
trailing ``\\``) is an error when parsed instead of being half-accepted.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass, field

from frontend.gomatch import IGNORE_DIALECT, GoPatternError, TokenKind, tokenize

__all__ = [
    "DEFAULT_IGNORE_FILE",
    "IgnorePatternError",
    "IgnoreRules",
    "Pattern",
    "always_kept",
    "candidate_files",
    "clean_path",
    "parse",
]

DEFAULT_IGNORE_FILE = ".dockerignore"
# Go's unicode.IsSpace, for strings.TrimSpace
_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    map(chr, range(0x2000, 0x200B))
)
_GLOB_CHARS = frozenset("*[]?^\\")
_DOUBLE_STARS = frozenset({TokenKind.ANY_DIRS, TokenKind.ANY_TAIL})


class IgnorePatternError(ValueError):
    """A line of an ignore file is not a valid pattern.

    ``str(err)`` reads ``.dockerignore:3: bad pattern '[a': <reason>``.
    """

    def __init__(self, reason: str, *, file: str, line: int, pattern: str) -> None:
        super().__init__(f"{file}:{line}: bad pattern {pattern!r}: {reason}")
        self.reason = reason
        self.file = file
        self.line = line
        self.pattern = pattern


@dataclass(frozen=True, slots=True)
class Pattern:
    """One pattern line: the cleaned pattern text (without ``!``), whether it is
    an exception (``!``), and its 1-based line number in the file."""

    text: str
    negated: bool
    line: int


class _Kind(enum.Enum):
    EXACT = "exact"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    REGEX = "regex"


@dataclass(frozen=True, slots=True)
class _Matcher:
    kind: _Kind
    text: str
    regex: re.Pattern[str] | None

    def matches(self, path: str) -> bool:
        if self.kind is _Kind.EXACT:
            return path == self.text
        if self.kind is _Kind.PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind is _Kind.SUFFIX:
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        assert self.regex is not None
        return self.regex.match(path) is not None


def clean_path(path: str) -> str:
    """Go's ``path.Clean``: collapse ``//``, ``.`` and ``..``; ``""`` becomes ``"."``."""
    rooted = path.startswith("/")
    parts: list[str] = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg != "..":
            parts.append(seg)
        elif parts and parts[-1] != "..":
            parts.pop()
        elif not rooted:
            parts.append("..")
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."


def _compile(text: str) -> _Matcher:
    """patternmatcher's ``compile``: the cheapest matcher that decides ``text``.

    Raises:
        GoPatternError: the pattern is malformed.
    """
    tokens = tokenize(text, IGNORE_DIALECT)
    kind = _Kind.EXACT
    for index, token in enumerate(tokens):
        if token.kind is TokenKind.ANY_TAIL and kind is _Kind.EXACT:
            kind = _Kind.PREFIX
        elif token.kind is not TokenKind.LITERAL or token.text == "]":
            kind = _Kind.REGEX
        if index == 0 and token.kind in _DOUBLE_STARS:
            kind = _Kind.SUFFIX
    if kind is not _Kind.REGEX:
        return _Matcher(kind, text, None)
    return _Matcher(kind, text, re.compile("^" + "".join(t.regex for t in tokens) + r"\Z"))


def _read_lines(text: str) -> list[tuple[int, str]]:
    """``ignorefile.ReadAll``: (line number, pattern with ``!`` kept)."""
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        if raw.startswith("#"):
            continue
        line = raw.strip(_GO_SPACE)
        if not line:
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:].strip(_GO_SPACE)
        if line:
            line = clean_path(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        out.append((number, "!" + line if negated else line))
    return out


def parse(text: str, file: str = DEFAULT_IGNORE_FILE) -> IgnoreRules:
    """Parse the text of an ignore file.

    Args:
        text: the whole file, decoded.
        file: the name used in error messages.

    Raises:
        IgnorePatternError: a line is ``!`` alone or has bad glob syntax (an
            unterminated ``[``, a trailing ``\\``, an empty class).
    """
    patterns: list[Pattern] = []
    matchers: list[_Matcher] = []
    for number, line in _read_lines(text):
        # patternmatcher.New trims and cleans once more, '!' included: "./ !x" is "!x"
        trimmed = line.strip(_GO_SPACE)
        if not trimmed:
            continue
        cleaned = clean_path(trimmed)
        negated = cleaned.startswith("!")
        if negated:
            if len(cleaned) == 1:
                raise IgnorePatternError(
                    "an exception needs a pattern after '!'", file=file, line=number, pattern=line
                )
            cleaned = cleaned[1:]
        try:
            matchers.append(_compile(cleaned))
        except GoPatternError as exc:
            raise IgnorePatternError(str(exc), file=file, line=number, pattern=line) from None
        patterns.append(Pattern(cleaned, negated, number))
    return IgnoreRules(tuple(patterns), tuple(matchers))


def _without_trailing_glob(text: str) -> str:
    return text.removesuffix("/**").removesuffix("/*")


@dataclass(frozen=True)
class IgnoreRules:
    """A parsed ignore file. Paths are relative to the context root and
    ``/``-separated (``"a/b.txt"``; ``./`` and a leading ``/`` are tolerated)."""

    patterns: tuple[Pattern, ...]
    _matchers: tuple[_Matcher, ...] = field(repr=False, compare=False)
    _dirs: dict[str, tuple[bool, tuple[bool, ...]] | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def has_exceptions(self) -> bool:
        """Whether any line starts with ``!``."""
        return any(p.negated for p in self.patterns)

    def excluded(self, path: str) -> bool:
        """Whether ``path`` is left out of the build context.

        The context root itself is never excluded. A path under a directory
        that the walker would prune is excluded.
        """
        path = clean_path(path.lstrip("/"))
        if path in (".", "..") or path.startswith("../"):
            return False
        parent, _, _ = path.rpartition("/")
        state = self._dir_state(parent) if parent else (False, ())
        if state is None:
            return True
        return self._step(path, state[1])[0]

    def dir_may_contain_included(self, path: str) -> bool:
        """For an excluded directory: False when no exception could match
        anything inside it, so a context walker may skip it entirely."""
        exceptions = self._exception_prefixes
        if exceptions is None:
            return True
        prefix = clean_path(path.lstrip("/")) + "/"
        return any(text.startswith(prefix) for text in exceptions)

    @functools.cached_property
    def _exception_prefixes(self) -> tuple[str, ...] | None:
        """Each exception without a trailing ``/**`` or ``/*``, plus ``/``; None
        when one has glob characters (then nothing can be pruned)."""
        texts = [_without_trailing_glob(p.text) for p in self.patterns if p.negated]
        if any(_GLOB_CHARS.intersection(text) for text in texts):
            return None
        return tuple(text + "/" for text in texts)

    def _dir_state(self, path: str) -> tuple[bool, tuple[bool, ...]] | None:
        """(excluded, per-pattern matches) of a directory; None if pruned."""
        if path in self._dirs:
            return self._dirs[path]
        parent, _, _ = path.rpartition("/")
        above = self._dir_state(parent) if parent else (False, ())
        state: tuple[bool, tuple[bool, ...]] | None = None
        if above is not None:
            state = self._step(path, above[1])
            if state[0] and not self.dir_may_contain_included(path):
                state = None
        self._dirs[path] = state
        return state

    def _step(self, path: str, parent: tuple[bool, ...]) -> tuple[bool, tuple[bool, ...]]:
        """patternmatcher's ``MatchesUsingParentResults`` for one path."""
        matched = False
        info: list[bool] = []
        for i, (pattern, matcher) in enumerate(zip(self.patterns, self._matchers, strict=True)):
            match = parent[i] if parent else False
            if not match:
                if pattern.negated != matched:
                    info.append(False)
                    continue
                match = matcher.matches(path)
                if not match and not parent:
                    match = any(matcher.matches(d) for d in _ancestors(path))
            info.append(match)
            if match:
                matched = not pattern.negated
        return matched, tuple(info)


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def candidate_files(dockerfile_path: str) -> tuple[str, ...]:
    """The ignore files to try, first found wins: ``<Dockerfile path>.dockerignore``
    beside the Dockerfile, then ``.dockerignore`` at the context root. For a
    Dockerfile read from stdin (``-`` or ``""``) only the latter."""
    if dockerfile_path in ("", "-"):
        return (DEFAULT_IGNORE_FILE,)
    own = dockerfile_path + DEFAULT_IGNORE_FILE
    return (own, DEFAULT_IGNORE_FILE) if own != DEFAULT_IGNORE_FILE else (own,)


def always_kept(path: str, dockerfile_path: str) -> bool:
    """Whether the frontend may still read ``path`` although it is excluded:
    the Dockerfile and the ignore files (``.dockerignore`` and
    ``<Dockerfile>.dockerignore``). BuildKit loads them through a separate
    source, so exclusion does not hide them from the frontend; it still hides
    them from COPY/ADD. Both paths are relative to the context root; a
    Dockerfile outside the context (absolute, ``../…``, or ``-`` for stdin)
    keeps only ``.dockerignore``."""
    path = clean_path(path.lstrip("/"))
    dockerfile = clean_path(dockerfile_path) if dockerfile_path else "."
    kept = {DEFAULT_IGNORE_FILE}
    outside = dockerfile.startswith(("/", "../")) or dockerfile in (".", "..", "-")
    if not outside:
        kept |= {dockerfile, dockerfile + DEFAULT_IGNORE_FILE}
    return path in kept
