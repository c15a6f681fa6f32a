"""Malformed configs, as a user or a fuzzer writes them: each exits 2 with one line naming its key.

Every case changes one key of a valid config (issues 13 and 16 name most of them: a regex that
backtracks catastrophically, a replacement naming a missing group, durations that overflow a
date, a broken IPv6 URL, the archive on /proc, a misspelt key). The command line runs in-process
so the table stays fast; one subprocess run checks that all problems come at once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import NO_CHANNELS, NO_SOURCES, ConfigError, load_config
from storage import Store
from tests.support.cli import presswatch
from tests.support.configs import BLOCKS, config_text, run_sources

# (case id, block, line or None, the key path the error must name)
CASES = [
    # issue 16, item 6
    ("nested quantifiers", "sources[1]", "link_pattern = '(a+)+$'", "sources[1].link_pattern"),
    (
        "group 9 of 1",
        "sources[1]",
        r"url_rewrites = [['^(https)://', '\9']]",
        "sources[1].url_rewrites[0]",
    ),
    ("huge every", "sources[0]", 'every = "99999999999d"', "sources[0].every"),
    ("huge max_backoff", "health", 'max_backoff = "99999999999d"', "health.max_backoff"),
    ("broken IPv6 URL", "sources[0]", 'url = "http://[::1/feed"', "sources[0].url"),
    ("archive on /proc", "storage", 'path = "/proc/self/status"', "storage.path"),
    # issue 13: a misspelt key is an unknown key with a suggestion, not a missing one
    ("misspelt link_pattern", "sources[1]", "link_patern = '/news/'", "sources[1].link_patern"),
    ("misspelt name", "channels[0]", 'naem = "main"', "channels[0].naem"),
    ("misspelt fetch key", "fetch", "timeot = 5", "fetch.timeot"),
    (
        "misspelt selector",
        "sources[1]",
        '[sources.selectors]\nbdy = "article"',
        "sources[1].selectors.bdy",
    ),
    # the other regexes
    (
        "overlapping alternatives",
        "sources[1]",
        "drop_lines = ['ok', '(a|aa)+$']",
        "sources[1].drop_lines[1]",
    ),
    ("unbalanced drop_lines", "sources[1]", "drop_lines = ['(']", "sources[1].drop_lines[0]"),
    (
        "nested dateline",
        "sources[1]",
        r"dateline = '(?P<day>\d+)(?P<month>\s*\w+)*x'",
        "sources[1].dateline",
    ),
    ("dateline without groups", "sources[1]", r"dateline = '\d+\.\d+'", "sources[1].dateline"),
    (
        "verbose dateline",
        "sources[1]",
        r"dateline = '(?x) (?P<day>\d+) (?P<month>\d+)'",
        "sources[1].dateline",
    ),
    ("empty link_pattern", "sources[1]", "link_pattern = ''", "sources[1].link_pattern"),
    (
        "rewrite without replacement",
        "sources[1]",
        "url_rewrites = [['x']]",
        "sources[1].url_rewrites[0]",
    ),
    (
        "nested rewrite",
        "sources[1]",
        "url_rewrites = [['(a*)*', 'b']]",
        "sources[1].url_rewrites[0]",
    ),
    (
        "unknown group name",
        "sources[1]",
        r"url_rewrites = [['^(?P<x>a)', '\g<y>']]",
        "sources[1].url_rewrites[0]",
    ),
    ("keyword of nothing", "channels[0]", 'include = ["CSTO", " * "]', "channels[0].include[1]"),
    # durations
    ("zero every", "sources[0]", "every = 0", "sources[0].every"),
    ("negative every", "sources[0]", 'every = "-5m"', "sources[0].every"),
    ("huge recheck", "sources[0]", 'recheck = "9999999d"', "sources[0].recheck"),
    ("huge max_silence", "sources[0]", 'max_silence = "99999d"', "sources[0].max_silence"),
    ("huge digest", "channels[0]", 'digest = "400d"', "channels[0].digest"),
    ("huge dedup window", "dedup", 'window = "99999d"', "dedup.window"),
    # URLs
    ("not http", "sources[0]", 'url = "ftp://alpha.example/feed"', "sources[0].url"),
    ("port out of range", "sources[0]", 'url = "http://alpha.example:99999/"', "sources[0].url"),
    ("no host", "sources[0]", 'url = "https:///feed"', "sources[0].url"),
    ("space in URL", "sources[0]", 'url = "https://alpha example/feed"', "sources[0].url"),
    (
        "pages without {page}",
        "sources[0]",
        'pages = "https://alpha.example/feed?p=2"',
        "sources[0].pages",
    ),
    ("pages with a bad host", "sources[0]", 'pages = "https://[zz/{page}"', "sources[0].pages"),
    ("api URL", "telegram", 'api_base_url = "http://[::1/bot"', "telegram.api_base_url"),
    # paths
    ("archive is a directory", "storage", 'path = "/"', "storage.path"),
    ("archive is not SQLite", "storage", 'path = "presswatch.toml"', "storage.path"),
    ("archive is a device", "storage", 'path = "/dev/null"', "storage.path"),
    ("archive under a file", "storage", 'path = "presswatch.toml/archive.db"', "storage.path"),
    # numbers, names and choices
    ("huge backfill", "sources[0]", "backfill = 9223372036854775807", "sources[0].backfill"),
    ("unknown kind", "sources[0]", 'kind = "rss"', "sources[0].kind"),
    ("bad key", "sources[0]", 'key = "Bad Key!"', "sources[0].key"),
    ("duplicate key", "sources[2]", 'key = "alpha"', "sources[2].key"),
    ("unknown zone", "sources[0]", 'timezone = "Mars/Olympus"', "sources[0].timezone"),
    (
        "bad CSS",
        "sources[1]",
        '[sources.selectors]\nbody = "div[[bad"',
        "sources[1].selectors.body",
    ),
    ("missing url", "sources[2]", "url", "sources[2].url"),
    ("token in the file", "telegram", 'token = "123:abc"', "telegram.token"),
    ("per_second", "telegram", "per_second = 1000", "telegram.per_second"),
    ("admin chat", "telegram", 'admin_chat_id = "not a chat"', "telegram.admin_chat_id"),
    ("admin user ids", "telegram", "admin_user_ids = [-5]", "telegram.admin_user_ids"),
    ("chat id", "channels[0]", 'chat_id = "my channel"', "channels[0].chat_id"),
    ("quiet hours", "channels[0]", 'quiet_hours = "25:00-07:00"', "channels[0].quiet_hours"),
    ("unknown source", "channels[0]", 'sources = ["alpah"]', "channels[0].sources"),
    (
        "thread of a public channel",
        "channels[0]",
        "message_thread_id = 5",
        "channels[0].message_thread_id",
    ),
    ("zero timeout", "fetch", "timeout = 0", "fetch.timeout"),
    ("huge max_bytes", "fetch", "max_bytes = 99999999999999", "fetch.max_bytes"),
    ("zero parse deadline", "fetch", "parse_timeout = 0", "fetch.parse_timeout"),
    ("parse deadline of a day", "fetch", "parse_timeout = 86400", "fetch.parse_timeout"),
    ("parsing memory too small", "fetch", "parse_memory = 8", "fetch.parse_memory"),
    ("parsing memory in words", "fetch", 'parse_memory = "lots"', "fetch.parse_memory"),
    ("service address", "service", 'http = "localhost"', "service.http"),
    ("dedup threshold", "dedup", "threshold = 5", "dedup.threshold"),
    ("summary length", "summary", "max_chars = 10", "summary.max_chars"),
    ("alert threshold", "health", "alert_after_failures = 0", "health.alert_after_failures"),
    ("wrong type", "health", 'alert_after_failures = "three"', "health.alert_after_failures"),
    # a language's name, or a tag no article carries (articles keep 'en' of 'en-US')
    ("language name", "sources[0]", 'lang = "english"', "sources[0].lang"),
    ("channel language tag", "channels[0]", 'languages = ["en-US"]', "channels[0].languages[0]"),
    # the conf15 sweep: absurd values that passed `check`, then failed later or never
    ("CR LF in a header", "fetch", r'user_agent = "bot\r\nX-Evil: 1"', "fetch.user_agent"),
    ("huge header", "fetch", f'user_agent = "{"x" * 513}"', "fetch.user_agent"),
    (
        "quiet hours of no minutes",
        "channels[0]",
        'quiet_hours = "23:00-23:00"',
        "channels[0].quiet_hours",
    ),
    ("blank source name", "sources[0]", 'name = ""', "sources[0].name"),
    ("IPv6 address unclosed", "service", 'http = "[::1:9108"', "service.http"),
    ("pages on no host", "sources[0]", 'pages = "http://{page}"', "sources[0].pages"),
    (
        "bad probe chat",  # not also '"probe" needs telegram.probe_chat_id'
        "telegram",
        'uncertain = "probe"\nprobe_chat_id = "my_channel"',
        "telegram.probe_chat_id",
    ),
]


def test_the_base_config_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text(), encoding="utf-8")
    config = load_config(path, environ={})
    assert [s.key for s in config.sources] == ["alpha", "beta", "gamma"] and not config.warnings


@pytest.mark.parametrize(
    ("block", "line", "key"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_malformed_config_exits_2_with_one_line_naming_the_key(
    tmp_path: Path, capsys, restore_logging, block: str, line: str, key: str
) -> None:
    status, lines = run_sources(tmp_path, config_text({block: line}), capsys)
    assert status == 2, lines
    assert len(lines) == 1, lines
    given = re.search(r'key = "([^"]*)"', line) or re.search(r'key = "([^"]*)"', BLOCKS[block])
    key = key.replace(block, f"{block} ({given[1]})", 1) if block.startswith("sources") else key
    assert lines[0].startswith(f"presswatch: config error: {key}: "), lines


def test_the_table_covers_the_issues_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("top", "line"),
    [
        ("chanels = []\n", "chanels: unknown key (did you mean channels?)"),
        ("storage = 5\n", "storage: expected a table, got 5"),
    ],
)
def test_top_level_mistakes_name_their_key(tmp_path, capsys, restore_logging, top, line) -> None:
    text = config_text(top=top).replace('[storage]\npath = "archive.db"\n\n', "")
    status, lines = run_sources(tmp_path, text, capsys)
    assert (status, lines) == (2, [f"presswatch: config error: {line}"])


@pytest.mark.parametrize(
    ("block", "line", "message"),
    [
        ("health", 'alert_after_failures = "3"', "expected a whole number, got '3'"),
        ("fetch", 'timeout = "fast"', "expected a number, got 'fast'"),
        ("channels[0]", 'disable_notification = "yes"', "expected true or false, got 'yes'"),
        ("sources[0]", "name = 5", "expected a string, got 5"),
        ("channels[0]", "chat_id = 1.5", "expected a string or a whole number, got 1.5"),
        # TOML's true and tables, never Python's True and dicts
        ("fetch", "timeout = true", "expected a number, got true"),
        ("sources[0]", "name = false", "expected a string, got false"),
        ("fetch", "retries = {a = 1}", "expected a whole number, got a table {…}"),
        (
            "sources[0]",
            "every = true",
            "expected a duration such as '10m', '1h' or '30s', got true",
        ),
        (
            "sources[0]",
            'every = "*/5 * * * *"',
            "expected a duration such as '10m', '1h' or '30s', got '*/5 * * * *' "
            "(sources are polled at an interval, not on a cron schedule)",
        ),
        # A choice names its values as the file writes them, not as Python's enum members.
        ("telegram", 'uncertain = "maybe"', "expected 'hold' or 'resend' or 'probe', got 'maybe'"),
        (
            "channels[0]",
            'image = "big"',
            "expected 'link' or 'none' or 'preview_above' or 'preview_below' or 'photo', got 'big'",
        ),
    ],
)
def test_a_wrong_type_is_named_in_toml_s_words(
    tmp_path, capsys, restore_logging, block, line, message
) -> None:
    _, lines = run_sources(tmp_path, config_text({block: line}), capsys)
    assert [line.split(": ", 3)[3] for line in lines] == [message]


def test_a_misspelt_key_is_not_also_reported_missing(tmp_path, capsys, restore_logging) -> None:
    text = config_text({"sources[1]": "link_patern = '/news/'"}).replace(
        "link_pattern = '^https://beta\\.example/news/\\d+$'\n", ""
    )
    _, lines = run_sources(tmp_path, text, capsys)
    assert lines == [
        "presswatch: config error: sources[1] (beta).link_patern: unknown key (did you mean link_pattern?)"
    ]


def test_suggestions_for_unknown_sources_and_keys(tmp_path, capsys, restore_logging) -> None:
    _, lines = run_sources(tmp_path, config_text({"channels[0]": 'sources = ["alpah"]'}), capsys)
    assert lines[0].endswith("unknown source 'alpah' (did you mean 'alpha'?)")


def test_a_channel_naming_a_source_with_its_own_mistake_is_not_told_unknown(
    tmp_path, capsys, restore_logging
) -> None:
    # Seen by an operator: a bad time zone in a source also made the channel that names it say
    # "unknown source 'alpha'", a second problem that was not one.
    text = config_text(
        {"sources[0]": 'timezone = "Moscow"', "channels[0]": 'sources = ["alpha", "alpah"]'}
    )
    _, lines = run_sources(tmp_path, text, capsys)
    assert [line.split(": ", 2)[2] for line in lines] == [
        "sources[0] (alpha).timezone: unknown time zone 'Moscow' (use an IANA name such as Europe/Moscow)",
        "channels[0].sources: unknown source 'alpah' (did you mean 'alpha'?)",
    ]


def test_a_channel_naming_a_topic_of_a_broken_taxonomy_is_not_told_unknown(
    tmp_path, capsys, restore_logging
) -> None:
    text = config_text({"channels[0]": 'topics = ["economy"]'}) + (
        '\n[topics.economy]\nlabel = "Economy"\nphrases = ["trade"]\nthreshold = "high"\n'
    )
    _, lines = run_sources(tmp_path, text, capsys)
    assert [line.split(": ", 2)[2] for line in lines] == [
        "topics.economy.threshold: expected a positive number, got 'high'"
    ]


def test_a_filter_s_problem_names_its_own_channel_after_a_broken_one(
    tmp_path, capsys, restore_logging
) -> None:
    text = config_text({"channels[0]": 'chat_id = "bad chat"'}) + (
        '\n[[channels]]\nname = "second"\nchat_id = "@presswatch_two"\nsources = ["alpah"]\n'
    )
    _, lines = run_sources(tmp_path, text, capsys)
    assert [line.split(": ")[2] for line in lines] == ["channels[0].chat_id", "channels[1].sources"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    changes = [(block, line) for _, block, line, _ in CASES[:6]]  # the issue's six, in one file
    changes.append(("sources[2]", "link_patern = '/n/'"))
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text(changes), encoding="utf-8")
    result = presswatch("sources", "--config", str(path))
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and result.stdout == ""
    assert all(re.match(r"presswatch: config error: [a-z_\[\]0-9. ()]+: ", line) for line in lines)
    named = {line.split(": ")[2] for line in lines}
    assert named == {
        "sources[1] (beta).link_pattern",
        "sources[1] (beta).url_rewrites[0]",
        "sources[0] (alpha).every",
        "health.max_backoff",
        "sources[0] (alpha).url",
        "storage.path",
        "sources[2] (gamma).link_patern",
    }
    assert "Traceback" not in result.stderr


def test_a_config_without_channels_says_so(tmp_path: Path) -> None:
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text().replace(BLOCKS["channels[0]"], ""), encoding="utf-8")
    assert load_config(path, environ={}).warnings == (NO_CHANNELS,)
    # Saying so explicitly states the intent: an archive without posts.
    path.write_text("channels = []\n" + config_text().replace(BLOCKS["channels[0]"], ""))
    assert load_config(path, environ={}).warnings == ()


def test_errors_are_exceptions_with_every_line(tmp_path: Path) -> None:
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text({"fetch": "timeot = 5", "summary": "max_chars = 1"}))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.problems == (
        "fetch.timeot: unknown key (did you mean timeout?)",
        "summary.max_chars: expected a number from 100 to 3000, got 1",
    )


def test_status_warns_of_a_config_without_channels(tmp_path, capsys, restore_logging) -> None:
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text().replace(BLOCKS["channels[0]"], ""), encoding="utf-8")
    Store.open(tmp_path / "archive.db").close()
    assert main(["status", "--config", str(path)]) == 0
    assert f"warning: {NO_CHANNELS}" in capsys.readouterr().out


def test_a_config_without_sources_says_nothing_will_be_polled(tmp_path: Path) -> None:
    # The container image's own default config is such a file: a service that would sit idle.
    path = tmp_path / "presswatch.toml"
    path.write_text('channels = []\n[storage]\npath = "archive.db"\n', encoding="utf-8")
    assert load_config(path, environ={}).warnings == (NO_SOURCES,)
    path.write_text('channels = []\nsources = []\n[storage]\npath = "archive.db"\n')
    assert load_config(path, environ={}).warnings == ()


def test_an_entity_with_a_topic_s_key_is_refused(tmp_path, capsys, restore_logging) -> None:
    # Topics and entities share one key per article (article_topics) and one word in /latest and
    # /subscribe: an entity "csto" beside a topic "csto" overwrote its row and could not be followed.
    text = config_text({}) + (
        '\n[topics.csto]\nlabel = "CSTO"\nphrases = ["CSTO"]\n'
        '\n[entities.csto]\nlabel = "CSTO"\nphrases = ["ODKB"]\n'
    )
    _, lines = run_sources(tmp_path, text, capsys)
    assert [line.split(": ", 2)[2] for line in lines] == [
        "entities.csto: also a topic's key (topics.csto); give the entity another key"
    ]


def test_a_source_s_language_tag_is_accepted_and_a_channel_s_is_told_its_code(
    tmp_path: Path, capsys, restore_logging
) -> None:
    text = config_text({"sources[0]": 'lang = "pt-BR"', "channels[0]": 'languages = ["EN"]'})
    status, lines = run_sources(tmp_path, text, capsys)
    assert status == 2
    assert lines == [
        "presswatch: config error: channels[0].languages[0]: expected a two- or three-letter "
        "language code such as 'en' or 'ru', got 'EN' (did you mean 'en'?)"
    ]
