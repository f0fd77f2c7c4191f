"""Docker's shell-word lexer: variable expansion, quotes and escapes, word splitting.

May import: frontend.errors, frontend.shellpatterns (and the stdlib).

This follows BuildKit's ``frontend/dockerfile/shell/lex.go`` (``ProcessWord``,
``ProcessWords``) and the parser's ``parseWords`` rather than POSIX sh where the
two differ. The escape character is ``\\`` or, under ``# escape=`````, a
backtick (then a backslash is an ordinary character, except inside the glob
patterns of ``${v#p}``/``${v%p}``/``${v/p/r}``, where BuildKit always treats
``\\*``, ``\\?`` and ``\\\\`` as literal characters).

Semantics worth knowing (each has a case in ``testdata/shellwords/``):

- ``$name`` takes letters, digits and ``_``; ``$1``/``$12`` (all leading
  digits) and ``$@ $* $# $? $- $$ $! $0`` are looked up like any name. A ``$``
  followed by anything else stays a literal ``$``.
- The word of a modifier (``${a:-word}``) is always expanded, even when the
  modifier does not use it, so ``${a:-${b:?x}}`` fails when ``b`` is unset.
- ``${a#p}``/``${a%p}``: ``p`` is expanded first (quotes do not make ``*``
  literal); if it then starts with ``#``/``%`` the match is greedy, and
  ``${a:#p}`` acts as ``${a#p}``. Glob details: ``frontend.shellpatterns``.
- Unmatched quotes and a ``${`` without ``}`` are errors; an escape at the very
  end of the text is dropped. More than ``MAX_NESTING`` ``${…}`` inside one
  another is an error (BuildKit has no limit; Python's stack has one).
- ``expand_words`` splits expanded unquoted text on whitespace; text inside
  quotes or produced by an escape never splits, and ``""`` yields no word.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from frontend import shellpatterns as glob
from frontend.errors import ExpansionError

__all__ = [
    "Expansion", "MAX_NESTING", "WordsExpansion", "expand", "expand_raw", "expand_words",
    "split_words",
]

MAX_NESTING = 64

_EOF = ""
_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_ESCAPES = ("\\", "`")
_NOT_SPACE = frozenset("\x1c\x1d\x1e\x1f")  # Python isspace() but not Go unicode.IsSpace
_QUOTE_HINT = "close the quote, or escape the quote character"
_BRACE_HINT = "close the expansion with '}', or write \\${ for a literal '${'"
_NAME_HINT = "write ${NAME} with a variable name, or \\$ for a literal '$'"
_MODIFIER_HINT = "supported: ${V:-x} ${V-x} ${V:+x} ${V+x} ${V:?msg} ${V?msg} ${V#p} ${V##p} ${V%p} ${V%%p} ${V/p/r} ${V//p/r}"  # noqa: E501


@dataclass(frozen=True, slots=True)
class Expansion:
    """The result of expanding one word.

    Attributes:
        text: the expanded text, quotes and escapes removed.
        used: every variable name the word referenced (set or not).
        unset: the referenced names that were not in the environment (for the
            ``UndefinedVar`` check).
    """

    text: str
    used: frozenset[str]
    unset: frozenset[str]


class WordsExpansion(NamedTuple):
    """The result of ``expand_words``; unpacks as ``(words, used, unset)``."""

    words: tuple[str, ...]
    used: frozenset[str]
    unset: frozenset[str]


def _is_space(ch: str) -> bool:
    """Go's ``unicode.IsSpace``."""
    return ch.isspace() and ch not in _NOT_SPACE


def _check_escape(escape: str) -> None:
    if escape not in _ESCAPES:
        raise ValueError(f"escape character must be '\\' or '`', not {escape!r}")


def _process(
    text: str, env: Mapping[str, str], escape: str, *, process_quotes: bool
) -> tuple[str, list[str], frozenset[str], frozenset[str]]:
    _check_escape(escape)
    lexer = _Lexer(text, env, escape, process_quotes=process_quotes)
    result, words = lexer.stop_on(_EOF, raw_escapes=False)
    return result, words, frozenset(lexer.used), frozenset(lexer.unset)


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> Expansion:
    """Expand variables in ``word`` and remove its quotes and escapes (BuildKit's
    ``ProcessWord``); whitespace is kept.

    Args:
        word: the raw text, e.g. ``"${HOME:-/root}/bin"``.
        env: the variables in scope; a name absent from it is unset.
        escape: ``"\\"`` or ``"`"`` (the ``# escape=`` directive).

    Raises:
        ExpansionError: malformed ``${…}``, an unmatched quote, a bad glob
            escape, or ``${VAR?msg}``/``${VAR:?msg}`` firing.
        ValueError: ``escape`` is neither backslash nor backtick.
    """
    text, _, used, unset = _process(word, env, escape, process_quotes=True)
    return Expansion(text, used, unset)


def expand_raw(word: str, env: Mapping[str, str]) -> Expansion:
    """Expand variables but leave quotes alone, as BuildKit does for heredoc
    bodies (``ExpandRaw``: escape is always ``\\``, quotes are ordinary).

    Raises:
        ExpansionError: as for ``expand``.
    """
    text, _, used, unset = _process(word, env, "\\", process_quotes=False)
    return Expansion(text, used, unset)


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> WordsExpansion:
    """Expand ``text`` and split it into words (BuildKit's ``ProcessWords``):
    unquoted expansion results split on whitespace, quoted text does not.

    Raises:
        ExpansionError: as for ``expand``.
        ValueError: ``escape`` is neither backslash nor backtick.
    """
    _, words, used, unset = _process(text, env, escape, process_quotes=True)
    return WordsExpansion(tuple(words), used, unset)


class _Words:
    """BuildKit's word accumulator: whitespace in splittable text ends a word."""

    __slots__ = ("_done", "_word")

    def __init__(self) -> None:
        self._done: list[str] = []
        self._word = ""

    def add(self, text: str, *, split: bool) -> None:
        if not split:
            self._word += text
            return
        for ch in text:
            if not _is_space(ch):
                self._word += ch
            elif self._word:
                self._done.append(self._word)
                self._word = ""

    def result(self) -> list[str]:
        return self._done + [self._word] if self._word else self._done


class _Lexer:
    """One pass over one word; records the names it looks up."""

    def __init__(
        self, src: str, env: Mapping[str, str], escape: str, *, process_quotes: bool
    ) -> None:
        self._src = src
        self._pos = 0
        self._env = env
        self._esc = escape
        self._quotes = process_quotes
        self._raw_escapes = False
        self._depth = 0
        self.used: set[str] = set()
        self.unset: set[str] = set()

    def _peek(self) -> str:
        return self._src[self._pos] if self._pos < len(self._src) else _EOF

    def _next(self) -> str:
        ch = self._peek()
        if ch:
            self._pos += 1
        return ch

    def _lookup(self, name: str) -> tuple[str, bool]:
        self.used.add(name)
        if name in self._env:
            return self._env[name], True
        self.unset.add(name)
        return "", False

    def stop_on(self, stop: str, *, raw_escapes: bool) -> tuple[str, list[str]]:
        """Process up to ``stop`` (consumed) or the end when ``stop`` is ``_EOF``."""
        saved, self._raw_escapes = self._raw_escapes, raw_escapes
        try:
            return self._stop_on(stop)
        finally:
            self._raw_escapes = saved

    def _stop_on(self, stop: str) -> tuple[str, list[str]]:
        out: list[str] = []
        words = _Words()
        while (ch := self._peek()) != _EOF:
            if stop and ch == stop:
                self._pos += 1
                return "".join(out), words.result()
            if ch == "$":
                piece = self._dollar()
                out.append(piece)
                words.add(piece, split=True)
                continue
            if self._quotes and ch in "'\"":
                piece = self._single_quote() if ch == "'" else self._double_quote()
                out.append(piece)
                words.add(piece, split=False)
                continue
            ch = self._next()
            if ch == self._esc:
                if self._raw_escapes:
                    words.add(ch, split=False)
                    out.append(ch)
                ch = self._next()
                if ch == _EOF:
                    break
                words.add(ch, split=False)
            else:
                words.add(ch, split=True)
            out.append(ch)
        if stop:
            raise ExpansionError(
                f"unexpected end of statement while looking for matching {stop}", hint=_BRACE_HINT
            )
        return "".join(out), words.result()

    def _single_quote(self) -> str:
        self._pos += 1
        end = self._src.find("'", self._pos)
        if end < 0:
            self._pos = len(self._src)
            raise ExpansionError(
                "unexpected end of statement while looking for matching single-quote",
                hint=_QUOTE_HINT,
            )
        text = self._src[self._pos : end]
        self._pos = end + 1
        return text

    def _double_quote(self) -> str:
        self._pos += 1
        out: list[str] = []
        while True:
            ch = self._peek()
            if ch == _EOF:
                raise ExpansionError(
                    "unexpected end of statement while looking for matching double-quote",
                    hint=_QUOTE_HINT,
                )
            if ch == '"':
                self._pos += 1
                return "".join(out)
            if ch == "$":
                out.append(self._dollar())
                continue
            ch = self._next()
            if ch == self._esc:
                if self._raw_escapes:
                    out.append(ch)
                following = self._peek()
                if following == _EOF:
                    continue
                if following in ('"', "$", self._esc):
                    ch = self._next()
            out.append(ch)

    def _name(self) -> str:
        start = self._pos
        ch = self._peek()
        if ch.isdecimal():
            while self._peek().isdecimal():
                self._pos += 1
            return self._src[start : self._pos]
        if ch in _SPECIAL_PARAMS and ch:
            self._pos += 1
            return ch
        while (ch := self._peek()) and (ch.isalpha() or ch.isdecimal() or ch == "_"):
            self._pos += 1
        return self._src[start : self._pos]

    def _dollar(self) -> str:
        self._pos += 1  # the '$'
        if self._peek() != "{":
            name = self._name()
            return self._lookup(name)[0] if name else "$"
        self._pos += 1  # the '{'
        if self._depth >= MAX_NESTING:
            raise ExpansionError(
                f"bad substitution: more than {MAX_NESTING} nested ${{…}} expansions",
                hint="split the expression over several ARG or ENV lines",
            )
        self._depth += 1
        try:
            return self._braced()
        finally:
            self._depth -= 1

    def _braced(self) -> str:
        first = self._peek()
        if first == _EOF:
            raise ExpansionError("bad substitution: missing '}'", hint=_BRACE_HINT)
        if first in "{}:":
            raise ExpansionError(
                "bad substitution: expected a variable name after '${'", hint=_NAME_HINT
            )
        name = self._name()
        ch = self._next()
        if ch == "}":
            return self._lookup(name)[0]
        if ch == _EOF:
            raise ExpansionError("bad substitution: missing '}'", hint=_BRACE_HINT)
        if ch == ":":
            ch = self._next()
            return self._modifier(name, ch, null_is_unset=True)
        if ch in "+-?#%":
            return self._modifier(name, ch, null_is_unset=False)
        if ch == "/":
            return self._replace(name)
        raise ExpansionError(
            f"bad substitution: unsupported modifier {ch!r} in ${{{name}…}}", hint=_MODIFIER_HINT
        )

    def _closing(self, stop: str, *, raw_escapes: bool, missing: str) -> str:
        try:
            return self.stop_on(stop, raw_escapes=raw_escapes)[0]
        except ExpansionError:
            if self._peek() == _EOF:
                raise ExpansionError(
                    f"bad substitution: missing {missing}", hint=_BRACE_HINT
                ) from None
            raise

    def _modifier(self, name: str, op: str, *, null_is_unset: bool) -> str:
        trim = op in ("#", "%")
        word = self._closing("}", raw_escapes=trim, missing="'}'")
        value, is_set = self._lookup(name)
        empty = not is_set or (null_is_unset and value == "")
        if op == "-":
            return word if empty else value
        if op == "+":
            return "" if empty else word
        if op == "?":
            if not is_set:
                raise ExpansionError(f"{name}: {word or 'is not allowed to be unset'}")
            if empty:
                raise ExpansionError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        if trim:
            greedy = word.startswith(op)
            pattern = word[1:] if greedy else word
            if op == "#":
                return glob.trim_prefix(pattern, value, greedy=greedy)
            return glob.trim_suffix(pattern, value, greedy=greedy)
        shown = (":" if null_is_unset else "") + op
        raise ExpansionError(
            f"bad substitution: unsupported modifier {shown!r} in ${{{name}…}}",
            hint=_MODIFIER_HINT,
        )

    def _replace(self, name: str) -> str:
        replace_all = self._peek() == "/"
        if replace_all:
            self._pos += 1
        pattern = self._closing("/", raw_escapes=True, missing="'/' in ${VAR/pattern/string}")
        replacement = self._closing("}", raw_escapes=True, missing="'}'")
        value, _ = self._lookup(name)
        compiled = glob.Glob.compile(pattern, greedy=True)
        if replace_all:
            return glob.replace_all_matches(compiled, value, replacement)
        return glob.replace_first(compiled, value, replacement)


def split_words(text: str, escape: str = "\\") -> list[str]:
    """Split on whitespace outside quotes, keeping quotes and escapes (BuildKit's
    parser-level ``parseWords``, used for ``KEY=value`` lists in ENV/LABEL/ARG).

    An escape at the very end is dropped; a word whose quote is never closed is
    dropped, as BuildKit does. ``""`` alone is a word.

    Raises:
        ValueError: ``escape`` is neither backslash nor backtick.
    """
    _check_escape(escape)
    words: list[str] = []
    buf: list[str] = []
    blank_ok = False
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote == '"':
                if i + 1 == n:
                    quote = ""  # a dangling escape ends the word, which is kept
                    break
                buf.append(ch)
                i += 1
                ch = text[i]
        elif _is_space(ch):
            if blank_ok or buf:
                words.append("".join(buf))
            buf.clear()
            blank_ok = False
            i += 1
            continue
        elif ch in "'\"":
            quote = ch
            blank_ok = True
        elif ch == escape:
            if i + 1 == n:
                break
            buf.append(ch)
            i += 1
            ch = text[i]
        buf.append(ch)
        i += 1
    if not quote and (blank_ok or buf):
        words.append("".join(buf))
    return words
