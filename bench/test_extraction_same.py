"""The output comparison that guards speed work: every differing field is named, nothing else."""

from __future__ import annotations

from bench.extraction_same import differences


def test_the_same_outputs_have_no_difference() -> None:
    saved = {"fundus/as served/a": {"title": "T", "body": "B"}}
    assert differences(saved, {"fundus/as served/a": {"title": "T", "body": "B"}}) == []


def test_each_changed_or_missing_field_and_each_unknown_page_is_one_line() -> None:
    saved = {"zyte/no metadata/a": {"title": "T", "body": "B", "lead": "L"}}
    after = {
        "zyte/no metadata/a": {"title": "T", "body": "C", "error": "NotHTML"},
        "zyte/no metadata/b": {"title": "X"},
    }
    lines = differences(saved, after)
    assert lines == [
        "zyte/no metadata/a: body: 'B' -> 'C'",
        "zyte/no metadata/a: error: None -> 'NotHTML'",
        "zyte/no metadata/a: lead: 'L' -> None",
        "zyte/no metadata/b: not in the saved output",
    ]
