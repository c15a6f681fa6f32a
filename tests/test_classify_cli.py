"""`presswatch classify` and the topics shown by `presswatch extract`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_classify_reads_json_lines_and_explains(tmp_path) -> None:
    lines = [
        {
            "id": 1,
            "title": "CSTO peacekeepers complete their mission in Kazakhstan",
            "body": "The collective peacekeeping forces of the CSTO have completed their mission.",
            "lang": "en",
        },
        {"id": 2, "title": "Поздравление с праздником", "body": "С Днем защитника Отечества!"},
    ]
    result = run(
        "classify",
        "--config",
        "config.example.toml",
        stdin="\n".join(json.dumps(item, ensure_ascii=False) for item in lines) + "\n",
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    # The best topic first; the explanation names the model's verdict, what added most to it,
    # and the phrases that fired.
    assert first["id"] == 1 and first["topics"][0] == "peacekeeping"
    why = first["explain"]["peacekeeping"]["rules"]
    assert why[0].startswith("model:p=") and "phrase:peacekeep" in why
    assert any(reason.startswith(("lemma:", "rules:")) for reason in why)
    assert {"csto", "kazakhstan"} <= set(first["entities"])
    assert second["topics"] == [] and second["title"] == "Поздравление с праздником"


def test_classify_uses_the_configs_own_taxonomy(tmp_path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[topics.sport]\nphrases = ["football", "футбол"]\nthreshold = 1.0\n')
    result = run(
        "classify", "--config", str(config), stdin='{"title": "Football news", "body": ""}\n'
    )
    assert json.loads(result.stdout)["topics"] == ["sport"]


def test_bad_lines_are_reported_and_the_rest_still_classified() -> None:
    result = run(
        "classify",
        "--config",
        "config.example.toml",
        stdin='not json\n{"title": 5}\n{"title": "Counter-terrorism drills", "body": ""}\n',
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith("presswatch: line 1:")
    assert result.stderr.splitlines()[1].startswith("presswatch: line 2:")
    assert len(result.stdout.splitlines()) == 1


def test_extract_shows_topics() -> None:
    page = ROOT / "tests" / "fixtures" / "tass-com" / "article-1451189.html"
    result = run(
        "extract",
        str(page),
        "--url",
        "https://tass.com/politics/1451189",
        "--source",
        "tass-com",
        "--config",
        "config.example.toml",
    )
    article = json.loads(result.stdout)
    # A CSTO summit's statement: politics-diplomacy by the labelling rules of the real set.
    assert "politics-diplomacy" in article["topics"] and "csto" in article["entities"]
    assert all(article["explain"][topic]["rules"] for topic in article["topics"])
