"""Configs that loaded before conf15's checks still load (review of conf15fix): a source polled or
a digest sent under a minute is warned of and held to a minute, not refused (a service must not
stop after an upgrade), several PostgreSQL hosts, a tab in the User-Agent, a topic the model
decides, and a config read from a pipe by a one-shot command."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import ConfigError, load_config
from bot.config.checks import is_loopback_host
from tests.support.cli import presswatch
from tests.support.configs import config_text, run_sources


def _load(tmp_path: Path, text: str):
    """Write `text` as the config and load it."""
    path = tmp_path / "presswatch.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ={})


def test_a_site_polled_under_a_minute_is_polled_every_minute_with_a_warning(tmp_path) -> None:
    config = _load(tmp_path, config_text({"sources[0]": 'every = "59.5s"'}))
    assert [s.every_seconds for s in config.sources] == [60, 600, 600]
    assert config.warnings == (
        "sources[0] (alpha).every: '59.5s' is under a minute, so alpha.example is polled every "
        "1m: a site on the network is polled at most once a minute (intervals under a minute are "
        "for a test server on this machine: localhost, 127.0.0.1, [::1])",
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("ip6-localhost", True),
        ("api.localhost", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("LOCALHOST", True),
        ("localhost.example", False),
        ("10.0.0.1", False),
        ("::2", False),
    ],
)
def test_one_loopback_test_serves_the_interval_floor_and_status(host, loopback) -> None:
    # The floor's and status's tests were two, and knew different names.
    assert is_loopback_host(host) is loopback


def test_a_digest_under_a_minute_is_sent_every_minute_with_a_warning(tmp_path) -> None:
    config = _load(tmp_path, config_text({"channels[0]": 'digest = "30s"'}))
    assert (config.channels[0].digest_seconds, config.warnings) == (
        60,
        ("channels[0].digest: '30s' is under a minute: the digest is sent every minute",),
    )


def test_check_shows_the_warning_and_exits_0(tmp_path, capsys, restore_logging) -> None:
    path = tmp_path / "presswatch.toml"
    path.write_text(config_text({"sources[1]": "every = 30"}), encoding="utf-8")
    status = main(["check", "--config", str(path)])
    warnings = [x for x in capsys.readouterr().out.splitlines() if x.startswith("warning:")]
    assert (status, warnings) == (
        0,
        [
            "warning: sources[1] (beta).every: 30 is under a minute, so beta.example is polled "
            "every 1m: a site on the network is polled at most once a minute (intervals under a "
            "minute are for a test server on this machine: localhost, 127.0.0.1, [::1])"
        ],
    )


def test_several_postgresql_hosts_are_accepted_and_each_port_checked(tmp_path) -> None:
    url = "postgresql://pw@h1:5432,h2:5433/pw?target_session_attrs=read-write"
    config = _load(tmp_path, config_text([("storage", "path"), ("storage", f'url = "{url}"')]))
    assert config.storage_url == url
    bad = url.replace("h2:5433", "h2:99999")
    with pytest.raises(ConfigError, match=r"storage.url: expected a port from 1 to 65535, got "):
        _load(tmp_path, config_text([("storage", "path"), ("storage", f'url = "{bad}"')]))


def test_a_tab_in_the_user_agent_is_accepted(tmp_path) -> None:
    config = _load(tmp_path, config_text({"fetch": r'user_agent = "presswatch/0.1\t(+ops)"'}))
    assert config.fetch.user_agent == "presswatch/0.1\t(+ops)"


def test_a_topic_the_model_decides_keeps_a_threshold_its_rules_cannot_reach(tmp_path) -> None:
    # The model decides `economy`; its threshold is read only once `model = false`.
    table = '[topics.economy]\nlabel = "Economy"\nphrases = ["x"]\nthreshold = 50'
    config = _load(tmp_path, config_text() + f"\n{table}\n")
    assert [(t.key, t.model, t.threshold) for t in config.taxonomy.topics] == [
        ("economy", True, 50)
    ]


def test_a_default_threshold_out_of_reach_is_told_as_the_default(
    tmp_path, capsys, restore_logging
) -> None:
    table = '[topics.mine]\nlabel = "Mine"\nphrases = ["x"]\nweights = { x = 0.5 }'
    status, lines = run_sources(tmp_path, config_text() + f"\n{table}\n", capsys)
    assert (status, lines) == (
        2,
        [
            "presswatch: config error: topics.mine.threshold: expected a number above 0 and at "
            "most 1.47, the most its 1 rule can earn (a rule at most 2.95: 6 hits, each in the "
            "title), left out, so the default 2.0; raise its rules' `weights`, or set a lower "
            "`threshold`"
        ],
    )


def _piped(text: str) -> str:
    """Return /dev/fd/N of a pipe holding `text` whose writer has closed, as `<(cat x)` gives."""
    read, write = os.pipe()
    os.write(write, text.encode())
    os.close(write)
    return f"/dev/fd/{read}"


def test_a_one_shot_command_reads_its_config_from_a_pipe() -> None:
    path = _piped(config_text())
    try:
        assert [s.key for s in load_config(path, environ={}).sources] == ["alpha", "beta", "gamma"]
    finally:
        os.close(int(path.rsplit("/", 1)[1]))


def test_run_refuses_a_pipe_saying_why(capsys, restore_logging) -> None:
    path = _piped(config_text())
    try:
        status = main(["run", "--config", path])
    finally:
        os.close(int(path.rsplit("/", 1)[1]))
    assert (status, capsys.readouterr().err.splitlines()) == (
        2,
        [
            f"presswatch: config error: {path} is a pipe: expected a TOML file (run "
            "reads its config again at each reload, which a pipe cannot give twice)"
        ],
    )


def test_a_fifo_nobody_writes_to_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "c.fifo"
    os.mkfifo(fifo)
    try:
        result = presswatch("check", "--config", str(fifo), timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("check waited for a writer that never came")
    assert (result.returncode, result.stderr.splitlines()) == (
        2,
        [f"presswatch: config error: {fifo}: a pipe that gave nothing: expected a TOML file"],
    )
