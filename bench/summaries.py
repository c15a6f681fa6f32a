"""Count summaries of real pages that run a line without end punctuation into the next one.

    python -m bench.summaries fundus --dump before.jsonl     # on the code to compare against
    python -m bench.summaries fundus --compare before.jsonl  # on the code under test

Each page is extracted and summarised as a poll would (no lead: the body's opening sentences);
a summary is "glued" when it holds the end of a body (or lead) line that has no end punctuation
followed by a space and the start of the next line ("… | wdr aktuell 02:57 Min.. Verfügbar …").
The strict count takes only Latin end marks (.!?…:;, quotes, brackets) as ends, as the ux11
walkthrough counted; the other also takes 。！？」』।؟, whose lines a summary may join. --compare
reads an earlier --dump and counts the summaries that changed, became empty or got shorter.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from bench.extraction_data import Case, load_fundus, load_zyte
from bot.text.summarize import summarize
from scrapers.extract import extract_article

_LATIN_END = re.compile(r"[.!?…:;»\"”“)\]]$")
_ANY_END = re.compile(r"[.!?…:;»\"”“)\]。！？」』।؟]$")
_SEAM = 25  # characters of each line that must meet in the summary


def glued(summary: str, texts: tuple[str, ...], end: re.Pattern[str]) -> str:
    """Return the first seam of an unpunctuated line and the next found in summary, else ""."""
    for text in texts:
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        for first, then in zip(lines, lines[1:], strict=False):
            if not end.search(first) and f"{first[-_SEAM:]} {then[:_SEAM]}" in summary:
                return f"{first[-40:]} | {then[:40]}"
    return ""


def rows(cases: list[Case]) -> list[dict[str, str]]:
    """Return each page's summary and its seams."""
    out = []
    for case in cases:
        article = extract_article(case.html, url=case.url, now=case.fetched)
        summary = summarize(
            title=article.title, lead=article.lead, body=article.body, max_chars=600,
            lang=article.lang,
        )  # fmt: skip
        texts = (article.lead, article.body)
        out.append(
            {
                "key": case.key,
                "summary": summary,
                "strict": glued(summary, texts, _LATIN_END),
                "any": glued(summary, texts, _ANY_END),
            }
        )
    return out


def report(found: list[dict[str, str]], earlier: list[dict[str, str]] | None) -> list[str]:
    """Return the counts as lines (and the changes against an earlier dump)."""
    lines = [
        f"{len(found)} pages; glued: {sum(bool(r['strict']) for r in found)} (Latin ends), "
        f"{sum(bool(r['any']) for r in found)} (any script's ends); "
        f"empty: {sum(not r['summary'] for r in found)}"
    ]
    if earlier is not None:
        before = {r["key"]: r["summary"] for r in earlier}
        changed = [r for r in found if before.get(r["key"], r["summary"]) != r["summary"]]
        lines.append(
            f"changed: {len(changed)}; emptied: {sum(not r['summary'] for r in changed)}; "
            f"shorter: {sum(len(r['summary']) < len(before[r['key']]) for r in changed)}"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    """Summarise one set's pages and print the counts."""
    parser = argparse.ArgumentParser(prog="python -m bench.summaries")
    parser.add_argument("corpus", choices=["fundus", "zyte"])
    parser.add_argument("--dump", type=Path, help="write each page's summary here (JSON lines)")
    parser.add_argument("--compare", type=Path, help="an earlier --dump to count changes against")
    args = parser.parse_args(argv)
    found = rows(load_fundus() if args.corpus == "fundus" else load_zyte())
    earlier = None
    if args.compare:
        text = args.compare.read_text(encoding="utf-8")
        earlier = [json.loads(line) for line in text.splitlines()]
    print("\n".join(report(found, earlier)))
    if args.dump:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in found)
        args.dump.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
