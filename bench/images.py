"""Benchmark lead-image choice on real pages: presswatch's against trafilatura's metadata image.

The pages carry no checked image, so the figure is agreement with trafilatura (its `image` is
the page's og:image or twitter:image, unchecked), and the pages where the two differ are listed
for a person to judge. presswatch is `scrapers.images.lead_image(tree, url=...)` on the tree
`extract_article` reads; trafilatura is `trafilatura.metadata.extract_metadata(html)`. Dev and
held-out pages (split by site, bench/extraction_data.py) are counted apart.

Example:

    python -m bench.images                  # both sets
    python -m bench.images --set zyte --list
"""

from __future__ import annotations

import argparse
from collections import Counter

from trafilatura.metadata import extract_metadata

from bench.extraction_data import load_fundus, load_zyte
from scrapers.document import parse_page
from scrapers.images import lead_image


def compare(html: str, url: str) -> tuple[str, str, str]:
    """Return (verdict, ours, trafilatura's) for one page."""
    tree, _ = parse_page(html, url=url)
    ours = lead_image(tree, url=url)
    found = extract_metadata(html, default_url=url)
    theirs = (found.image if found else None) or ""
    if ours == theirs:
        return ("same" if ours else "both none"), ours, theirs
    if not theirs:
        return "ours only", ours, theirs
    return ("theirs only" if not ours else "different"), ours, theirs


def main(argv: list[str] | None = None) -> int:
    """Print agreement counts per set and split; with --list, the pages that differ."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("fundus", "zyte", "both"), default="both")
    parser.add_argument("--list", action="store_true", help="print the pages that differ")
    args = parser.parse_args(argv)
    sets = {"fundus": load_fundus, "zyte": load_zyte}
    for name, load in sets.items():
        if args.set not in (name, "both"):
            continue
        counts: dict[str, Counter] = {"dev": Counter(), "held-out": Counter()}
        for case in load():
            verdict, ours, theirs = compare(case.html, case.url)
            counts["held-out" if case.held_out else "dev"][verdict] += 1
            if args.list and verdict not in ("same", "both none"):
                print(f"  {name} {verdict}: {case.url}\n    ours   {ours}\n    theirs {theirs}")
        for split, counter in counts.items():
            total = sum(counter.values())
            shown = ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
            print(f"{name} {split}: {total} pages: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
