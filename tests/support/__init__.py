"""Shared test support: the loopback world of shipped sources, CLI runs, fake clocks, relay kits.

Test modules import helpers from here, never from one another; the loopback fakes themselves
live in the top-level `fakes` package, which the benchmarks use too.
"""
