"""URL identity, text cleaning and date parsing: small pure functions, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_config
from scrapers.dates import iter_datelines, month_number, parse_machine_date
from scrapers.encoding import decode_html
from scrapers.language import detect_language
from scrapers.normalize import (
    canonical_url,
    clean_text,
    normalize_author,
    strip_lines,
    url_key,
)

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SHIPPED = load_config(Path(__file__).resolve().parent.parent / "config.example.toml", environ={})


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (
            "https://TASS.com/politics/1451110?utm_source=rss&utm_medium=feed#top",
            "https://tass.com/politics/1451110",
        ),
        (
            "https://interaffairs.ru/news/show/36162?show_desktop_mode=true",
            "https://interaffairs.ru/news/show/36162",
        ),
        (
            "https://en.odkb-csto.org/news/?bxajaxid=abc123&PAGEN_1=2",
            "https://en.odkb-csto.org/news/?PAGEN_1=2",
        ),
        ("https://example.org:443/a?b=2&a=1", "https://example.org/a?a=1&b=2"),
        ("http://example.org:8080/x", "http://example.org:8080/x"),
    ],
)
def test_canonical_url(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical


def test_canonical_url_applies_source_rewrites() -> None:
    rewrites = ((r"//(www\.)?belta\.by/special/", "//belta.by/"),)
    assert (
        canonical_url("https://www.belta.by/special/politics/view/x-426756-2021", rewrites=rewrites)
        == "https://belta.by/politics/view/x-426756-2021"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "https://www.mid.ru/en/foreign_policy/news/1958539/",
            "http://mid.ru/en/foreign_policy/news/1958539",
        ),
        (
            "https://eng.belta.by/politics/view/x-141354-2021/",
            "https://eng.belta.by/politics/view/x-141354-2021",
        ),
    ],
)
def test_url_key_unifies_scheme_www_and_final_slash(a: str, b: str) -> None:
    assert url_key(a) == url_key(b)


def test_url_key_keeps_distinct_articles_apart() -> None:
    assert url_key("https://tass.com/politics/1") != url_key("https://tass.com/world/1")


def test_clean_text_collapses_spaces_and_keeps_paragraphs() -> None:
    assert (
        clean_text("The  Secretary\u00a0General\n\n\n\nsaid   so.\r\nNext")
        == "The Secretary General\n\nsaid so.\nNext"
    )


def test_strip_lines_removes_trailers_only_at_the_end_and_drop_lines_anywhere() -> None:
    text = "Go back is a phrase here.\n\nBody.\n\nDSC_4960.JPG\n\nGo back\n\nBack to the all news"
    cleaned = strip_lines(
        text, trailers=("Go back", "Back to the all news"), drop=(r"[\w-]+\.(jpe?g|png)",)
    )
    assert cleaned == "Go back is a phrase here.\n\nBody."


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Yuri Menshikov , editor", "Yuri Menshikov"),
        ("Konstantin Kosachev", "Konstantin Kosachev"),
        ("By Jane Doe", "Jane Doe"),
        ("", ""),
        ("Ivan Petrov, TASS", "Ivan Petrov, TASS"),
    ],
)
def test_normalize_author(raw: str, name: str) -> None:
    assert normalize_author(raw) == name


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("2022-05-16T15:40:12+03:00", datetime(2022, 5, 16, 12, 40, 12, tzinfo=UTC)),
        ("Mon, 16 May 2022 15:40:12 +0300", datetime(2022, 5, 16, 12, 40, 12, tzinfo=UTC)),
        ("2021-02-08 11:12", datetime(2021, 2, 8, 8, 12, tzinfo=UTC)),  # naive: Moscow wall time
        ("2022-05-16T12:40:12Z", datetime(2022, 5, 16, 12, 40, 12, tzinfo=UTC)),
        ("1652704812", datetime(2022, 5, 16, 12, 40, 12, tzinfo=UTC)),
    ],
)
def test_parse_machine_date(raw: str, utc: datetime) -> None:
    assert parse_machine_date(raw, zone=MOSCOW) == utc


def test_untrusted_offset_is_read_as_local_time() -> None:
    # en.kremlin.ru labels Moscow time with the pre-2014 offset +04:00.
    moment = parse_machine_date("2020-12-02T15:30:00+04:00", zone=MOSCOW, trust_offset=False)
    assert moment == datetime(2020, 12, 2, 12, 30, tzinfo=UTC)


def test_parse_machine_date_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_machine_date("yesterday", zone=MOSCOW)


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("May", 5),
        ("декабря", 12),
        ("Sept.", 9),
        ("07", 7),
        ("января", 1),
        ("Февраля", 2),
        ("мая", 5),
        ("май", 5),
        ("сент.", 9),
        ("нояб.", 11),
        ("февр", 2),
        ("июл", 7),
        ("July", 7),
    ],
)
def test_month_number(name: str, number: int) -> None:
    assert month_number(name) == number


def _first_dateline(text: str, pattern: str) -> tuple[datetime, str] | None:
    """Return the first valid date line in text, read in Moscow time."""
    return next(iter_datelines(text, pattern, zone=MOSCOW, now=NOW), None)


def test_dateline_without_year_takes_the_latest_past_year() -> None:
    pattern = r"(?P<city>[A-Z]+), (?P<month>[A-Za-z]+) (?P<day>\d{1,2})\. /TASS/"
    found = _first_dateline("MOSCOW, December 27. /TASS/. Text", pattern)
    assert found == (datetime(2025, 12, 26, 21, 0, tzinfo=UTC), "")
    found = _first_dateline("MOSCOW, November 27. /TASS/. Text", pattern)
    assert found is not None and found[0].year == 2026


def test_dateline_reads_author_group() -> None:
    pattern = r"(?P<hour>\d\d):(?P<minute>\d\d) (?P<day>\d\d)\.(?P<month>\d\d)\.(?P<year>\d{4}) •\s*(?P<author>[^\n]*)"
    assert _first_dateline("11:12 08.02.2021 • Yuri Menshikov , editor", pattern) == (
        datetime(2021, 2, 8, 8, 12, tzinfo=UTC),
        "Yuri Menshikov , editor",
    )


@pytest.mark.parametrize(
    ("text", "declared", "lang"),
    [
        ("Генеральный секретарь ОДКБ провёл брифинг для журналистов в Москве", "", "ru"),
        ("Annotation of magazine number 5, May, 2022: the statement of the leaders", "ru", "en"),
        ("The CSTO Secretary General held a briefing for journalists", "", "en"),
        (
            "Генеральны сакратар АДКБ правёў брыфінг і сустрэўся з журналістамі ў Мінску і ў Брэсце",
            "",
            "be",
        ),
        ("Ответственность за слово: дипломатия в эпоху информационных войн", "ru", "ru"),
        (
            "The May issue of the journal opens with the Statement of the Collective Security Council",
            "ru",
            "en",
        ),
    ],
)
def test_detect_language(text: str, declared: str, lang: str) -> None:
    assert detect_language(text, declared=declared) == lang


def test_month_number_rejects_words_that_are_not_months() -> None:
    with pytest.raises(ValueError):
        month_number("Москва")


def test_iter_datelines_yields_every_valid_match_in_order() -> None:
    pattern = r"(?P<day>\d{2})\.(?P<month>\d{2})\.(?P<year>\d{4})"
    text = "27.11.2026 sidebar\n31.02.2021 impossible\nHeadline 02.02.2021"
    assert [m for m, _ in iter_datelines(text, pattern, zone=MOSCOW, now=NOW)] == [
        datetime(2026, 11, 26, 21, 0, tzinfo=UTC),
        datetime(2021, 2, 1, 21, 0, tzinfo=UTC),
    ]


def test_moscow_wall_time_before_2014_is_utc_plus_4() -> None:
    # interaffairs.ru's "14:15 04.04.2012": Moscow kept UTC+4 from 2011 to October 2014.
    pattern = r"(?P<hour>\d\d):(?P<minute>\d\d) (?P<day>\d\d)\.(?P<month>\d\d)\.(?P<year>\d{4})"
    assert _first_dateline("14:15 04.04.2012 •", pattern) == (
        datetime(2012, 4, 4, 10, 15, tzinfo=UTC),
        "",
    )


@pytest.mark.parametrize(
    ("key", "raw", "canonical"),
    [
        # belta.by: the accessible /special/ copy is the same article.
        (
            "belta-ru",
            "https://www.belta.by/special/politics/view/zas-pandemija-426756-2021",
            "https://www.belta.by/politics/view/zas-pandemija-426756-2021",
        ),
        (
            "belta-ru",
            "http://belta.by/special/politics/view/zas-pandemija-426756-2021",
            "http://www.belta.by/politics/view/zas-pandemija-426756-2021",
        ),
        (
            "belta-ru",
            "https://www.belta.by/politics/view/zas-pandemija-426756-2021",
            "https://www.belta.by/politics/view/zas-pandemija-426756-2021",
        ),
        ("belta-ru", "https://www.belta.by/special/", "https://www.belta.by/"),
        # mid.ru: the Russian path with ?lang=en is the English article.
        (
            "mid-en",
            "https://www.mid.ru/ru/foreign_policy/news/1958539/?lang=en",
            "https://mid.ru/en/foreign_policy/news/1958539/",
        ),
        (
            "mid-en",
            "https://mid.ru/ru/foreign_policy/news/1958539/",
            "https://mid.ru/ru/foreign_policy/news/1958539/",
        ),
        # odkb-csto.org: http://, www. and Bitrix's AJAX marker.
        (
            "odkb-csto-ru",
            "http://www.odkb-csto.org/news/news_odkb/slug/?bxajaxid=91d04ac7e2",
            "https://odkb-csto.org/news/news_odkb/slug/",
        ),
        (
            "odkb-csto-en",
            "https://en.odkb-csto.org/news/news_odkb/?PAGEN_1=2&bxajaxid=5c1b3e2f0a",
            "https://en.odkb-csto.org/news/news_odkb/?PAGEN_1=2",
        ),
        (
            "interaffairs-ru",
            "https://interaffairs.ru/news/show/39594?show_desktop_mode=true",
            "https://interaffairs.ru/news/show/39594",
        ),
        (
            "tass-ru",
            "https://tass.ru/politika/26031600?utm_source=yandex.ru&utm_medium=organic",
            "https://tass.ru/politika/26031600",
        ),
    ],
)
def test_shipped_url_rewrites(key: str, raw: str, canonical: str) -> None:
    assert canonical_url(raw, rewrites=SHIPPED.source(key).url_rewrites) == canonical


RUSSIAN_PAGE = (
    "<html><head><title>Новости</title></head><body><h1>Генсек ОДКБ провёл брифинг</h1>"
    "<p>Журнал «Международная жизнь» отмечает юбилей – 90 лет.</p></body></html>"
)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (RUSSIAN_PAGE.encode("cp1251"), ""),  # no charset anywhere: guessed
        (RUSSIAN_PAGE.encode("cp1251"), "text/html"),  # a header without a charset
        (
            RUSSIAN_PAGE.replace(
                "<head>",
                '<head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">',
            ).encode("cp1251"),
            "",
        ),
        (RUSSIAN_PAGE.encode("cp1251"), "text/html; charset=windows-1251"),
        (RUSSIAN_PAGE.encode("utf-8"), ""),
        (RUSSIAN_PAGE.replace("«", '"').replace("»", '"').replace("–", "-").encode("koi8_r"), ""),
    ],
)
def test_decode_html_reads_russian_pages_without_a_declared_charset(
    content: bytes, content_type: str
) -> None:
    text = decode_html(content, content_type=content_type)
    assert "Генсек ОДКБ провёл брифинг" in text
    assert "Международная жизнь" in text


@pytest.mark.parametrize(
    ("encoding", "declared"),
    [
        ("cp1251", "text/html; charset=utf-8"),  # a template that lies about the charset
        ("utf-8", "text/html; charset=windows-1251"),
    ],
)
def test_a_wrong_charset_declaration_does_not_garble_the_text(encoding: str, declared: str) -> None:
    from scrapers.encoding import decode_html

    text = "<html><body><p>Генеральный секретарь ОДКБ провёл брифинг для журналистов.</p></body></html>"
    assert "Генеральный секретарь ОДКБ провёл брифинг" in decode_html(
        text.encode(encoding), content_type=declared
    )
