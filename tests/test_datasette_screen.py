"""The archive in Datasette at 1400×1000: the brief view without the long columns, screenshotted
by headless Chromium.

Opt-in: it runs where `chromium` and `datasette` (0.65.1, as compose.yaml pins) are installed
(`apt-get install -y chromium`, `pip install datasette==0.65.1`) and skips, saying which is
missing, elsewhere; CI does not install them (a browser would take much of its time budget).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from storage import Store
from tests.support.archive import add
from tests.support.service import free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DATASETTE = shutil.which("datasette") or str(Path(sys.executable).parent / "datasette")
BODY = "The Council of Foreign Ministers discussed the situation on the border at length. " * 40

pytestmark = [
    pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(
        not os.path.exists(DATASETTE), reason="datasette is not installed (pip install datasette)"
    ),
]


@pytest.fixture
def datasette(tmp_path):
    """Serve an archive of long articles with deploy/datasette.yml; yield its base URL."""
    store = Store.open(tmp_path / "presswatch.db")
    for n in range(30):
        add(store, f"CSTO foreign ministers meet in Almaty, day {n}", BODY, topics=("economy",))
    store.close()
    port = free_port()
    proc = subprocess.Popen(
        [
            DATASETTE,
            "serve",
            str(tmp_path / "presswatch.db"),
            "--metadata",
            str(ROOT / "deploy" / "datasette.yml"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base, timeout=2).close()
            break
        except (urllib.error.URLError, OSError):
            if proc.poll() is not None:
                pytest.fail("datasette did not start")
            time.sleep(0.2)  # polling a starting server's port, with a deadline
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def screenshot(url: str, path: Path, profile: Path) -> tuple[int, int]:
    """Save a 1400×1000 screenshot of `url`; return the PNG's width and height."""
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--window-size=1400,1000",
            "--hide-scrollbars",
            f"--screenshot={path}",
            url,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_the_brief_view_fits_a_screen_and_the_long_columns_stay_out(datasette, tmp_path) -> None:
    page = urllib.request.urlopen(f"{datasette}/presswatch/articles_brief", timeout=10).read()
    text = page.decode()
    assert "CSTO foreign ministers meet in Almaty" in text and "Articles (brief)" in text
    assert "discussed the situation on the border" not in text  # no body column
    shot = tmp_path / "articles_brief.png"
    assert screenshot(f"{datasette}/presswatch/articles_brief", shot, tmp_path / "p") == (
        1400,
        1000,
    )
    assert shot.stat().st_size > 20_000  # a rendered table, not a blank page
    home = tmp_path / "home.png"
    assert screenshot(f"{datasette}/presswatch", home, tmp_path / "p2") == (1400, 1000)
