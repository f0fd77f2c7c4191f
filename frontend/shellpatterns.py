"""Glob patterns of ``${v#p}``, ``${v%p}`` and ``${v/p/r}``, with BuildKit's semantics.

May import: frontend.errors (and the stdlib). Used by frontend.shellwords only.

Only ``*`` and ``?`` are special; ``\\*``, ``\\?`` and ``\\\\`` are literal
characters, and ``\\}``/``\\/`` are the escapes that protected ``${}``'s own
syntax. BuildKit turns the glob into a Go regexp, so ``*`` and ``?`` never
match a newline, the shortest suffix is found by matching the reversed text, and
``//`` replaces the way Go's ``ReplaceAllString`` does (its ``$0`` template
included).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from frontend.errors import ExpansionError

__all__ = [
    "Glob",
    "go_template",
    "replace_all_matches",
    "replace_first",
    "reverse_pattern",
    "trim_prefix",
    "trim_suffix",
]


@dataclass(frozen=True, slots=True)
class Glob:
    """A compiled glob: each token is ``*`` (any run of non-newline characters),
    ``?`` (one non-newline character) or one literal character.

    Matching emulates the Go regexp BuildKit builds (leftmost-first: what a
    backtracking search finds first; ``*`` lazy unless ``greedy``) without
    backtracking: a table says, for every token and position, whether the rest
    of the pattern can match there, so a match costs O(len(pattern) ×
    len(text) / 64) and no pattern is pathological (Python's ``re`` would be:
    ``${A#*a*a*a*a*b}`` on 20,000 ``a`` never finished).
    """

    kinds: tuple[str, ...]  # "*", "?" or "lit"
    chars: tuple[str, ...]  # the literal character ("" for * and ?)
    greedy: bool

    @classmethod
    def compile(cls, pattern: str, *, greedy: bool) -> Glob:
        """Parse ``pattern``.

        Raises:
            ExpansionError: a backslash before anything but ``* ? \\ } /``.
        """
        kinds: list[str] = []
        chars: list[str] = []
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            i += 1
            if ch in "*?":
                kinds.append(ch)
                chars.append("")
                continue
            if ch == "\\":
                following = pattern[i : i + 1]
                if following in ("}", "/"):
                    continue  # the escape only protected ${}'s own syntax
                i += 1
                if following not in ("*", "?", "\\"):
                    raise ExpansionError(
                        f"invalid pattern {pattern!r} in substitution: invalid escape "
                        f"'\\{following}'",
                        hint="only \\*, \\? and \\\\ are escapes in a pattern",
                    )
                ch = following
            kinds.append("lit")
            chars.append(ch)
        return cls(tuple(kinds), tuple(chars), greedy)

    def _table(self, text: str) -> list[int]:
        """``table[t]`` has bit ``v`` set when tokens ``t…`` match some prefix of
        ``text[v:]`` (bit ``len(text)``: at the very end)."""
        n = len(text)
        masks: dict[str, int] = {}

        def mask(ch: str) -> int:
            if ch not in masks:
                bits = "".join("1" if c == ch else "0" for c in reversed(text))
                masks[ch] = int(bits or "0", 2)
            return masks[ch]

        not_newline = ((1 << n) - 1) & ~mask("\n")
        table = [0] * (len(self.kinds) + 1)
        table[-1] = (1 << (n + 1)) - 1
        for t in range(len(self.kinds) - 1, -1, -1):
            rest = table[t + 1]
            if self.kinds[t] == "*":
                table[t] = _star_reach(rest, text)
            else:
                ok = not_newline if self.kinds[t] == "?" else mask(self.chars[t])
                table[t] = ok & (rest >> 1)
        return table

    def _end(self, table: list[int], text: str, start: int) -> int:
        """The end of the match at ``start`` that the backtracking order finds first."""
        pos = start
        for t, kind in enumerate(self.kinds):
            if kind != "*":
                pos += 1
                continue
            stop = text.find("\n", pos)
            limit = len(text) if stop < 0 else stop
            rest = (table[t + 1] >> pos << pos) & ((1 << (limit + 1)) - 1)
            pos = rest.bit_length() - 1 if self.greedy else (rest & -rest).bit_length() - 1
        return pos

    def match_prefix(self, text: str) -> int | None:
        """The end of the match anchored at the start of ``text``, or None."""
        table = self._table(text)
        return self._end(table, text, 0) if table[0] & 1 else None

    def finditer(self, text: str) -> Iterator[tuple[int, int]]:
        """Leftmost-first matches as ``(start, end)``, scanning on as Go's
        ``ReplaceAllString`` does: from a match's end (one further if empty)."""
        table = self._table(text)
        pos = 0
        while pos <= len(text):
            starts = table[0] >> pos
            if not starts:
                return
            start = pos + (starts & -starts).bit_length() - 1
            end = self._end(table, text, start)
            yield start, end
            pos = end + 1 if end == start else end


def _star_reach(rest: int, text: str) -> int:
    """Positions from which a run of non-newline characters reaches a bit of ``rest``."""
    if "\n" not in text:
        return (1 << rest.bit_length()) - 1 if rest else 0
    out, reach = 0, False
    for v in range(len(text), -1, -1):
        if v < len(text) and text[v] == "\n":
            reach = False
        reach = reach or bool(rest >> v & 1)
        if reach:
            out |= 1 << v
    return out


def trim_prefix(pattern: str, value: str, *, greedy: bool) -> str:
    """``${value#pattern}`` (``##`` when greedy).

    Raises:
        ExpansionError: as for ``Glob.compile``.
    """
    end = Glob.compile(pattern, greedy=greedy).match_prefix(value)
    return value if end is None else value[end:]


def reverse_pattern(pattern: str) -> str:
    """Reverse a glob, keeping each ``\\x`` escape pair in order."""
    tokens: list[str] = []
    i = 0
    while i < len(pattern):
        step = 2 if pattern[i] == "\\" and i != len(pattern) - 1 else 1
        tokens.append(pattern[i : i + step])
        i += step
    return "".join(reversed(tokens))


def trim_suffix(pattern: str, value: str, *, greedy: bool) -> str:
    """``${value%pattern}`` (``%%`` when greedy): a regex finds the leftmost
    match, so BuildKit matches the reversed pattern against the reversed text.

    Raises:
        ExpansionError: as for ``Glob.compile``.
    """
    return trim_prefix(reverse_pattern(pattern), value[::-1], greedy=greedy)[::-1]


def go_template(template: str, matched: str) -> str:
    """Go's ``Regexp.Expand`` for a pattern without groups: ``$$`` is ``$``,
    ``$0``/``${0}`` the match, any other ``$name``/``${name}`` empty."""
    out: list[str] = []
    for i, piece in enumerate(re.split(r"(\$\$|\$\{\w*\}|\$\w*)", template)):
        if i % 2 == 0:
            out.append(piece)
        elif piece == "$$":
            out.append("$")
        else:
            name = piece[2:-1] if piece.startswith("${") else piece[1:]
            if not name:
                out.append(piece)  # malformed: the text stays
            elif name == "0":
                out.append(matched)
    return "".join(out)


def replace_first(glob: Glob, src: str, template: str) -> str:
    """``${src/pattern/template}``: the leftmost match replaced by ``template``
    as is (BuildKit concatenates here, no ``$0`` templating)."""
    for start, end in glob.finditer(src):
        return src[:start] + template + src[end:]
    return src


def replace_all_matches(glob: Glob, src: str, template: str) -> str:
    """Go's ``ReplaceAllString``: an empty match right after a match is skipped."""
    out: list[str] = []
    last_end = 0
    for start, end in glob.finditer(src):
        out.append(src[last_end:start])
        if end > last_end or start == 0:
            out.append(go_template(template, src[start:end]))
        last_end = end
    out.append(src[last_end:])
    return "".join(out)
