"""Count the leads ingest would take for a site's slogan on real pages: a false-drop check.

Ingest drops a lead that another article of the same source, under another title, carries word
for word (storage.records.lead_key; bot/ingest/intake.py). The shared sets hold pages of many
sites, a few of them with two to four pages: those pages are grouped by site (the registrable
part of the host, bench/extraction_data.py) and fed in order as one source's articles. The sets
have no site whose pages all share a slogan (tw_TaipeiTimes has one page), so this counts false
drops only, never a hit. Dev and held-out pages are counted apart; neither tuned anything.

Example:

    python -m bench.site_leads          # both sets
    python -m bench.site_leads --list   # every grouped page's lead
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict

from bench.extraction_data import Case, load_fundus, load_zyte, site
from scrapers.extract import extract_article
from storage.records import lead_key


def dropped(cases: list[Case], *, show: bool = False) -> Counter:
    """Feed each site's pages in order as one source's; count pages, leads and leads dropped."""
    sites: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        sites[site(case.url)].append(case)
    counts: Counter = Counter()
    for name, pages in sorted(sites.items()):
        if len(pages) < 2:
            continue
        titles: dict[str, set[str]] = defaultdict(set)  # lead key -> titles that carried it
        for case in pages:
            article = extract_article(case.html, url=case.url)
            key, split = lead_key(article.lead), "held-out" if case.held_out else "dev"
            drop = bool(key and titles[key] - {article.title})
            counts[f"{split} pages"] += 1
            counts[f"{split} leads"] += bool(key)
            counts[f"{split} dropped"] += drop
            if key:
                titles[key].add(article.title)
            if show:
                print(f"  {name}{' DROPPED' if drop else ''}: {article.lead[:70]!r}")
    return counts


def main(argv: list[str] | None = None) -> int:
    """Print, per set and split, the grouped pages, those with a lead, and the leads dropped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print every grouped page's lead")
    args = parser.parse_args(argv)
    for name, load in {"fundus": load_fundus, "zyte": load_zyte}.items():
        counts = dropped(load(), show=args.list)
        for split in ("dev", "held-out"):
            print(
                f"{name} {split}: {counts[f'{split} pages']} pages of sites with two or more, "
                f"{counts[f'{split} leads']} with a lead, {counts[f'{split} dropped']} dropped"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
