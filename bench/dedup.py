"""Near-duplicate detection at scale: check time per article as the archive grows, and recall.

Inserts synthetic English and Russian press texts into a real archive (SQLite file, real schema,
FTS triggers on), 550 a day over the simulated years, with a share of reprints of recent
articles (dateline, attribution and a few words changed). For every article it times the
near-duplicate check alone (`Enricher.find_original`: exact hash, LSH candidates, confirmation)
and reports median and p99 per 10% of the run, recall on the injected reprints and false merges.

    python -m bench.dedup --articles 1000000 --db /tmp/dedup.db
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bot.app
import bot.archive
from bot.config import config_from_dict
from bot.ingest.enrich import Enricher
from scrapers.models import Article
from storage import Store

PER_DAY = 550
EN = (
    "security cooperation organization member states secretary general council ministers defence "
    "foreign affairs meeting summit statement briefing delegation agreement exercises forces "
    "peacekeeping border terrorism drug trafficking information pandemic economy trade region "
    "collective treaty session declaration president government parliament agency press service "
    "development relations partners military joint staff training mission situation stability "
    "international regional strategic operational threat response program plan year week today "
    "said noted stressed discussed signed adopted held visited announced confirmed expressed"
).split()
RU = (
    "безопасность сотрудничество организация государства генеральный секретарь совет министры "
    "оборона иностранные дела встреча саммит заявление брифинг делегация соглашение учения силы "
    "миротворческие граница терроризм наркотрафик информационная пандемия экономика торговля регион "
    "коллективный договор сессия декларация президент правительство парламент агентство пресс-служба "
    "развитие отношения партнеры военный объединенный штаб подготовка миссия ситуация стабильность "
    "международный региональный стратегический угроза план год неделя сообщил отметил подчеркнул "
    "обсудили подписали приняли провели посетили объявил подтвердил выразил"
).split()


def synthetic(rng: random.Random, n: int) -> Article:
    """Return one synthetic release: unique numbers and names make each one distinct."""
    words = EN if rng.random() < 0.5 else RU
    sentences = []
    for _ in range(rng.randint(4, 12)):
        body = rng.choices(words, k=rng.randint(10, 25))
        body.insert(rng.randrange(len(body)), str(rng.randint(1, 99999)))
        sentences.append(" ".join(body).capitalize() + ".")
    title = " ".join(rng.choices(words, k=rng.randint(6, 12))).capitalize()
    return Article(
        url=f"https://src{n % 10}.example/news/{n}",
        canonical_url=f"https://src{n % 10}.example/news/{n}",
        title=title,
        body=" ".join(sentences),
        lang="en" if words is EN else "ru",
    )


def reprint(rng: random.Random, original: Article, n: int) -> Article:
    """Return a reprint: another source and title, a new dateline, two or three words changed."""
    words = original.body.split()
    for _ in range(rng.randint(2, 3)):
        words[rng.randrange(len(words))] = rng.choice(EN if original.lang == "en" else RU)
    body = "MOSCOW, 16 May (Agency) - " + " ".join(words) + " Follow us on Telegram."
    return Article(
        url=f"https://mirror{n % 3}.example/{n}",
        canonical_url=f"https://mirror{n % 3}.example/{n}",
        title="Reprint: " + original.title,
        body=body,
        lang=original.lang,
    )


def run(articles: int, db_path: Path, *, reprint_share: float, seed: int) -> dict:
    """Insert `articles` texts, timing each near-duplicate check; return the measurements."""
    rng = random.Random(seed)
    db_path.unlink(missing_ok=True)
    config = config_from_dict({"storage": {"path": str(db_path)}}, path=db_path.parent / "p.toml")
    with bot.archive.open_archive(config) as store:
        result = _fill(store, bot.app.enricher(config, store), articles, rng, reprint_share)
        return result | {"bytes": db_path.stat().st_size}


def _fill(
    store: Store, enricher: Enricher, articles: int, rng: random.Random, reprint_share: float
) -> dict:
    """Add the articles through the enricher's near-duplicate check, timing each check."""
    start = datetime(2021, 1, 1, tzinfo=UTC)
    recent: list[tuple[int, Article]] = []
    timings: list[float] = []
    found = missed = false_merges = 0
    for n in range(articles):
        now = start + timedelta(seconds=n * 86400 / PER_DAY)
        is_reprint = recent and rng.random() < reprint_share
        source_id, original = rng.choice(recent[-2000:]) if is_reprint else (None, None)
        article = reprint(rng, original, n) if is_reprint else synthetic(rng, n)
        minhash = enricher.signature(article)
        began = time.perf_counter()
        match = enricher.find_original(article, minhash, now=now)
        timings.append((time.perf_counter() - began) * 1000)
        if is_reprint:
            found += bool(match and match.article_id == source_id)
            missed += not (match and match.article_id == source_id)
        elif match:
            false_merges += 1
        article_id = store.add_article(
            article,
            source_key=f"s{n % 10}",
            now=now,
            minhash=minhash,
            duplicate_of=match.article_id if match else None,
        )
        if not is_reprint:
            recent.append((article_id, article))
            del recent[:-5000]
        if n and n % 50_000 == 0:
            print(f"  {n:>9,} articles, last check {timings[-1]:.2f} ms", flush=True)
    return {
        "timings": timings,
        "found": found,
        "missed": missed,
        "false_merges": false_merges,
    }


def report(result: dict, *, articles: int, command: str) -> str:
    """Return a Markdown report of the measurements."""
    timings = result["timings"]
    step = max(1, len(timings) // 10)
    rows = ["| archive size | median ms | p99 ms |", "|---:|---:|---:|"]
    for start in range(0, len(timings), step):
        chunk = sorted(timings[start : start + step])
        rows.append(
            f"| {start + len(chunk):,} | {statistics.median(chunk):.3f} | "
            f"{chunk[int(len(chunk) * 0.99) - 1]:.3f} |"
        )
    injected = result["found"] + result["missed"]
    recall = result["found"] / injected if injected else 1.0
    return "\n".join(
        [
            f"Near-duplicate check, {articles:,} synthetic articles ({PER_DAY}/day; LSH window 30 days)",
            "",
            *rows,
            "",
            f"Recall on {injected:,} injected reprints: {recall:.4f} ({result['missed']} missed); "
            f"false merges: {result['false_merges']}",
            f"Archive size: {result['bytes'] / 1e6:.0f} MB ({result['bytes'] / articles:.0f} bytes/article)",
            "",
            f"Command: `{command}`",
        ]
    )


def main() -> None:
    """Parse arguments, run the benchmark, print the report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/presswatch-dedup-bench.db"))
    parser.add_argument(
        "--reprints", type=float, default=0.05, help="share of reprints (default 0.05)"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = run(args.articles, args.db, reprint_share=args.reprints, seed=args.seed)
    print(
        report(
            result,
            articles=args.articles,
            command=f"python -m bench.dedup --articles {args.articles} --db {args.db}",
        )
    )


if __name__ == "__main__":
    main()
