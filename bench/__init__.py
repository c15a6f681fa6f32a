"""Benchmarks of presswatch: extraction quality and speed; results go to BENCHMARKS.md."""
