"""Delivery: render posts, pace them under Telegram's limits, and relay the outbox to Telegram."""
