"""Reloading the config in a running service (SIGHUP, `presswatch reload`): what changed, what applies.

The archive, the HTTP client, the Telegram bot, the health endpoint and a worker's dispatcher stay
as they were built: what configures them (`storage`, `fetch`, `dedup`, `service`, the Bot API
address and timeout, `telegram.commands`, `workers.dispatch_every`) waits for a restart, and the
log says so. Everything else applies at once:
sources (added, removed and changed ones are rescheduled, unchanged ones keep their next poll),
channels, topics, summaries, health thresholds and the delivery settings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from bot.config import Config
from scrapers.models import Source

# (what the config names, how to read it from a Config) for the parts built once at start.
_AT_RESTART = (
    ("storage.path", lambda c: c.storage_path),
    ("[fetch]", lambda c: c.fetch),
    ("[dedup]", lambda c: c.dedup),
    ("[service]", lambda c: c.service),
    ("telegram.api_base_url", lambda c: c.telegram.api_base_url),
    ("telegram.request_timeout", lambda c: c.telegram.request_timeout),
    ("telegram.commands", lambda c: c.telegram.commands),
    ("telegram.admin_user_ids", lambda c: c.telegram.admin_user_ids),
    # procrastinate fixes the dispatcher's cron when a worker makes its job app; SQLite's service
    # has no dispatcher, so there a new period waits for nothing.
    ("workers.dispatch_every", lambda c: c.workers.dispatch_every if c.storage_url else None),
)


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """What a new config changes in the running service."""

    added: tuple[Source, ...] = ()
    removed: tuple[Source, ...] = ()
    changed: tuple[Source, ...] = ()  # the new definitions of sources whose block changed
    changed_keys: tuple[tuple[str, ...], ...] = ()  # each changed source's keys that changed
    at_restart: tuple[str, ...] = ()  # what changed but waits for a restart
    channels: bool = False  # any [[channels]] block changed
    other: bool = False  # topics, health, delivery or summary settings changed

    def describe(self) -> str:
        """Return the change as one line of words."""
        # Which keys of a changed source: "changed wire" alone left the operator to diff.
        keys = dict(zip((s.key for s in self.changed), self.changed_keys))
        parts = [
            f"{label} {', '.join(_named(s.key, keys.get(s.key, ())) for s in sources)}"
            for label, sources in (
                ("added", self.added),
                ("removed", self.removed),
                ("changed", self.changed),
            )
            if sources
        ]
        if self.channels:
            parts.append("channels changed")
        if self.other:
            parts.append("settings changed")
        return "; ".join(parts) or "nothing changed"


def compare(old: Config, new: Config) -> ConfigChange:
    """Return what `new` changes compared with the running `old` config."""
    before, after = {s.key: s for s in old.sources}, {s.key: s for s in new.sources}
    applied = applicable(old, new)
    changed = tuple(s for k, s in after.items() if k in before and before[k] != s)
    return ConfigChange(
        added=tuple(s for k, s in after.items() if k not in before),
        removed=tuple(s for k, s in before.items() if k not in after),
        changed=changed,
        changed_keys=tuple(_changed_keys(before[s.key], s) for s in changed),
        at_restart=tuple(name for name, read in _AT_RESTART if read(old) != read(new)),
        channels=old.channels != new.channels,
        other=replace(applied, sources=old.sources, channels=old.channels) != old,
    )


def applicable(old: Config, new: Config) -> Config:
    """Return `new` with what only a restart can change kept as the running config has it."""
    telegram = replace(
        new.telegram,
        token=old.telegram.token,  # the environment is read once, at start
        api_base_url=old.telegram.api_base_url,
        request_timeout=old.telegram.request_timeout,
        commands=old.telegram.commands,
        admin_user_ids=old.telegram.admin_user_ids,
    )
    return replace(
        new,
        path=old.path,
        storage_path=old.storage_path,
        fetch=old.fetch,
        dedup=old.dedup,
        service=old.service,
        telegram=telegram,
        workers=replace(new.workers, dispatch_every=old.workers.dispatch_every),
    )


def _named(key: str, changed: tuple[str, ...]) -> str:
    """Return a source's key, with the keys of its block that changed."""
    return f"{key} ({', '.join(changed)})" if changed else key


def _changed_keys(old: Source, new: Source) -> tuple[str, ...]:
    """Return the config keys in which two definitions of a source differ (`every`, `lang`…)."""
    # The dataclass names durations in seconds; the config file names them without the unit.
    return tuple(
        f.name.removesuffix("_seconds")
        for f in fields(Source)
        if getattr(old, f.name) != getattr(new, f.name)
    )
