"""The bot token never leaves presswatch: logs, JSON logs, the archive, alerts, `outbox`, /healthz.

The fake Bot API plays a proxy in front of Telegram that echoes the request path (which holds
the token) in its error: as JSON, which python-telegram-bot lower-cases, with ':' URL-encoded, or
as a 502 HTML page, which it quotes verbatim.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from telegram import Bot

from bot.app import open_app
from bot.cli.logs import RedactingFormatter
from bot.config import load_config
from bot.delivery.telegram import Message, TelegramSender, Uncertain
from bot.secrets import redact, scrubber
from bot.service.scheduler import Service
from storage import RunRecord, Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram, RateLimit
from tests.support.cli import presswatch
from tests.support.world import write_config

pytestmark = pytest.mark.telegram(
    rate_limit=RateLimit(per_chat_per_minute=60, global_per_second=30)
)

TOKEN = "987654321:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
CHANNEL, ADMIN = "@presswatch_test", "-100777"
ECHO = "Bad Request: chat not found (no route for {path})"  # PTB lower-cases what follows
PAGE = "<h1>502 Bad Gateway</h1><p>upstream failed for POST {path}</p>"


def _spellings(token: str) -> list[str]:
    """Return the ways an error text may carry the token."""
    number, _, secret = token.partition(":")
    return [
        token,
        token.lower(),
        token.upper(),
        quote(token, safe=""),
        quote(token, safe="").lower(),
        f"{number}%253A{secret}",
        f"{number}&#58;{secret}",
    ]


def _leaks(text: str, token: str = DEFAULT_TOKEN) -> list[str]:
    """Return the spellings of the token found in text (case-insensitively)."""
    folded = text.lower()
    return [form for form in _spellings(token) if form.lower() in folded]


@pytest.mark.parametrize("spelling", _spellings(TOKEN))
def test_every_spelling_of_the_token_is_redacted(spelling: str) -> None:
    text = f"POST https://proxy.example/bot{spelling}/sendMessage failed"
    assert (
        redact(text, secrets=[TOKEN])
        == "POST https://proxy.example/bot[redacted]/sendMessage failed"
    )


def test_the_secret_half_alone_is_redacted_and_other_text_is_kept() -> None:
    secret = TOKEN.partition(":")[2]
    assert redact(f"key={secret.lower()} id 987654321", secrets=[TOKEN]) == (
        "key=[redacted] id 987654321"
    )
    assert redact("nothing secret here", secrets=[TOKEN, ""]) == "nothing secret here"
    # A short secret half is redacted only beside its bot id: "wrong" stays a word.
    assert redact("bot999%3Awrong: a wrong token", secrets=["999:WRONG"]) == (
        "bot[redacted]: a wrong token"
    )


@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
def test_log_lines_redact_the_lower_cased_and_encoded_token(as_json: bool) -> None:
    formatter = RedactingFormatter(secrets=(TOKEN,), as_json=as_json)
    try:
        raise RuntimeError(f"not found /bot{TOKEN.lower()}/sendmessage")
    except RuntimeError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "%s", (quote(TOKEN, safe=""),), sys.exc_info()
        )
    text = formatter.format(record)
    assert not _leaks(text, TOKEN) and text.count("[redacted]") == 2  # message, exception
    if as_json:
        assert json.loads(text)["message"] == "[redacted]"


@pytest.mark.parametrize(
    ("description", "html", "status"),
    [(ECHO, False, 400), (ECHO.replace("{path}", "{quoted_path}"), False, 400), (PAGE, True, 502)],
    ids=["echoed path", "encoded path", "502 page"],
)
def test_the_sender_scrubs_telegram_errors(description: str, html: bool, status: int) -> None:
    async def send(base_url: str):
        sender = TelegramSender(Bot(DEFAULT_TOKEN, base_url=base_url))
        async with sender.bot:
            return await sender.send(Message(chat_id=CHANNEL, text="hi"))

    with FakeTelegram() as fake:
        fake.fail_next(status=status, description=description, html=html)
        outcome = asyncio.run(send(fake.base_url))
    assert "[redacted]" in outcome.reason and not _leaks(outcome.reason)
    assert isinstance(outcome, Uncertain) == html  # a 502 may have been sent; a 400 was not


def test_the_archive_scrubs_every_error_and_alert_it_stores(backend) -> None:
    store = backend.open(scrub=scrubber(DEFAULT_TOKEN))
    now = datetime(2024, 5, 1, tzinfo=UTC)
    leaked = f"proxy said /bot{DEFAULT_TOKEN.lower()}/getMe"
    store.sources.record_run(RunRecord("alpha", now, now, "error", error=leaked))
    alert = store.alerts.enqueue(chat_id=ADMIN, subject="alpha", kind="x", text=leaked, now=now)
    store.alerts.mark_retry(alert, error=leaked, at=now)
    store.outbox.channels.failing("main", CHANNEL, reason=leaked, now=now)
    texts = [
        *store.db.execute("select error from runs").fetchone(),
        *store.db.execute("select last_error from sources").fetchone(),
        *store.db.execute("select text, last_error from alerts").fetchone(),
        *store.db.execute("select reason from channels").fetchone(),
    ]
    store.close()
    assert all("[redacted]" in t and not _leaks(t) for t in texts), texts


def test_healthz_scrubs_an_error_stored_before_redaction(world, tmp_path: Path) -> None:
    config = load_config(
        write_config(tmp_path, world), environ={"PRESSWATCH_TELEGRAM_TOKEN": TOKEN}
    )
    legacy = Store.open(config.storage_path)  # as written by an older presswatch: no scrub
    now = datetime.now(UTC)
    legacy.sources.record_run(
        RunRecord("tass-com", now, now, "error", error=f"GET /bot{TOKEN.lower()}/x: 502")
    )
    legacy.close()

    async def healthz():
        async with open_app(config, deliver=False) as app:
            return await Service(app).monitor.healthz()

    _, body = asyncio.run(healthz())
    error = body["sources"]["tass-com"]["last_error"]
    assert error == "GET /bot[redacted]/x: 502" and not _leaks(json.dumps(body), TOKEN)


@pytest.mark.parametrize("log_json", [False, True], ids=["plain logs", "json logs"])
def test_a_proxy_echoing_the_token_leaks_it_nowhere(world, telegram, tmp_path, log_json) -> None:
    config = write_config(
        tmp_path,
        world,
        telegram_url=telegram.base_url,
        backfill=2,
        extra_telegram=f'admin_chat_id = "{ADMIN}"\n',
    )
    # The channel's chat "is not found": its posts fail, and the operator is alerted.
    telegram.fail_next(50, status=400, description=ECHO, chat=CHANNEL)
    once = presswatch(
        "once", "--config", str(config), *(["--log-json"] if log_json else []), token=DEFAULT_TOKEN
    )
    assert once.returncode == 1 and "[redacted]" in once.stderr, once.stderr
    assert not _leaks(once.stdout + once.stderr)

    [alert] = telegram.messages_for(ADMIN)  # the operator hears of the failing channel
    assert "refuses posts" in alert.text and "[redacted]" in alert.text
    assert not _leaks(alert.text)

    listing = presswatch("outbox", "--config", str(config), token=DEFAULT_TOKEN)
    assert listing.returncode == 0 and "failed" in listing.stdout, listing.stderr
    assert not _leaks(listing.stdout + listing.stderr)

    with sqlite3.connect(tmp_path / "archive.db") as db:
        stored = [
            text
            for table, column in (
                ("outbox", "last_error"),
                ("alerts", "text"),
                ("alerts", "last_error"),
                ("channels", "reason"),
            )
            for (text,) in db.execute(f"select {column} from {table}")  # noqa: S608 - constants
            if text
        ]
    assert stored and any("[redacted]" in text for text in stored)
    assert not _leaks("\n".join(stored))


def test_a_502_page_quoting_the_token_is_stored_redacted(world, telegram, tmp_path) -> None:
    config = write_config(tmp_path, world, telegram_url=telegram.base_url, backfill=1)
    telegram.fail_next(10, status=502, description=PAGE, html=True, chat=CHANNEL)
    once = presswatch("once", "--config", str(config), token=DEFAULT_TOKEN)
    assert not _leaks(once.stdout + once.stderr), once.stderr
    with sqlite3.connect(tmp_path / "archive.db") as db:
        rows = list(db.execute("select state, last_error from outbox"))
    # A gateway's page: the post may have gone, so it is held as uncertain, and said why.
    assert rows and all(s == "uncertain" and "502" in e and "[redacted]" in e for s, e in rows)
    assert not _leaks("\n".join(e for _, e in rows))
