"""Benchmarks: extraction, topics, polling, dedup, archive, delivery, crashes; see BENCHMARKS.md."""
