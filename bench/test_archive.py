"""The archive bench's options (no server started) and the kept cluster's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.archive.__main__ import main
from tests.fakes.postgres import SETTINGS, Server


def test_shared_buffers_without_pgdata_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--shared-buffers", "1GB", "--url", "postgresql://nobody@/none"])
    assert stop.value.code == 2
    assert "--shared-buffers" in capsys.readouterr().err.splitlines()[-1]


def test_pgdata_with_url_is_a_usage_error(capsys, tmp_path) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--pgdata", str(tmp_path), "--url", "postgresql://nobody@/none"])
    assert stop.value.code == 2
    assert "either --url or --pgdata" in capsys.readouterr().err


def test_a_relative_cluster_folder_is_made_absolute(tmp_path, monkeypatch) -> None:
    # The socket folder (-k) is read relative to the data folder, and libpq takes a relative
    # host for a host name: both need the absolute path.
    monkeypatch.chdir(tmp_path)
    server = Server(Path("/nonexistent"), folder=Path("kept"))
    assert server.folder == tmp_path / "kept"
    assert server.url("archive") == f"postgresql://postgres@/archive?host={tmp_path / 'kept'}"


def test_help_gives_the_test_servers_shared_buffers_as_the_default(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert f"default {SETTINGS['shared_buffers']}, the tests'" in " ".join(
        capsys.readouterr().out.split()
    )


def test_a_run_changes_only_the_settings_it_names(tmp_path, monkeypatch) -> None:
    """The kept cluster's start: the fake's settings, shared_buffers as the run asks (synthetic
    data folder: no server program runs)."""
    ran: list[tuple[str, ...]] = []
    monkeypatch.setattr(Server, "_run", lambda self, *args: ran.append(args))
    server = Server(Path("/nonexistent"), folder=tmp_path / "kept")
    server.data.mkdir()
    (server.data / "PG_VERSION").write_text("15\n")  # made before: no initdb
    server.start(settings={"shared_buffers": "1GB"})
    (command,) = ran
    options = command[command.index("-o") + 1].split(" -c ")[1:]
    assert options == [f"{k}={v}" for k, v in {**SETTINGS, "shared_buffers": "1GB"}.items()]
