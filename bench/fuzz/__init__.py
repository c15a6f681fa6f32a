"""Fuzzing of parsing: mutated real pages and feeds through the sandbox, and polls of a hostile site.

Seeds are the repository's saved pages and feeds (tests/fixtures/), with the constructs issue 16
found hostile (tests/fakes/hostile.py). Each page case is extracted and each feed case read in
the parsing sandbox (scrapers/sandbox.py) under the service's deadline; each poll case polls a
loopback site serving a mutated feed or listing and mutated pages, then the clean site with one
new release. Reported: outcomes per kind, the undocumented exceptions (must be none), the cases
stopped at the deadline, the slowest cases, and the polls' lost baselines and missed posts.

    python -m bench.fuzz [--pages 10000] [--feeds 3000] [--polls 40] [--seed 16] [--json]
    python -m bench.fuzz --scaling    # each hostile construct at n and 4n: what is super-linear
    python -m bench.fuzz --service 5  # /healthz and SIGTERM of `presswatch run` meanwhile
"""
