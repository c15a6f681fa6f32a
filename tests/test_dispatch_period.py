"""The dispatcher's period as a setting, `[workers] dispatch_every`: read and refused naming its key,
turned into an even cron, shown by `presswatch check` with a warning past the 30 s failover, and
kept by a reload until a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import ConfigError, config_from_dict
from bot.service.fleet_timing import DISPATCH, PERIODS, cron, failover_bound
from bot.service.reload import applicable, compare

URL = "postgresql://pw@db.example:5432/pw"


def _config(workers: dict | None, *, storage: dict | None = None):
    """Validate a config with no sources or channels and the given [workers] table (on the
    PostgreSQL archive URL unless `storage` says otherwise)."""
    data: dict = {"sources": [], "channels": [], "storage": storage or {"url": URL}}
    if workers is not None:
        data["workers"] = workers
    return config_from_dict(data, path=Path("/nowhere/presswatch.toml"))


def test_without_the_key_the_dispatcher_runs_every_2_s() -> None:
    assert _config(None).workers.dispatch_every == DISPATCH == 2
    assert _config({}).workers.dispatch_every == 2


@pytest.mark.parametrize(
    ("given", "seconds"), [("1s", 1), ("5s", 5), (10, 10), ("30s", 30), ("1m", 60)]
)
def test_a_period_dividing_a_minute_is_taken_in_the_duration_syntax(given, seconds) -> None:
    assert _config({"dispatch_every": given}).workers.dispatch_every == seconds


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "7s",
            "expected a period dividing a minute (1s, 2s, 3s, 4s, 5s, 6s, 10s, 12s, 15s, "
            "20s, 30s, 1m), got '7s'",
        ),  # fmt: skip
        ("2m", "at most 1m, got '2m'"),
        ("0s", "expected a duration such as '10m', '1h' or '30s', got '0s'"),
        ("soon", "expected a duration such as '10m', '1h' or '30s', got 'soon'"),
        (True, "expected a duration such as '10m', '1h' or '30s', got true"),
    ],
)
def test_a_bad_period_is_one_line_naming_the_key(given, message) -> None:
    with pytest.raises(ConfigError) as refused:
        _config({"dispatch_every": given})
    assert refused.value.problems == (f"workers.dispatch_every: {message}",)


def test_a_misspelt_key_is_named_with_the_one_meant() -> None:
    with pytest.raises(ConfigError) as refused:
        _config({"dispatch_evry": "5s"})
    assert refused.value.problems == (
        "workers.dispatch_evry: unknown key (did you mean dispatch_every?)",
    )


@pytest.mark.parametrize("every", PERIODS)
def test_each_period_is_a_cron_whose_runs_are_evenly_apart(every) -> None:
    """procrastinate reads the cron as the periodic job's: its next runs over two minutes."""
    periodic = pytest.importorskip("procrastinate.periodic")
    task = periodic.PeriodicTask(task=None, cron=cron(every), periodic_id="p", configure_kwargs={})
    start = 1_796_601_600.0  # 2026-12-07 00:00:00 UTC, a whole minute
    runs = [task.croniter.get_next(float, start_time=start)]
    while runs[-1] < start + 120:
        runs.append(task.croniter.get_next(float, start_time=runs[-1]))
    assert {b - a for a, b in zip(runs, runs[1:])} == {every}


def test_a_period_that_would_run_unevenly_has_no_cron() -> None:
    with pytest.raises(ValueError, match="divides a minute"):
        cron(7)


def test_the_failover_bound_is_the_silence_a_period_and_the_sooner_look() -> None:
    # After the take-over, the next dispatcher run or a worker's own 5 s look fetches the jobs.
    assert [failover_bound(every) for every in (1, 2, 5, 10, 15, 20, 60)] == [
        12,
        14,
        20,
        25,
        30,
        35,
        75,
    ]


def _check(tmp_path: Path, capsys, text: str) -> list[str]:
    """Run `presswatch check` on a config and return its output's lines past the first."""
    config = tmp_path / "presswatch.toml"
    config.write_text("sources = []\nchannels = []\n" + text, encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 0
    return capsys.readouterr().out.splitlines()[1:]


@pytest.mark.parametrize(
    ("every", "shown", "bound"),
    [("1s", "1s", 12), ("10s", "10s", 25), ("15s", "15s", 30), ("20s", "20s", 35)],
)
def test_check_shows_the_period_and_warns_past_30_s_of_failover(
    tmp_path, capsys, restore_logging, monkeypatch, every, shown, bound
) -> None:
    monkeypatch.delenv("PRESSWATCH_TELEGRAM_TOKEN", raising=False)
    out = _check(
        tmp_path, capsys, f'[storage]\nurl = "{URL}"\n[workers]\ndispatch_every = "{every}"\n'
    )
    assert (
        f"  workers: the dispatcher looks for due sources every {shown}; a killed worker's jobs "
        f"move to the others within {bound} s at most"
    ) in out
    warnings = [line for line in out if line.startswith("warning: workers.")]
    assert warnings == (
        [
            "warning: workers.dispatch_every = 20s: a killed worker's sources and chats may wait "
            "35 s to move to the others, beyond the 30 s goal (15s or less keeps it)"
        ]
        if bound > 30
        else []
    )


SQLITE_NOTE = "warning: workers.dispatch_every applies to workers on PostgreSQL (storage.url) only"


# "2s" is the default spelt out: SQLite's service ignores it as it ignores any other period.
@pytest.mark.parametrize("every", ["5s", "2s"])
def test_check_says_sqlite_never_reads_the_period(tmp_path, capsys, restore_logging, every) -> None:
    archive = tmp_path / "archive.db"
    out = _check(
        tmp_path,
        capsys,
        f'[storage]\npath = "{archive}"\n[workers]\ndispatch_every = "{every}"\n',
    )
    assert not any(line.startswith("  workers:") for line in out)
    assert [line for line in out if line.startswith("warning: workers.")] == [SQLITE_NOTE]


@pytest.mark.parametrize("workers", ["", "[workers]\n"])
def test_check_says_nothing_of_a_period_sqlite_is_not_given(
    tmp_path, capsys, restore_logging, workers
) -> None:
    archive = tmp_path / "archive.db"
    out = _check(tmp_path, capsys, f'[storage]\npath = "{archive}"\n{workers}')
    assert not [line for line in out if line.startswith("warning: workers.")]


def test_a_period_spelt_out_as_the_default_is_the_same_setting() -> None:
    given, left_out = _config({"dispatch_every": "2s"}), _config(None)
    assert given.workers.dispatch_every_given and not left_out.workers.dispatch_every_given
    assert given.workers == left_out.workers  # a reload between the two changes nothing


def test_a_reload_keeps_a_workers_period_and_names_it_among_the_restart_settings() -> None:
    old, new = _config({"dispatch_every": "5s"}), _config({"dispatch_every": "1s"})
    change = compare(old, new)
    assert change.at_restart == ("workers.dispatch_every",)
    assert change.describe() == "nothing changed"  # nothing the reload applies
    assert applicable(old, new).workers.dispatch_every == 5


def test_a_reload_on_sqlite_says_nothing_of_the_period_it_never_reads(tmp_path) -> None:
    storage = {"path": str(tmp_path / "archive.db")}
    old = _config({"dispatch_every": "5s"}, storage=storage)
    new = _config({"dispatch_every": "1s"}, storage=storage)
    assert compare(old, new).at_restart == ()
    assert compare(old, new).describe() == "nothing changed"
