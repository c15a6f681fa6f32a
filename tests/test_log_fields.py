"""JSON log lines carry structured fields (source, url, chat, article_id) set per poll and send."""

from __future__ import annotations

import json
import logging

import pytest

from bot.cli.logs import RedactingFormatter
from bot.logfields import log_fields
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.cli import presswatch
from tests.support.world import write_config


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, (), None)
    record.__dict__.update(extra)
    return record


def test_fields_of_the_block_and_of_extra_reach_the_json_line() -> None:
    formatter = RedactingFormatter(secrets=(), as_json=True)
    with log_fields(source="tass-com", url="https://tass.com/rss/v2.xml"):
        with log_fields(url="https://tass.com/1", article_id=None):
            inner = json.loads(formatter.format(_record("x", article_id=7)))
        outer = json.loads(formatter.format(_record("y")))
    after = json.loads(formatter.format(_record("z")))
    assert inner["source"] == "tass-com" and inner["url"] == "https://tass.com/1"
    assert inner["article_id"] == 7  # extra= wins, and stays a number
    assert outer["url"] == "https://tass.com/rss/v2.xml" and "article_id" not in outer
    assert not {"source", "url"} & set(after)


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(TypeError, match="sorce"), log_fields(sorce="x"):
        pass


def test_a_json_run_names_the_source_of_each_poll_line_and_the_chat_of_each_send(
    world, tmp_path
) -> None:
    with FakeTelegram() as telegram:
        config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=10)
        done = presswatch("once", "--config", str(config), "--log-json", token=DEFAULT_TOKEN)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    polls = [r for r in lines if r["message"].startswith("poll ")]
    assert polls and all(r["message"].split()[1] == r["source"] for r in polls)
    assert all(
        r["event"] == "poll" and r["url"] == r["message"].split()[2].rstrip(":") for r in polls
    )
    sends = [r for r in lines if r["message"].startswith("sent ")]
    assert sends and all(r["chat"] == "@presswatch_test" and r["channel"] == "main" for r in sends)
    assert all(isinstance(r["article_id"], int) and r["event"] == "send" for r in sends)
