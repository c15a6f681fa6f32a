"""Post templates per channel: vetted at start-up (one line per problem, exit 2), rendered in a
sandbox with escaped values, cut at the summary only, and sent through the loopback fake Bot API.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2.sandbox import SecurityError

from bot.cli.main import main
from bot.config import load_config
from bot.delivery.templates import (
    VARIABLES,
    compile_template,
    markup_problem,
    template_problems,
    visible_text,
)
from tests.fakes.telegram.entities import utf16_len
from tests.support.posting import CHAT, IMAGE, Harness
from tests.support.relay import add

TEMPLATE = (
    "<b>{{ title }}</b>\n<i>{{ source }}</i> · {{ time }}\n\n{{ summary }}\n\n"
    '<a href="{{ url }}">Read on {{ link_label }}</a>\n{{ hashtags | join(" ") }}'
)


def _config(tmp_path: Path, channel: str) -> Path:
    path = tmp_path / "presswatch.toml"
    path.write_text(
        '[storage]\npath = "archive.db"\n\n[[sources]]\nkey = "alpha"\n'
        'url = "https://alpha.example/rss.xml"\nkind = "feed"\n\n'
        f'[[channels]]\nname = "main"\nchat_id = "@presswatch_news"\n{channel}\n',
        encoding="utf-8",
    )
    return path


def _template(text: str) -> str:
    return f"template = {json.dumps(text)}"


@pytest.mark.parametrize(
    ("channel", "line"),
    [
        (
            _template("<b>{{ titel }}</b>"),
            "template: unknown variable 'titel' (did you mean 'title'?)",
        ),
        (
            _template("{{ ''.__class__.__mro__ }}"),
            "template: refused by the sandbox: access to attribute '__class__' of 'str' object "
            "is unsafe.",
        ),
        (
            _template("<b>{{ title }}</b>\n{% for t in topics %}{{ t }}"),
            "template: syntax error on line 2: Unexpected end of template.",
        ),
        (
            _template("<div>{{ title }}</div>"),
            "template: renders markup Telegram refuses: <div> is not one of Telegram's tags",
        ),
        (_template("<b>{{ title }}"), "template: renders markup Telegram refuses: <b> is never"),
        (_template("{{ title }} & more"), "template: renders markup Telegram refuses: a bare '&'"),
        (_template("{{ title | nosuchfilter }}"), "template: syntax error on line 1: No filter"),
        (_template("{{ title }}" + "x" * 4100), "template: the template's text is over 4000"),
        (
            'image = "photo"\n' + _template("{{ title }}" + "x" * 1010),
            "template: the template's text is over 1000",
        ),
        ('template_file = "post.j2"', "template_file: "),
        (
            _template("{{ title }}") + '\ntemplate_file = "post.j2"',
            "template_file: give `template` or `template_file`, not both",
        ),
    ],
    ids=["typo", "sandbox", "syntax", "tag", "unclosed", "ampersand", "filter", "long", "caption",
         "no-file", "both"],
)  # fmt: skip
def test_a_bad_template_exits_2_with_one_line_naming_the_key(
    tmp_path, capsys, restore_logging, channel, line
) -> None:
    status = main(["sources", "--config", str(_config(tmp_path, channel))])
    lines = capsys.readouterr().err.splitlines()
    assert status == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"presswatch: config error: channels[0].{line}"), lines


def test_a_template_file_is_read_beside_the_config(tmp_path) -> None:
    (tmp_path / "post.j2").write_text(TEMPLATE, encoding="utf-8")
    config = load_config(_config(tmp_path, 'template_file = "post.j2"'), environ={})
    assert config.channels[0].template == TEMPLATE


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ url.format.__globals__ }}",
        "{{ topics.append('x') }}",  # the values are not the template's to change
        "{{ 'a' * 100000000 }}",  # nor the memory to fill
        "{{ 10 ** 10 ** 10 }}",
    ],
)
def test_the_sandbox_refuses_escapes_changes_and_huge_texts(source: str) -> None:
    with pytest.raises(SecurityError):
        compile_template(source).render(url="x", topics=["a"])
    assert template_problems(source)[0].startswith("refused by the sandbox: ")


def test_every_documented_variable_renders_and_the_readme_lists_them_all() -> None:
    template = " ".join(f"{{{{ {name} }}}}" for name in VARIABLES)
    assert template_problems(template) == []
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert [name for name in VARIABLES if f"| `{name}` |" not in readme] == []


@pytest.mark.parametrize(
    ("markup", "problem"),
    [
        ('<a href="javascript:alert(1)">x</a>', "a link must be"),
        ("<span>x</span>", 'must be <span class="tg-spoiler">'),
        ("<b><i>x</b></i>", "</b> where </i> was due"),
        ("x<br/>y", "is not one of Telegram's tags"),
        ('<b class="x">y</b>', "an attribute Telegram does not read"),
    ],
)
def test_markup_telegram_refuses_is_named(markup: str, problem: str) -> None:
    assert problem in (markup_problem(markup) or "")


def test_telegram_s_own_markup_passes() -> None:
    markup = (
        '<b>a</b><i>b</i><u>c</u><s>d</s><span class="tg-spoiler">e</span><code>f</code>'
        '<pre><code class="language-python">g</code></pre><blockquote expandable>h</blockquote>'
        '<a href="https://x.example/?a=1&amp;b=2">i</a> &lt;&gt;&amp;&quot;&#39;'
    )
    assert markup_problem(markup) is None
    assert visible_text(markup) == "abcdefghi <>&\"'"


def test_a_templated_post_passes_the_fake_bot_api_with_its_values_escaped(
    tmp_path, telegram
) -> None:
    h = Harness(tmp_path, telegram, template=TEMPLATE, timezone="Europe/Moscow")
    title = 'Minsk & Moscow <agree> on "roaming"'
    add(h.store, 1, ("main", CHAT), title=title, summary="Prices fall.", topics=("peacekeeping",))
    h.run()
    (sent,) = telegram.messages_for(CHAT)
    assert sent.parse_mode == "HTML" and "&lt;agree&gt;" in sent.text
    assert sent.plain == (
        f"{title}\nTASS · 28.11.2026 12:00 MSK\n\nPrices fall.\n\n"
        "Read on tass.com/politics/1\n#Peacekeeping"
    )
    assert '<a href="https://tass.com/politics/1">' in sent.text


def test_a_templated_post_too_long_loses_summary_not_markup(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram, template=TEMPLATE)
    add(h.store, 1, ("main", CHAT), summary="Долгий текст. " * 600)
    h.run()
    (sent,) = telegram.messages_for(CHAT)
    assert 4000 - 30 < utf16_len(sent.plain) <= 4096
    # Cut after a whole sentence (the many it keeps fill the room), the link line kept.
    assert sent.plain.endswith("Долгий текст.\n\nRead on tass.com/politics/1")


def test_a_templated_caption_fits_1024(tmp_path, telegram) -> None:
    h = Harness(tmp_path, telegram, template=TEMPLATE, image="photo")
    add(h.store, 1, ("main", CHAT), summary="Word " * 600, image=IMAGE)
    h.run()
    (sent,) = telegram.messages_for(CHAT)
    assert sent.photo == IMAGE and utf16_len(sent.plain) <= 1024
    assert "Read on tass.com/politics/1" in sent.plain


@pytest.mark.parametrize(
    ("published", "shown"),
    [
        # A source that gives only the day (its midnight, UTC here): that day, with no time.
        (datetime(2026, 11, 28, 0, 0, tzinfo=UTC), "28.11.2026|28.11.2026"),
        (datetime(2026, 11, 28, 9, 30, tzinfo=UTC), "28.11.2026 04:30 EST|28.11.2026"),
    ],
)
def test_a_template_s_time_never_moves_a_date_alone_to_another_day(
    tmp_path, telegram, published, shown
) -> None:
    h = Harness(tmp_path, telegram, template="{{ time }}|{{ date }}", timezone="America/New_York")
    add(h.store, 1, ("main", CHAT), published=published)
    h.run()
    (sent,) = telegram.messages_for(CHAT)
    assert sent.plain == shown
