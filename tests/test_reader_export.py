"""An export or a search read as immutable (its reader may not write the archive's folder) while
a service starts writing the archive: the user is told, and no half-written file is left.

The reader is a forked child that drops to `nobody` (we run as root; otherwise the folder is made
read-only) and pauses after its first exported row until the parent has written the archive, as
a service starting meanwhile would: an update, checkpointed into the main file.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import archive as archive_cli
from bot.cli.main import main
from bot.cli.progress import Progress
from scrapers.models import Article
from storage import Store
from tests.support.offline import offline_config

NOBODY = 65534
TITLES = ("Geneva talks resume", "Minsk summit opens", "Astana forum closes")


@pytest.fixture
def folder() -> Iterator[Path]:
    """Return a folder in /tmp that others may enter and read, holding a closed archive."""
    made = Path(tempfile.mkdtemp(prefix="presswatch-export-", dir="/tmp"))
    made.chmod(0o755)
    offline_config(made, telegram="https://api.telegram.org/bot")
    store = Store.open(made / "archive.db")
    for n, title in enumerate(TITLES, start=1):
        store.add_article(
            Article(
                url=f"https://tass.com/politics/{n}",
                canonical_url=f"https://tass.com/politics/{n}",
                title=title,
                published=datetime(2026, 12, 1, 9, n, tzinfo=UTC),
                body=f"Synthetic body {n}: the talks go on in Geneva.",
            ),
            source_key="alpha",
            now=datetime(2026, 12, 1, 9, 5, tzinfo=UTC),
        )
    store.close()
    for path in made.iterdir():
        path.chmod(0o644)
    try:
        yield made
    finally:
        made.chmod(0o755)
        shutil.rmtree(made)


def service_starts(db: Path) -> None:
    """Write the archive as a service starting would: commit, then checkpoint into the file."""
    writer = sqlite3.connect(db)
    writer.execute("update articles set title = title || ' (updated)'")
    writer.commit()
    writer.execute("pragma wal_checkpoint(truncate)")
    writer.close()


def _warm_up(argv: list[str]) -> None:
    """Import what the command needs before the fork (`nobody` may not read our library): run it
    on an empty archive of its own, to standard output."""
    copy = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        config = offline_config(copy, telegram="https://api.telegram.org/bot")
        Store.open(copy / "archive.db").close()
        own = [a for n, a in enumerate(argv) if "--output" not in argv[max(n - 1, 0) : n + 1]]
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            main([*own[:-2], "--config", str(config)])
    finally:
        shutil.rmtree(copy)


def read_while_written(
    folder: Path, argv: list[str], *, pause: Callable[[], None]
) -> tuple[int, str, str]:
    """Run `presswatch ARGV` as a reader who may not write `folder`; when the child calls the
    `pause` hook it sets (see the tests), the parent writes the archive; return code, out, err."""
    _warm_up(argv)
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        code = 99
        try:
            if os.geteuid() == 0:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            else:
                folder.chmod(0o555)

            def wait_for_the_writer() -> None:
                os.write(ready_w, b".")
                os.read(go_r, 1)

            pause(wait_for_the_writer)
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = main(argv)
            os.write(out_w, json.dumps([out.getvalue(), err.getvalue()]).encode())
        finally:
            os._exit(code)
    os.close(out_w)
    os.read(ready_r, 1)
    folder.chmod(0o755)  # when not root, the child made it read-only
    service_starts(folder / "archive.db")
    os.write(go_w, b".")
    with os.fdopen(out_r, encoding="utf-8") as pipe:
        out, err = json.loads(pipe.read())
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out, err


def after_the_first_row(hook: Callable[[], None]) -> None:
    """Make the export call `hook` once, after it wrote its first row (in the child only)."""
    advance = Progress.advance

    def advanced(self, n: int = 1, *, note: str = "") -> None:
        advance(self, n, note=note)
        if self.count == 1:
            hook()

    Progress.advance = advanced


def before_the_search(hook: Callable[[], None]) -> None:
    """Make the search command call `hook` before it runs the query (in the child only)."""
    search = archive_cli.search

    def searched(*args, **kwargs):
        hook()
        return search(*args, **kwargs)

    archive_cli.search = searched


def test_an_export_to_a_file_written_meanwhile_leaves_the_file_as_it_was(folder) -> None:
    target = folder / "out" / "articles.jsonl"
    target.parent.mkdir()
    target.parent.chmod(0o777)  # the reader may write here, not beside the archive
    target.write_text("the last good export\n")
    argv = ["export", "--format", "jsonl", "--output", str(target)]
    code, out, err = read_while_written(
        folder, [*argv, "--config", str(folder / "presswatch.toml")], pause=after_the_first_row
    )
    assert code == 1, err
    assert out == ""
    assert err.startswith(f"presswatch: export: {target} not written (left as it was): "), err
    assert "archive.db was written while it was read" in err
    assert target.read_text() == "the last good export\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["articles.jsonl"]


def test_an_export_to_stdout_written_meanwhile_says_its_output_is_incomplete(folder) -> None:
    argv = ["export", "--format", "jsonl", "--config", str(folder / "presswatch.toml")]
    code, out, err = read_while_written(folder, argv, pause=after_the_first_row)
    assert code == 1, err
    rows = [json.loads(line) for line in out.splitlines()]
    # Every row printed was read before the write; the rest is missing, and stderr says so.
    assert [r["title"] for r in rows] == [TITLES[0]]
    assert err.startswith(
        "presswatch: export: stopped after 1 article(s): the output above is incomplete: "
    ), err
    assert "archive.db was written while it was read" in err


def test_a_search_written_meanwhile_prints_nothing_and_says_why(folder) -> None:
    argv = ["search", "Geneva", "--config", str(folder / "presswatch.toml")]
    code, out, err = read_while_written(folder, argv, pause=before_the_search)
    assert code == 1, err
    assert out == ""
    assert err.startswith("presswatch: archive.db was written while it was read"), err


def test_an_export_read_while_nothing_writes_is_whole(folder, tmp_path) -> None:
    target = tmp_path / "articles.jsonl"
    code = main(
        ["export", "--format", "jsonl", "--output", str(target), "--config",
         str(folder / "presswatch.toml")]
    )  # fmt: skip
    assert code == 0
    assert [json.loads(line)["title"] for line in target.read_text().splitlines()] == list(TITLES)
