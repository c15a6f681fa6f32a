"""A source's CSS selector that matches nothing on a page is named by check-source, with what was
read instead, rather than left to look like the generic extraction it silently became."""

from __future__ import annotations

import argparse
from pathlib import Path

import bot.app
from bot.cli.dryrun import check_source
from scrapers import Selectors, Source
from scrapers.extract import extract_page
from scrapers.sandbox import InProcess
from scrapers.selection import pick
from tests.support.cli import presswatch
from tests.support.world import World, write_config

TASS = "tass-com"
# Synthetic page: a headline and a story, no date element, no lead element.
PAGE = "<html><body><h1>Talks held</h1><div class='text'><p>The sides met.</p></div></body></html>"


def test_pick_names_the_selectors_that_matched_nothing_in_declared_order() -> None:
    selectors = Selectors(title="h1", date="span.nope", body="div.nope", lead=".nope")
    assert pick(PAGE, selectors).missed == ("date", "lead", "body")
    assert pick(PAGE, Selectors(title="h1", body="div.text")).missed == ()
    assert pick(PAGE, Selectors()).missed == ()


def test_css_of_gives_a_one_element_selectors_text_or_nothing() -> None:
    # A stored note may name a selector an older config had; `remove` is a list of several.
    selectors = Selectors(title="h1", remove=("nav",))
    names = ("title", "body", "remove", "gone")
    assert [selectors.css_of(name) for name in names] == ["h1", "", "", ""]


def test_an_element_found_empty_is_no_miss() -> None:
    page = "<html><body><h1>Talks</h1><span class='by'></span></body></html>"
    assert pick(page, Selectors(author="span.by")).missed == ()


def test_a_selector_whose_element_the_remove_selectors_took_is_a_miss() -> None:
    source = Source(key="t", url="https://example.org/", selectors=Selectors(title="h1"))
    assert extract_page(PAGE, url="https://example.org/a", source=source).missed == ()
    gone = Source(
        key="t", url="https://example.org/", selectors=Selectors(title="h1", remove=("h1",))
    )
    assert extract_page(PAGE, url="https://example.org/a", source=gone).missed == ("title",)


def missing_selectors_config(tmp_path: Path, world: World) -> Path:
    """Write the loopback config with tass-com's selectors: title found, the rest missing."""
    config = write_config(tmp_path, world)
    text = config.read_text(encoding="utf-8")
    block = (
        '[sources.selectors]\ntitle = "h1"\ndate = "span.nope"\nbody = "div.nope"\nlead = ".nope"\n'
    )
    anchor = "fetch_pages = true"
    head, rest = text.split(f'key = "{TASS}"\n', 1)
    line_end = rest.index("\n", rest.index(anchor)) + 1
    config.write_text(f'{head}key = "{TASS}"\n{rest[:line_end]}{block}{rest[line_end:]}', "utf-8")
    return config


def test_check_source_names_each_selector_that_matched_nothing(tmp_path) -> None:
    with World((TASS,)) as world:
        config = missing_selectors_config(tmp_path, world)
        result = presswatch("check-source", TASS, "--config", str(config), "--limit", "1")
    assert result.returncode == 0, result.stderr
    said = [line.strip() for line in result.stdout.splitlines() if "matched nothing" in line]
    assert said == [
        "selectors.date matched nothing on this page; generic extraction used",
        "selectors.lead matched nothing on this page; no lead taken",
        "selectors.body matched nothing on this page; generic extraction used",
    ]
    assert "title:" in result.stdout and "selectors.title" not in result.stdout
    assert "said once" not in result.stderr  # printed with each article, not logged as a poll's


class JobLog(InProcess):
    """Parse in a thread, as InProcess does, noting each job's document and name."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[tuple[str, str]] = []

    async def run(self, label, job, /, *args, **kwargs):
        self.jobs.append((label, job.__name__))
        return await super().run(label, job, *args, **kwargs)


def test_check_source_parses_each_article_page_once(tmp_path, monkeypatch, capsys) -> None:
    # The misses come out of the one extraction a poll makes of the page: no second parse.
    parser = JobLog()
    monkeypatch.setattr(bot.app, "sandbox", lambda config: parser)  # the composition root's
    with World((TASS,)) as world:
        config = missing_selectors_config(tmp_path, world)
        args = argparse.Namespace(config=config, key=TASS, limit=1)
        assert check_source(args) == 0
    out = capsys.readouterr().out
    read = out.split("\nNEW ", 1)[1].split()[0]
    assert [job for label, job in parser.jobs if label == read] == ["page_article"]
    assert sum("matched nothing" in line for line in out.splitlines()) == 3
