"""Command start-up: wall time of short `presswatch` commands, this checkout against a reference one.

Each command runs as a user runs it (`python -m bot ...`, a fresh interpreter) from this checkout
and from a reference checkout (e.g. `git worktree add --detach /tmp/ref main`), alternating run
by run so that a change of machine load falls on both alike. The config is config.example.toml
with its archive pointed at a small archive of a few synthetic articles.
Reports each command's median over the runs, for both, and their ratio.

    python -m bench.startup --reference /tmp/ref --runs 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from scrapers.models import Article
from storage import Store

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (
    ("--help",),
    ("search", "--help"),
    ("sources",),
    ("search", "x"),
    ("search", "sanctions"),
    ("status",),
    ("stats",),
)
# As an installed presswatch runs: its modules' bytecode cached (the warm-up runs write it), and
# neither the tester's token nor config.
_ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in ("PYTHONDONTWRITEBYTECODE", "PRESSWATCH_TELEGRAM_TOKEN", "PRESSWATCH_CONFIG")
}
# Synthetic articles: (source key, language, title, body).
ARTICLES = (
    ("tass-com", "en", "EU extends sanctions against Russia", "The EU extended its sanctions."),
    ("tass-ru", "ru", "ЕС продлил санкции", "Евросоюз продлил санкции против России."),
    ("odkb-csto-en", "en", "Collective security summit in Minsk", "Leaders met in Minsk."),
)


def example_config(folder: Path) -> Path:
    """Write config.example.toml with its archive pointed at a small synthetic one; return it."""
    archive = folder / "archive.db"
    store = Store.open(archive)
    for i, (source, lang, title, body) in enumerate(ARTICLES):
        url = f"https://{source}.example/{i}"
        published = datetime(2024, 1, 1 + i, 9, tzinfo=UTC)
        article = Article(url, url, title, published, lang=lang, body=body, summary=body)
        store.add_article(article, source_key=source, now=published)
    store.close()
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    path = folder / "example.toml"
    path.write_text(text.replace('path = "presswatch.db"', f'path = "{archive}"', 1), "utf-8")
    return path


def timed(tree: Path, args: tuple[str, ...], config: Path) -> float:
    """Return the wall time of one `python -m bot ARGS` run from `tree`; fail on a crash."""
    words = [*args] if args[-1] == "--help" else [*args, "--config", str(config)]
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "bot", *words], cwd=tree, capture_output=True, text=True, env=_ENV
    )
    elapsed = time.perf_counter() - start
    if run.returncode not in (0, 1):  # status says 1 when the service is not running
        raise SystemExit(f"{tree}: presswatch {' '.join(words)}: {run.stderr}")
    return elapsed


def measure(reference: Path, runs: int, config: Path) -> list[tuple[str, float, float]]:
    """Return (command, reference median, this checkout's median) per command, in seconds."""
    rows = []
    for args in COMMANDS:
        times: dict[Path, list[float]] = {reference: [], ROOT: []}
        timed(reference, args, config), timed(ROOT, args, config)  # warm the file cache
        for _ in range(runs):
            for tree in (reference, ROOT):
                times[tree].append(timed(tree, args, config))
        rows.append(
            (" ".join(args), statistics.median(times[reference]), statistics.median(times[ROOT]))
        )
    return rows


def main() -> None:
    """Time each command in both checkouts and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True, help="the checkout to compare")
    parser.add_argument("--runs", type=int, default=15, help="runs per command and checkout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = measure(args.reference.resolve(), args.runs, example_config(Path(folder)))
    print("| command | reference (s) | this checkout (s) | ratio |\n|---|---|---|---|")
    for command, before, after in rows:
        print(f"| `{command}` | {before:.3f} | {after:.3f} | {after / before:.2f} |")


if __name__ == "__main__":
    main()
