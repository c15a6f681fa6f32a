"""The same source twice: the config warns of two sources that read one address with one
link_pattern (one line naming both keys; a config that worked before the check still starts),
and `add` of a source already configured (its address and link_pattern) prints its block
commented out, so that appending its output with `>>` adds nothing."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

from bot.cli.main import main
from bot.config import load_config
from tests.support.cli import presswatch
from tests.support.inprocess import serve
from tests.support.offline import offline_config
from tests.support.world import write_config

TWIN = """[[sources]]
key = "alpha-copy"
kind = "feed"
url = "{url}"
"""


def _with_twin(tmp_path: Path, url_of_alpha=lambda url: url, extra: str = "") -> Path:
    """Write the offline config plus a second feed source reading alpha's address."""
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    text = config.read_text()
    alpha = text.split('kind = "feed"\nurl = "', 1)[1].split('"', 1)[0]
    config.write_text(text + TWIN.format(url=url_of_alpha(alpha)) + extra)
    return config


def test_check_warns_of_two_sources_of_one_address_naming_both(
    tmp_path: Path, capsys, restore_logging
) -> None:
    # The address as written differs (a trailing '#'), as url_key reads it it does not.
    config = _with_twin(tmp_path, lambda url: url + "#")
    assert main(["check", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    [line] = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert line.startswith("warning: sources alpha and alpha-copy read the same address (")
    assert line.endswith(": alpha-copy stores nothing (every article is alpha's); remove one")


def test_two_link_patterns_may_split_one_listing_page(
    tmp_path: Path, capsys, restore_logging
) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    text = config.read_text()
    beta_url = text.split('key = "beta"\nurl = "', 1)[1].split('"', 1)[0]
    split = f'[[sources]]\nkey = "beta-opinion"\nurl = "{beta_url}"\nlink_pattern = "/opinion/"\n'
    config.write_text(text + split)
    assert main(["check", "--config", str(config)]) == 0, capsys.readouterr().err
    assert "warning: sources" not in capsys.readouterr().out
    twin = split.replace("beta-opinion", "beta-twin").replace("/opinion/", "/news/")
    config.write_text(text + twin)
    assert main(["check", "--config", str(config)]) == 0
    assert "sources beta and beta-twin read the same address" in capsys.readouterr().out


def test_a_reload_logs_the_twin_and_is_applied(tmp_path: Path, caplog) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    alpha = load_config(config).source("alpha").url

    async def scenario(service):
        assert "alpha-copy" not in caplog.text  # the running config has no twin
        config.write_text(config.read_text() + TWIN.format(url=alpha))
        assert await service.reload()
        assert "alpha-copy" in [s.key for s in service.app.config.sources]

    with caplog.at_level(logging.WARNING):
        serve(config, scenario)
    assert "config: sources alpha and alpha-copy read the same address" in caplog.text


def test_add_of_a_configured_source_prints_its_block_commented_out(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
    # tass-com reads its feed with no link_pattern here: the proposal reads just what it reads.
    text = config.read_text()
    pattern = re.search(r"(?m)^link_pattern = .*\n", text[text.index('key = "tass-com"') :])
    config.write_text(text.replace(pattern.group(0), "", 1))
    feed = world.url("tass-com", "/rss/v2.xml")  # tass-com's own address in the config
    result = presswatch("add", feed, "--key", "tass-en", "--preview", "0", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert tomllib.loads(result.stdout) == {}  # appended with >>, it adds nothing
    assert f"# Already configured as source tass-com ({feed})." in result.stdout
    assert "# Nothing to append: tass-com reads this address already" in result.stdout
    assert "(a new key for it: presswatch rename-source tass-com NEW)" in result.stdout
    assert '# key = "tass-en"\n' in result.stdout and f'# url = "{feed}"' in result.stdout
    appended = tmp_path / "appended.toml"
    appended.write_text(config.read_text() + "\n" + result.stdout, encoding="utf-8")
    checked = presswatch("check", "--config", str(appended))
    assert checked.returncode == 0 and "tass-en" not in checked.stdout


def test_add_of_a_configured_address_with_another_link_pattern_is_a_block(world, tmp_path) -> None:
    config = write_config(tmp_path, world)  # tass-com reads its feed through a link_pattern
    feed = world.url("tass-com", "/rss/v2.xml")
    result = presswatch("add", feed, "--key", "tass-en", "--preview", "0", "--config", str(config))
    assert result.returncode == 0, result.stderr
    [block] = tomllib.loads(result.stdout)["sources"]  # the config accepts it: it is active
    assert (block["key"], block["url"], block.get("link_pattern")) == ("tass-en", feed, None)
    assert f"# Already configured as source tass-com ({feed})." in result.stdout
    assert "Nothing to append" not in result.stdout
    appended = tmp_path / "appended.toml"
    appended.write_text(config.read_text() + "\n" + result.stdout, encoding="utf-8")
    checked = presswatch("check", "--config", str(appended))
    assert checked.returncode == 0 and "read the same address" not in checked.stdout
