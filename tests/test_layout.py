"""Tests, benchmarks and fakes keep apart: each imports only what its role allows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"bot", "storage", "scrapers", "tests", "bench"}
FAKES = "tests.fakes"
# tests may use the product and never bench; bench may use the product and, of tests, only the
# loopback fakes; the fakes stand alone (they play the outside world, so know nothing of ours).
ALLOWED = {
    "tests": OURS - {"bench"},
    "bench": OURS - {"tests"},
    "tests/fakes": set(),
}


def _allowed(package: str, name: str) -> bool:
    """Tell whether a module of `package` may import `name`."""
    if name == FAKES or name.startswith(FAKES + "."):
        return True  # every role may use the fakes; they import nothing of ours themselves
    return name.split(".")[0] not in OURS - ALLOWED[package]


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
        if not _allowed(package, name)
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
