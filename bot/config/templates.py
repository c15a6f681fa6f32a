"""Read a channel's post template (`template` inline, or `template_file`) and vet it at start-up."""

from __future__ import annotations

from pathlib import Path

from bot.config.checks import filled, read_text_file
from bot.config.fields import ABSENT, Table
from bot.delivery.render import CAPTION, TEXT

_MAX_TEMPLATE_BYTES = 64 * 1024


def read_template(t: Table, *, base: Path, photo: bool) -> object:
    """Return the channel's template text (ABSENT for none); each problem names its key.

    A relative `template_file` is read from the config file's folder. A channel that posts
    photos must fit its template into a caption, so its fixed text is checked against that limit.
    """
    inline = t.get("template", str, check=filled("a Jinja2 template such as '<b>{{ title }}</b>'"))
    path = t.get("template_file", str, check=filled("a template file's path such as 'post.j2'"))
    if inline is not ABSENT and path is not ABSENT:
        t.report("template_file", "give `template` or `template_file`, not both")
        return ABSENT
    key, source = "template", inline
    if path is not ABSENT:
        key, source = "template_file", _read(t, base / Path(path).expanduser())
    if source is ABSENT:
        return ABSENT
    limit = (CAPTION if photo else TEXT).budget
    # Jinja2 (~40 ms to import) loads only for a config that has a template to vet.
    from bot.delivery.templates import template_problems  # noqa: PLC0415

    for problem in template_problems(source, limit=limit):
        t.report(key, problem)
    return source


def _read(t: Table, path: Path) -> object:
    """Return a template file's text, or ABSENT with the problem recorded."""
    try:
        return read_text_file(path, _MAX_TEMPLATE_BYTES)
    except FileNotFoundError:
        t.report("template_file", f"{path}: no such file")
    except ValueError as exc:
        t.report("template_file", f"{exc}: expected a regular text file")
    return ABSENT
