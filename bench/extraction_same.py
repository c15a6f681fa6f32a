"""Check that a change to extraction leaves its output alone: every field of every dev page.

Speed work must not change what is extracted. `--save` writes presswatch's full output (every
field of `Article`, or the error's name) for the dev pages of both real sets, as served and in
their no-metadata view; `--against` reads it back, extracts again and prints each difference and
their count (exit status 1 when there is any). Held-out pages are never read.

Examples:

    python -m bench.extraction_same --save /tmp/before.json     # on the code before a change
    python -m bench.extraction_same --against /tmp/before.json  # after it: "0 differences"
    python -m bench.extraction_same --against /tmp/before.json --set zyte
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from bench.extraction import load, presswatch
from bench.extraction_data import DATA, Case, without_metadata

Outputs = dict[str, dict[str, str]]


def output(case: Case) -> dict[str, str]:
    """Return every field of presswatch's article for a page as text (or the error raised)."""
    try:
        article = presswatch(case)
    except Exception as exc:  # noqa: BLE001 - an exception is an output to compare too
        return {"error": type(exc).__name__}
    return {name: str(value) for name, value in asdict(article).items()}


def outputs(cases: list[Case]) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield (set/view/page, output) for each page as served and without metadata."""
    for case in cases:
        yield f"{case.corpus}/as served/{case.key}", output(case)
        yield f"{case.corpus}/no metadata/{case.key}", output(without_metadata(case))


def differences(before: Outputs, after: Outputs) -> list[str]:
    """Return one line per page and field that differs between two outputs (pages of `after`)."""
    lines = []
    for page, fields in after.items():
        old = before.get(page)
        if old is None:
            lines.append(f"{page}: not in the saved output")
            continue
        for name in sorted(old.keys() | fields.keys()):
            if old.get(name) != fields.get(name):
                lines.append(f"{page}: {name}: {old.get(name)!r:.120} -> {fields.get(name)!r:.120}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Save the dev pages' outputs, or compare them with saved ones and count the differences."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.extraction_same",
        description=__doc__.split("\n")[0],
        epilog="Examples:\n" + __doc__.split("Examples:\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DATA, help=f"data folder (default {DATA})")
    parser.add_argument("--set", choices=("fundus", "zyte", "all"), default="all")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--save", type=Path, help="write the outputs to this JSON file")
    which.add_argument("--against", type=Path, help="compare with outputs saved by --save")
    args = parser.parse_args(argv)
    got: Outputs = {}
    for _, cases in load(args.set, data=args.data, limit=None, dev_only=True):
        got.update(outputs(cases))
    if args.save:
        args.save.write_text(json.dumps(got, ensure_ascii=False, indent=0), encoding="utf-8")
        print(f"saved {len(got)} outputs to {args.save}")
        return 0
    lines = differences(json.loads(args.against.read_text(encoding="utf-8")), got)
    print("\n".join(lines + [f"{len(lines)} differences on {len(got)} outputs"]))
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
