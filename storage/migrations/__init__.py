"""SQLite schema migrations, one function per change, in parts (part1.py, part2.py…)."""

# Each part adds its migrations to part1's registry as it is imported: in this order. A part near
# 400 lines gets a successor, imported after it; a released migration is never edited.
from . import part1, part2  # noqa: F401
from .part1 import migrations

__all__ = ["migrations"]
