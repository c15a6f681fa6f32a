"""Find and strip a wire agency's dateline ("MOSCOW, May 16. /TASS/.") opening a text.

Pure and stdlib-only; the date pattern is shared with the summary's heading rule.
"""

from __future__ import annotations

import re

# Datelines. TASS: "MOSCOW, May 16. /TASS/.", "IGORA /Leningrad Region/, December 26. /TASS/.",
# "МОСКВА, 27 декабря. /Корр. ТАСС Михаил Тимофеев/."; BelTA: "MOSCOW, 1 July (BelTA) - ",
# "МИНСК, 2 февраля (БЕЛТА) - ", and with a byline
# "2 февраля, Москва /Эдуард Пивовар - БЕЛТА/.".
# Every repetition is bounded and each class excludes the delimiter after it: no backtracking.
_EN_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"
)
_RU_MONTH = (
    r"(?:января|февраля|марта|апреля|мая|июня"
    r"|июля|августа|сентября|октября|ноября|декабря)"
)
DATE = (
    rf"(?:{_EN_MONTH}\s{{1,3}}\d{{1,2}}|\d{{1,2}}\s{{1,3}}(?:{_EN_MONTH}|{_RU_MONTH}))"
    r"(?:,?\s\d{4})?"
)
# An upper-case city, optionally with a sub-place in slashes.
_PLACE = r"[A-ZА-ЯЁ][A-ZА-ЯЁ'.\- ]{1,40}(?:/[^/\n]{1,60}/)?"
# "/TASS/." or "/Корр. ТАСС Имя Фамилия/."
_SLASH_TAG = r"\s{0,3}/[^/\n]{2,80}/\s{0,3}\."
_PAREN_TAG = r"\s{0,3}\([^()\n]{2,40}\)\s{0,3}[-–—]"  # "(BelTA) -"
_DATELINE = re.compile(
    rf"\s*(?:{_PLACE},\s{{1,3}}{DATE}(?:\.?{_SLASH_TAG}|{_PAREN_TAG})"
    rf"|{DATE},\s{{1,3}}[^\W\d_][^,/\n]{{0,40}}{_SLASH_TAG})\s*"
)


def strip_dateline(text: str) -> str:
    """Remove a leading agency dateline (TASS, BelTA or 'CITY, Month Day (Agency) -')."""
    match = _DATELINE.match(text)
    return text[match.end() :] if match else text
