"""Many workers on one PostgreSQL archive: ingest throughput, CPU per article and failover.

Starts a throw-away PostgreSQL server (tests/fakes/postgres.py), loopback feeds that show one
new article on every poll, and real `presswatch run` processes: 1, 2 and 4 workers on PostgreSQL
beside the SQLite service with one, each measured over a window after a warm-up (medians of
several runs); then kills a worker holding a poll with SIGKILL and times until another worker
polls that source. Search at a million articles on PostgreSQL is bench/archive's (`--url`).

    python -m bench.scale [--sources N] [--window S] [--runs N] [--kills N] [--workers 0,1,2]
    python -m bench.scale --search 1000000 --pgdata /work/pgdata-1m   # filled once, then reused
    python -m bench.scale.probe --workers 1 --py-spy   # one run looked into (bench/scale/probe.py)
    python -m bench.scale.profile --perf   # the service's and a worker's own CPU, by library
"""
