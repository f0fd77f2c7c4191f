"""Writes testdata/parser-errors/<case>/{Dockerfile,expected.txt} from the table below.

May import: stdlib, frontend.errors, frontend.parser.

``expected.txt`` is the full rendered error (``Dockerfile:LINE:COL: message``,
the excerpt with ``>>>`` and carets, ``hint: …``). Each case names the line
and column the error must point at; the script refuses a case whose error
is elsewhere, and prints every message so it can be read before committing.
Run: ``python testdata/parser-errors/regenerate.py [--force]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from frontend.errors import FrontendError  # noqa: E402
from frontend.parser import parse_dockerfile  # noqa: E402

# (case name, Dockerfile bytes or text, (line, col) the error must point at)
CASES: list[tuple[str, str | bytes, tuple[int, int]]] = [
    ("unknown-instruction-typo", "FROM a\nRUNN echo hi\n", (2, 1)),
    ("unknown-instruction-form", "FORM alpine\n", (1, 1)),
    ("unknown-instruction-lowercase-typo", "FROM a\ncopyy . /\n", (2, 1)),
    ("unknown-instruction-far", "FROM a\nFOOBAR x\n", (2, 1)),
    ("unknown-instruction-indented", "FROM a\n    RUNN x\n", (2, 5)),
    ("unknown-instruction-after-continuation", "FROM a\nRUN a \\\n  b\nCPY x y\n", (4, 1)),
    ("unknown-instruction-glued-json", 'FROM a\nRUN["echo"]\n', (2, 1)),
    ("unknown-instruction-flag-first", "--platform=x FROM a\n", (1, 1)),
    ("unknown-instruction-crlf", "FROM a\r\nRUNN x\r\n", (2, 1)),
    ("continuation-to-eof-no-args", "FROM a\nWORKDIR \\\n\n  \\\n", (2, 1)),
    ("from-no-args", "FROM\n", (1, 1)),
    ("from-only-flags", "FROM --platform=linux/amd64\n", (1, 1)),
    ("copy-no-args", "FROM a\nCOPY\n", (2, 1)),
    ("copy-only-flags", "FROM a\nCOPY --from=build\n", (2, 1)),
    ("add-no-args", "FROM a\nADD\n", (2, 1)),
    ("arg-no-args", "ARG\nFROM a\n", (1, 1)),
    ("env-no-args", "FROM a\nENV\n", (2, 1)),
    ("label-no-args", "FROM a\nLABEL   \n", (2, 1)),
    ("workdir-no-args", "FROM a\nWORKDIR\n", (2, 1)),
    ("user-no-args", "FROM a\nuser\n", (2, 1)),
    ("expose-no-args", "FROM a\nEXPOSE\n", (2, 1)),
    ("volume-no-args", "FROM a\nVOLUME\n", (2, 1)),
    ("volume-empty-json", "FROM a\nVOLUME []\n", (2, 1)),
    ("shell-empty-json", "FROM a\nSHELL []\n", (2, 1)),
    ("stopsignal-no-args", "FROM a\nSTOPSIGNAL\n", (2, 1)),
    ("healthcheck-no-args", "FROM a\nHEALTHCHECK\n", (2, 1)),
    ("maintainer-no-args", "FROM a\nMAINTAINER\n", (2, 1)),
    ("onbuild-no-args", "FROM a\nONBUILD\n", (2, 1)),
    ("onbuild-onbuild", "FROM a\nONBUILD ONBUILD RUN x\n", (2, 9)),
    ("onbuild-from", "FROM a\nONBUILD FROM b\n", (2, 9)),
    ("onbuild-maintainer", "FROM a\nONBUILD MAINTAINER me\n", (2, 9)),
    ("onbuild-unknown", "FROM a\nONBUILD RUNN x\n", (2, 9)),
    ("onbuild-inner-no-args", "FROM a\nONBUILD WORKDIR\n", (2, 9)),
    ("json-number", 'FROM a\nCMD ["sleep", 10]\n', (2, 5)),
    ("json-null", "FROM a\nRUN [null]\n", (2, 5)),
    ("json-nested", 'FROM a\nENTRYPOINT ["a", ["b"]]\n', (2, 12)),
    ("json-bool-copy", 'FROM a\nCOPY [true, "/x"]\n', (2, 6)),
    ("directive-duplicate-escape", "# escape=`\n# escape=\\\nFROM a\n", (2, 3)),
    ("directive-duplicate-syntax", "# syntax=a\n#SYNTAX=b\nFROM a\n", (2, 2)),
    ("directive-invalid-escape", "# escape=x\nFROM a\n", (1, 10)),
    ("directive-invalid-escape-long", "# escape=\\\\\nFROM a\n", (1, 10)),
    ("heredoc-unterminated", "FROM a\nRUN <<EOF\necho hi\n", (2, 5)),
    ("heredoc-second-unterminated", "FROM a\nRUN <<A cat && <<B cat\n1\nA\n2\n", (2, 16)),
    ("heredoc-chomp-unterminated", "FROM a\nCOPY <<-EOF /x\n\tbody\n  EOF\n", (2, 6)),
    ("heredoc-case-sensitive", "FROM a\nRUN <<EOF\nx\neof\n", (2, 5)),
    ("empty-file", "", (1, 1)),
    ("only-comments", "# one\n# two\n", (2, 1)),
    ("only-blank-lines", "\n\n\n", (3, 1)),
    ("only-directives", "# syntax=docker/dockerfile:1\n", (1, 1)),
    ("invalid-utf8", b"FROM a\nRUN echo \xff\n", (2, 10)),
]


def render(source: str | bytes) -> tuple[str, tuple[int, int]]:
    try:
        parse_dockerfile(source)
    except FrontendError as err:
        assert err.span is not None
        return err.render() + "\n", (err.span.line, err.span.col)
    raise AssertionError("parsed without error")


def main() -> int:
    force = "--force" in sys.argv
    bad = 0
    for name, text, where in CASES:
        message, got = render(text)
        print(f"--- {name}\n{message}")
        if got != where:
            bad += 1
            print(f"!!! {name}: error at {got}, want {where}")
            continue
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        (folder / "Dockerfile").write_bytes(text if isinstance(text, bytes) else text.encode())
        out = folder / "expected.txt"
        if force or not out.exists():
            out.write_text(message)
    print(f"{len(CASES) - bad} cases written, {bad} refused")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
