"""Ingest: one poll of a source, enrichment, the plan of what to store and post, health, backfill."""
