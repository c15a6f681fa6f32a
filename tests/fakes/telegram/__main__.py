"""Serve a fake Bot API by hand: ``python -m tests.fakes.telegram --port 8081 --token 123:ABC``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading

from .api import FakeTelegram
from .records import DEFAULT_TOKEN, RateLimit

logger = logging.getLogger("tests.fakes.telegram")


def main(argv: list[str] | None = None) -> int:
    """Serve a fake Bot API until interrupted, printing its base URL first."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.telegram", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--no-rate-limit", action="store_true", help="switch flood limits off")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logger.setLevel(logging.DEBUG)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on SIGTERM too
    limit = None if args.no_rate_limit else RateLimit()
    with FakeTelegram(token=args.token, host=args.host, port=args.port, rate_limit=limit) as fake:
        print(fake.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
