"""The same source twice: the config refuses two sources of one address (one line naming both
keys), and `add` of an address already configured prints its block commented out, so that
appending its output with `>>` adds nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path

from bot.cli.main import main
from tests.support.cli import presswatch
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


def test_check_refuses_two_sources_of_one_address_naming_both(
    tmp_path: Path, capsys, restore_logging
) -> None:
    # The address as written differs (a trailing '#'), as url_key reads it it does not.
    config = _with_twin(tmp_path, lambda url: url + "#")
    assert main(["check", "--config", str(config)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("presswatch: config error: sources[2] (alpha-copy).url: ")
    assert "alpha-copy reads the same address as alpha" in line
    assert "remove one of alpha and alpha-copy" in line


def test_two_link_patterns_may_split_one_listing_page(
    tmp_path: Path, capsys, restore_logging
) -> None:
    config = offline_config(tmp_path, telegram="https://api.telegram.org/bot")
    text = config.read_text()
    beta_url = text.split('key = "beta"\nurl = "', 1)[1].split('"', 1)[0]
    split = f'[[sources]]\nkey = "beta-opinion"\nurl = "{beta_url}"\nlink_pattern = "/opinion/"\n'
    config.write_text(text + split)
    assert main(["check", "--config", str(config)]) == 0, capsys.readouterr().err
    twin = split.replace("beta-opinion", "beta-twin").replace("/opinion/", "/news/")
    config.write_text(text + twin)
    assert main(["check", "--config", str(config)]) == 2
    assert "beta-twin reads the same address as beta" in capsys.readouterr().err


def test_add_of_a_configured_address_prints_its_block_commented_out(world, tmp_path) -> None:
    config = write_config(tmp_path, world)
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
    assert presswatch("check", "--config", str(appended)).returncode == 0
