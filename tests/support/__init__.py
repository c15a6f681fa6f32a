"""Shared test helpers: the loopback world, CLI runs, clocks, and the relay, chat and monitor kits."""

# Test modules import helpers from here, never from one another (tests/test_layout.py); the
# loopback fakes of the outside world live in tests/fakes/, which the benchmarks use too.
