"""The long-running service: the scheduler, the health and metrics endpoint, and what it reports."""
