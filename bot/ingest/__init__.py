"""Ingest: one poll of a source, enrichment, the storage decision, source health and backfill."""
