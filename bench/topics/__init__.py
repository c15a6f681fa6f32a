"""Measure the topic classifier on real texts: python -m bench.topics [train].

The real development set (bench/data/topics_real/dev.jsonl) is split once, before any error was
looked at, into a TUNING part (~70%) and a HELD-OUT part (~30%): records are grouped by site
(the host's registrable domain), sites are ordered by the SHA-256 of their name, and a site goes
to the held-out part while that keeps each language's held-out count within 30% of its records.
Rules and features may be improved by reading tuning texts; held-out texts are only ever scored.

A learned model is scored by grouped k-fold cross-validation on the tuning part (each fold
trained on the others), then trained on the whole tuning part and scored on the held-out part.
The written set (tests/data/topics_eval.jsonl) is shown beside, never as accuracy.
"""

from bench.topics.data import TOPICS, example_tables, folds, load, site, split, view

__all__ = ["TOPICS", "example_tables", "folds", "load", "site", "split", "view"]
