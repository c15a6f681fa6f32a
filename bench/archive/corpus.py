"""The archive bench's synthetic press releases: English and Russian, Zipf-like, with reprints."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
