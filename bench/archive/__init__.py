"""Benchmark the archive at scale: bulk insert through the real schema, size, and search latency.

Fills a fresh SQLite file, opened as every command opens it (`bot.archive.open_archive`: migrations,
WAL, FTS5 triggers and every index of the real schema), with synthetic English and Russian press
releases, then times `storage.search.search` for one-word, phrase and filtered queries. Prints a
Markdown table for BENCHMARKS.md. With `--url` it fills an empty PostgreSQL database instead
(COPY through the real schema: the tsvector trigger, GIN and every index); with `--pgdata DIR`
into a cluster kept in DIR, started for the run with `--shared-buffers SIZE` and stopped after.
Usage:

    python -m bench.archive [--articles N] [--db PATH | --url URL | --pgdata DIR] [--reuse]
"""
