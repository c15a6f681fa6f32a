"""What every migration part uses: the registration of a migration and a script runner."""

from __future__ import annotations

from collections.abc import Callable

from ..database import PgDatabase

Migration = Callable[[PgDatabase], None]


def registry(into: list[Migration]) -> Callable[[Migration], Migration]:
    """Return a decorator that registers a migration in `into`, in the order they are defined."""

    def migration(fn: Migration) -> Migration:
        """Register a migration."""
        into.append(fn)
        return fn

    return migration


def run(db: PgDatabase, script: str) -> None:
    """Run statements ending in `;` at a line's end, one at a time (a `$$` body may hold more)."""
    statement: list[str] = []
    for line in script.splitlines():
        statement.append(line)
        text = "\n".join(statement)
        if line.rstrip().endswith(";") and text.count("$$") % 2 == 0:
            db.execute(text.rstrip().removesuffix(";"))
            statement = []
    if "\n".join(statement).strip():
        db.execute("\n".join(statement))
