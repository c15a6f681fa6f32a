"""PostgreSQL schema migrations: the runner and every change, in order (part1.py, part2.py…)."""

from __future__ import annotations

from .runner import MIGRATIONS, TABLE, applied, apply, pending

__all__ = ["MIGRATIONS", "TABLE", "apply", "applied", "pending"]
