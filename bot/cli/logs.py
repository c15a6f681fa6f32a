"""Logging set-up for the CLI: readable or JSON lines, with the bot token always redacted.

The token is scrubbed from the finished text of every record (message, arguments, traceback,
stack) by bot.secrets.redact, in every spelling an error text may give it (any case, the ':'
URL-encoded), and uncaught exceptions go through the same formatter instead of the
interpreter's own traceback printer.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime

from bot.logfields import FIELDS, current_fields
from bot.secrets import redact

_QUIET = (
    "httpx",
    "httpcore",
    "apscheduler",
    "procrastinate",  # a line per periodic job and per job run: the service logs what matters
    "telegram",
    "trafilatura",
    "htmldate",
    "charset_normalizer",
)


class RedactingFormatter(logging.Formatter):
    """Format records as text or JSON and replace every secret with '[redacted]'."""

    def __init__(self, *, secrets: tuple[str, ...], as_json: bool) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
        self._secrets = tuple(secrets)
        self._json = as_json

    def format(self, record: logging.LogRecord) -> str:
        """Render the record, tracebacks included, then scrub secrets from the result."""
        if not self._json:
            return self.redact(super().format(record))
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        payload.update(self.fields(record))
        if record.exc_info:
            payload["traceback"] = self.redact(self.formatException(record.exc_info))
        # Scrub again after encoding: JSON escaping must not hide a secret from the first pass.
        return self.redact(json.dumps(payload, ensure_ascii=False))

    @staticmethod
    def fields(record: logging.LogRecord) -> dict[str, object]:
        """Return the record's structured fields: its task's (bot/logfields.py), then `extra=`."""
        found = dict(current_fields())
        found.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        return {k: v if isinstance(v, int | float | bool) else str(v) for k, v in found.items()}

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        """Render a traceback with secrets scrubbed (it is cached on the record as such)."""
        return self.redact(super().formatException(ei))

    def redact(self, text: str) -> str:
        """Replace every secret in `text`."""
        return redact(text, secrets=self._secrets)


def setup_logging(
    *, verbose: int = 0, as_json: bool = False, secrets: tuple[str, ...] = ()
) -> None:
    """Send logs to stderr; libraries stay at WARNING unless -vv; uncaught errors are logged too."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets=secrets, as_json=as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(
        logging.DEBUG if verbose > 1 else logging.INFO if verbose >= 0 else logging.WARNING
    )
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
    sys.excepthook = _log_uncaught
    threading.excepthook = lambda args: _log_uncaught(
        args.exc_type, args.exc_value, args.exc_traceback
    )


def _log_uncaught(exc_type, exc_value, traceback) -> None:
    """Log an exception nobody caught through the redacting handler."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc_value, traceback)
        return
    logging.getLogger("presswatch").critical(
        "uncaught exception", exc_info=(exc_type, exc_value, traceback)
    )
