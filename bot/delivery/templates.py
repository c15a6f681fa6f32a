"""Post templates per channel: Jinja2 in a sandbox, every value HTML-escaped, checked before use.

A template is compiled by Jinja2's `ImmutableSandboxedEnvironment` with autoescaping (scraped
text can never open a tag) and `StrictUndefined` (a misspelt variable is an error, not an empty
string).
`template_problems` is what start-up runs on each channel's template: syntax, unknown variables
(with the closest known name), a render of a sample article (the sandbox refuses attribute games
such as `''.__class__`), and the output's markup, which must be Telegram's HTML. At send time
`render_template` cuts only the summary until the visible text fits the limit.

    TemplateTooLong(ValueError)   the template's fixed text does not fit even without a summary
"""

from __future__ import annotations

import difflib
import re
from html.parser import HTMLParser
from types import MappingProxyType

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from bot.delivery.render import shorten_summary, utf16_len

# Every name a template may use, with what it holds (README "Post templates" lists them too).
VARIABLES = MappingProxyType(
    {
        "title": "the headline",
        "summary": "the summary (the lead when there is none); the only value cut to fit",
        "url": "the article's address",
        "link_label": "a short form of the address: host, the start of the path, and the query where the path names no article",
        "source": "the source's name",
        "source_key": "the source's key",
        "time": "publication time in the channel's time zone, 'DD.MM.YYYY HH:MM ZONE' (the day alone for a source giving only the day), or ''",
        "date": "publication day in the channel's time zone (a day-only source's day), 'DD.MM.YYYY', or ''",
        "author": "the byline, or ''",
        "lang": "the article's language code, or ''",
        "image": "the lead image's address, or ''",
        "topics": "the topics' labels (a list)",
        "hashtags": "the topic hashtags and the three most salient entity hashtags, '#' included (a list)",
        "also": "the other sources that carried the story (a list)",
    }
)
SAMPLE = MappingProxyType(
    {
        "title": "Sample headline & <more>",
        "summary": "A sample summary of two sentences. It is cut first when a post is too long.",
        "url": "https://example.org/news/2026/sample-article?id=1&lang=en",
        "link_label": "example.org/news/2026/sample-article",
        "source": "Sample Source",
        "source_key": "sample",
        "time": "28.11.2026 12:00 UTC",
        "date": "28.11.2026",
        "author": "A. Writer",
        "lang": "en",
        "image": "https://example.org/images/lead.jpg",
        "topics": ("Peacekeeping", "Trade"),
        "hashtags": ("#Peacekeeping", "#CSTO"),
        "also": ("Another Source",),
    }
)
# Telegram's HTML tags and the attributes it reads (core.telegram.org/bots/api#html-style).
_TAGS = {
    **dict.fromkeys(("b", "strong", "i", "em", "u", "ins", "s", "strike", "del"), ()),
    **dict.fromkeys(("tg-spoiler", "pre"), ()),
    "span": ("class",),
    "a": ("href",),
    "code": ("class",),
    "blockquote": ("expandable",),
    "tg-emoji": ("emoji-id",),
}
_BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});)")
_LINK_SCHEMES = ("http://", "https://", "tg://", "mailto:")
_MAX_REPEAT = 10_000  # the longest text `'-' * n` may make: a post is at most 4,096 anyway


class TemplateTooLong(ValueError):
    """The template's text alone, without a summary, is over the limit."""


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's sandbox (no attribute tricks, no changing the values) that also refuses to build
    huge texts by repetition or numbers by powers: a template must not exhaust the memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left, right):
        """Refuse `**`, and `*` whose result would be a text or list over `_MAX_REPEAT` long."""
        if operator == "**":
            raise SecurityError("the ** operator is not allowed in a post template")
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                if len(seq) * times > _MAX_REPEAT:
                    raise SecurityError(f"a repeated text over {_MAX_REPEAT:,} characters")
        return super().call_binop(context, operator, left, right)


def environment() -> ImmutableSandboxedEnvironment:
    """Return the sandbox every post template runs in."""
    return _Sandbox(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=False)


def compile_template(source: str) -> Template:
    """Compile a template (raises TemplateSyntaxError); `template_problems` vets it first."""
    return environment().from_string(source)


def template_problems(source: str, *, limit: int = 4000) -> list[str]:
    """Return what is wrong with a template, one line each (empty when it is fine)."""
    env = environment()
    try:
        parsed = env.parse(source)
        env.compile(parsed)  # an unknown filter or test fails here, with its line
    except TemplateSyntaxError as exc:
        return [f"syntax error on line {exc.lineno}: {exc.message}"]
    problems = [
        f"unknown variable {name!r}{_suggestion(name)}"
        for name in sorted(
            meta.find_undeclared_variables(parsed) - set(VARIABLES) - set(env.globals)
        )
    ]
    if problems:
        return problems
    try:
        shown = env.from_string(source).render(**_sample())
    except SecurityError as exc:
        return [f"refused by the sandbox: {exc}"]
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        return [f"cannot render a sample article: {exc}"]
    problem = markup_problem(shown)
    if problem:
        return [f"renders markup Telegram refuses: {problem}"]
    if not visible_text(shown).strip():
        return ["renders an empty post"]
    try:
        render_template(env.from_string(source), _sample(summary=""), limit=limit)
    except TemplateTooLong as exc:
        return [str(exc)]
    return []


def _sample(**changes: str) -> dict:
    """Return the sample article's values as the composer passes them (lists, not tuples)."""
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in SAMPLE.items()}
    return values | changes


def _suggestion(name: str) -> str:
    """Return " (did you mean 'x'?)" for the closest known variable, or ""."""
    close = difflib.get_close_matches(name, list(VARIABLES), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def render_template(template: Template, values: dict, *, limit: int) -> str:
    """Render, cutting only the summary until the visible text fits `limit` UTF-16 units.

    The result is trimmed as Telegram trims a message (a template's last line break is no text).
    """
    shown = template.render(**values).strip()
    if _fits(shown, limit):
        return shown
    summary, lang = str(values.get("summary") or ""), str(values.get("lang") or "")
    low, high, best = 0, utf16_len(summary) - 1, None
    while low <= high:  # the longest cut summary that fits
        middle = (low + high) // 2
        cut = shorten_summary(summary, middle, lang)
        attempt = template.render(**(values | {"summary": cut})).strip()
        if _fits(attempt, limit):
            best, low = attempt, middle + 1
        else:
            high = middle - 1
    if best is None:
        raise TemplateTooLong(
            f"the template's text is over {limit} characters even without a summary"
        )
    return best


def _fits(shown: str, limit: int) -> bool:
    """Tell whether rendered HTML shows at most `limit` UTF-16 units."""
    return utf16_len(visible_text(shown)) <= limit


def visible_text(markup: str) -> str:
    """Return what Telegram shows for HTML: tags dropped, entities decoded, ends trimmed."""
    reader = _Markup()
    reader.feed(markup)
    reader.close()
    return "".join(reader.text).strip()


def markup_problem(markup: str) -> str | None:
    """Return why Telegram's HTML parse mode would refuse `markup`, or None when it is fine."""
    reader = _Markup()
    reader.feed(markup)
    reader.close()
    if not reader.problem and reader.open:
        reader.problem = f"<{reader.open[-1]}> is never closed"
    if not reader.problem and _BARE_AMPERSAND.search(_TAG_TEXT.sub("", markup)):
        reader.problem = "a bare '&' (write &amp;)"
    return reader.problem


_TAG_TEXT = re.compile(r"<[^>]*>")


class _Markup(HTMLParser):
    """Read HTML as Telegram does: its tags only, properly nested; collect the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []
        self.problem: str | None = None

    def _refuse(self, problem: str) -> None:
        self.problem = self.problem or problem

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            shown = ", ".join(sorted(_TAGS))
            return self._refuse(f"<{tag}> is not one of Telegram's tags ({shown})")
        for name, value in attrs:
            if name not in _TAGS[tag]:
                self._refuse(f"<{tag}> has an attribute Telegram does not read: {name}")
            elif tag == "a" and not str(value or "").startswith(_LINK_SCHEMES):
                self._refuse(f"<a href={value!r}>: a link must be http(s), tg: or mailto:")
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self._refuse('<span> must be <span class="tg-spoiler">')
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._refuse(f"<{tag}/> is not one of Telegram's tags (use a line break)")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            expected = f"</{self.open[-1]}>" if self.open else "no closing tag"
            return self._refuse(f"</{tag}> where {expected} was due")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self._refuse("an HTML comment")
