"""Loopback fakes of the outside world (source sites, the Telegram Bot API) for tests and bench."""

# Neither tests nor benchmarks: both import these, and these import nothing of the project's, so a
# fake can only know what the real service on the other side of the socket would know.
