"""Writes testdata/parser/<case>/{Dockerfile,summary.txt,expected.json} from the table below.

May import: stdlib, frontend.parser, builder.cli.cmd_debug_parse.

Each case's ``summary`` is written by hand from the Dockerfile reference and
BuildKit's parser (one line per instruction: keyword, flags, form and args,
heredocs); this script refuses to write ``expected.json`` unless the parser's
summary equals it, so the golden JSON (spans, comments, originals) is only
ever recorded for output whose meaning was checked. tests/frontend/test_parser.py
checks both files. Run: ``python testdata/parser/regenerate.py [--force]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from builder.cli.cmd_debug_parse import render_json  # noqa: E402
from frontend.nodes import ExecForm, Instruction  # noqa: E402
from frontend.parser import parse_dockerfile  # noqa: E402


def summary(instruction: Instruction) -> str:
    """``KEYWORD [--flag[=v]]… shell"…"|exec[…] [<<NAME [noexpand] [chomp] "body"]…``."""
    parts = [instruction.keyword]
    for flag in instruction.flags:
        parts.append(f"--{flag.name}" + ("" if flag.value is None else f"={flag.value}"))
    if isinstance(instruction.args, ExecForm):
        parts.append("exec" + json.dumps(list(instruction.args.args), ensure_ascii=False))
    else:
        parts.append("shell" + json.dumps(instruction.args.text, ensure_ascii=False))
    for heredoc in instruction.heredocs:
        mode = ("" if heredoc.expand else " noexpand") + (" chomp" if heredoc.chomp else "")
        fd = "" if heredoc.fd is None else f"{heredoc.fd}"
        parts.append(f"{fd}<<{heredoc.name}{mode} " + json.dumps(heredoc.body, ensure_ascii=False))
    text = " ".join(parts)
    if instruction.inner is not None:
        text += " => " + summary(instruction.inner)
    return text


def summarise(source: str | bytes) -> str:
    return "\n".join(summary(i) for i in parse_dockerfile(source).instructions) + "\n"


# (case name, Dockerfile text, hand-written summary)
CASES: list[tuple[str, str | bytes, str]] = []


def case(name: str, text: str | bytes, expected: str) -> None:
    CASES.append((name, text, expected.strip("\n") + "\n"))


# ---------------------------------------------------------------- FROM
case("from-simple", "FROM alpine\n", 'FROM shell"alpine"')
case("from-tag", "FROM alpine:3.20\n", 'FROM shell"alpine:3.20"')
case("from-digest", "FROM alpine@sha256:abc\n", 'FROM shell"alpine@sha256:abc"')
case("from-as", "FROM golang:1.22 AS build\n", 'FROM shell"golang:1.22 AS build"')
case("from-as-lowercase", "from golang as Build\n", 'FROM shell"golang as Build"')
case(
    "from-platform",
    "FROM --platform=linux/arm64 alpine\n",
    'FROM --platform=linux/arm64 shell"alpine"',
)
case(
    "from-platform-var",
    "FROM --platform=$BUILDPLATFORM golang AS b\n",
    'FROM --platform=$BUILDPLATFORM shell"golang AS b"',
)
case("from-scratch", "FROM scratch\n", 'FROM shell"scratch"')
case(
    "from-arg-before",
    "ARG VERSION=3.20\nFROM alpine:${VERSION}\n",
    'ARG shell"VERSION=3.20"\nFROM shell"alpine:${VERSION}"',
)
case(
    "from-multistage",
    "FROM a AS one\nFROM b AS two\nFROM one\n",
    'FROM shell"a AS one"\nFROM shell"b AS two"\nFROM shell"one"',
)
case("from-extra-spaces", "FROM    alpine     AS    x   \n", 'FROM shell"alpine     AS    x"')
case("from-tab-separated", "FROM\talpine\n", 'FROM shell"alpine"')
# ---------------------------------------------------------------- RUN
case("run-shell", "FROM a\nRUN echo hello\n", 'FROM shell"a"\nRUN shell"echo hello"')
case("run-exec", 'FROM a\nRUN ["echo", "hello"]\n', 'FROM shell"a"\nRUN exec["echo", "hello"]')
case("run-exec-no-spaces", 'FROM a\nRUN ["a","b","c"]\n', 'FROM shell"a"\nRUN exec["a", "b", "c"]')
case("run-exec-empty", "FROM a\nRUN []\n", 'FROM shell"a"\nRUN exec[]')
case("run-exec-spaces-inside", 'FROM a\nRUN [ "a" , "b" ]\n', 'FROM shell"a"\nRUN exec["a", "b"]')
case("run-exec-trailing-spaces", 'FROM a\nRUN ["a"]   \n', 'FROM shell"a"\nRUN exec["a"]')
case(
    "run-exec-escaped-quote",
    'FROM a\nRUN ["echo", "say \\"hi\\""]\n',
    'FROM shell"a"\nRUN exec["echo", "say \\"hi\\""]',
)
case(
    "run-exec-unicode-escape",
    'FROM a\nRUN ["echo", "\\u00e9t\\u00e9"]\n',
    'FROM shell"a"\nRUN exec["echo", "été"]',
)
case(
    "run-exec-dollar-kept",
    'FROM a\nRUN ["echo", "$HOME"]\n',
    'FROM shell"a"\nRUN exec["echo", "$HOME"]',
)
case(
    "run-invalid-json-backslash",
    'FROM a\nRUN ["c:\\windows\\x.exe"]\n',
    'FROM shell"a"\nRUN shell"[\\"c:\\\\windows\\\\x.exe\\"]"',
)
case(
    "run-invalid-json-single-quotes",
    "FROM a\nRUN ['echo', 'hi']\n",
    "FROM shell\"a\"\nRUN shell\"['echo', 'hi']\"",
)
case(
    "run-invalid-json-unclosed",
    'FROM a\nRUN ["echo", "hi"\n',
    'FROM shell"a"\nRUN shell"[\\"echo\\", \\"hi\\""',
)
case(
    "run-invalid-json-trailing-text",
    'FROM a\nRUN ["echo"] extra\n',
    'FROM shell"a"\nRUN shell"[\\"echo\\"] extra"',
)
case(
    "run-invalid-json-trailing-comma",
    'FROM a\nRUN ["echo",]\n',
    'FROM shell"a"\nRUN shell"[\\"echo\\",]"',
)
case(
    "run-json-not-at-start", 'FROM a\nRUN echo ["a"]\n', 'FROM shell"a"\nRUN shell"echo [\\"a\\"]"'
)
case("run-mid-line-hash", "FROM a\nRUN echo a # b\n", 'FROM shell"a"\nRUN shell"echo a # b"')
case(
    "run-flags-mount",
    "FROM a\nRUN --mount=type=cache,target=/root/.cache pip install x\n",
    'FROM shell"a"\nRUN --mount=type=cache,target=/root/.cache shell"pip install x"',
)
case(
    "run-flags-several",
    "FROM a\nRUN --network=none --security=insecure  make\n",
    'FROM shell"a"\nRUN --network=none --security=insecure shell"make"',
)
case(
    "run-flags-bare",
    "FROM a\nRUN --privileged make\n",
    'FROM shell"a"\nRUN --privileged shell"make"',
)
case(
    "run-flags-empty-value",
    "FROM a\nRUN --network= make\n",
    'FROM shell"a"\nRUN --network= shell"make"',
)
case(
    "run-flags-quoted-value",
    'FROM a\nRUN --mount="type=secret,id=a b" cat\n',
    'FROM shell"a"\nRUN --mount=type=secret,id=a b shell"cat"',
)
case(
    "run-flags-single-quoted",
    "FROM a\nRUN --mount='type=bind,source=x y' ls\n",
    'FROM shell"a"\nRUN --mount=type=bind,source=x y shell"ls"',
)
case(
    "run-flags-escaped-space",
    "FROM a\nRUN --mount=a\\ b ls\n",
    'FROM shell"a"\nRUN --mount=a b shell"ls"',
)
case(
    "run-flags-then-exec",
    'FROM a\nRUN --network=none ["echo", "x"]\n',
    'FROM shell"a"\nRUN --network=none exec["echo", "x"]',
)
case(
    "run-flags-only",
    "FROM a\nRUN --mount=type=cache,target=/x\n",
    'FROM shell"a"\nRUN --mount=type=cache,target=/x shell""',
)
case(
    "run-double-dash-ends-flags",
    "FROM a\nRUN -- --not-a-flag\n",
    'FROM shell"a"\nRUN shell"--not-a-flag"',
)
case(
    "run-flag-after-args-is-text",
    "FROM a\nRUN echo --network=none\n",
    'FROM shell"a"\nRUN shell"echo --network=none"',
)
case("run-single-dash-not-flag", "FROM a\nRUN -x\n", 'FROM shell"a"\nRUN shell"-x"')
case("run-empty", "FROM a\nRUN\n", 'FROM shell"a"\nRUN shell""')
case("run-lowercase", "FROM a\nrun echo\n", 'FROM shell"a"\nRUN shell"echo"')
case("run-mixed-case", "FROM a\nRuN echo\n", 'FROM shell"a"\nRUN shell"echo"')
case("run-tabs-in-args", "FROM a\nRUN echo\ta\t\tb\n", 'FROM shell"a"\nRUN shell"echo\\ta\\t\\tb"')
case("run-trailing-whitespace", "FROM a\nRUN echo hi  \t \n", 'FROM shell"a"\nRUN shell"echo hi"')
case(
    "run-unicode",
    "FROM a\nRUN echo héllo wörld ✓\n",
    'FROM shell"a"\nRUN shell"echo héllo wörld ✓"',
)
case("run-json-nbsp-trailing", 'FROM a\nRUN ["a"]\u00a0\n', 'FROM shell"a"\nRUN exec["a"]')
# ---------------------------------------------------------------- continuations
case("cont-basic", "FROM a\nRUN echo a \\\n    b\n", 'FROM shell"a"\nRUN shell"echo a     b"')
case("cont-no-space", "FROM a\nRUN echo a\\\nb\n", 'FROM shell"a"\nRUN shell"echo ab"')
case(
    "cont-trailing-spaces-after-escape",
    "FROM a\nRUN echo a \\  \t\n  b\n",
    'FROM shell"a"\nRUN shell"echo a   b"',
)
case("cont-three-lines", "FROM a\nRUN a \\\n b \\\n c\n", 'FROM shell"a"\nRUN shell"a  b  c"')
case("cont-comment-inside", "FROM a\nRUN a \\\n# note\n  b\n", 'FROM shell"a"\nRUN shell"a   b"')
case(
    "cont-indented-comment-inside",
    "FROM a\nRUN a \\\n    # note\n  b\n",
    'FROM shell"a"\nRUN shell"a   b"',
)
case(
    "cont-comment-with-backslash",
    "FROM a\nRUN a \\\n# note \\\n  b\n",
    'FROM shell"a"\nRUN shell"a   b"',
)
case(
    "cont-several-comments",
    "FROM a\nRUN a \\\n# one\n# two\n  b \\\n# three\n  c\n",
    'FROM shell"a"\nRUN shell"a   b   c"',
)
case("cont-empty-line", "FROM a\nRUN a \\\n\n  b\n", 'FROM shell"a"\nRUN shell"a   b"')
case("cont-whitespace-line", "FROM a\nRUN a \\\n   \t\n  b\n", 'FROM shell"a"\nRUN shell"a   b"')
case(
    "cont-empty-joins-next-instruction",
    "FROM a\nRUN a \\\n\nRUN b\n",
    'FROM shell"a"\nRUN shell"a RUN b"',
)
case("cont-at-eof", "FROM a\nRUN a \\\n", 'FROM shell"a"\nRUN shell"a"')
case("cont-at-eof-no-newline", "FROM a\nRUN a \\", 'FROM shell"a"\nRUN shell"a"')
case(
    "cont-double-backslash-not-continuation",
    "FROM a\nRUN echo a\\\\\nRUN b\n",
    'FROM shell"a"\nRUN shell"echo a\\\\\\\\"\nRUN shell"b"',
)
case("cont-backslash-alone-on-line", "FROM a\nRUN a \\\n\\\n b\n", 'FROM shell"a"\nRUN shell"a  b"')
case("cont-line-starting-with-backslash-first", "\\\nFROM a\n", 'FROM shell"a"')
case(
    "cont-json-over-lines",
    'FROM a\nRUN ["echo", \\\n "hi"]\n',
    'FROM shell"a"\nRUN exec["echo", "hi"]',
)
case(
    "cont-json-escaped-newline-inside-string",
    'FROM a\nRUN ["echo", "a\\\nb"]\n',
    'FROM shell"a"\nRUN exec["echo", "ab"]',
)
case(
    "cont-keeps-continuation-indent",
    "FROM a\nRUN a \\\n\t\tb\n",
    'FROM shell"a"\nRUN shell"a \\t\\tb"',
)
case(
    "cont-flags-on-next-line",
    "FROM a\nRUN \\\n  --mount=type=cache,target=/c \\\n  make\n",
    'FROM shell"a"\nRUN --mount=type=cache,target=/c shell"make"',
)
case("cont-keyword-then-continuation", "FROM a\nRUN\\\n echo\n", 'FROM shell"a"\nRUN shell"echo"')
case("cont-comment-cannot-continue", "FROM a\n# comment \\\nRUN b\n", 'FROM shell"a"\nRUN shell"b"')
case("cont-crlf", "FROM a\r\nRUN a \\\r\n  b\r\n", 'FROM shell"a"\nRUN shell"a   b"')
# ---------------------------------------------------------------- comments and blank lines
case("comment-before", "# hello\nFROM a\n", 'FROM shell"a"')
case("comment-indented", "   # hello\nFROM a\n", 'FROM shell"a"')
case("comment-tab-indented", "\t# hello\nFROM a\n", 'FROM shell"a"')
case("comment-between", "FROM a\n# one\n\n# two\nRUN b\n", 'FROM shell"a"\nRUN shell"b"')
case("comment-empty-hash-resets", "# one\n#\n# two\nFROM a\n", 'FROM shell"a"')
case("comment-no-space", "#nospace\nFROM a\n", 'FROM shell"a"')
case(
    "comment-hash-in-args",
    "FROM a\nRUN echo '#not a comment'\n",
    'FROM shell"a"\nRUN shell"echo \'#not a comment\'"',
)
case("comment-at-end", "FROM a\n# trailing\n", 'FROM shell"a"')
case("blank-lines", "\n\n\nFROM a\n\n\nRUN b\n\n", 'FROM shell"a"\nRUN shell"b"')
case("leading-whitespace", "   FROM a\n\t\tRUN b\n", 'FROM shell"a"\nRUN shell"b"')
case("no-final-newline", "FROM a\nRUN b", 'FROM shell"a"\nRUN shell"b"')
case("crlf", "FROM a\r\nRUN b\r\n", 'FROM shell"a"\nRUN shell"b"')
case("crlf-mixed", "FROM a\r\nRUN b\nRUN c\r\n", 'FROM shell"a"\nRUN shell"b"\nRUN shell"c"')
case("bom", b"\xef\xbb\xbfFROM a\nRUN b\n", 'FROM shell"a"\nRUN shell"b"')
case(
    "bom-directive",
    b"\xef\xbb\xbf# escape=`\nFROM a\nRUN b `\n c\n",
    'FROM shell"a"\nRUN shell"b  c"',
)
case("form-feed-whitespace", "FROM\x0ca\n", 'FROM shell"a"')
# ---------------------------------------------------------------- directives
case("directive-syntax", "# syntax=docker/dockerfile:1\nFROM a\n", 'FROM shell"a"')
case(
    "directive-escape-backtick",
    "# escape=`\nFROM a\nRUN dir c:\\ `\n  /w\n",
    'FROM shell"a"\nRUN shell"dir c:\\\\   /w"',
)
case(
    "directive-escape-backtick-backslash-literal",
    "# escape=`\nFROM a\nRUN echo \\\nRUN b\n",
    'FROM shell"a"\nRUN shell"echo \\\\"\nRUN shell"b"',
)
case(
    "directive-escape-backslash",
    "# escape=\\\nFROM a\nRUN a \\\n b\n",
    'FROM shell"a"\nRUN shell"a  b"',
)
case(
    "directive-spaces-around-equals",
    "#  escape  =  `\nFROM a\nRUN a `\n b\n",
    'FROM shell"a"\nRUN shell"a  b"',
)
case(
    "directive-uppercase-key", "# ESCAPE=`\nFROM a\nRUN a `\n b\n", 'FROM shell"a"\nRUN shell"a  b"'
)
case(
    "directive-after-comment-ignored",
    "# hello\n# escape=`\nFROM a\nRUN a `\nRUN b\n",
    'FROM shell"a"\nRUN shell"a `"\nRUN shell"b"',
)
case(
    "directive-after-blank-ignored",
    "\n# escape=`\nFROM a\nRUN a `\nRUN b\n",
    'FROM shell"a"\nRUN shell"a `"\nRUN shell"b"',
)
case(
    "directive-after-instruction-ignored",
    "FROM a\n# escape=`\nRUN a `\nRUN b\n",
    'FROM shell"a"\nRUN shell"a `"\nRUN shell"b"',
)
case(
    "directive-unknown-ends-block",
    "# foo=bar\n# escape=`\nFROM a\nRUN a `\nRUN b\n",
    'FROM shell"a"\nRUN shell"a `"\nRUN shell"b"',
)
case("directive-check", "# check=skip=JSONArgsRecommended;error=true\nFROM a\n", 'FROM shell"a"')
case(
    "directive-all-three",
    "# syntax=docker/dockerfile:1\n# check=skip=all\n# escape=`\nFROM a\n",
    'FROM shell"a"',
)
case("directive-indented", "  # escape=`\nFROM a\nRUN a `\n b\n", 'FROM shell"a"\nRUN shell"a  b"')
case(
    "directive-no-space-after-hash",
    "#escape=`\nFROM a\nRUN a `\n b\n",
    'FROM shell"a"\nRUN shell"a  b"',
)
case(
    "directive-value-trailing-space",
    "# syntax = docker/dockerfile:1.7   \nFROM a\n",
    'FROM shell"a"',
)
# ---------------------------------------------------------------- heredocs
case(
    "heredoc-run",
    "FROM a\nRUN <<EOF\necho hi\nEOF\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "echo hi\\n"',
)
case(
    "heredoc-run-shebang",
    "FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nprint('hi')\nEOF\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "#!/usr/bin/env python3\\nprint(\'hi\')\\n"',
)
case(
    "heredoc-run-with-command",
    "FROM a\nRUN python3 <<EOF\nprint(1)\nEOF\n",
    'FROM shell"a"\nRUN shell"python3 <<EOF" <<EOF "print(1)\\n"',
)
case(
    "heredoc-copy",
    "FROM a\nCOPY <<EOF /etc/conf\nkey=value\nEOF\n",
    'FROM shell"a"\nCOPY shell"<<EOF /etc/conf" <<EOF "key=value\\n"',
)
case(
    "heredoc-add",
    "FROM a\nADD <<EOF /x\ny\nEOF\n",
    'FROM shell"a"\nADD shell"<<EOF /x" <<EOF "y\\n"',
)
case(
    "heredoc-chomp",
    "FROM a\nRUN <<-EOF\n\techo a\n\t\techo b\n\tEOF\n",
    'FROM shell"a"\nRUN shell"<<-EOF" <<EOF chomp "echo a\\necho b\\n"',
)
case(
    "heredoc-chomp-keeps-spaces",
    "FROM a\nRUN <<-EOF\n  echo a\nEOF\n",
    'FROM shell"a"\nRUN shell"<<-EOF" <<EOF chomp "  echo a\\n"',
)
case(
    "heredoc-no-chomp-keeps-tabs",
    "FROM a\nRUN <<EOF\n\techo a\nEOF\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "\\techo a\\n"',
)
case(
    "heredoc-no-chomp-tabbed-terminator-is-body",
    "FROM a\nRUN <<EOF\n\tEOF\nEOF\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "\\tEOF\\n"',
)
case(
    "heredoc-single-quoted",
    "FROM a\nRUN <<'EOF'\necho $HOME\nEOF\n",
    'FROM shell"a"\nRUN shell"<<\'EOF\'" <<EOF noexpand "echo $HOME\\n"',
)
case(
    "heredoc-double-quoted",
    'FROM a\nRUN <<"EOF"\necho $HOME\nEOF\n',
    'FROM shell"a"\nRUN shell"<<\\"EOF\\"" <<EOF noexpand "echo $HOME\\n"',
)
case(
    "heredoc-partly-quoted",
    'FROM a\nRUN <<E"O"F\nx\nEOF\n',
    'FROM shell"a"\nRUN shell"<<E\\"O\\"F" <<EOF noexpand "x\\n"',
)
case(
    "heredoc-chomp-quoted",
    "FROM a\nCOPY <<-'X' /f\n\tv\n\tX\n",
    'FROM shell"a"\nCOPY shell"<<-\'X\' /f" <<X noexpand chomp "v\\n"',
)
case(
    "heredoc-two",
    "FROM a\nRUN <<A cat && <<B cat\none\nA\ntwo\nB\n",
    'FROM shell"a"\nRUN shell"<<A cat && <<B cat" <<A "one\\n" <<B "two\\n"',
)
case(
    "heredoc-copy-two-files",
    "FROM a\nCOPY <<A <<B /dir/\n1\nA\n2\nB\n",
    'FROM shell"a"\nCOPY shell"<<A <<B /dir/" <<A "1\\n" <<B "2\\n"',
)
case("heredoc-empty-body", "FROM a\nRUN <<EOF\nEOF\n", 'FROM shell"a"\nRUN shell"<<EOF" <<EOF ""')
case(
    "heredoc-blank-lines-in-body",
    "FROM a\nRUN <<EOF\n\n\necho\nEOF\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "\\n\\necho\\n"',
)
case(
    "heredoc-comment-lines-kept",
    "FROM a\nRUN <<EOF\n# not removed\necho\nEOF\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "# not removed\\necho\\n"',
)
case(
    "heredoc-backslash-kept",
    "FROM a\nRUN <<EOF\necho a \\\n  b\nEOF\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "echo a \\\\\\n  b\\n"',
)
case(
    "heredoc-fd",
    "FROM a\nRUN cat 3<<EOF\nx\nEOF\n",
    'FROM shell"a"\nRUN shell"cat 3<<EOF" 3<<EOF "x\\n"',
)
case(
    "heredoc-custom-name",
    "FROM a\nRUN <<END_OF_SCRIPT\nx\nEND_OF_SCRIPT\n",
    'FROM shell"a"\nRUN shell"<<END_OF_SCRIPT" <<END_OF_SCRIPT "x\\n"',
)
case(
    "heredoc-followed-by-instruction",
    "FROM a\nRUN <<EOF\nx\nEOF\nRUN y\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "x\\n"\nRUN shell"y"',
)
case(
    "heredoc-terminator-needs-exact",
    "FROM a\nRUN <<EOF\nEOF \nEOFX\nEOF\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "EOF \\nEOFX\\n"',
)
case(
    "heredoc-crlf",
    "FROM a\r\nRUN <<EOF\r\nx\r\nEOF\r\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "x\\r\\n"',
)
case(
    "heredoc-at-eof-no-newline",
    "FROM a\nRUN <<EOF\nx\nEOF",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "x\\n"',
)
case(
    "heredoc-with-flags",
    "FROM a\nRUN --mount=type=cache,target=/c <<EOF\nx\nEOF\n",
    'FROM shell"a"\nRUN --mount=type=cache,target=/c shell"<<EOF" <<EOF "x\\n"',
)
case(
    "heredoc-copy-chmod",
    "FROM a\nCOPY --chmod=755 <<EOF /run.sh\n#!/bin/sh\nEOF\n",
    'FROM shell"a"\nCOPY --chmod=755 shell"<<EOF /run.sh" <<EOF "#!/bin/sh\\n"',
)
case(
    "heredoc-after-continuation",
    "FROM a\nRUN \\\n  <<EOF\nx\nEOF\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "x\\n"',
)
case(
    "heredoc-lowercase-run",
    "FROM a\nrun <<EOF\nx\nEOF\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "x\\n"',
)
case(
    "heredoc-not-for-cmd",
    "FROM a\nCMD <<EOF\nRUN x\n",
    'FROM shell"a"\nCMD shell"<<EOF"\nRUN shell"x"',
)
case(
    "heredoc-not-for-entrypoint",
    "FROM a\nENTRYPOINT <<EOF\nRUN x\n",
    'FROM shell"a"\nENTRYPOINT shell"<<EOF"\nRUN shell"x"',
)
case(
    "heredoc-not-in-quotes",
    "FROM a\nRUN echo '<<EOF'\nRUN x\n",
    'FROM shell"a"\nRUN shell"echo \'<<EOF\'"\nRUN shell"x"',
)
case(
    "heredoc-not-glued",
    "FROM a\nRUN cat<<EOF\nRUN x\n",
    'FROM shell"a"\nRUN shell"cat<<EOF"\nRUN shell"x"',
)
case(
    "heredoc-not-herestring",
    "FROM a\nRUN cat <<<word\nRUN x\n",
    'FROM shell"a"\nRUN shell"cat <<<word"\nRUN shell"x"',
)
case(
    "heredoc-not-in-exec-form",
    'FROM a\nRUN ["cat", "<<EOF"]\nRUN x\n',
    'FROM shell"a"\nRUN exec["cat", "<<EOF"]\nRUN shell"x"',
)
case(
    "heredoc-onbuild",
    "FROM a\nONBUILD RUN <<EOF\nx\nEOF\n",
    'FROM shell"a"\nONBUILD shell"RUN <<EOF" <<EOF "x\\n" => RUN shell"<<EOF" <<EOF "x\\n"',
)
case(
    "heredoc-chomp-name-with-dash",
    "FROM a\nRUN <<-END-X\n\tx\n\tEND-X\n",
    'FROM shell"a"\nRUN shell"<<-END-X" <<END-X chomp "x\\n"',
)
case(
    "heredoc-body-unicode",
    "FROM a\nCOPY <<EOF /f\nnaïve ✓\nEOF\n",
    'FROM shell"a"\nCOPY shell"<<EOF /f" <<EOF "naïve ✓\\n"',
)
case(
    "heredoc-redirect",
    "FROM a\nRUN cat <<EOF > /file\nx\nEOF\n",
    'FROM shell"a"\nRUN shell"cat <<EOF > /file" <<EOF "x\\n"',
)
case(
    "heredoc-backtick-escape",
    "# escape=`\nFROM a\nRUN <<EOF\nc:\\x\nEOF\n",
    'FROM shell"a"\nRUN shell"<<EOF" <<EOF "c:\\\\x\\n"',
)
# ---------------------------------------------------------------- COPY / ADD
case("copy-simple", "FROM a\nCOPY src /dst/\n", 'FROM shell"a"\nCOPY shell"src /dst/"')
case(
    "copy-from",
    "FROM a\nCOPY --from=build /out /out\n",
    'FROM shell"a"\nCOPY --from=build shell"/out /out"',
)
case(
    "copy-all-flags",
    "FROM a\nCOPY --from=0 --chown=1:2 --chmod=644 --link --parents x /y\n",
    'FROM shell"a"\nCOPY --from=0 --chown=1:2 --chmod=644 --link --parents shell"x /y"',
)
case(
    "copy-exclude",
    "FROM a\nCOPY --exclude=*.md --exclude=tmp . /app\n",
    'FROM shell"a"\nCOPY --exclude=*.md --exclude=tmp shell". /app"',
)
case(
    "copy-json",
    'FROM a\nCOPY ["file with space", "/dst/"]\n',
    'FROM shell"a"\nCOPY exec["file with space", "/dst/"]',
)
case(
    "copy-link-false",
    "FROM a\nCOPY --link=false a b\n",
    'FROM shell"a"\nCOPY --link=false shell"a b"',
)
case(
    "add-url",
    "FROM a\nADD https://example.com/x.tar.gz /d/\n",
    'FROM shell"a"\nADD shell"https://example.com/x.tar.gz /d/"',
)
case(
    "add-checksum",
    "FROM a\nADD --checksum=sha256:abc https://e.com/f /f\n",
    'FROM shell"a"\nADD --checksum=sha256:abc shell"https://e.com/f /f"',
)
case(
    "add-git",
    "FROM a\nADD --keep-git-dir=true https://github.com/a/b.git#main /src\n",
    'FROM shell"a"\nADD --keep-git-dir=true shell"https://github.com/a/b.git#main /src"',
)
case("add-json", 'FROM a\nADD ["a", "b"]\n', 'FROM shell"a"\nADD exec["a", "b"]')
# ---------------------------------------------------------------- CMD / ENTRYPOINT / SHELL
case("cmd-shell", "FROM a\nCMD echo hi\n", 'FROM shell"a"\nCMD shell"echo hi"')
case(
    "cmd-exec",
    'FROM a\nCMD ["nginx", "-g", "daemon off;"]\n',
    'FROM shell"a"\nCMD exec["nginx", "-g", "daemon off;"]',
)
case("cmd-empty", "FROM a\nCMD\n", 'FROM shell"a"\nCMD shell""')
case("cmd-empty-json", "FROM a\nCMD []\n", 'FROM shell"a"\nCMD exec[]')
case(
    "entrypoint-exec",
    'FROM a\nENTRYPOINT ["/bin/app", "--serve"]\n',
    'FROM shell"a"\nENTRYPOINT exec["/bin/app", "--serve"]',
)
case(
    "entrypoint-shell",
    "FROM a\nENTRYPOINT exec top -b\n",
    'FROM shell"a"\nENTRYPOINT shell"exec top -b"',
)
case("entrypoint-empty", "FROM a\nENTRYPOINT\n", 'FROM shell"a"\nENTRYPOINT shell""')
case(
    "shell-exec",
    'FROM a\nSHELL ["powershell", "-command"]\n',
    'FROM shell"a"\nSHELL exec["powershell", "-command"]',
)
case("shell-not-json", "FROM a\nSHELL /bin/bash -c\n", 'FROM shell"a"\nSHELL shell"/bin/bash -c"')
# ---------------------------------------------------------------- ENV / ARG / LABEL
case("env-equals", "FROM a\nENV A=1 B=2\n", 'FROM shell"a"\nENV shell"A=1 B=2"')
case(
    "env-legacy",
    "FROM a\nENV ONE TWO= THREE=world\n",
    'FROM shell"a"\nENV shell"ONE TWO= THREE=world"',
)
case(
    "env-quoted",
    "FROM a\nENV MSG=\"hello world\" X='y z'\n",
    'FROM shell"a"\nENV shell"MSG=\\"hello world\\" X=\'y z\'"',
)
case("env-continuation", "FROM a\nENV A=1 \\\n    B=2\n", 'FROM shell"a"\nENV shell"A=1     B=2"')
case("env-json-looking", 'FROM a\nENV ["a"]\n', 'FROM shell"a"\nENV exec["a"]')
case(
    "env-escaped-space",
    "FROM a\nENV A=hello\\ world\n",
    'FROM shell"a"\nENV shell"A=hello\\\\ world"',
)
case("arg-name", "ARG NAME\nFROM a\n", 'ARG shell"NAME"\nFROM shell"a"')
case("arg-default", "ARG NAME=value\nFROM a\n", 'ARG shell"NAME=value"\nFROM shell"a"')
case("arg-several", "FROM a\nARG A=1 B C=3\n", 'FROM shell"a"\nARG shell"A=1 B C=3"')
case(
    "label-simple", 'FROM a\nLABEL version="1.0"\n', 'FROM shell"a"\nLABEL shell"version=\\"1.0\\""'
)
case(
    "label-multi",
    'FROM a\nLABEL a=1 \\\n      b="two words"\n',
    'FROM shell"a"\nLABEL shell"a=1       b=\\"two words\\""',
)
case(
    "label-dotted",
    "FROM a\nLABEL org.opencontainers.image.title=app\n",
    'FROM shell"a"\nLABEL shell"org.opencontainers.image.title=app"',
)
# ---------------------------------------------------------------- the rest
case("workdir", "FROM a\nWORKDIR /app\n", 'FROM shell"a"\nWORKDIR shell"/app"')
case("workdir-var", "FROM a\nWORKDIR $HOME/src\n", 'FROM shell"a"\nWORKDIR shell"$HOME/src"')
case("user", "FROM a\nUSER 1000:1000\n", 'FROM shell"a"\nUSER shell"1000:1000"')
case("user-name", "FROM a\nUSER nobody\n", 'FROM shell"a"\nUSER shell"nobody"')
case(
    "expose", "FROM a\nEXPOSE 80/tcp 443 53/udp\n", 'FROM shell"a"\nEXPOSE shell"80/tcp 443 53/udp"'
)
case("volume-shell", "FROM a\nVOLUME /data /logs\n", 'FROM shell"a"\nVOLUME shell"/data /logs"')
case("volume-json", 'FROM a\nVOLUME ["/data"]\n', 'FROM shell"a"\nVOLUME exec["/data"]')
case("stopsignal", "FROM a\nSTOPSIGNAL SIGTERM\n", 'FROM shell"a"\nSTOPSIGNAL shell"SIGTERM"')
case(
    "healthcheck-cmd",
    "FROM a\nHEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/\n",
    'FROM shell"a"\nHEALTHCHECK --interval=5m --timeout=3s shell"CMD curl -f http://localhost/"',
)
case(
    "healthcheck-exec",
    'FROM a\nHEALTHCHECK CMD ["curl", "-f", "x"]\n',
    'FROM shell"a"\nHEALTHCHECK shell"CMD [\\"curl\\", \\"-f\\", \\"x\\"]"',
)
case("healthcheck-none", "FROM a\nHEALTHCHECK NONE\n", 'FROM shell"a"\nHEALTHCHECK shell"NONE"')
case(
    "healthcheck-all-flags",
    "FROM a\nHEALTHCHECK --interval=30s --timeout=30s --start-period=5s --start-interval=5s "
    "--retries=3 CMD true\n",
    'FROM shell"a"\nHEALTHCHECK --interval=30s --timeout=30s --start-period=5s --start-interval=5s '
    '--retries=3 shell"CMD true"',
)
case(
    "maintainer",
    "FROM a\nMAINTAINER Jane Doe <jane@example.com>\n",
    'FROM shell"a"\nMAINTAINER shell"Jane Doe <jane@example.com>"',
)
case(
    "onbuild-run",
    "FROM a\nONBUILD RUN make\n",
    'FROM shell"a"\nONBUILD shell"RUN make" => RUN shell"make"',
)
case(
    "onbuild-copy-flags",
    "FROM a\nONBUILD COPY --from=build /a /b\n",
    'FROM shell"a"\nONBUILD shell"COPY --from=build /a /b" => COPY --from=build shell"/a /b"',
)
case(
    "onbuild-lowercase",
    "FROM a\nonbuild add . /src\n",
    'FROM shell"a"\nONBUILD shell"add . /src" => ADD shell". /src"',
)
case(
    "onbuild-exec",
    'FROM a\nONBUILD CMD ["x"]\n',
    'FROM shell"a"\nONBUILD shell"CMD [\\"x\\"]" => CMD exec["x"]',
)
case(
    "onbuild-continuation",
    "FROM a\nONBUILD RUN a \\\n  b\n",
    'FROM shell"a"\nONBUILD shell"RUN a   b" => RUN shell"a   b"',
)
case(
    "unknown-flag-kept",
    "FROM a\nWORKDIR --foo=bar /x\n",
    'FROM shell"a"\nWORKDIR --foo=bar shell"/x"',
)
case(
    "flags-parsed-for-every-instruction",
    "FROM a\nENV --x A=1\n",
    'FROM shell"a"\nENV --x shell"A=1"',
)
# ---------------------------------------------------------------- whole files
case(
    "full-multistage",
    "# syntax=docker/dockerfile:1\n"
    "ARG GO=1.22\n"
    "FROM golang:${GO} AS build\n"
    "WORKDIR /src\n"
    "COPY go.mod go.sum ./\n"
    "RUN --mount=type=cache,target=/go/pkg/mod go mod download\n"
    "COPY . .\n"
    "RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app\n"
    "\n"
    "FROM gcr.io/distroless/static\n"
    "COPY --from=build /out/app /app\n"
    "USER 65532:65532\n"
    'ENTRYPOINT ["/app"]\n',
    'ARG shell"GO=1.22"\n'
    'FROM shell"golang:${GO} AS build"\n'
    'WORKDIR shell"/src"\n'
    'COPY shell"go.mod go.sum ./"\n'
    'RUN --mount=type=cache,target=/go/pkg/mod shell"go mod download"\n'
    'COPY shell". ."\n'
    'RUN shell"CGO_ENABLED=0 go build -o /out/app ./cmd/app"\n'
    'FROM shell"gcr.io/distroless/static"\n'
    'COPY --from=build shell"/out/app /app"\n'
    'USER shell"65532:65532"\n'
    'ENTRYPOINT exec["/app"]',
)
case(
    "full-debian-apt",
    "FROM debian:bookworm-slim\n"
    "RUN apt-get update \\\n"
    "    && apt-get install -y --no-install-recommends \\\n"
    "        ca-certificates \\\n"
    "        # needed for TLS\n"
    "        curl \\\n"
    "    && rm -rf /var/lib/apt/lists/*\n",
    'FROM shell"debian:bookworm-slim"\n'
    'RUN shell"apt-get update     && apt-get install -y --no-install-recommends         '
    'ca-certificates         curl     && rm -rf /var/lib/apt/lists/*"',
)
case(
    "full-windows-backtick",
    "# escape=`\n\nFROM mcr.microsoft.com/windows/servercore\n"
    "COPY testfile.txt c:\\\n"
    "RUN dir c:\\\n",
    'FROM shell"mcr.microsoft.com/windows/servercore"\n'
    'COPY shell"testfile.txt c:\\\\"\n'
    'RUN shell"dir c:\\\\"',
)


def main() -> int:
    force = "--force" in sys.argv
    bad = 0
    for name, text, expected in CASES:
        got = summarise(text)
        if got != expected:
            bad += 1
            print(f"{name}: summary differs\n  want {expected!r}\n  got  {got!r}")
            continue
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        raw = text if isinstance(text, bytes) else text.encode()
        (folder / "Dockerfile").write_bytes(raw)
        (folder / "summary.txt").write_text(expected)
        out = folder / "expected.json"
        if force or not out.exists():
            out.write_text(render_json(parse_dockerfile(raw, "Dockerfile")))
    print(f"{len(CASES) - bad} cases written, {bad} refused")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
