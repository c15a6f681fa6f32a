"""Start-up cost: a command loads what its own work needs, and --help and the config no more."""

from __future__ import annotations

import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest
import soupsieve

from bot.config.checks import _PLAIN_CSS, css
from bot.text.classify import classify, taxonomy_from_dict

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
# datasketch imports SciPy at import time: about a second of start-up on this project's machines,
# paid by every `presswatch search`, `status` or `--help` if the command line imported it.
HEAVY_FOR_DEDUP_ONLY = ("datasketch", "scipy")
# What polling, posting, parsing pages or opening the archive needs: none of it may load to print
# --help or to read and validate a config (together ~0.6 s of imports before this test).
HEAVY = (
    *HEAVY_FOR_DEDUP_ONLY,
    "apscheduler",
    "bs4",
    "feedparser",
    "httpx",
    "jinja2",
    "lxml",
    "numpy",
    "procrastinate",
    "psycopg",
    "psycopg_pool",
    "soupsieve",
    "sqlite_utils",
    "telegram",
    "trafilatura",
    "bot.app",
    "bot.text.topic_model",
    "scrapers.discover",
    "scrapers.extract",
    "scrapers.fetch",
    "scrapers.sandbox",
    "storage.store",
)
# Quiet: the probes print the module list, not the help text.
_HELP = (
    "import contextlib, io; from bot.cli.main import main\n"
    "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
    "    main({argv!r})"
)


def _modules_loaded_by(statement: str) -> set[str]:
    """Return the modules (dotted, and their top-level packages) a fresh interpreter has loaded
    after running `statement`."""
    probe = f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    run = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
    )
    names = set(run.stdout.split())
    return names | {name.split(".")[0] for name in names}


def test_the_command_line_starts_without_the_dedup_libraries() -> None:
    loaded = _modules_loaded_by("import bot.cli.main")
    assert "bot" in loaded
    assert not loaded & set(HEAVY_FOR_DEDUP_ONLY), loaded & set(HEAVY_FOR_DEDUP_ONLY)


def test_signing_a_text_loads_them_on_first_use() -> None:
    loaded = _modules_loaded_by(
        "from storage.neardup import signature; signature(frozenset({'a b c'}), num_perm=16)"
    )
    assert "datasketch" in loaded


@pytest.mark.parametrize(
    "argv", [["--help"], ["search", "--help"], ["sources", "--help"], ["status", "--help"], []]
)
def test_help_loads_nothing_heavy(argv: list[str]) -> None:
    loaded = _modules_loaded_by(_HELP.format(argv=argv))
    assert "bot.cli.main" in loaded and "bot.cli.archive" in loaded  # every command was listed
    assert sorted(loaded & set(HEAVY)) == []


def test_the_whole_parser_loads_nothing_heavy() -> None:
    loaded = _modules_loaded_by("from bot.cli.main import build_parser; build_parser()")
    assert sorted(loaded & set(HEAVY)) == []


def test_loading_the_example_config_loads_nothing_heavy() -> None:
    loaded = _modules_loaded_by(
        f"from bot.config import load_config; config = load_config({str(EXAMPLE)!r}, environ={{}})\n"
        "assert config.sources and any(t.model for t in config.taxonomy.topics)"
    )
    # The example has CSS selectors, a taxonomy the shipped model decides, and no post template.
    assert "bot.config.load" in loaded
    assert sorted(loaded & set(HEAVY)) == []


def test_the_probe_sees_heavy_modules_where_they_are_loaded() -> None:
    loaded = _modules_loaded_by("import bot.app")
    assert {"telegram", "httpx", "scrapers.fetch", "storage.store"} <= loaded


def test_a_command_loads_its_work_when_it_runs() -> None:
    loaded = _modules_loaded_by(
        _HELP.format(argv=["extract", "/nonexistent.html", "--config", "/nonexistent.toml"])
    )
    assert {"bot.cli.core", "bot.app"} <= loaded


def _random_selectors(rng: random.Random, count: int) -> list[str]:
    """Return selector-like strings: pieces of valid selectors, some with one character changed."""
    pieces = [*"a b -x _y * .c #i .-c [a] [a=b] [a~=b] [a|=b] [a^='x'] [a$=\"\"]".split()]
    pieces += ['[a="v w"]', "[a*=b]", " ", " > ", "+", "~", ", ", ",", "div", "x1"]
    noise = list("ab-_1*.#[]=~|^$\"' >+,:()\\\t\r\x00\x7fé")
    found = []
    for _ in range(count):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        if rng.random() < 0.5:
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(noise) + text[at + rng.randint(0, 1) :]
        found.append(text)
    return found


def test_the_cheap_selector_check_accepts_only_what_soupsieve_accepts() -> None:
    accepted = [s for s in _random_selectors(random.Random(5), 20_000) if _PLAIN_CSS.fullmatch(s)]
    assert len(accepted) > 3_000  # the check does skip soupsieve for many selectors
    refused = []
    for selector in accepted:
        try:
            soupsieve.compile(selector)
        except soupsieve.SelectorSyntaxError:
            refused.append(selector)
    assert refused == []


@pytest.mark.parametrize("selector", ["div..x", "a >", "#1a", "[a=1]", "p:nth-child(", "a, ,b"])
def test_other_selectors_are_judged_by_soupsieve(selector: str) -> None:
    assert not _PLAIN_CSS.fullmatch(selector)
    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        with pytest.raises(ValueError, match=r"^not a valid CSS selector \("):
            css(selector)
        assert str(exc).splitlines()[0] in str(pytest.raises(ValueError, css, selector).value)
    else:
        assert css(selector)


def test_loading_a_taxonomy_compiles_a_phrase_only_when_a_text_needs_it() -> None:
    taxonomy = taxonomy_from_dict(
        {"topics": {"p": {"phrases": ["peacekeeping force", "blue helmets"], "threshold": 1}}}
    )
    [topic] = taxonomy.topics
    assert [rule.built for rule in topic.rules] == [None, None]
    found = classify(title="Peacekeeping forces arrive", body="", taxonomy=taxonomy)
    assert [m.topic for m in found] == ["p"]
    assert topic.rules[0].built is not None and topic.rules[1].built is None


def test_a_taxonomy_pickles_the_same_before_and_after_it_classifies() -> None:
    # The parsing sandbox tells one taxonomy from another by its pickle (scrapers/sandbox.py).
    taxonomy = taxonomy_from_dict(
        {"topics": {"p": {"phrases": ["peacekeeping"], "regex": ["blue helmets?"]}}}
    )
    before = pickle.dumps(taxonomy)
    classify(title="Peacekeeping: blue helmets", body="peacekeeping", taxonomy=taxonomy)
    assert pickle.dumps(taxonomy) == before
    assert pickle.loads(before) == taxonomy
