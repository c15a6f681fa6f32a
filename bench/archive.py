"""Benchmark the archive at scale: bulk insert through the real schema, size, and search latency.

Fills a fresh SQLite file, opened as every command opens it (`bot.app.open_archive`: migrations,
WAL, FTS5 triggers and every index of the real schema), with synthetic English and Russian press
releases, then times `storage.search.search` for one-word, phrase and filtered queries. Prints a
Markdown table for BENCHMARKS.md. Usage:

    python -m bench.archive [--articles N] [--db PATH] [--reuse]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bot.app
from bot.config import config_from_dict
from storage import Store
from storage.search import latest, search

SOURCES = (
    ("tass-com", "en"),
    ("tass-ru", "ru"),
    ("kremlin-en", "en"),
    ("kremlin-ru", "ru"),
    ("mid-ru", "ru"),
    ("mid-en", "en"),
    ("belta-ru", "ru"),
    ("belta-en", "en"),
    ("odkb-ru", "ru"),
    ("interaffairs-en", "en"),
)
TOPICS = (
    "military-cooperation",
    "peacekeeping",
    "terrorism-extremism",
    "pandemic-health",
    "border-security",
    "drugs-crime",
    "politics-diplomacy",
    "economy",
    "cyber-information-security",
    "emergencies",
)
START = datetime(2021, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=5 * 365)
REPRINT_SHARE = 0.02

EN_FUNCTION = """the of and to in a on for with that by is was as at from be it are has have will this
an its their which were also been not or between during said we our all more other these two its
new first would can such under within further about after against over they he she his her""".split()
EN_CONTENT = """security cooperation collective treaty organization secretary general minister ministers
foreign defence military exercises exercise forces peacekeeping summit meeting talks statement
sanctions president government states member countries international regional border borders
terrorism extremism drug drugs trafficking cyber information economic economy trade development
agreement agreements parties session council delegation visit negotiations relations strategy
stability situation region Afghanistan Armenia Belarus Kazakhstan Kyrgyzstan Russia Tajikistan
Moscow Minsk Astana Bishkek Dushanbe Yerevan CSTO UN OSCE CIS SCO NATO EAEU BRICS joint staff
operation operations contingent training command headquarters units deployment air systems
equipment supply weapons nuclear threat threats challenges measures efforts support assistance
humanitarian pandemic coronavirus vaccine health medical crisis conflict settlement peace war
ceasefire briefing press release spokesperson ambassador embassy consultations declaration
resolution assembly parliament elections sovereignty integrity partnership dialogue bilateral
multilateral framework program programme plan plans project projects investment energy gas oil
grain prices inflation budget finance bank currency payments transport logistics railway
infrastructure migration migrants refugees crime criminal police investigation court law laws
legislation rights citizens people population youth education science culture sports media
journalists internet technologies digital data attack attacks hackers protection prevention
response emergency emergencies disaster floods earthquake rescue fire officials representatives
leaders heads chairman deputy director commander chief officers servicemen troops army navy
brigade battalion drills maneuvers readiness capabilities modernization procurement industry
enterprises production exports imports tariffs customs market markets growth recovery decline
agenda priorities results outcome documents signed adopted approved discussed noted stressed
emphasized expressed welcomed condemned called urged announced reported confirmed stated
agreed decided continued held took place week month year today yesterday tomorrow""".split()
EN_PHRASES = (
    "collective security",
    "foreign ministers",
    "joint staff",
    "peacekeeping forces",
    "secretary general",
    "member states",
    "drug trafficking",
    "information security",
    "border protection",
    "security council",
    "rapid reaction forces",
    "press conference",
)

RU_FUNCTION = """и в на с по о что не для как к из за от это также при его их был была были будет а
но до между во со об так все который которые которых этом этой года году он она они мы наш""".split()
# Stems and their ending sets, so the text carries the inflections search must see through.
RU_DECLENSIONS = {
    "noun_ia": "ия ии ию ией ий иям иями иях".split(),
    "noun_soft": "ь и ью ей ям ями ях".split(),
    "noun_hard": ["", "а", "у", "ом", "е", "ы", "ов", "ам", "ами", "ах"],
    "noun_a": "а ы е у ой ам ами ах".split(),
    "noun_ie": "ие ия ию ием ии ий иям иями иях".split(),
    "adj_hard": "ый ая ое ые ого ой ому ым ом ых ыми ую".split(),
    "adj_soft": "ий ая ое ие ого ой ому им ом их ими ую".split(),
}
RU_STEMS = {
    "noun_ia": """санкц ситуац операц организац делегац декларац резолюц стратег миграц
    информац экономик- инвестиц программ- энергетик- технолог""".split(),
    "noun_soft": "безопасност деятельност стабильност ответственност готовност промышленност".split(),
    "noun_hard": """министр президент саммит договор совет визит брифинг контингент штаб
    терроризм экстремизм конфликт документ парламент посол регион проект бюджет рынок""".split(),
    "noun_a": "границ встреч систем угроз мер помощ войн служб групп".split(),
    "noun_ie": "учен соглашен заявлен совещан сотрудничеств- решен обсужден урегулирован".split(),
    "adj_hard": """военн коллективн международн региональн совместн государственн пограничн
    иностранн миротворческ- информационн""".split(),
    "adj_soft": "экономическ российск политическ белорусск казахстанск".split(),
}
RU_WORDS = """Россия России Беларусь Армения Казахстан Кыргызстан Таджикистан Москва Минск
ОДКБ ООН ОБСЕ СНГ ШОС НАТО ЕАЭС БРИКС коронавирус пандемия вакцина заявил заявила отметил
подчеркнул сообщил провел состоялась приняли обсудили""".split()
RU_PHRASES = (
    "коллективной безопасности",
    "министров иностранных дел",
    "генеральный секретарь",
    "государств-членов",
    "миротворческих сил",
    "информационной безопасности",
    "незаконного оборота наркотиков",
    "Совета Безопасности",
    "объединенного штаба",
)

QUERIES = {
    "one-word": [
        "security",
        "sanctions",
        "summit",
        "peacekeeping",
        "vaccine",
        "Kyrgyzstan",
        "railway",
        "hackers",
        "санкции",
        "безопасности",
        "учения",
        "саммит",
        "пограничной",
        "ОДКБ",
        "миграции",
        "вакцина",
    ],
    "phrase": [
        '"collective security"',
        '"foreign ministers"',
        '"joint staff"',
        '"rapid reaction forces"',
        '"drug trafficking"',
        '"press conference"',
        '"коллективной безопасности"',
        '"генеральный секретарь"',
        '"министров иностранных дел"',
        '"объединенного штаба"',
    ],
    # Each with a source in its language, the last year and a topic.
    "filtered": [
        "security",
        "sanctions",
        "summit",
        "exercises",
        "санкции",
        "безопасности",
        "учения",
        "саммит",
    ],
}


@dataclass(frozen=True, slots=True)
class Language:
    """A vocabulary with Zipf-like cumulative weights, and the language's sources."""

    code: str
    words: tuple[str, ...]
    cum_weights: tuple[float, ...]
    sources: tuple[str, ...]


def russian_forms() -> list[str]:
    """Return every inflected form of the Russian stems ('-' marks a stem to take as is)."""
    forms = []
    for kind, stems in RU_STEMS.items():
        for stem in stems:
            stem = stem.rstrip("-")
            forms.extend(stem + ending for ending in RU_DECLENSIONS[kind])
    return forms


def pseudo_words(rng: random.Random, syllables: list[str], count: int) -> list[str]:
    """Return rare made-up words (names, jargon) for the vocabulary's long tail."""
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(count)]


def language(code: str, rng: random.Random, *, size: int = 3000) -> Language:
    """Build one language's vocabulary: function words, content words, phrases, a made-up tail."""
    if code == "en":
        head, content, phrases = EN_FUNCTION, EN_CONTENT, list(EN_PHRASES)
        syllables = "ka ro mi sel tan vor dre lin ost par gen tu ber ax mon".split()
    else:
        head, content, phrases = RU_FUNCTION, [*russian_forms(), *RU_WORDS], list(RU_PHRASES)
        syllables = "ка ро ми сел тан вор дре лин ост пар ген ту бер ах мон".split()
    content = list(dict.fromkeys(content))
    rng.shuffle(content)
    # Phrases sit among the content words, so each is as common as a mid-frequency word.
    for i, phrase in enumerate(phrases):
        content.insert(20 + 15 * i, phrase)
    words = [*head, *content]
    words += pseudo_words(rng, syllables, max(0, size - len(words)))
    weights = [1 / (rank + 2.7) for rank in range(len(words))]  # Zipf–Mandelbrot, s = 1
    return Language(
        code,
        tuple(words),
        tuple(itertools.accumulate(weights)),
        tuple(key for key, lang in SOURCES if lang == code),
    )


def sentences(words: list[str], rng: random.Random) -> str:
    """Join words into capitalised sentences of 8 to 20 words."""
    out, i = [], 0
    while i < len(words):
        n = rng.randint(8, 20)
        chunk = words[i : i + n]
        out.append(chunk[0][:1].upper() + chunk[0][1:] + " " + " ".join(chunk[1:]) + ".")
        i += n
    return " ".join(out)


def articles(count: int, *, seed: int = 1) -> Iterator[tuple]:
    """Yield article rows (ordered by publication time, as an archive fills) plus their topics."""
    rng = random.Random(seed)
    langs = [language("en", rng), language("ru", rng)]
    step = SPAN / max(count, 1)
    previous: list[tuple] = []
    for i in range(count):
        lang = langs[i % 2] if rng.random() < 0.9 else langs[rng.random() < 0.5]
        published = START + step * i + timedelta(seconds=rng.randint(0, 3600))
        source = rng.choice(lang.sources)
        topics = tuple(
            sorted(
                set(rng.choices(TOPICS, weights=range(10, 0, -1), k=rng.choice((0, 1, 1, 2, 2, 3))))
            )
        )
        if previous and rng.random() < REPRINT_SHARE:
            original = rng.choice(previous)  # a reprint: the same text under another source
            title, lead, body, dup = original[0], original[1], original[2], original[3]
        else:
            pick = lambda k: rng.choices(lang.words, cum_weights=lang.cum_weights, k=k)  # noqa: E731, B023 (used in this iteration only)
            title = sentences(pick(rng.randint(8, 15)), rng).rstrip(".")
            body = sentences(pick(rng.randint(80, 300)), rng)
            lead = body[: body.find(".", 120) + 1] if "." in body[120:] else body[:200]
            dup = i + 1
            previous = (previous + [(title, lead, body, dup)])[-1000:]
        yield (
            i + 1,
            source,
            lang.code,
            title,
            lead,
            body,
            published,
            topics,
            None if dup == i + 1 else dup,
        )


def fill(
    store: Store, count: int, *, batch: int, report: Callable[[int], None]
) -> tuple[float, float]:
    """Insert `count` articles in transactions of `batch`; return (database seconds, wall seconds).

    Database seconds count only the inserts and commits, not the making of synthetic text.
    """
    conn = store.db.conn
    # A bulk load's only tuning: a 256 MiB page cache, so the random inserts into the content-hash
    # and URL indexes stay in memory; WAL, synchronous=FULL and the FTS5 triggers are as in service.
    conn.execute("pragma cache_size = -262144")
    sql = """insert into articles (id, source_key, url, canonical_url, url_key, title, published_at,
                 author, lang, lead, body, summary, content_hash, discovered_at, duplicate_of,
                 silent, topics, entities)
             values (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, 1, ?, '[]')"""
    topic_sql = "insert into article_topics (article_id, key, kind, score, rules) values (?, ?, 'topic', 2.0, '[]')"
    started = time.perf_counter()
    rows = articles(count)
    done, in_db = 0, 0.0
    while chunk := list(itertools.islice(rows, batch)):
        values, topic_rows = [], []
        for id_, source, lang, title, lead, body, published, topics, dup in chunk:
            url = f"https://{source}.example/news/{id_}"
            stamp = published.isoformat(timespec="seconds")
            values.append(
                (
                    id_,
                    source,
                    url,
                    url,
                    url[8:],
                    title,
                    stamp,
                    lang,
                    lead,
                    body,
                    lead,
                    hashlib.sha256(body.encode()).hexdigest(),
                    stamp,
                    dup,
                    json.dumps(list(topics)),
                )
            )
            topic_rows.extend((id_, t) for t in topics)
        batch_started = time.perf_counter()
        with conn:  # one transaction per batch; the FTS5 triggers index every row
            conn.executemany(sql, values)
            conn.executemany(topic_sql, topic_rows)
        in_db += time.perf_counter() - batch_started
        done += len(chunk)
        report(done)
    return in_db, time.perf_counter() - started


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Return the milliseconds of `runs` calls of fn."""
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def latencies(store: Store, *, runs: int) -> dict[str, list[float]]:
    """Time each query kind over its query list, `runs` times each (after one warm-up pass)."""
    db = store.db
    since = START + SPAN - timedelta(days=365)
    calls: dict[str, list[Callable[[], object]]] = {
        "one-word": [lambda q=q: search(db, q) for q in QUERIES["one-word"]],
        "phrase": [lambda q=q: search(db, q) for q in QUERIES["phrase"]],
        "filtered": [
            lambda q=q, s=s, t=t: search(db, q, source=s, since=since, topic=t)
            for q, (s, t) in zip(
                QUERIES["filtered"],
                itertools.cycle(
                    [
                        ("tass-com", "politics-diplomacy"),
                        ("kremlin-en", "economy"),
                        ("mid-en", "military-cooperation"),
                        ("belta-en", "peacekeeping"),
                        ("tass-ru", "politics-diplomacy"),
                        ("kremlin-ru", "economy"),
                        ("mid-ru", "military-cooperation"),
                        ("odkb-ru", "peacekeeping"),
                    ]
                ),
            )
        ],
        "latest": [
            lambda: latest(db, limit=5),
            lambda: latest(db, limit=5, topic="economy"),
            lambda: latest(db, limit=5, source="tass-ru"),
        ],
    }
    results = {}
    for kind, fns in calls.items():
        for fn in fns:
            fn()  # warm-up: the first call pays for opening pages
        results[kind] = [ms for fn in fns for ms in timed(fn, runs)]
    return results


def p95(values: list[float]) -> float:
    """Return the 95th percentile."""
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.archive", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--articles", type=int, default=1_000_000, help="articles to insert (default 1,000,000)"
    )
    parser.add_argument(
        "--db", type=Path, default=Path("bench-archive.db"), help="SQLite file to create"
    )
    parser.add_argument("--batch", type=int, default=20000, help="articles per transaction")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each query")
    parser.add_argument(
        "--reuse", action="store_true", help="skip the fill: time queries on an existing --db"
    )
    args = parser.parse_args(argv)
    command = "python -m bench.archive " + " ".join(argv if argv is not None else sys.argv[1:])
    if not args.reuse and args.db.exists():
        parser.error(f"{args.db} exists: remove it, pick another --db, or pass --reuse")
    # The archive as every command opens it (bot.app): migrated, WAL, synchronous=FULL.
    config = config_from_dict({"storage": {"path": str(args.db)}}, path=args.db.parent / "p.toml")
    with bot.app.open_archive(config) as store:
        rates = None
        if not args.reuse:
            in_db, wall = fill(
                store,
                args.articles,
                batch=args.batch,
                report=lambda n: print(f"\rinserted {n:,}", end="", file=sys.stderr, flush=True),
            )
            rates = (args.articles / in_db, args.articles / wall)
            # Printed at once: the query timings that follow can take a while on a big archive.
            print(
                f"\nfilled {args.articles:,} articles: {in_db:,.0f} s in the database "
                f"({rates[0]:,.0f}/s), {wall:,.0f} s wall ({rates[1]:,.0f}/s)",
                file=sys.stderr,
                flush=True,
            )
        store.db.execute("pragma wal_checkpoint(truncate)")
        count = store.db.execute("select count(*) from articles").fetchone()[0]
        size = os.path.getsize(args.db)
        times = latencies(store, runs=args.runs)
    print(table(count=count, size=size, rates=rates, times=times, command=command))
    return 0


def table(
    *,
    count: int,
    size: int,
    rates: tuple[float, float] | None,
    times: dict[str, list[float]],
    command: str,
) -> str:
    """Return the results as Markdown."""
    lines = [
        f"`{command}` ({count:,} articles, SQLite {_sqlite_version()})",
        "",
        "| measure | value | goal |",
        "|---|---|---|",
    ]
    if rates is not None:
        lines.append(f"| insert rate (database time) | {rates[0]:,.0f} articles/s | ≥ 5,000/s |")
        lines.append(
            f"| insert rate (wall, text generation included) | {rates[1]:,.0f} articles/s | |"
        )
    lines.append(
        f"| database size | {size / 2**20:,.0f} MiB, {size / count:,.0f} bytes/article | |"
    )
    for kind, values in times.items():
        goal = "p95 < 50 ms" if kind != "latest" else ""
        lines.append(
            f"| `{'latest' if kind == 'latest' else 'search'}` {kind}: median / p95 "
            f"({len(values)} runs) | {statistics.median(values):.1f} / {p95(values):.1f} ms | {goal} |"
        )
    return "\n".join(lines)


def _sqlite_version() -> str:
    """Return the SQLite library version."""
    import sqlite3

    return sqlite3.sqlite_version


if __name__ == "__main__":
    sys.exit(main())
