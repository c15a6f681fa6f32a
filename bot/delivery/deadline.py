"""Bot API calls that end in bounded time, however slowly the answer comes.

httpx's timeouts bound each read, not a whole answer: a Bot API (or a proxy) that drips one byte
a second holds a call, and with it a chat's send and `presswatch once`, for as long as it drips.
`DeadlineRequest` bounds every call of a python-telegram-bot `Bot` as a whole and ends one that
overruns with `telegram.error.TimedOut`, the same uncertain outcome as a read timeout (it may
have been carried out: the relay holds the row and probes or resends it as README says).
"""

from __future__ import annotations

import asyncio
import logging

from telegram import error as tg
from telegram.request import HTTPXRequest, RequestData

log = logging.getLogger(__name__)

# A call's connect, write and read each have `timeout`; a few of them bound the whole call.
TIMEOUTS_PER_CALL = 3


class DeadlineRequest(HTTPXRequest):
    """An HTTPXRequest whose every call ends within `deadline` seconds (TimedOut after that)."""

    def __init__(self, *, deadline: float, **options: object) -> None:
        super().__init__(**options)
        self.deadline = deadline

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **timeouts: object
    ) -> tuple[int, bytes]:
        """Make one call; a call still unanswered at the deadline raises TimedOut."""
        # A long poll (getUpdates) waits its own `timeout` on top, by design.
        deadline = self.deadline + _long_poll(request_data)
        try:
            async with asyncio.timeout(deadline):
                return await super().do_request(url, method, request_data, **timeouts)
        except TimeoutError as exc:
            # The method's name only: the rest of the address holds the token.
            name = url.rpartition("/")[2]
            chat = (request_data.parameters.get("chat_id") if request_data else None) or ""
            log.warning(
                "telegram: %s%s gave no whole answer within %.0fs; ended as a timeout",
                name,
                f" to chat {chat}" if chat else "",
                deadline,
            )
            raise tg.TimedOut(f"no whole answer within {deadline:.0f}s") from exc


def deadline_request(
    *,
    timeout: float,
    pool_size: int,
    read_timeout: float | None = None,
    kind: type[DeadlineRequest] = DeadlineRequest,
) -> DeadlineRequest:
    """Return a DeadlineRequest (or `kind`) whose calls each end within TIMEOUTS_PER_CALL of
    its longest timeout."""
    read = timeout if read_timeout is None else read_timeout
    return kind(
        deadline=TIMEOUTS_PER_CALL * max(timeout, read),
        connection_pool_size=pool_size,
        read_timeout=read,
        write_timeout=timeout,
        connect_timeout=min(timeout, 5.0),
        pool_timeout=2.0,
    )


def _long_poll(request_data: RequestData | None) -> float:
    """Return the seconds a getUpdates long poll may wait for updates (0 for other calls)."""
    wait = request_data.parameters.get("timeout") if request_data else None
    return float(wait) if isinstance(wait, int | float) else 0.0
