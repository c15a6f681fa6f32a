"""Tests, benchmarks and fakes keep apart: each imports only what its role allows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"bot", "storage", "scrapers", "fakes", "tests", "bench"}
# tests may use the product and the fakes; bench the same; fakes stand alone (they play the
# outside world, so they know nothing of the project).
ALLOWED = {
    "tests": OURS - {"bench"},
    "bench": OURS - {"tests"},
    "fakes": {"fakes"},
}


def _imports(path: Path) -> set[str]:
    """Return the dotted modules a file imports, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_what_its_role_allows(package: str) -> None:
    wrong = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in OURS - ALLOWED[package]
    }
    assert wrong == set()


def test_no_test_module_imports_another() -> None:
    wrong = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "tests").rglob("*.py")
        for name in _imports(path)
        if name.startswith("tests.") and name.split(".")[1].startswith("test_")
    }
    assert wrong == set()
