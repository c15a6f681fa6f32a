"""Summarise a press release: the publisher's real lead, else the body's leading sentences.

Pure and stdlib-only. Nothing here raises for odd text: when neither the lead nor the body
gives anything (both empty, or only a title repeat), ``summarize`` returns "" and the
renderer shows the title alone. A bad ``max_chars`` (< 1) raises ``ValueError``.

The summary is one paragraph (whitespace collapsed), a prefix of the cleaned source text made
of whole sentences (of an interview, the prefix of its intro or first answer: one speaker; of a
body, from its first line of prose: the unpunctuated lines before it, a kicker or a byline, are
left out, and no unpunctuated line joins the next); only a first sentence longer than the
budget is cut, at a word boundary, and then ends with "…" (counted in the budget). The budget
is in Latin characters' worth (bot/text/reading.py): a Han, kana or Hangul character counts three.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator

from bot.text.datelines import DATE as _DATE
from bot.text.datelines import strip_dateline
from bot.text.reading import cut_words, width
from bot.text.sentences import CLOSERS as _CLOSERS
from bot.text.sentences import OPENERS as _OPENERS
from bot.text.sentences import split_sentences

_SPACE = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_WORD = re.compile(r"\w+")

# Leads that describe the site or advertise instead of summarising, in words any site may use:
# an og:description default ("<Name> is the leading news agency", "Official website of …"), a
# call to subscribe or read on. One site's own lines ("Go back", "An archive photo") are data:
# its source's drop_lines and trailers, which extraction applies to the lead before it gets here.
_SELF_DESCRIPTION = (
    r"[^\W\d_][^\s,.]{0,40}(?:\s[^\s,.]{1,40}){0,3}\s{1,3}(?:is|[-–—])\s{1,3}"
    r"(?:[^\s,.]{1,40}\s{1,3}){0,4}"
    r"(?:(?:news|information|press)\s{1,3}agency"
    r"|информационн\w{0,4}\s{1,3}агентств)"
)
_BOILERPLATE = re.compile(
    rf"(?:{_SELF_DESCRIPTION}"
    r"|read (?:more|also)|more on|subscribe|follow us|click here|see also"
    r"|all rights reserved|we use cookies|(?:latest|breaking|top|recent) news"
    r"|official (?:web)?site|(?:photo|фото)\s?:"
    r"|подписывайтесь|подпишитесь|читайте (?:также|далее|подробнее|нас)"
    r"|подробнее|смотрите также"
    r"|все права защищены|последние новости|новости дня"
    r"|официальн\w{0,3} (?:интернет-)?(?:сайт|портал))",
    re.IGNORECASE,
)
# A credit for where the text came from, which sums up nothing: "Mit Informationen der ARD-
# Korrespondenten sowie der Nachrichtenagenturen AFP, AP, dpa …" (de_BR's ticker, before its
# first entry), "With reporting by …", "This article was machine translated". Openings that prose
# shares ("По материалам дела, …", "Mit Informationen aus dem Ministerium hat …") count only
# when an agency or correspondent is named soon after.
_AGENCY = (
    r"(?=[^\n]{0,120}?(?:agentur|agenc|агентств|korrespond|correspond|корреспондент"
    r"|\b(?:dpa|afp|ap|reuters|kna|epd|тасс|риа)\b))"
)
_CREDIT = re.compile(
    r"(?:(?:with|additional) reporting (?:by|from)\b|mit agenturmaterial"
    r"|this (?:article|story|text) (?:was|has been|is) (?:automatically |machine[- ])?translated"
    r"|(?:with information from|mit (?:informationen|material|angaben) (?:von|der|des|aus)"
    rf"|по материалам|с использованием материалов)\b{_AGENCY})",
    re.IGNORECASE,
)
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
# A dash opening a paragraph: one speaker's turn in an interview.
_TURN = re.compile(r"[-–—]\s+")
# A list item's marker; not a dash of direct speech ("– ", "— ").
_BULLET = re.compile(r"[-•*·▪]\s")
_LINKISH = re.compile(r"https?://|www\.|t\.me/|©")
# A sentence ends with one of these (quotes and brackets aside), in the scripts seen.
_ENDS = frozenset(".!?…。！？।؟")
_LINE_CLOSERS = _CLOSERS + "“‘"  # and a German quote's „…“, ‚…‘ at a paragraph's end
# An unpunctuated line opening a body with fewer words (or, in a script without spaces,
# characters) is a kicker, byline, date, heading or caption ("Hauptinhalt", "Von Nina Magoley",
# "Stand: 22.04.2024, 06:00 Uhr", "Lesedauer: 4 Minuten", "新华社记者", "USA stoppen
# Schattentanker Acht Namen, vier Flaggen – und tonnenweise Öl für China"); a longer one is a
# standfirst without its full stop ("Tax agency will hire more than 1,000 debt collectors to
# claw back up to R50bn per year in revenue owed to it": za_TimesLive, 22 words).
_STANDFIRST_WORDS, _STANDFIRST_CHARS = 15, 40
# A video or audio player's running time: "02:57 Min.", "1:02:03 min".
_DURATION = re.compile(r"\d{1,2}(?::\d{2}){1,2}\s?min\b", re.IGNORECASE)
_MIN_LEAD = 40  # shorter leads count only when they are a full sentence
_HEAD_LINES, _HEAD_CHARS = 8, 2000  # the body's opening, where its headings are
# Japanese and Chinese: kana and Han, and the full-width punctuation and forms written with them.
_CJK_LETTER = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
_CJK_LETTERS = re.compile(f"[{_CJK_LETTER}]")
_CJK = f"{_CJK_LETTER}\u3000-\u303f\uff00-\uffef"
_CJK_SPACE = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
_CJK_END = re.compile("[。！？][」』）”]*")
_BYLINE_WORDS = 5  # an unpunctuated tail of fewer words ends a standfirst's line: a byline
# A heading saying where and when: "Заявление для СМИ Министра … М.Нуртлеу, Москва, 12 марта
# 2024 года" (mid.ru), "…, Moscow, March 12, 2024"; no standfirst.
_PLACE_AND_DATE = re.compile(rf",\s?[A-ZА-ЯЁ][^\W\d_][^,\n]{{0,30}},\s?{_DATE}(?:\sгода|\sг\.?)?$")


def summarize(*, title: str, lead: str, body: str, max_chars: int, lang: str = "") -> str:
    """Return a summary of at most max_chars Latin characters' worth, or "" for nothing to say."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    title = _collapse(title)
    if is_real_lead(lead, title=title, body=body):
        text = _whole_cjk(_clean(lead, title))
    else:
        # Only the start of a long body can reach the summary; don't scan the rest.
        head = body[: 4 * max_chars + 2 * len(title) + 400]
        text = _interview_lead(head, title) or head
        lang = _language(text[:400], lang)
        units = itertools.dropwhile(
            lambda s: _is_title(s, title), _body_units(text, title, lang, max_chars)
        )
        first = next(units, None)
        if first is not None:
            return _fit(itertools.chain([first], units), max_chars)
        # Nothing but lines a summary leaves out (list items, a kicker): they are all there is.
        text = _clean(text, title)
    sentences = split_sentences(text, _language(text, lang))
    return _fit(itertools.dropwhile(lambda s: _is_title(s, title), sentences), max_chars)


def sentences(text: str, lang: str = "") -> Iterator[str]:
    """Yield the sentences of text in order ("U.S." or "г." and such do not end one)."""
    collapsed = _collapse(text)
    return split_sentences(collapsed, _language(collapsed, lang))


def is_real_lead(lead: str, *, title: str, body: str = "") -> bool:
    """Tell whether lead is a publisher's summary, not a title, boilerplate, credit or headings."""
    text = strip_dateline(_collapse(lead))
    if not text or _BOILERPLATE.match(text) or _CREDIT.match(text) or _LINKISH.search(text):
        return False
    if _is_title(text, _collapse(title)):
        return False
    if len(text) < _MIN_LEAD and not _is_full_sentence(text):
        return False
    return not _is_cut_excerpt(text, body, title) and not _runs_headings(text, body)


def _interview_lead(body: str, title: str) -> str:
    """Return the part of an interview's body a summary may join: its intro, else its first
    answer without the dash; "" when the body holds no question turn.

    Joined, turns read as one speaker ("…this year? - The main priority…"): so a summary never
    runs from one turn into the next (the CSTO's interview to TASS, odkb-csto-en).
    """
    paragraphs = [p.strip() for p in _PARAGRAPH.split(body.strip()) if p.strip()]
    if paragraphs and _is_title(paragraphs[0], _collapse(title)):
        paragraphs = paragraphs[1:]
    turns = [i for i, p in enumerate(paragraphs) if _TURN.match(p)]
    asked = next((i for i in turns if paragraphs[i].rstrip(_CLOSERS).endswith("?")), None)
    if asked is None:
        return ""
    if asked > 0 and asked == turns[0]:  # an introduction precedes the questions: it alone
        return "\n".join(paragraphs[:asked])
    answer = next((i for i in turns if i > asked), None)
    if answer is None or paragraphs[answer].rstrip(_CLOSERS).endswith("?"):
        return ""
    end = next((i for i in turns if i > answer), len(paragraphs))
    return "\n".join([_TURN.sub("", paragraphs[answer]), *paragraphs[answer + 1 : end]])


def _body_units(body: str, title: str, lang: str, max_chars: int) -> Iterator[str]:
    """Yield the sentences a summary of body may join, each line its own: after the lines that
    open it and are no prose, up to a line that does not end as a sentence.

    A line without end punctuation is no start of the next line's sentence: joined, the two read
    as one ("… | wdr aktuell 02:57 Min.. Verfügbar bis …", "Von Nina Magoley Bislang gehen …":
    the fundus pages' de_WDR, 36 of their 235 summaries before). So the lines before the prose
    (a kicker, a byline, a date, "Stand: …", "Lesedauer: …", a player's duration, a list of key
    points, a repeated title) are left out; a long unpunctuated first line (a standfirst without
    its full stop) is a summary alone, whole; and the first unpunctuated line after the prose
    ends it, unless the prose so far is one question or quotation: then that was a heading.
    """
    started = False
    held = dropped = ""  # a first line of one short sentence; one found to be a heading
    for line in _lines(body):
        if not started:
            line = strip_dateline(line)
            if not line or _is_title(line, title) or _is_no_prose(line, title):
                continue
            started = True
            if not _ends_sentence(line):
                yield from _standfirst(line, lang, max_chars)
                return
            units = list(split_sentences(line, lang))
            if len(units) == 1 and _may_be_heading(line):
                held = units[0]
                continue
            dropped = ""
            yield from units
            continue
        if _CREDIT.match(line):
            break  # where the text came from, not more of it
        if held and not _ends_sentence(line):
            # A question or pull quote, then a byline ("Что ждет рынок в 2025 году?" /
            # "Александр Иванов, БЕЛТА", de_ZDF, kr_HankookIlbo): the lead is still to come.
            dropped, held, started = dropped or held, "", False
            continue
        if held:
            yield held
            held = dropped = ""
        yield from split_sentences(line, lang)
        if not _ends_sentence(line):
            return  # _fit keeps it only as the first: what follows is another line's text
    if held or dropped:
        yield held or dropped  # nothing followed it: it is all there is


def _may_be_heading(line: str) -> bool:
    """Tell whether a first line of prose of one sentence may be a heading: a question or a
    quotation (a pull quote). A short statement is kept: "Лукашенко провёл совещание с
    губернаторами." before "Фото: БЕЛТА" or a crosshead is the lead, not a heading."""
    return line.rstrip(_LINE_CLOSERS).endswith("?") or line[:1] in _OPENERS


def _standfirst(line: str, lang: str, max_chars: int) -> Iterator[str]:
    """Yield an unpunctuated first line whole when it fits, else its sentences; its unpunctuated
    rest after a sentence is left to _fit, which drops it, when it is a byline or does not fit.
    """
    units = list(split_sentences(line, lang))
    # Split, a false full stop ("С 1 января 2025 г. Минобороны начнет …", "des 1. FC
    # Kaiserslautern") would leave the line's start alone: _fit ends a summary at its first
    # unpunctuated unit. But "… lebendig. Von Eva Kirchner-Rätsch" (de_RBB24) ends in a byline.
    if width(line) <= max_chars and len(units[-1].split()) >= _BYLINE_WORDS:
        yield line
    else:
        yield from units


def _lines(body: str) -> Iterator[str]:
    """Yield body's lines collapsed, a line broken inside a sentence joined to its rest."""
    pending = ""
    for raw in _PARAGRAPH.split(body):
        line = _collapse(raw)
        if not line:
            continue
        # "It adopted" / "a statement …", "He said:" / "«…»": one sentence over two lines.
        if pending and (
            pending[-1] in ",:;" or (line[0].islower() and not _ends_sentence(pending))
        ):
            pending = f"{pending} {line}"
            continue
        if pending:
            yield pending
        pending = line
    if pending:
        yield pending


def _is_no_prose(line: str, title: str) -> bool:
    """Tell whether a line opening a body is no prose: short and unpunctuated, a list item, the
    title with the site's name, a heading ending in where and when, or a player's duration
    ("02:57 Min.. Verfügbar bis 06.05.2024.")."""
    if _DURATION.match(line) or _CREDIT.match(line):
        return True
    if _ends_sentence(line):
        return False
    if " " in line:
        short = len(_WORD.findall(line)) < _STANDFIRST_WORDS
    else:
        short = len(line) < _STANDFIRST_CHARS
    # A line starting in lower case is a fragment: the rest of a kicker ("…as Bela Bela
    # communities cry foul": ls_LesothoTimes) or a byline ("von Manuela Conrad": de_ZDF).
    fragment = line.lstrip(_OPENERS + "…. ")[:1].islower()
    # "Feuerwehrleute sollen später in Pension | wdr aktuell": the title and where it ran.
    titled = bool(title) and _key(line).startswith(_key(title))
    # Unpunctuated list items ("- Two batches of $1 bills feature an error": dailymail.co.uk's
    # key points, "- Copy link": bhaskar.com) precede the prose they sum up.
    placed = _PLACE_AND_DATE.search(line[-120:]) is not None  # bounded: a long line
    return short or fragment or titled or placed or _BULLET.match(line) is not None


def _ends_sentence(text: str) -> bool:
    """Tell whether text ends with a sentence's end punctuation (quotes and brackets aside)."""
    return text.rstrip(_LINE_CLOSERS)[-1:] in _ENDS


def _collapse(text: str) -> str:
    """Join text into one paragraph with single spaces."""
    return _SPACE.sub(" ", _INVISIBLE.sub("", text)).strip()


def _clean(text: str, title: str) -> str:
    """Collapse text after dropping a repeated title line and a leading dateline."""
    first, newline, rest = text.lstrip().partition("\n")
    # CSTO pages repeat the title on its own line with the date glued on: "<title> 12.03.2024".
    if newline and _is_title(first, title):
        text = rest
    return strip_dateline(_collapse(text)).strip()


def _key(text: str) -> str:
    """Reduce text to casefolded words for comparison."""
    return " ".join(_WORD.findall(text.casefold()))


def _is_title(text: str, title: str) -> bool:
    """Tell whether text is the title, possibly followed by a bare date."""
    want, got = _key(title), _key(text)
    if not want or not got.startswith(want):
        return False
    tail = got[len(want) :]
    return not tail or (tail[0] == " " and tail.replace(" ", "").isdigit())


def _is_full_sentence(text: str) -> bool:
    """Tell whether text looks like a complete sentence of at least two words."""
    first = text.lstrip(_OPENERS)[:1]
    return (
        len(text.split()) >= 2
        and (first.isupper() or first.isdigit())
        and text.rstrip(_CLOSERS)[-1:] in ".!?…"
    )


def _is_cut_excerpt(lead: str, body: str, title: str) -> bool:
    """Tell whether lead is the body's opening cut off mid-sentence (an auto-made excerpt)."""
    stem = lead.removesuffix("…").removesuffix("...").rstrip()
    if not body or not stem or stem.rstrip(_CLOSERS)[-1:] in ".!?":
        return False
    head = _clean(body[: 2 * len(lead) + 400], title)
    return len(head) > len(stem) and head.casefold().startswith(stem.casefold())


def _runs_headings(lead: str, body: str) -> bool:
    """Tell whether lead runs two or more unpunctuated lines of the body's first eight together.

    kr_MBN's description is its four headings in a row, no sentence among them ("… 가난에 공장에서
    일한 ‘소년공’ 제때 치료받지 못해 장애판정도 …"); the body gives them one a line, then the lead.
    """
    key = f" {_key(lead)} "
    lines = (_collapse(line) for line in _PARAGRAPH.split(body[:_HEAD_CHARS]))
    found = 0
    for line in itertools.islice(filter(None, lines), _HEAD_LINES):
        # Two words at least: a lone word ("Hauptinhalt") may be found in any lead.
        if not _ends_sentence(line) and len(line.split()) > 1 and f" {_key(line)} " in key:
            found += 1
    return found > 1


def _whole_cjk(lead: str) -> str:
    """Return a Japanese or Chinese lead without spaces between its characters or a tail cut off
    after its last full stop ("…とし、共", "…マグニ..."); other leads as they are.

    Written without spaces, such a text has one only where markup broke it: a name's reading
    ("韓国の 尹錫悦 （ ユンソンニョル ） 大統領は": jp_Yomiuri). Its every sentence ends in 。, so
    text after the last one is a description cut at a length (jp_Yomiuri, jp_Chunichi).
    """
    sample = lead[:200]
    if 2 * len(_CJK_LETTERS.findall(sample)) < len(sample):
        return lead
    whole = _CJK_SPACE.sub("", lead)
    ends = [match.end() for match in _CJK_END.finditer(whole)]
    return whole[: ends[-1]] if ends else whole


def _language(text: str, lang: str) -> str:
    """Return the language code, guessing ru or en from the script when lang is empty."""
    if lang:
        return lang.split("-")[0].lower()
    sample = text[:400].casefold()
    cyrillic = sum("а" <= ch <= "я" or ch == "ё" for ch in sample)
    latin = sum("a" <= ch <= "z" for ch in sample)
    return "ru" if cyrillic > latin else "en"


def _fit(sentences: Iterable[str], max_chars: int) -> str:
    """Join leading sentences within max_chars, cutting the first at a word when it is too long."""
    parts: list[str] = []
    used = 0
    for sentence in sentences:
        ends = _ends_sentence(sentence)
        if parts and not ends:
            break  # an unpunctuated tail is a caption or trailer ("Follow us on: X"), not prose
        extra = width(sentence) + (1 if parts else 0)
        if used + extra > max_chars:
            return " ".join(parts) if parts else cut_words(sentence, max_chars)
        parts.append(sentence)
        used += extra
        if not ends:
            break  # a standfirst without its full stop: the next sentence would read as its rest
    return " ".join(parts)
