"""`presswatch add` proposes a page's language only as the config would take it."""

from __future__ import annotations

import pytest

from bot.cli.add import proposed_fields, source_from_block
from bot.ingest.proposal import PageFacts, toml_block


@pytest.mark.parametrize("lang", ["english", "x", "pt-BR"])
def test_a_page_s_language_the_config_would_refuse_is_left_out_of_the_proposal(lang) -> None:
    # A page's lang="english" made the printed block itself a config error.
    facts = PageFacts(name="Wire", lang=lang)
    rows = proposed_fields("https://wire.example/feed", facts, kind="feed", key=None, taken=())
    source = source_from_block(toml_block(rows))
    assert source.lang == (lang if lang == "pt-BR" else None)
