"""The import matrix of docs/architecture.md, enforced: frontend → solver ← builder,
and each third-party library enters through its one door."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("frontend", "solver", "builder")
STDLIB = set(sys.stdlib_module_names)

# library → the module paths (relative, prefix match on files/dirs) allowed to import it
DOORS: dict[str, tuple[str, ...]] = {
    "lark": ("frontend/parser.py", "frontend/transformer.py"),
    "networkx": ("solver/graph.py",),
    "diskcache": ("solver/cachestore.py",),
    "zstandard": ("builder/layers/compress.py",),
    "isal": ("builder/layers/compress.py",),  # fast gzip; numbers in bench/layers.py
    "httpx": ("builder/registry/",),
    "pyroute2": ("builder/runtime/network.py",),
}

FRONTEND_MAY_USE_SOLVER = {"solver.source", "solver.digest", "solver.ops", "solver.definition"}

# builder sublayers, lowest first; a module may import its own layer and lower ones
BUILDER_LAYERS: list[set[str]] = [
    {"errors", "root"},
    {"oci"},
    {"content"},
    {"images", "registry", "layers"},
    {"snapshots"},
    {"sandbox"},
    {"worker", "runtime"},
    {"exporters", "context"},
    {"build"},
    {"cli", "server"},
]


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    pkg_parts = path.relative_to(ROOT).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(pkg_parts[: len(pkg_parts) - node.level + 1])
                mod = f"{base}.{node.module}" if node.module else base
                names.append(mod)
                if not node.module:
                    names += [f"{base}.{a.name}" for a in node.names]
            elif node.module:
                names.append(node.module)
                names += [f"{node.module}.{a.name}" for a in node.names]
    return names


def _layer_of(rel: str) -> int | None:
    parts = rel.split("/")
    if parts[0] != "builder" or len(parts) < 2:
        return None
    name = parts[1].removesuffix(".py")
    for i, layer in enumerate(BUILDER_LAYERS):
        if name in layer:
            return i
    return None


def _violations() -> list[str]:
    bad: list[str] = []
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        top = rel.split("/")[0]
        for name in _imports(path):
            root = name.split(".")[0]
            if root in DOORS and not rel.startswith(DOORS[root]):
                bad.append(f"{rel}: imports {root} (only {', '.join(DOORS[root])} may)")
            if top == "frontend":
                if root == "builder":
                    bad.append(f"{rel}: frontend imports {name}")
                if root == "solver" and name != "solver" and not any(
                    name == m or name.startswith(m + ".") for m in FRONTEND_MAY_USE_SOLVER
                ):
                    bad.append(f"{rel}: frontend may not import {name}")
            if top == "solver" and root in ("frontend", "builder"):
                bad.append(f"{rel}: solver imports {name}")
            if top == "builder" and root == "builder":
                mine, theirs = _layer_of(rel), _layer_of(name.replace(".", "/"))
                if mine is not None and theirs is not None and theirs > mine:
                    bad.append(f"{rel}: imports higher layer {name}")
            if root not in STDLIB and root not in PACKAGES and root not in DOORS:
                if root not in ALLOWED_OTHER:
                    bad.append(f"{rel}: imports unlisted third-party module {root}")
    return bad


# third-party modules used outside the doors above (keep short; say why in README)
ALLOWED_OTHER: set[str] = {"__future__"}


def test_import_matrix_holds() -> None:
    assert _violations() == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_module_says_what_it_does(path: Path) -> None:
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc and doc.strip(), "module needs a docstring stating its responsibility"


def test_version_imports_nothing_heavy() -> None:
    import subprocess

    code = (
        "import sys; from builder.cli.main import main; main(['--version']);"
        "heavy={'lark','networkx','httpx','diskcache','zstandard','pyroute2'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip().endswith("[]"), out
