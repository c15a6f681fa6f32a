"""Logging set-up for the CLI: readable or JSON lines, with the bot token always redacted."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_QUIET = ("httpx", "httpcore", "apscheduler", "telegram", "trafilatura", "htmldate", "charset_normalizer")


class RedactingFormatter(logging.Formatter):
    """Format records as text or JSON and replace every secret with '[redacted]'."""

    def __init__(self, *, secrets: tuple[str, ...], as_json: bool) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
        self._secrets = tuple(s for s in secrets if s)
        self._json = as_json

    def format(self, record: logging.LogRecord) -> str:
        """Render the record, tracebacks included, then scrub secrets from the result."""
        if self._json:
            payload = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                       "level": record.levelname.lower(), "logger": record.name,
                       "message": record.getMessage()}
            if record.exc_info:
                payload["traceback"] = self.formatException(record.exc_info)
            text = json.dumps(payload, ensure_ascii=False)
        else:
            text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def setup_logging(*, verbose: int = 0, as_json: bool = False, secrets: tuple[str, ...] = ()) -> None:
    """Send logs to stderr; libraries stay at WARNING unless -vv."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets=secrets, as_json=as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose >= 0 else logging.WARNING)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
