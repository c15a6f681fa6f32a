"""Keep the layering and the documentation honest."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from bot.cli.main import all_commands

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# bot may import storage and scrapers; storage only scrapers; scrapers nothing of ours.
ALLOWED = {
    "bot": {"bot", "storage", "scrapers"},
    "storage": {"storage", "scrapers"},
    "scrapers": {"scrapers"},
}
# Pure stages never do I/O against the outside world.
PURE = [
    "scrapers/extract.py",
    "scrapers/discover.py",
    "scrapers/normalize.py",
    "scrapers/dates.py",
    "scrapers/metadata.py",
    "bot/ingest/discovery.py",
    "bot/delivery/digest.py",
    "bot/delivery/render.py",
    "bot/text/summarize.py",
    "bot/ingest/routing.py",
    "bot/delivery/pacing.py",
]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        ours = _imports(path) & set(ALLOWED)
        assert ours <= ALLOWED[package], (
            f"{path.relative_to(ROOT)} imports {ours - ALLOWED[package]}"
        )


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_do_no_io(module: str) -> None:
    assert not _imports(ROOT / module) & {"httpx", "telegram", "sqlite_utils", "sqlite3", "socket"}


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"```sh\n(.+?)\n```", README)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_quick_start_runs_the_service_on_the_example_config() -> None:
    first = re.findall(r"```sh\n(.+?)\n```", README)[0]
    assert first.endswith("presswatch run --config config.example.toml")


@pytest.mark.parametrize("name", [c.name for c in all_commands()])
def test_every_command_is_documented(name: str) -> None:
    assert f"`presswatch {name}" in README


def _keys(table: dict, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            keys |= _keys(value, f"{path}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                keys |= _keys(item, f"{path}[].")
        else:
            keys.add(path)
    return keys


def test_every_example_config_key_is_documented() -> None:
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    documented: set[str] = set()
    for first_cell in re.findall(r"^\| (`[^|]+)\|", README, re.M):
        names = re.findall(r"`([^`]+)`", first_cell)
        if not names:
            continue
        parent = names[0].rsplit(".", 1)[0]
        # "`sources[].selectors.title`, `.date`" documents sources[].selectors.date too.
        documented |= {parent + n if n.startswith(".") else n for n in names}
    missing = sorted(
        k
        for k in _keys(example)
        if k not in documented and not k.startswith(("topics.", "entities."))
    )
    assert missing == []
