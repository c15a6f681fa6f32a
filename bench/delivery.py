"""Delivery throughput: posts across channels through a fake Bot API enforcing Telegram's limits.

1,000 posts across 5 channels by default, under Telegram's limits (20 a minute per chat, 30 a
second overall), with the service's relay and python-telegram-bot. At real limits this takes 10
minutes (200 posts per channel at 20 a minute), so time is scaled:

  --clock scaled (default)  the relay and the fake read one clock running `--scale` times faster
                            than real time; every real delay (HTTP round trips, the event loop,
                            the database) is stretched by the same factor, as a slower network would
  --clock virtual           a shared simulated clock that moves only when the relay waits and
                            every send is in; requests take no time: the pacing logic alone

    python -m bench.delivery                   # scaled x10: about 70 s
    python -m bench.delivery --clock virtual   # about 25 s
    python -m bench.delivery --json ...        # the result as JSON (tests read it)

Scaling stretches local costs too: a 10 ms loopback round trip plus a 5 ms SQLite commit at x10
look like a 150 ms trip to Telegram, and the relay counts each send from its answer (the only
point where it knows Telegram has stamped the message), so pace falls as that trip grows.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import bot.app
import bot.archive
from bot.config import config_from_dict
from bot.delivery.publish import Relay
from bot.delivery.telegram import Message, Outcome, TelegramSender
from scrapers.models import Article
from storage import Delivery, Store
from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram, RateLimit

BASE = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PER_MINUTE, INTERVAL, PER_SECOND = 20, 3.0, 25


class ScaledClock:
    """Real time sped up `scale` times, for the relay and the fake alike."""

    def __init__(self, scale: float) -> None:
        self.scale, self._start = scale, time.monotonic()

    def monotonic(self) -> float:
        """Return scaled seconds since the start."""
        return (time.monotonic() - self._start) * self.scale

    async def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of scaled time."""
        await asyncio.sleep(seconds / self.scale)

    def describe(self) -> str:
        """Say how time was scaled."""
        return f"scaled clock: 1 real second = {self.scale:g} seconds for the relay and the fake"


class VirtualClock:
    """Simulated time that advances only when the relay waits with no send in flight."""

    def __init__(self) -> None:
        self.t, self.inflight, self.scale = 0.0, 0, None
        self._idle = asyncio.Event()
        self._idle.set()

    def monotonic(self) -> float:
        """Return simulated seconds."""
        return self.t

    async def sleep(self, seconds: float) -> None:
        """Wait until no send is in flight, then move time on."""
        await self._idle.wait()
        self.t += seconds
        await asyncio.sleep(0)

    def busy(self, delta: int) -> None:
        """Count sends in flight."""
        self.inflight += delta
        self._idle.clear() if self.inflight else self._idle.set()

    def describe(self) -> str:
        """Say how time was simulated."""
        return "virtual clock: time moves only while the relay waits; requests take no time"


class CountingSender:
    """Tell a virtual clock when sends are in flight, and time each one."""

    def __init__(self, sender: TelegramSender, clock) -> None:
        self._sender, self._clock, self.latencies = sender, clock, []

    async def send(self, message: Message) -> Outcome:
        if isinstance(self._clock, VirtualClock):
            self._clock.busy(+1)
        started = time.monotonic()
        try:
            return await self._sender.send(message)
        finally:
            self.latencies.append(time.monotonic() - started)
            if isinstance(self._clock, VirtualClock):
                self._clock.busy(-1)


@dataclass(frozen=True, slots=True)
class Result:
    """Per channel: posts, pace; overall: 429s, durations, latency."""

    per_channel: dict[str, tuple[int, float]]  # chat -> (posts, posts per minute)
    throttled: int
    simulated_seconds: float
    real_seconds: float
    median_latency_ms: float


def make_config(folder: Path, base_url: str, channels: int):
    """Return a config with `channels` channels and Telegram's default limits."""
    return config_from_dict(
        {
            "storage": {"path": str(folder / "archive.db")},
            "telegram": {
                "api_base_url": base_url,
                "per_chat_per_minute": PER_MINUTE,
                "per_chat_interval": INTERVAL,
                "per_second": PER_SECOND,
            },
            "channels": [
                {"name": f"ch{i}", "chat_id": f"-100100000000{i}"} for i in range(channels)
            ],
            "sources": [
                {"key": "wire", "name": "Wire", "kind": "feed", "url": "http://127.0.0.1/f"}
            ],
        },
        path=folder / "presswatch.toml",
    )


def enqueue(store: Store, config, posts: int) -> None:
    """Store `posts` articles spread evenly over the channels (one outbox row each)."""
    channels = config.channels
    for n in range(posts):
        target = channels[n % len(channels)]
        store.add_article(
            Article(
                url=f"https://wire.example/{n}",
                canonical_url=f"https://wire.example/{n}",
                title=f"Release {n}",
                published=BASE,
                summary="A short summary.",
            ),
            source_key="wire",
            now=BASE,
            deliveries=[Delivery(target.name, target.chat_id)],
        )


async def deliver_all(store: Store, relay: Relay, clock, posts: int) -> None:
    """Run relay rounds until every row is sent, waiting out any stored flood wait."""
    while (
        store.db.execute("select count(*) from outbox where state = 'sent'").fetchone()[0] < posts
    ):
        await relay.deliver_due()
        await clock.sleep(1.0)


def run(
    *, posts: int = 1000, channels: int = 5, clock_kind: str = "scaled", scale: float = 10.0
) -> Result:
    """Send `posts` posts and measure each channel's pace at the fake."""
    clock = ScaledClock(scale) if clock_kind == "scaled" else None
    with TemporaryDirectory(prefix="delivery-") as folder:

        async def go():
            nonlocal clock
            clock = clock or VirtualClock()
            limits = RateLimit(
                per_chat_per_minute=20, per_chat_min_interval=0, global_per_second=30
            )
            with FakeTelegram(rate_limit=limits, clock=clock.monotonic) as fake:
                config = make_config(Path(folder), fake.base_url, channels)
                with bot.archive.open_archive(config) as store:
                    enqueue(store, config, posts)
                    sender = TelegramSender.create(
                        token=DEFAULT_TOKEN, api_base_url=fake.base_url, timeout=10
                    )
                    await sender.start()  # PTB closes only the connections of an initialised Bot
                    counting = CountingSender(sender, clock)
                    # The service's relay (bot.app), on the bench's clock.
                    relay = bot.app.relay(
                        config,
                        store=store,
                        sender=counting,
                        monotonic=clock.monotonic,
                        sleep=clock.sleep,
                        clock=lambda: BASE + timedelta(seconds=clock.monotonic()),
                    )
                    began = time.monotonic()
                    try:
                        await deliver_all(store, relay, clock, posts)
                    finally:
                        await sender.close()
                elapsed = time.monotonic() - began
                return fake.messages, fake.throttled, elapsed, counting.latencies

        messages, throttled, real, latencies = asyncio.run(go())
    return _result(messages, throttled, real, latencies)


def _result(messages, throttled, real: float, latencies: list[float]) -> Result:
    """Turn the fake's record into per-channel paces."""
    times: dict[int, list[float]] = defaultdict(list)
    for message in messages:
        times[message.chat].append(message.at)
    per_channel = {
        str(chat): (len(ts), (len(ts) - 1) / (max(ts) - min(ts)) * 60 if len(ts) > 1 else 0.0)
        for chat, ts in sorted(times.items(), key=lambda kv: -kv[0])
    }
    return Result(
        per_channel,
        sum(throttled.values()),
        max(m.at for m in messages) - min(m.at for m in messages),
        real,
        statistics.median(latencies) * 1000,
    )


def report(result: Result, *, clock_text: str, command: str, scale: float | None) -> str:
    """Return a Markdown report."""
    lines = [
        f"`{command}` ({clock_text})",
        "",
        "| channel | posts | posts per minute | pace vs the 20/min limit |",
        "|---|---:|---:|---:|",
    ]
    for chat, (count, rate) in result.per_channel.items():
        lines.append(f"| {chat} | {count} | {rate:.2f} | {rate / PER_MINUTE:.1%} |")
    total = sum(c for c, _ in result.per_channel.values())
    lines += [
        "",
        f"{total} posts in {result.simulated_seconds / 60:.1f} simulated minutes "
        f"({result.real_seconds:.1f} s real); 429 answers: {result.throttled}; "
        f"median request round trip {result.median_latency_ms:.1f} ms real"
        + (f", {result.median_latency_ms * scale:.0f} ms as the relay saw it." if scale else "."),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.delivery", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--clock", choices=("scaled", "virtual"), default="scaled")
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(posts=args.posts, channels=args.channels, clock_kind=args.clock, scale=args.scale)
    if args.json:
        print(json.dumps(dataclasses.asdict(result), indent=2))
        return 0
    clock_text = (
        ScaledClock(args.scale).describe()
        if args.clock == "scaled"
        else "virtual clock: time moves only while the relay waits; requests take no time"
    )
    command = "python -m bench.delivery " + " ".join(argv if argv is not None else sys.argv[1:])
    print(
        report(
            result,
            clock_text=clock_text,
            command=command.strip(),
            scale=args.scale if args.clock == "scaled" else None,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
