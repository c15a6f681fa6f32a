"""The tests' PostgreSQL archives: one throw-away server per session (tests/fakes/postgres.py),
databases copied from a migrated template, a test's archive emptied with one TRUNCATE.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.fakes.postgres import SEARCHED, Server, admin, binaries, create_database

__all__ = ["SEARCHED", "Server", "admin", "binaries", "make_template", "new_database"]
TEMPLATE = "presswatch_template"


def make_template(server: Server) -> None:
    """Create the migrated template database that every test database is copied from."""
    from storage.postgres.backend import PostgresBackend

    admin(server, f"create database {TEMPLATE}")
    backend = PostgresBackend(server.url(TEMPLATE))
    try:
        backend.open().close()
    finally:
        backend.close()


def new_database(server: Server, name: str) -> str:
    """Create a fresh migrated database copied from the template; return its URL."""
    return create_database(server, name, template=TEMPLATE)


def point_at(config: Path, url: str) -> Path:
    """Point a config's SQLite archive (`path = ".../archive.db"`) at a PostgreSQL database."""
    text = re.sub(r'(?m)^path = ".*archive\.db"$', f'url = "{url}"', config.read_text())
    config.write_text(text, encoding="utf-8")
    return config


def rows(url: str, sql: str, *params: object) -> list[tuple]:
    """Return the rows of a query (with psycopg's %s parameters) on a test database."""
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql, params or None).fetchall()


def storage_setting(store, path: Path) -> str:
    """Return the [storage] line that names a test's archive: its database's URL, or its file."""
    backend = getattr(store.db, "backend", None)
    return f'url = "{backend.url}"' if backend is not None else f'path = "{path}"'


def empty(backend) -> None:
    """Remove every row of every archive table and restart the ids (a fresh archive, fast)."""
    with backend.pool.connection() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select tablename from pg_tables where schemaname = 'public' "
                "and tablename != 'presswatch_migrations'"
            )
        ]
        conn.execute(f"truncate {', '.join(tables)} restart identity")
