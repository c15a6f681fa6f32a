"""The notes in parentheses on a poll's log line: what a first run did, how many articles failed."""

from __future__ import annotations

from bot.text.plural import counted


def run_notes(*, first_run: bool, new: int, usual: int, problems: int) -> str:
    """Return the parenthetical notes of a poll's log line (`usual`: of the `new` articles stored,
    those stored to go out as usual)."""
    notes = []
    if first_run:
        notes.append(first_run_note(new=new, usual=usual))
    if problems:
        notes.append(f"{counted(problems, 'article')} failed")
    return f" ({'; '.join(notes)})" if notes else ""


def first_run_note(*, new: int, usual: int) -> str:
    """Say what a first run did with its `new` articles (`usual`: how many of them it stored to go
    out as usual; the rest it recorded silently). The dry run says it of what a poll would do."""
    # "Posted" would overstate it: a channel's filters may still take none of them. What was
    # stored counts, not what was meant: the newest may fail to read and stay unseen.
    if not new or usual == new:
        return "first run: none recorded silently" if new else "first run"
    if not usual:
        return "first run: recorded silently"
    return f"first run: the newest {usual} as usual, {new - usual} older recorded silently"
