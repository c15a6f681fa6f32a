"""Fake external services (loopback servers) for end-to-end tests."""
