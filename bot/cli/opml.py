"""`import-opml` and `export-opml`: the feed list other readers (Miniflux, FreshRSS…) exchange.

`import-opml FILE` prints one [[sources]] block per feed of an OPML file, as `add` does, named by
the outline's title; feeds already configured (or twice in the file) are said, not repeated.
It reads nothing from the network and writes nothing: check each new source with `check-source`.
`export-opml` writes the configured feed sources as OPML 2.0 (html sources are no feeds).
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.cli.common import EXIT_OK, Command, CommandError, file_name
from bot.cli.sources import configured_notes
from bot.config import Config, config_from_dict, load_config
from bot.text.plural import counted
from scrapers import url_key

if TYPE_CHECKING:
    from lxml import etree

_MAX_BYTES = 10_000_000  # an OPML file of many thousand feeds is still far smaller


@dataclass(frozen=True, slots=True)
class Outline:
    """One feed of an OPML file: its title ('' if none), feed URL, site URL and its category."""

    title: str
    url: str
    site: str = ""
    category: str = ""


def read_opml(content: bytes) -> list[Outline]:
    """Return the feeds of an OPML document (any depth of categories); raise CommandError."""
    # No DTD, no entities, no network, no huge trees: an OPML file is data, not a program.
    if b"<!doctype" in content.lower():
        raise CommandError("not an OPML file we read: it declares a DOCTYPE (entities)")
    from lxml import etree  # noqa: PLC0415 - only import-opml reads XML; --help need not load it

    parser = etree.XMLParser(
        resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise CommandError(f"not an OPML file: {exc}") from exc
    if etree.QName(root).localname != "opml" or root.find("body") is None:
        raise CommandError("not an OPML file: no <opml> with a <body>")
    return list(_feeds(root.find("body"), category=""))


def _feeds(parent: etree._Element, *, category: str):
    """Yield the feed outlines under `parent`; an outline without xmlUrl is a category."""
    for node in parent.iterchildren("outline"):
        url = (node.get("xmlUrl") or "").strip()
        # Real exports carry line breaks (&#10;) and runs of spaces in titles (Inoreader's):
        # a source's name is one line.
        title = " ".join((node.get("title") or node.get("text") or "").split())
        if url:
            yield Outline(title, url, (node.get("htmlUrl") or "").strip(), category)
        yield from _feeds(node, category=title or category)


def write_opml(config: Config, *, now: datetime) -> str:
    """Return the configured feed sources as an OPML 2.0 document."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = "presswatch sources"
    from email.utils import format_datetime  # noqa: PLC0415 - ~20 ms; only export-opml uses it

    ET.SubElement(head, "dateCreated").text = format_datetime(now.astimezone(UTC), usegmt=True)
    body = ET.SubElement(root, "body")
    for source in config.sources:
        if source.kind != "feed":
            continue
        parts = urlsplit(source.url)
        ET.SubElement(
            body,
            "outline",
            text=source.display_name,
            title=source.display_name,
            type="rss",
            xmlUrl=source.url,
            htmlUrl=f"{parts.scheme}://{parts.netloc}/",
        )
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- commands -------------------------------------------------------------------------------------


def _config(path: str) -> Config:
    """Load the config, or take the defaults when there is none yet (a first import)."""
    return load_config(path) if Path(path).exists() else config_from_dict({}, path=Path(path))


def _args_import(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("file", metavar="FILE", help="an OPML file (a feed reader's export)")


def _cmd_import(args: argparse.Namespace) -> int:
    """Print a [[sources]] block for each feed of an OPML file not configured yet."""
    config = _config(args.config)
    path = Path(args.file)
    try:
        with path.open("rb") as handle:
            content = handle.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror or exc}") from exc
    if len(content) > _MAX_BYTES:
        raise CommandError(f"{path}: larger than {_MAX_BYTES:,} bytes")
    try:
        outlines = read_opml(content)
    except CommandError as exc:
        raise CommandError(f"{path}: {exc}") from exc
    taken = [s.key for s in config.sources]
    seen: dict[str, str] = {}
    blocks, known = [], 0
    for outline in outlines:
        if not outline.url.startswith(("http://", "https://")):
            blocks.append(f"# Skipped {outline.url}: not an http(s) feed.\n")
            continue
        if url_key(outline.url) in seen:
            blocks.append(f"# {outline.url} is in the file twice.\n")
            continue
        notes = configured_notes(config.sources, outline.url)
        if notes and notes[0].startswith("Already"):
            known += 1
            blocks.append(f"# {outline.url}: {notes[0]}\n")
            continue
        block, key = _block(outline, notes, taken=tuple(taken))
        taken.append(key)
        seen[url_key(outline.url)] = key
        blocks.append(block)
    print("\n".join(blocks), end="")
    print(
        f"{counted(len(seen), 'new feed source')} from {counted(len(outlines), 'feed')} in "
        f"{path.name}; "
        f"{known} already configured. Check each with `presswatch check-source KEY`.",
        file=sys.stderr,
    )
    return EXIT_OK


def _block(outline: Outline, notes: list[str], *, taken: tuple[str, ...]) -> tuple[str, str]:
    """Return one source's block with its notes (category, the same site) above it, and its key."""
    # What `add` proposes, with the feed and page parsers it loads: for import-opml only.
    from bot.cli.add import proposed_fields, source_from_block  # noqa: PLC0415
    from bot.ingest.proposal import PageFacts, toml_block  # noqa: PLC0415

    facts = PageFacts(name=outline.title, lang="")
    block = toml_block(proposed_fields(outline.url, facts, kind="feed", key=None, taken=taken))
    # The printed block must load exactly as presswatch will read it.
    key = source_from_block(block).key
    where = [f"From {outline.category!r}." if outline.category else ""]
    lines = [f"# {n}\n" for n in [*where, *notes] if n]
    return "".join(lines) + block, key


def _args_export(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--output", type=file_name, metavar="FILE", help="write here instead of standard output"
    )


def _cmd_export(args: argparse.Namespace) -> int:
    """Write the configured feed sources as OPML 2.0."""
    config = load_config(args.config)
    text = write_opml(config, now=datetime.now(UTC))
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:  # a missing folder, no permission, a full disk: as `export` says
            raise CommandError(
                f"export-opml: cannot write {args.output} ({exc.strerror or exc})"
            ) from exc
    else:
        sys.stdout.write(text)
    others = sum(s.kind != "feed" for s in config.sources)
    if others:
        print(f"{counted(others, 'html source')} left out: OPML lists feeds only", file=sys.stderr)
    return EXIT_OK


COMMANDS: list[Command] = [
    Command(
        "import-opml",
        "print a [[sources]] block for each feed of an OPML file (a feed reader's export)",
        "presswatch import-opml miniflux.opml --config presswatch.toml >> presswatch.toml",
        _cmd_import,
        _args_import,
    ),
    Command(
        "export-opml",
        "write the configured feed sources as OPML 2.0 for another feed reader",
        "presswatch export-opml --output presswatch.opml --config presswatch.toml",
        _cmd_export,
        _args_export,
    ),
]
